"""Composite resources: sObject Collections, `/composite`, sObject trees, composite batch.

Every form answers HTTP 200 (trees: 201/400) with one result per record or
subrequest, in Salesforce's shapes. Records are written through `RowWriter` (the
org's validation and record locks) and subrequests through the REST handlers
themselves (`composite_requests`), and the whole call counts as one API request.
`allOrNone` (always on for trees) rolls the org back to where it was before the call
when anything fails: the failing records keep their own errors and every other one
reports `ALL_OR_NONE_OPERATION_ROLLED_BACK` (collections) or `PROCESSING_HALTED`
(`/composite`).
"""

from __future__ import annotations

from typing import Any, Final

from ..org.errors import ApiError
from ..org.rows import RowError, RowResult, RowWriter
from ..org.schema import ChildRelationship
from ..org.store import Org
from ..wire.http import HttpRequest, HttpResponse
from .composite_requests import Dispatch, Subrequests
from .responses import (
    error,
    json_body,
    json_response,
    method_not_allowed,
    not_found,
    query_params,
)


__all__ = ["CompositeApi", "Dispatch"]

_MAX_RECORDS: Final = 200
_ROLLED_BACK: Final = RowError(
    "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "Record rolled back because not all records were valid and the request was using"
    " AllOrNone header",
)


def _too_many_records() -> HttpResponse:
    return error(
        400,
        "EXCEEDED_ID_LIMIT",
        f"record limit reached. cannot submit more than {_MAX_RECORDS} records into this call",
    )


