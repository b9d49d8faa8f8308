"""Field builders the standard objects and `CustomObject` share."""

from __future__ import annotations

from .schema import Field


def id_field() -> Field:
    return Field("Id", "id", label="Record ID", createable=False, updateable=False, unique=True)


def read_only(name: str, kind: str = "string", label: str = "", **options: object) -> Field:
    return Field(name, kind, label=label, createable=False, updateable=False, **options)  # type: ignore[arg-type]


def user_lookup(name: str, label: str, relationship: str, *, writable: bool = False) -> Field:
    return Field(
        name,
        "reference",
        label=label,
        createable=writable,
        updateable=writable,
        reference_to="User",
        relationship_name=relationship,
    )


def audit_fields() -> tuple[Field, ...]:
    """The owner, created/modified stamps and the recycle-bin flag every data object has."""
    return (
        user_lookup("OwnerId", "Owner ID", "Owner", writable=True),
        read_only("CreatedDate", "datetime", "Created Date"),
        user_lookup("CreatedById", "Created By ID", "CreatedBy"),
        read_only("LastModifiedDate", "datetime", "Last Modified Date"),
        user_lookup("LastModifiedById", "Last Modified By ID", "LastModifiedBy"),
        read_only("SystemModstamp", "datetime", "System Modstamp"),
        read_only("IsDeleted", "boolean", "Deleted"),
    )


def lookup(
    name: str,
    target: str | tuple[str, ...],
    children: str | None,
    *,
    label: str = "",
    relationship: str | None = None,
    required: bool = False,
    cascade: bool = False,
    writable: bool = True,
) -> Field:
    return Field(
        name,
        "reference",
        label=label,
        reference_to=target,
        relationship_name=relationship,
        child_relationship=children,
        required=required,
        cascade_delete=cascade,
        createable=writable,
        updateable=writable,
    )


def picklist(name: str, values: tuple[str, ...], *, label: str = "", **options: object) -> Field:
    """A standard picklist: unrestricted, as most standard picklists are."""
    options.setdefault("restricted", False)
    return Field(name, "picklist", label=label, values=values, **options)  # type: ignore[arg-type]


def address(prefix: str, label: str) -> tuple[Field, ...]:
    """The components of an address and the compound field that reads them as one."""
    compound = f"{prefix}Address"
    spaced = f"{label} " if label else ""
    return (
        Field(
            f"{prefix}Street", "textarea", label=f"{spaced}Street", length=255, compound=compound
        ),
        Field(f"{prefix}City", label=f"{spaced}City", length=40, compound=compound),
        Field(f"{prefix}State", label=f"{spaced}State/Province", length=80, compound=compound),
        Field(
            f"{prefix}PostalCode", label=f"{spaced}Zip/Postal Code", length=20, compound=compound
        ),
        Field(f"{prefix}Country", label=f"{spaced}Country", length=80, compound=compound),
        Field(
            f"{prefix}Latitude",
            "double",
            label=f"{spaced}Latitude",
            precision=18,
            scale=15,
            compound=compound,
        ),
        Field(
            f"{prefix}Longitude",
            "double",
            label=f"{spaced}Longitude",
            precision=18,
            scale=15,
            compound=compound,
        ),
        Field(
            f"{prefix}GeocodeAccuracy",
            "picklist",
            label=f"{spaced}Geocode Accuracy",
            length=40,
            compound=compound,
            restricted=False,
            values=(
                "Address",
                "NearAddress",
                "Block",
                "Street",
                "ExtendedZip",
                "Zip",
                "City",
                "County",
                "State",
                "Unknown",
            ),
        ),
        Field(
            compound,
            "address",
            label=f"{spaced}Address".strip(),
            createable=False,
            updateable=False,
        ),
    )


def external_id() -> Field:
    return Field("External_Id__c", label="External Id", length=255, external_id=True)
