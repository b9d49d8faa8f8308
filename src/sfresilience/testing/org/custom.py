"""`CustomObject`: a test's own sObject, with the system fields Salesforce gives every one."""

from __future__ import annotations

from collections.abc import Iterable

from .fields import audit_fields, id_field
from .schema import Field, SObject, ValidationRule


def CustomObject(  # noqa: N802 - a constructor-like factory, as `Field` is a class
    name: str,
    fields: Iterable[Field] = (),
    *,
    label: str = "",
    label_plural: str = "",
    name_field: Field | None = None,
    validation_rules: Iterable[ValidationRule] = (),
    record_types: Iterable[str] = (),
    key_prefix: str = "",
) -> SObject:
    """Declare a custom object such as `Thing__c` for `Org(objects=[...])`.

    It gets what Salesforce gives every custom object: `Id`, a `Name` (text, 80
    characters, required; pass `name_field` to change it), `OwnerId`, the created /
    modified stamps, `SystemModstamp` and `IsDeleted`. With `record_types`, RecordType
    rows are seeded for it and it gets a `RecordTypeId` lookup. The key prefix is
    assigned by the org (`a00`, `a01`, ...) unless `key_prefix` is given.
    """
    if not name.endswith("__c"):
        raise ValueError(f"custom object names end in __c: {name!r}")
    declared = tuple(fields)
    wrong = [item.name for item in declared if not item.name.endswith("__c")]
    if wrong:
        raise ValueError(f"custom field names end in __c: {wrong}")
    singular = label or name.removesuffix("__c").replace("_", " ")
    types = tuple(record_types)
    system: list[Field] = [
        id_field(),
        name_field
        or Field("Name", label=f"{singular} Name", length=80, required=True, name_field=True),
    ]
    if types:
        system.append(
            Field(
                "RecordTypeId",
                "reference",
                label="Record Type ID",
                reference_to="RecordType",
                relationship_name="RecordType",
            )
        )
    return SObject(
        name,
        singular,
        label_plural or f"{singular}s",
        key_prefix,
        (*system, *declared, *audit_fields()),
        custom=True,
        validation_rules=tuple(validation_rules),
        record_types=types,
    )