class CompositeApi:
    """`/services/data/vXX.X/composite/...`; subrequests go to `dispatch` (the REST router)."""

    def __init__(self, org: Org, rows: RowWriter, dispatch: Dispatch) -> None:
        self.org = org
        self.rows = rows
        self._subrequests = Subrequests(org, dispatch)

    def handle(self, request: HttpRequest, version: str, parts: list[str]) -> HttpResponse:  # noqa: PLR0911 - a router
        """Answer `/composite/<parts>`."""
        method = request.method
        head, rest = (parts[0], parts[1:]) if parts else ("", [])
        if head == "":
            if method == "GET":
                base = f"/services/data/v{version}/composite"
                return json_response(
                    200, {name: f"{base}/{name}" for name in ("tree", "batch", "sobjects")}
                )
            if method == "POST":
                return self._subrequests.composite(json_body(request), version)
            return method_not_allowed(method, "GET,HEAD,POST")
        if head == "sobjects":
            return self._collections(request, version, rest)
        if head == "tree" and len(rest) == 1:
            if method != "POST":
                return method_not_allowed(method, "POST")
            return self._tree(json_body(request), rest[0])
        if head == "batch" and not rest:
            if method != "POST":
                return method_not_allowed(method, "POST")
            return self._subrequests.batch(json_body(request), version)
        return not_found()

    # --- sObject Collections ----------------------------------------------------

    def _collections(self, request: HttpRequest, version: str, rest: list[str]) -> HttpResponse:  # noqa: PLR0911 - a router
        method = request.method
        if not rest:
            if method == "DELETE":
                return self._delete(query_params(request))
            if method in {"POST", "PATCH"}:
                body = json_body(request)
                operation = "insert" if method == "POST" else "update"
                return self._save(body, operation, None)
            return method_not_allowed(method, "POST,PATCH,DELETE")
        if len(rest) == 1:
            if method == "GET":
                params = query_params(request)
                ids = _split(params.get("ids", ""))
                return self._retrieve(rest[0], ids, _split(params.get("fields", "")), version)
            if method == "POST":
                body = json_body(request)
                ids = [str(item) for item in body.get("ids") or []]
                fields = [str(item) for item in body.get("fields") or []]
                return self._retrieve(rest[0], ids, fields, version)
            return method_not_allowed(method, "GET,HEAD,POST")
        if len(rest) == 2:  # noqa: PLR2004
            if method != "PATCH":
                return method_not_allowed(method, "PATCH")
            return self._save(json_body(request), "upsert", rest[1], sobject=rest[0])
        return not_found()

    def _save(
        self,
        body: dict[str, Any],
        operation: str,
        external_id: str | None,
        *,
        sobject: str | None = None,
    ) -> HttpResponse:
        records = body.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return error(400, "JSON_PARSER_ERROR", "records must be a list of sObjects")
        if len(records) > _MAX_RECORDS:
            return _too_many_records()
        all_or_none = body.get("allOrNone") is True
        snapshot = self.org.snapshot() if all_or_none else None
        results = [self._save_one(record, operation, external_id, sobject) for record in records]
        if snapshot is not None and not all(result.success for result in results):
            self.org.restore(snapshot)
            results = [_rolled_back(result) for result in results]
        show_id = operation != "insert"
        return json_response(
            200, [_save_result(r, show_id=show_id, upsert=operation == "upsert") for r in results]
        )

    def _save_one(
        self,
        record: dict[str, Any],
        operation: str,
        external_id: str | None,
        sobject: str | None,
    ) -> RowResult:
        attributes = record.get("attributes")
        kind = attributes.get("type") if isinstance(attributes, dict) else None
        given = record.get("id") or record.get("Id")
        if not kind and sobject is None:
            return RowResult(
                None, error=RowError("INVALID_TYPE", "Must send a concrete entity type.")
            )
        name = str(sobject or kind)
        try:
            self.org.schema.known(name)
        except ApiError:
            return RowResult(
                None, error=RowError("INVALID_TYPE", f"sObject type '{name}' is not supported.")
            )
        values = {k: v for k, v in record.items() if k != "attributes"}
        result = self.rows.write(operation, name, values, external_id)
        if result.record_id is None and given and operation != "insert":
            return RowResult(str(given), result.created, result.error)
        return result

    def _delete(self, params: dict[str, str]) -> HttpResponse:
        ids = _split(params.get("ids", ""))
        if len(ids) > _MAX_RECORDS:
            return _too_many_records()
        all_or_none = params.get("allOrNone", "").lower() == "true"
        snapshot = self.org.snapshot() if all_or_none else None
        results = [self._delete_one(record_id) for record_id in ids]
        if snapshot is not None and not all(result.success for result in results):
            self.org.restore(snapshot)
            results = [_rolled_back(result) for result in results]
        return json_response(200, [_save_result(r, show_id=True, upsert=False) for r in results])

    def _delete_one(self, record_id: str) -> RowResult:
        sobject = self._sobject_of(record_id)
        if sobject is None:
            return RowResult(record_id, error=RowError("MALFORMED_ID", f"malformed id {record_id}"))
        result = self.rows.write("delete", sobject, {"Id": record_id})
        return result if result.record_id else RowResult(record_id, error=result.error)

    def _sobject_of(self, record_id: str) -> str | None:
        obj = self.org.schema.by_prefix(record_id) if len(record_id) in {15, 18} else None
        return obj.name if obj is not None else None

    def _retrieve(
        self, sobject: str, ids: list[str], fields: list[str], version: str
    ) -> HttpResponse:
        if len(ids) > 2000:  # noqa: PLR2004
            return _too_many_records()
        if not fields:
            return error(400, "MALFORMED_QUERY", "fields is required")
        found: list[dict[str, object] | None] = []
        for record_id in ids:
            try:
                found.append(self.org.get(sobject, record_id, fields, version))
            except ApiError as problem:
                if problem.error_code in {"INVALID_FIELD", "NOT_FOUND"} and problem.status == 400:  # noqa: PLR2004
                    raise
                found.append(None)
        return json_response(200, found)

    # --- sObject Tree -------------------------------------------------------------

    def _tree(self, body: dict[str, Any], sobject: str) -> HttpResponse:
        records = body.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return error(400, "JSON_PARSER_ERROR", "records must be a list of sObjects")
        if _tree_size(records) > _MAX_RECORDS:
            return _too_many_records()
        snapshot = self.org.snapshot()
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for record in records:
            self._tree_insert(record, sobject, None, created, failed)
        if failed:
            self.org.restore(snapshot)
            return json_response(400, {"hasErrors": True, "results": failed})
        return json_response(201, {"hasErrors": False, "results": created})

    def _tree_insert(
        self,
        record: dict[str, Any],
        sobject: str,
        parent: tuple[str, str] | None,
        created: list[dict[str, Any]],
        failed: list[dict[str, Any]],
    ) -> None:
        given = record.get("attributes")
        attributes: dict[str, Any] = given if isinstance(given, dict) else {}
        reference = str(attributes.get("referenceId", ""))
        kind = str(attributes.get("type") or sobject)
        relationships = self.org.schema.children(kind) if self.org.schema.get(kind) else []
        children = _tree_children(relationships, record)
        values = {k: v for k, v in record.items() if k != "attributes" and k not in children}
        if parent is not None:
            values[parent[0]] = parent[1]
        if kind.lower() != sobject.lower():
            problem = RowError("INVALID_TYPE", f"Expected type {sobject}, found {kind}")
            failed.append({"referenceId": reference, "errors": [problem.as_json()]})
            return
        result = self.rows.write("insert", kind, values)
        if result.error is not None or result.record_id is None:
            errors = [result.error.as_json()] if result.error else []
            failed.append({"referenceId": reference, "errors": errors})
            return
        created.append({"referenceId": reference, "id": result.record_id})
        for child_type, lookup, rows in children.values():
            for child in rows:
                self._tree_insert(child, child_type, (lookup, result.record_id), created, failed)


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _rolled_back(result: RowResult) -> RowResult:
    if result.error is not None:
        return result
    return RowResult(result.record_id if not result.created else None, error=_ROLLED_BACK)


def _save_result(result: RowResult, *, show_id: bool, upsert: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if result.success or (show_id and result.record_id):
        entry["id"] = result.record_id
    entry["success"] = result.success
    entry["errors"] = [] if result.error is None else [result.error.as_json()]
    if upsert and result.success:
        entry["created"] = result.created
    return entry


def _tree_children(
    relationships: list[ChildRelationship], record: dict[str, Any]
) -> dict[str, tuple[str, str, list[dict[str, Any]]]]:
    """Nested `{"records": [...]}` under child relationships: key -> (type, lookup, rows)."""
    children: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}
    for key, value in record.items():
        if not (isinstance(value, dict) and isinstance(value.get("records"), list)):
            continue
        for relationship in relationships:
            if relationship.name is not None and relationship.name.lower() == key.lower():
                children[key] = (relationship.child, relationship.field, list(value["records"]))
    return children


def _tree_size(records: list[dict[str, Any]]) -> int:
    total = 0
    for record in records:
        total += 1
        for value in record.values():
            if isinstance(value, dict) and isinstance(value.get("records"), list):
                total += _tree_size([r for r in value["records"] if isinstance(r, dict)])
    return total
