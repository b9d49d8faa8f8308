"""What an sObject and its fields are: the declarations users and the standard schema share.

`Field`, `CustomObject` and `ValidationRule` are public: a test declares its own objects
and fields with them and hands them to `Org(objects=..., fields=...)`. `Schema` is one
org's registry of objects, with the child relationships derived from every lookup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
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
    "url": "string",
    "picklist": "string",
    "multipicklist": "string",
    "combobox": "string",
    "textarea": "string",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "int": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "address": "address",
}
TEXT_TYPES: Final = frozenset({"string", "email", "phone", "url", "textarea", "combobox"})
PICKLIST_TYPES: Final = frozenset({"picklist", "multipicklist", "combobox"})
_DEFAULT_LENGTHS: Final[dict[str, int]] = {
    "id": 18,
    "reference": 18,
    "string": 255,
    "email": 80,
    "phone": 40,
    "url": 255,
    "picklist": 255,
    "multipicklist": 4099,
    "combobox": 255,
    "textarea": 32768,
}
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# The components of an address compound field, as REST reads the compound: JSON key by
# the suffix of the component field.
ADDRESS_PARTS: Final = (
    ("city", "City"),
    ("country", "Country"),
    ("geocodeAccuracy", "GeocodeAccuracy"),
    ("latitude", "Latitude"),
    ("longitude", "Longitude"),
    ("postalCode", "PostalCode"),
    ("state", "State"),
    ("street", "Street"),
)


def _label_from(name: str) -> str:
    base = name.removesuffix("__c")
    if base.endswith("Id") and len(base) > 2:  # noqa: PLR2004
        base = base[:-2] + " ID"
    return _WORD_BREAK.sub(" ", base).replace("_", " ").strip()


@dataclass(frozen=True)
class Field:
    """One field of an sObject, as describe reports it.

    `type` is Salesforce's describe type: string, textarea, email, phone, url, picklist,
    multipicklist, combobox, int, double, currency, percent, boolean, date, datetime,
    reference (a lookup; give `reference_to`) or id. `values` are a picklist's values
    (a value, or a `(value, label)` pair); a `restricted` picklist refuses others with
    `INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST`. `required` fields answer
    `REQUIRED_FIELD_MISSING` when left empty, `unique` ones `DUPLICATE_VALUE` when a live
    record already holds the value (ignoring case unless `case_sensitive`). `default`
    fills the field on create when the request leaves it out. A lookup's
    `relationship_name` (default: `Account__c` -> `Account__r`, `AccountId` ->
    `Account`) names the parent in SOQL paths; its `child_relationship` names the
    parent-to-child subquery (`SELECT (SELECT Id FROM Things__r) FROM Account`).
    """

    name: str
    type: str = "string"
    _: KW_ONLY
    label: str = ""
    length: int | None = None
    required: bool = False
    unique: bool = False
    external_id: bool = False
    case_sensitive: bool = False
    values: Sequence[str | tuple[str, str]] = ()
    restricted: bool = True
    default: object = None
    reference_to: str | Sequence[str] | None = None
    relationship_name: str | None = None
    child_relationship: str | None = None
    cascade_delete: bool = False
    createable: bool = True
    updateable: bool = True
    precision: int = 0
    scale: int = 0
    compound: str | None = None
    name_field: bool = False
    targets: tuple[str, ...] = field(init=False, repr=False, compare=False)
    picklist: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.type not in _KINDS:
            raise ValueError(f"unknown field type {self.type!r} for {self.name}")
        targets: tuple[str, ...] = ()
        if isinstance(self.reference_to, str):
            targets = (self.reference_to,)
        elif self.reference_to is not None:
            targets = tuple(self.reference_to)
        if self.type == "reference" and not targets:
            raise ValueError(f"lookup {self.name} needs reference_to")
        pairs = tuple((item, item) if isinstance(item, str) else item for item in self.values)
        object.__setattr__(self, "targets", targets)
        object.__setattr__(self, "picklist", pairs)
        object.__setattr__(self, "values", tuple(self.values))
        if not self.label:
            object.__setattr__(self, "label", _label_from(self.name))
        if self.length is None:
            object.__setattr__(self, "length", _DEFAULT_LENGTHS.get(self.type, 0))
        if self.type == "reference" and self.relationship_name is None:
            object.__setattr__(self, "relationship_name", _relationship_from(self.name))

    @property
    def kind(self) -> Kind:
        return _KINDS[self.type]

    @property
    def reference(self) -> str | None:
        """The (first) object a lookup points at."""
        return self.targets[0] if self.targets else None

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def nillable(self) -> bool:
        return not self.required and self.type not in {"id", "boolean", "address"}

    def label_of(self, value: object) -> object:
        """A picklist value's label (toLabel), the value itself when it has none."""
        for stored, label in self.picklist:
            if stored == value:
                return label
        return value


