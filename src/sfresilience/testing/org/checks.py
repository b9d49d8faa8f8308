"""What a write must pass, in Salesforce's order: field names and access, value types and
lengths, restricted picklists, required fields, validation rules, then unique values."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .errors import ApiError, required_missing
from .ids import ID_RE
from .schema import PICKLIST_TYPES, Field, Record, SObject
from .values import coerce


def resolve(
    obj: SObject, data: Mapping[str, object], *, creating: bool
) -> list[tuple[Field, object]]:
    """The request's fields, known and writable, else INVALID_FIELD[_FOR_INSERT_UPDATE]."""
    resolved: list[tuple[Field, object]] = []
    for name, value in data.items():
        if name == "attributes":
            continue
        found = obj.field(name)
        if found is None:
            raise ApiError(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on sobject of type {obj.name}",
                [name],
            )
        resolved.append((found, value))
    forbidden = [
        item.name
        for item, _value in resolved
        if not (item.createable if creating else item.updateable)
    ]
    if forbidden:
        raise ApiError(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(forbidden)}. Please check "
            "the security settings of this field and verify that it is "
            "read/write for your profile or permission set.",
            forbidden,
        )
    return resolved


def coerced(item: Field, value: object, find: Callable[[Field, str], Record | None]) -> object:
    """The stored form of one value, or the error Salesforce gives for it."""
    if value is None:
        return None
    if item.type == "reference":
        return _reference(item, value, find)
    stored = coerce(item, value)
    if isinstance(stored, str) and item.length and len(stored) > item.length:
        raise ApiError(
            400,
            "STRING_TOO_LONG",
            f"{item.label}: data value too large: {stored} (max length={item.length})",
            [item.name],
        )
    if item.type in PICKLIST_TYPES and item.restricted and item.type != "combobox" and stored != "":
        _check_picklist(item, str(stored))
    return stored


def _check_picklist(item: Field, value: str) -> None:
    allowed = {stored for stored, _label in item.picklist}
    chosen = value.split(";") if item.type == "multipicklist" else [value]
    bad = [choice for choice in chosen if choice not in allowed]
    if bad:
        raise ApiError(
            400,
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{item.label}: bad value for restricted picklist field: {bad[0]}",
            [item.name],
        )


def _reference(item: Field, value: object, find: Callable[[Field, str], Record | None]) -> str:
    text = value if isinstance(value, str) else str(value)
    if not ID_RE.fullmatch(text):
        raise ApiError(
            400,
            "MALFORMED_ID",
            f"{item.label}: id value of incorrect type: {text}",
            [item.name],
        )
    found = find(item, text)
    if found is None or found.get("IsDeleted"):
        raise ApiError(
            400,
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            [item.name],
        )
    return str(found["Id"])


def check_required(
    obj: SObject, record: Mapping[str, object], names: list[str] | None = None
) -> None:
    """REQUIRED_FIELD_MISSING for required fields left empty (all, or only `names`)."""
    fields = obj.fields if names is None else [obj.by_name[name.lower()] for name in names]
    missing = [
        item.name for item in fields if item.required and record.get(item.name) in {None, ""}
    ]
    if missing:
        raise required_missing(missing)


def check_rules(obj: SObject, record: Mapping[str, object]) -> None:
    """Each validation rule's error condition, against the record as it would be."""
    for rule in obj.validation_rules:
        if rule.error_condition(dict(record)):
            fields = [] if rule.field is None else [rule.field]
            raise ApiError(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message, fields)


def unique_key(item: Field, value: object) -> object:
    if isinstance(value, str) and not item.case_sensitive:
        return value.casefold()
    return value


def duplicate(item: Field, holder: str) -> ApiError:
    return ApiError(
        400,
        "DUPLICATE_VALUE",
        f"duplicate value found: {item.name} duplicates value on record with id: {holder}",
        [],
    )
