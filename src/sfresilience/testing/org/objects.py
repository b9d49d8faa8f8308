"""The standard objects the org serves."""

from __future__ import annotations

from typing import Final

from .schema import Field, SObject


def _id_field() -> Field:
    return Field("Id", "Record ID", "id", 18, createable=False, updateable=False)


def _user_lookup(name: str, label: str, relationship: str, *, writable: bool = False) -> Field:
    return Field(
        name,
        label,
        "reference",
        18,
        createable=writable,
        updateable=writable,
        reference_to="User",
        relationship_name=relationship,
    )


def _audit_fields() -> tuple[Field, ...]:
    return (
        _user_lookup("OwnerId", "Owner ID", "Owner", writable=True),
        _read_only("CreatedDate", "Created Date", "datetime"),
        _user_lookup("CreatedById", "Created By ID", "CreatedBy"),
        _read_only("LastModifiedDate", "Last Modified Date", "datetime"),
        _user_lookup("LastModifiedById", "Last Modified By ID", "LastModifiedBy"),
        _read_only("SystemModstamp", "System Modstamp", "datetime"),
        _read_only("IsDeleted", "Deleted", "boolean"),
    )


def _account_lookup() -> Field:
    return Field(
        "AccountId",
        "Account ID",
        "reference",
        18,
        reference_to="Account",
        relationship_name="Account",
    )


def _external_id() -> Field:
    return Field("External_Id__c", "External Id", "string", 255, external_id=True)


def _read_only(name: str, label: str, kind: str, length: int = 0) -> Field:
    return Field(name, label, kind, length, createable=False, updateable=False)


SCHEMA: Final[tuple[SObject, ...]] = (
    SObject(
        "Account",
        "Account",
        "Accounts",
        "001",
        (
            _id_field(),
            Field("Name", "Account Name", "string", 255, required=True),
            Field("Industry", "Industry", "picklist", 255),
            Field("AnnualRevenue", "Annual Revenue", "currency"),
            Field("NumberOfEmployees", "Employees", "int"),
            Field("BillingCity", "Billing City", "string", 40),
            Field("BillingCountry", "Billing Country", "string", 80),
            Field("Rating", "Account Rating", "picklist", 255),
            _external_id(),
            *_audit_fields(),
        ),
        children=(
            ("Contact", "AccountId", "Contacts"),
            ("Opportunity", "AccountId", "Opportunities"),
        ),
    ),
    SObject(
        "Contact",
        "Contact",
        "Contacts",
        "003",
        (
            _id_field(),
            Field("FirstName", "First Name", "string", 40),
            Field("LastName", "Last Name", "string", 80, required=True),
            _read_only("Name", "Full Name", "string", 121),
            Field("Email", "Email", "email", 80),
            Field("Phone", "Business Phone", "phone", 40),
            Field("Title", "Title", "string", 128),
            _account_lookup(),
            _external_id(),
            *_audit_fields(),
        ),
    ),
    SObject(
        "Opportunity",
        "Opportunity",
        "Opportunities",
        "006",
        (
            _id_field(),
            Field("Name", "Name", "string", 120, required=True),
            Field("StageName", "Stage", "picklist", 255, required=True),
            Field("Amount", "Amount", "currency"),
            Field("CloseDate", "Close Date", "date", required=True),
            Field("Probability", "Probability (%)", "percent"),
            _account_lookup(),
            *_audit_fields(),
        ),
    ),
    SObject(
        "Organization",
        "Organization",
        "Organizations",
        "00D",
        (
            _id_field(),
            _read_only("Name", "Name", "string", 80),
            _read_only("InstanceName", "Instance Name", "string", 5),
            _read_only("IsSandbox", "Is Sandbox", "boolean"),
            _read_only("OrganizationType", "Edition", "picklist", 40),
            _read_only("NamespacePrefix", "Namespace Prefix", "string", 15),
        ),
        writable=False,
    ),
    SObject(
        "User",
        "User",
        "Users",
        "005",
        (
            _id_field(),
            _read_only("Username", "Username", "string", 80),
            _read_only("Name", "Full Name", "string", 121),
            _read_only("Email", "Email", "email", 128),
            _read_only("IsActive", "Active", "boolean"),
        ),
        writable=False,
    ),
)
OBJECTS: Final[dict[str, SObject]] = {obj.name.lower(): obj for obj in SCHEMA}
SEARCHABLE: Final = ("Account", "Contact", "Opportunity")
