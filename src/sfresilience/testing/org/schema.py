"""What an sObject and its fields are, and the REST shapes derived from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from .errors import ApiError
from .soql import Kind


Record = dict[str, object]


_KINDS: Final[dict[str, Kind]] = {
    "id": "id",
    "reference": "id",
    "string": "string",
    "email": "string",
    "phone": "string",
    "picklist": "string",
    "textarea": "string",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "int": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
}
TEXT_TYPES: Final = frozenset({"string", "email", "phone", "textarea"})


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str
    length: int = 0
    createable: bool = True
    updateable: bool = True
    required: bool = False
    external_id: bool = False
    reference_to: str | None = None
    relationship_name: str | None = None

    @property
    def kind(self) -> Kind:
        return _KINDS[self.type]

    @property
    def nillable(self) -> bool:
        return not self.required and self.type not in {"id", "boolean"}

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "length": self.length,
            "nillable": self.nillable,
            "externalId": self.external_id,
            "updateable": self.updateable,
            "createable": self.createable,
            "custom": self.name.endswith("__c"),
            "unique": False,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship_name,
        }


@dataclass(frozen=True)
class SObject:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[Field, ...]
    writable: bool = True
    children: tuple[tuple[str, str, str], ...] = ()
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)
    by_relationship: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {item.name.lower(): item for item in self.fields}
        by_relationship = {
            item.relationship_name.lower(): item for item in self.fields if item.relationship_name
        }
        object.__setattr__(self, "by_name", by_name)
        object.__setattr__(self, "by_relationship", by_relationship)

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name.lower())

    @property
    def soft_deletes(self) -> bool:
        return "isdeleted" in self.by_name


def version_path(version: str) -> str:
    return version if version.startswith("v") else f"v{version}"


def record_url(sobject: str, record_id: object, version: str) -> str:
    return f"/services/data/{version_path(version)}/sobjects/{sobject}/{record_id}"


def attributes(sobject: str, record_id: object, version: str) -> Record:
    return {"type": sobject, "url": record_url(sobject, record_id, version)}


def derive(obj: SObject, record: Record) -> None:
    """Recompute formula-like fields after a write."""
    if obj.name == "Contact":
        parts = [record.get("FirstName"), record.get("LastName")]
        record["Name"] = " ".join(str(part) for part in parts if part)


def external_key(obj: SObject, name: str) -> Field:
    found = obj.field(name)
    if found is None or not (found.external_id or found.name == "Id"):
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {name}",
        )
    return found
