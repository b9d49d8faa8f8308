"""One row of a Bulk job or an sObject collection, written to the org like a REST write.

Bulk API and sObject Collections don't fail a request for one bad record: each row
gets its own result. `RowWriter` writes a row through the same validation and record
locks as the REST handlers and turns the `ApiError` a REST call would have raised into
that row's `RowError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from .errors import ApiError
from .locks import LockedWrites
from .schema import SObject
from .store import Org
from .values import coerce


__all__ = ["Operation", "RowError", "RowResult", "RowWriter"]

Operation = str  # "insert", "update", "upsert", "delete" or "hardDelete"

OPERATIONS: Final = frozenset({"insert", "update", "upsert", "delete", "hardDelete"})
_LOCK_MESSAGE: Final = "unable to obtain exclusive access to this record"


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row failed: Salesforce's status code, message and fields."""

    code: str
    message: str
    fields: tuple[str, ...] = ()

    def bulk_text(self) -> str:
        """The `sf__Error` text of Bulk API 2.0 results: `CODE:message:Field1,Field2 --`."""
        fields = ",".join(self.fields)
        return (
            f"{self.code}:{self.message}:{fields} --"
            if fields
            else f"{self.code}:{self.message}:--"
        )

    def as_json(self) -> dict[str, object]:
        """The `errors[]` entry of a SaveResult: `{statusCode, message, fields}`."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields)}


@dataclass(frozen=True, slots=True)
class RowResult:
    """What happened to one row: the record id, whether it was created, or the error."""

    record_id: str | None
    created: bool = False
    error: RowError | None = None

    @property
    def success(self) -> bool:
        return self.error is None


def _row_error(problem: ApiError) -> RowError:
    if problem.error_code == "UNABLE_TO_LOCK_ROW":
        return RowError("UNABLE_TO_LOCK_ROW", _LOCK_MESSAGE)
    if problem.error_code in {"NOT_FOUND", "ENTITY_IS_DELETED"} and problem.status == 404:  # noqa: PLR2004
        if problem.error_code == "ENTITY_IS_DELETED":
            return RowError("ENTITY_IS_DELETED", "entity is deleted")
        return RowError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
    return RowError(problem.error_code, problem.message, tuple(problem.fields))


class RowWriter:
    """Write rows to `org` under its record locks, one result per row."""

    def __init__(self, org: Org, writes: LockedWrites) -> None:
        self.org = org
        self.writes = writes

    def write(
        self,
        operation: Operation,
        sobject: str,
        values: Mapping[str, object],
        external_id: str | None = None,
    ) -> RowResult:
        """Apply one row; never raises `ApiError` (it becomes the row's error)."""
        data = dict(values)
        try:
            if operation == "insert":
                return self._insert(sobject, data)
            if operation == "update":
                return self._update(sobject, data)
            if operation == "upsert":
                return self._upsert(sobject, data, external_id or "Id")
            return self._delete(sobject, data, hard=operation == "hardDelete")
        except ApiError as problem:
            return RowResult(_given_id(values), error=_row_error(problem))

    def _insert(self, sobject: str, data: dict[str, object]) -> RowResult:
        if "Id" in data or "id" in data or "ID" in data:
            return RowResult(
                None,
                error=RowError("INVALID_FIELD", "cannot specify Id in an insert call", ("Id",)),
            )
        parent = data.get("AccountId")
        keys = [str(parent)] if isinstance(parent, str) and parent else []
        record_id = self.writes.run(keys, lambda: self.org.create(sobject, data))
        return RowResult(record_id, created=True)

    def _update(self, sobject: str, data: dict[str, object]) -> RowResult:
        record_id = _pop_id(data)
        if not record_id:
            return RowResult(
                None, error=RowError("MISSING_ARGUMENT", "Id not specified in an update call")
            )
        keys = self.org.lock_keys(sobject, record_id)
        self.writes.run(keys, lambda: self.org.update(sobject, record_id, data))
        return RowResult(keys[0])

    def _upsert(self, sobject: str, data: dict[str, object], field: str) -> RowResult:
        column = next((name for name in data if name.lower() == field.lower()), None)
        value = data.pop(column) if column is not None else None
        if value is None or value == "":
            return RowResult(None, error=RowError("MISSING_ARGUMENT", f"{field} not specified"))
        text = str(value)
        existing = self._existing(sobject, field, text)
        keys = self.org.lock_keys(sobject, existing) if existing else []
        record_id, created = self.writes.run(
            keys, lambda: self.org.upsert(sobject, field, text, data)
        )
        return RowResult(record_id, created=created)

    def _existing(self, sobject: str, field: str, value: str) -> str | None:
        try:
            found = self.org.get_by_external_id(sobject, field, value, ["Id"], "66.0")
        except ApiError as problem:
            if problem.status == 404:  # noqa: PLR2004
                return None
            raise
        return str(found["Id"])

    def _delete(self, sobject: str, data: dict[str, object], *, hard: bool) -> RowResult:
        record_id = _pop_id(data)
        if not record_id:
            return RowResult(
                None, error=RowError("MISSING_ARGUMENT", "Id not specified in a delete call")
            )
        keys = self.org.lock_keys(sobject, record_id)
        delete = self.org.hard_delete if hard else self.org.delete
        self.writes.run(keys, lambda: delete(sobject, record_id))
        return RowResult(keys[0])


def _pop_id(data: dict[str, object]) -> str:
    column = next((name for name in data if name.lower() == "id"), None)
    value = data.pop(column) if column is not None else None
    return "" if value is None else str(value)


def _given_id(data: Mapping[str, object]) -> str | None:
    value = next((v for name, v in data.items() if name.lower() == "id"), None)
    return str(value) if value else None


def type_error(obj: SObject, values: Mapping[str, object]) -> RowError | None:
    """The Bulk API's error for the first value not of its field's type, if any.

    CSV rows are text, so Bulk reports a value that does not parse as its field's type
    as `INVALID_TYPE_ON_FIELD_IN_RECORD`; unknown fields are left to the write.
    """
    for name, value in values.items():
        field = obj.field(name)
        if field is None or value is None or field.kind in {"id", "string"}:
            continue
        try:
            coerce(field, value)
        except ApiError:
            return RowError(
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{field.label}: value not of required type: {value}",
                (field.name,),
            )
    return None