def _relationship_from(name: str) -> str | None:
    if name.endswith("__c"):
        return name[:-3] + "__r"
    if name.endswith("Id") and len(name) > 2:  # noqa: PLR2004
        return name[:-2]
    return None


@dataclass(frozen=True)
class ValidationRule:
    """A validation rule: when `error_condition(record)` is true the write is refused.

    As in Salesforce the condition describes the *bad* record: it receives the record as
    it would be after the write (every field, by API name) and returns true to reject
    it with 400 `FIELD_CUSTOM_VALIDATION_EXCEPTION` and `message`, attached to `field`
    when one is given (else to the record).
    """

    name: str
    error_condition: Callable[[Mapping[str, object]], bool]
    message: str
    field: str | None = None


@dataclass(frozen=True)
class ChildRelationship:
    """A lookup seen from its parent: the name a parent-to-child subquery uses."""

    child: str
    field: str
    name: str | None
    cascade_delete: bool


@dataclass(frozen=True)
class SObject:
    """An sObject type: its fields, key prefix and what the API may do with it."""

    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[Field, ...]
    writable: bool = True
    custom: bool = False
    searchable: bool = True
    validation_rules: tuple[ValidationRule, ...] = ()
    record_types: tuple[str, ...] = ()
    derive: Callable[[Record], None] | None = field(default=None, compare=False)
    # (child object, lookup field, relationship name) for each named child
    # relationship; filled in by the org's `Schema`, which sees every lookup.
    children: tuple[tuple[str, str, str], ...] = field(default=(), compare=False)
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)
    by_relationship: dict[str, Field] = field(init=False, repr=False, compare=False)
    compounds: dict[str, tuple[tuple[str, str], ...]] = field(init=False, repr=False, compare=False)
    template: Record = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {item.name.lower(): item for item in self.fields}
        by_relationship = {
            item.relationship_name.lower(): item for item in self.fields if item.relationship_name
        }
        compounds = {
            item.name: tuple(
                (key, part.name)
                for key, suffix in ADDRESS_PARTS
                for part in self.fields
                if part.compound == item.name and part.name.endswith(suffix)
            )
            for item in self.fields
            if item.type == "address"
        }
        stored = [item.name for item in self.fields if item.type != "address"]
        object.__setattr__(self, "by_name", by_name)
        object.__setattr__(self, "by_relationship", by_relationship)
        object.__setattr__(self, "compounds", compounds)
        object.__setattr__(self, "template", dict.fromkeys(stored))

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name.lower())

    @property
    def soft_deletes(self) -> bool:
        return "isdeleted" in self.by_name

    def read(self, record: Mapping[str, object], name: str) -> object:
        """A stored field's value, or a compound field assembled from its parts."""
        parts = self.compounds.get(name)
        if parts is None:
            return record[name]
        return {key: record[part] for key, part in parts}

    def with_fields(self, extra: Iterable[Field]) -> SObject:
        """This object with more fields (a test's custom fields on a standard object)."""
        added = tuple(extra)
        clashes = [item.name for item in added if self.field(item.name) is not None]
        if clashes:
            raise ValueError(f"{self.name} already has fields {clashes}")
        return replace(self, fields=self.fields + added)


def version_path(version: str) -> str:
    return version if version.startswith("v") else f"v{version}"


def record_url(sobject: str, record_id: object, version: str) -> str:
    return f"/services/data/{version_path(version)}/sobjects/{sobject}/{record_id}"


def attributes(sobject: str, record_id: object, version: str) -> Record:
    return {"type": sobject, "url": record_url(sobject, record_id, version)}


def external_key(obj: SObject, name: str) -> Field:
    found = obj.field(name)
    if found is None or not (found.external_id or found.name == "Id"):
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {name}",
        )
    return found
