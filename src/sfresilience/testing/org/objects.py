"""The standard objects the org serves: the ones integrations touch most."""

from __future__ import annotations

from typing import Final

from .fields import address, audit_fields, external_id, id_field, lookup, picklist, read_only
from .objects_sales import SALES_OBJECTS
from .schema import Field, Record, SObject


_INDUSTRIES: Final = (
    "Agriculture",
    "Banking",
    "Education",
    "Energy",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Technology",
)
_RATINGS: Final = ("Hot", "Warm", "Cold")
LEAD_SOURCES: Final = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
_SALUTATIONS: Final = ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")


def _full_name(record: Record) -> None:
    parts = [record.get("FirstName"), record.get("LastName")]
    record["Name"] = " ".join(str(part) for part in parts if part)


def _name_field(label: str, length: int = 255, *, required: bool = True) -> Field:
    return Field("Name", label=label, length=length, required=required, name_field=True)


ACCOUNT: Final = SObject(
    "Account",
    "Account",
    "Accounts",
    "001",
    (
        id_field(),
        _name_field("Account Name"),
        picklist(
            "Type", ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other")
        ),
        lookup("ParentId", "Account", "ChildAccounts", label="Parent Account ID"),
        picklist("Industry", _INDUSTRIES),
        Field("AnnualRevenue", "currency", precision=18),
        Field("NumberOfEmployees", "int", label="Employees", precision=8),
        Field("Phone", "phone", label="Account Phone"),
        Field("Website", "url"),
        Field("AccountNumber", length=40),
        picklist("AccountSource", LEAD_SOURCES),
        Field("Description", "textarea", label="Account Description"),
        *address("Billing", "Billing"),
        *address("Shipping", "Shipping"),
        picklist("Rating", _RATINGS, label="Account Rating"),
        external_id(),
        *audit_fields(),
    ),
)
CONTACT: Final = SObject(
    "Contact",
    "Contact",
    "Contacts",
    "003",
    (
        id_field(),
        lookup("AccountId", "Account", "Contacts", label="Account ID", cascade=True),
        picklist("Salutation", _SALUTATIONS),
        Field("FirstName", length=40),
        Field("LastName", length=80, required=True),
        read_only("Name", label="Full Name", length=121, name_field=True),
        Field("Email", "email"),
        Field("Phone", "phone", label="Business Phone"),
        Field("MobilePhone", "phone", label="Mobile Phone"),
        Field("Title", length=128),
        Field("Department", length=80),
        picklist("LeadSource", LEAD_SOURCES),
        Field("Birthdate", "date"),
        Field("Description", "textarea", label="Contact Description"),
        lookup("ReportsToId", "Contact", None, label="Reports To ID"),
        Field("HasOptedOutOfEmail", "boolean", label="Email Opt Out", default=False),
        *address("Mailing", "Mailing"),
        *address("Other", "Other"),
        external_id(),
        *audit_fields(),
    ),
    derive=_full_name,
)
LEAD: Final = SObject(
    "Lead",
    "Lead",
    "Leads",
    "00Q",
    (
        id_field(),
        picklist("Salutation", _SALUTATIONS),
        Field("FirstName", length=40),
        Field("LastName", length=80, required=True),
        read_only("Name", label="Full Name", length=121, name_field=True),
        Field("Company", required=True),
        Field("Title", length=128),
        Field("Email", "email"),
        Field("Phone", "phone"),
        Field("Website", "url"),
        picklist(
            "Status",
            (
                "Open - Not Contacted",
                "Working - Contacted",
                "Closed - Converted",
                "Closed - Not Converted",
            ),
            label="Lead Status",
            required=True,
            default="Open - Not Contacted",
        ),
        picklist("LeadSource", LEAD_SOURCES),
        picklist("Industry", _INDUSTRIES),
        picklist("Rating", _RATINGS),
        Field("AnnualRevenue", "currency", precision=18),
        Field("NumberOfEmployees", "int", label="Employees", precision=8),
        Field("Description", "textarea"),
        *address("", ""),
        read_only("IsConverted", "boolean", "Converted", default=False),
        read_only("ConvertedDate", "date", "Converted Date"),
        lookup("ConvertedAccountId", "Account", None, label="Converted Account ID", writable=False),
        lookup("ConvertedContactId", "Contact", None, label="Converted Contact ID", writable=False),
        lookup(
            "ConvertedOpportunityId",
            "Opportunity",
            None,
            label="Converted Opportunity ID",
            writable=False,
        ),
        Field("HasOptedOutOfEmail", "boolean", label="Email Opt Out", default=False),
        external_id(),
        *audit_fields(),
    ),
    derive=_full_name,
)
ORGANIZATION: Final = SObject(
    "Organization",
    "Organization",
    "Organizations",
    "00D",
    (
        id_field(),
        read_only("Name", length=80, name_field=True),
        read_only("InstanceName", label="Instance Name", length=5),
        read_only("IsSandbox", "boolean", "Is Sandbox"),
        read_only("OrganizationType", "picklist", "Edition", length=40),
        read_only("NamespacePrefix", label="Namespace Prefix", length=15),
    ),
    writable=False,
    searchable=False,
)
USER: Final = SObject(
    "User",
    "User",
    "Users",
    "005",
    (
        id_field(),
        read_only("Username", length=80, unique=True),
        read_only("FirstName", label="First Name", length=40),
        read_only("LastName", label="Last Name", length=80),
        read_only("Name", label="Full Name", length=121, name_field=True),
        read_only("Alias", length=8),
        read_only("Email", "email", length=128),
        read_only("IsActive", "boolean", "Active"),
        read_only("TimeZoneSidKey", "picklist", "Time Zone", length=40),
    ),
    writable=False,
)
RECORD_TYPE: Final = SObject(
    "RecordType",
    "Record Type",
    "Record Types",
    "012",
    (
        id_field(),
        read_only("Name", label="Record Type Name", length=80, name_field=True),
        read_only("DeveloperName", label="Record Type Name", length=80),
        read_only("NamespacePrefix", label="Namespace Prefix", length=15),
        read_only("Description", length=255),
        read_only("SobjectType", "picklist", "SObject Type Name", length=40),
        read_only("IsActive", "boolean", "Active"),
    ),
    writable=False,
    searchable=False,
)

STANDARD: Final[tuple[SObject, ...]] = (
    ACCOUNT,
    CONTACT,
    LEAD,
    *SALES_OBJECTS,
    ORGANIZATION,
    USER,
    RECORD_TYPE,
)
