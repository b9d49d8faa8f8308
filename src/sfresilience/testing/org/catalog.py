"""Looking objects up by name: for the SOQL binder, the REST handlers and describe."""

from __future__ import annotations

from .errors import ApiError, not_found
from .objects import OBJECTS, SEARCHABLE
from .schema import SObject, version_path
from .soql import Kind, Query, SoqlError, bind, parse


class Catalog:
    """Name resolution for the SOQL binder, straight from the static schema."""

    def resolve_object(self, name: str) -> str | None:
        obj = OBJECTS.get(name.lower())
        return obj.name if obj else None

    def resolve_field(self, sobject: str, name: str) -> tuple[str, Kind] | None:
        found = OBJECTS[sobject.lower()].field(name)
        return (found.name, found.kind) if found else None

    def resolve_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:
        lookup = OBJECTS[sobject.lower()].by_relationship.get(name.lower())
        if lookup is None or lookup.relationship_name is None:
            return None
        return lookup.relationship_name, lookup.reference_to or ""


def known(sobject: str) -> SObject:
    obj = OBJECTS.get(sobject.lower())
    if obj is None:
        raise not_found()
    return obj


def writable(sobject: str, operation: str) -> SObject:
    obj = known(sobject)
    if not obj.writable:
        raise ApiError(
            400,
            "INVALID_TYPE_FOR_OPERATION",
            f"entity type {obj.name} does not support {operation}",
        )
    return obj


def global_entry(obj: SObject, version: str) -> dict[str, object]:
    base = f"/services/data/{version_path(version)}/sobjects/{obj.name}"
    return {
        "name": obj.name,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "keyPrefix": obj.key_prefix,
        "custom": False,
        "queryable": True,
        "retrieveable": True,
        "searchable": obj.name in SEARCHABLE,
        "createable": obj.writable,
        "updateable": obj.writable,
        "deletable": obj.writable,
        "urls": {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
        },
    }


def compile_soql(soql: str) -> Query:
    try:
        return bind(soql, parse(soql), Catalog())
    except SoqlError as error:
        raise ApiError(400, error.error_code, error.message) from None
