"""The Tooling API's query resource: `/services/data/vXX.X/tooling/query?q=...`.

A few Tooling objects integrations read (`ApexClass`, `ApexTrigger`), with a
couple of seeded rows and `add()` for a test's own. Queries use the org's SOQL
parser, binder and WHERE/ORDER BY evaluation over flat rows: no relationship
paths, no aggregates, one page. The answer has the Tooling shape: `size`,
`totalSize`, `done`, `queryLocator`, `entityTypeName`, `records`.
"""

from __future__ import annotations

import functools
import itertools
import threading
from dataclasses import dataclass
from typing import Any

from ..org import ApiError
from ..org.ids import base62, id_checksum
from ..org.soql import (
    FieldRef,
    Kind,
    Operand,
    Path,
    Query,
    SoqlError,
    bind,
    compile_where,
    order,
    parse,
)
from ..wire.http import HttpRequest, HttpResponse
from .responses import error, json_response, method_not_allowed, not_found, query_params


__all__ = ["ToolingApi"]

Row = dict[str, Any]


@dataclass(frozen=True)
class _ToolingObject:
    name: str
    key_prefix: str
    fields: dict[str, Kind]


_OBJECTS = {
    obj.name.lower(): obj
    for obj in (
        _ToolingObject(
            "ApexClass",
            "01p",
            {
                "Id": "id",
                "Name": "string",
                "NamespacePrefix": "string",
                "ApiVersion": "number",
                "Status": "string",
                "IsValid": "boolean",
                "LengthWithoutComments": "number",
            },
        ),
        _ToolingObject(
            "ApexTrigger",
            "01q",
            {
                "Id": "id",
                "Name": "string",
                "NamespacePrefix": "string",
                "ApiVersion": "number",
                "Status": "string",
                "TableEnumOrId": "string",
                "IsValid": "boolean",
            },
        ),
    )
}
_SEEDED: tuple[tuple[str, Row], ...] = (
    ("ApexClass", {"Name": "SyncService", "LengthWithoutComments": 4210}),
    ("ApexClass", {"Name": "SyncServiceTest", "LengthWithoutComments": 1877}),
    ("ApexTrigger", {"Name": "ContactSync", "TableEnumOrId": "Contact"}),
)
_DEFAULTS: Row = {"NamespacePrefix": None, "ApiVersion": 59.0, "Status": "Active", "IsValid": True}


class _Catalog:
    def resolve_object(self, name: str) -> str | None:
        found = _OBJECTS.get(name.lower())
        return found.name if found else None

    def resolve_field(self, sobject: str, name: str) -> tuple[str, Kind] | None:
        fields = _OBJECTS[sobject.lower()].fields
        for field, kind in fields.items():
            if field.lower() == name.lower():
                return field, kind
        return None

    def resolve_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:  # noqa: ARG002
        return None

    def resolve_child(self, sobject: str, name: str) -> tuple[str, str, str] | None:  # noqa: ARG002
        return None

    def field_names(self, sobject: str, which: str) -> list[str]:
        return [] if which == "CUSTOM" else list(_OBJECTS[sobject.lower()].fields)

    def is_picklist(self, sobject: str, path: Path) -> bool:  # noqa: ARG002
        return False

    def is_multipicklist(self, sobject: str, path: Path) -> bool:  # noqa: ARG002
        return False


class ToolingApi:
    """Tooling objects' rows and the query resource over them."""

    def __init__(self, id_pod: str) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, list[Row]] = {obj.name: [] for obj in _OBJECTS.values()}
        self._serial = itertools.count(1)
        self._pod = id_pod
        for name, values in _SEEDED:
            self.add(name, **values)

    def add(self, sobject: str, **values: Any) -> str:
        """Store a row of a Tooling object (unset fields: defaults); returns its id."""
        obj = _OBJECTS.get(sobject.lower())
        if obj is None:
            raise ValueError(f"no Tooling object {sobject!r}; known: ApexClass, ApexTrigger")
        unknown = set(values) - set(obj.fields)
        if unknown:
            raise ValueError(f"no such fields on {obj.name}: {', '.join(sorted(unknown))}")
        id15 = f"{obj.key_prefix}{self._pod}0{base62(next(self._serial), 9)}"
        row: Row = dict.fromkeys(obj.fields)
        row.update({k: v for k, v in _DEFAULTS.items() if k in obj.fields})
        row.update(values, Id=id15 + id_checksum(id15))
        with self._lock:
            self._rows[obj.name].append(row)
        return str(row["Id"])

    def handle(self, request: HttpRequest, version: str, parts: list[str]) -> HttpResponse:
        """Answer `/services/data/vXX.X/tooling/<parts>`."""
        if parts in ([], [""]) and request.method == "GET":
            return json_response(200, {"query": f"/services/data/v{version}/tooling/query"})
        if parts != ["query"]:
            return not_found()
        if request.method != "GET":
            return method_not_allowed(request.method, "GET,HEAD")
        soql = query_params(request).get("q")
        if not soql:
            return error(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            bound = bind(soql, parse(soql), _Catalog())
        except SoqlError as problem:
            raise ApiError(400, problem.error_code, problem.message) from None
        return json_response(200, self._run(bound, version))

    def _run(self, bound: Query, version: str) -> dict[str, Any]:
        plain = all(isinstance(item, FieldRef) for item in bound.select)
        if bound.grouped or not plain or any(len(ref.parts) > 1 for ref in bound.fields):
            raise ApiError(
                400, "MALFORMED_QUERY", "the fake's Tooling API takes plain field lists only"
            )
        where = compile_where(bound.where) if bound.where else None
        with self._lock:
            rows = [dict(row) for row in self._rows[bound.sobject]]

        def read(row: Row, operand: Operand) -> object:
            if not isinstance(operand, FieldRef):
                raise ApiError(
                    400, "MALFORMED_QUERY", "the fake's Tooling API compares fields only"
                )
            return row[operand.parts[-1]]

        if where is not None:
            rows = [row for row in rows if where(functools.partial(read, row))]
        rows = order(rows, bound.order_by, read)
        start = bound.offset or 0
        rows = rows[start : None if bound.limit is None else start + bound.limit]
        body: dict[str, Any] = {
            "size": len(rows),
            "totalSize": len(rows),
            "done": True,
            "queryLocator": None,
            "entityTypeName": bound.sobject,
        }
        if bound.count:
            body["records"] = []
            return body
        body["records"] = [_shape(bound, row, version) for row in rows]
        return body


def _shape(bound: Query, row: Row, version: str) -> Row:
    url = f"/services/data/v{version}/tooling/sobjects/{bound.sobject}/{row['Id']}"
    shaped: Row = {"attributes": {"type": bound.sobject, "url": url}}
    shaped.update((ref.parts[0], row[ref.parts[0]]) for ref in bound.fields)
    return shaped
