"""Standard sales and activity objects: opportunities with products, campaigns, tasks, events."""

from __future__ import annotations

from typing import Final

from .fields import audit_fields, external_id, id_field, lookup, picklist, read_only
from .schema import Field, Record, SObject


STAGES: Final = (
    ("Prospecting", 10.0),
    ("Qualification", 20.0),
    ("Needs Analysis", 20.0),
    ("Value Proposition", 50.0),
    ("Proposal/Price Quote", 75.0),
    ("Negotiation/Review", 90.0),
    ("Closed Won", 100.0),
    ("Closed Lost", 0.0),
)
_WHO: Final = ("Contact", "Lead")
_WHAT: Final = ("Account", "Opportunity", "Campaign")


def _opportunity(record: Record) -> None:
    stage = record.get("StageName")
    record["IsClosed"] = stage in {"Closed Won", "Closed Lost"}
    record["IsWon"] = stage == "Closed Won"


def _line_item(record: Record) -> None:
    quantity, price = record.get("Quantity"), record.get("UnitPrice")
    if isinstance(quantity, float | int) and isinstance(price, float | int):
        record["TotalPrice"] = float(quantity) * float(price)


def _task(record: Record) -> None:
    record["IsClosed"] = record.get("Status") == "Completed"


OPPORTUNITY: Final = SObject(
    "Opportunity",
    "Opportunity",
    "Opportunities",
    "006",
    (
        id_field(),
        Field("Name", length=120, required=True, name_field=True),
        picklist("StageName", tuple(stage for stage, _ in STAGES), label="Stage", required=True),
        Field("Amount", "currency", precision=18, scale=2),
        Field("CloseDate", "date", required=True),
        Field("Probability", "percent", label="Probability (%)", precision=3),
        picklist("Type", ("Existing Customer - Upgrade", "New Customer", "Renewal")),
        picklist("LeadSource", ("Web", "Phone Inquiry", "Partner Referral", "Other")),
        Field("NextStep", length=255, label="Next Step"),
        Field("Description", "textarea"),
        read_only("IsClosed", "boolean", "Closed", default=False),
        read_only("IsWon", "boolean", "Won", default=False),
        picklist("ForecastCategoryName", ("Pipeline", "Best Case", "Commit", "Omitted", "Closed")),
        lookup("AccountId", "Account", "Opportunities", label="Account ID", cascade=True),
        lookup("CampaignId", "Campaign", "Opportunities", label="Campaign ID"),
        lookup("Pricebook2Id", "Pricebook2", "Opportunities", label="Price Book ID"),
        external_id(),
        *audit_fields(),
    ),
    derive=_opportunity,
)
PRODUCT: Final = SObject(
    "Product2",
    "Product",
    "Products",
    "01t",
    (
        id_field(),
        Field("Name", label="Product Name", required=True, name_field=True),
        Field("ProductCode", label="Product Code"),
        Field("Description", "textarea", label="Product Description", length=4000),
        Field("IsActive", "boolean", label="Active", default=False),
        picklist("Family", ("None", "Hardware", "Software", "Services"), label="Product Family"),
        external_id(),
        *audit_fields(),
    ),
)
PRICEBOOK: Final = SObject(
    "Pricebook2",
    "Price Book",
    "Price Books",
    "01s",
    (
        id_field(),
        Field("Name", label="Price Book Name", required=True, name_field=True),
        Field("IsActive", "boolean", label="Active", default=False),
        read_only("IsStandard", "boolean", "Is Standard Price Book", default=False),
        Field("Description", length=255),
        *audit_fields(),
    ),
)
PRICEBOOK_ENTRY: Final = SObject(
    "PricebookEntry",
    "Price Book Entry",
    "Price Book Entries",
    "01u",
    (
        id_field(),
        read_only("Name", label="Product Name", name_field=True),
        lookup(
            "Pricebook2Id", "Pricebook2", "PricebookEntries", label="Price Book ID", required=True
        ),
        lookup("Product2Id", "Product2", "PricebookEntries", label="Product ID", required=True),
        Field("UnitPrice", "currency", label="List Price", required=True, precision=18, scale=2),
        Field("IsActive", "boolean", label="Active", default=False),
        Field("UseStandardPrice", "boolean", label="Use Standard Price", default=False),
        read_only("ProductCode", label="Product Code"),
        *audit_fields(),
    ),
)
LINE_ITEM: Final = SObject(
    "OpportunityLineItem",
    "Opportunity Product",
    "Opportunity Product",
    "00k",
    (
        id_field(),
        lookup(
            "OpportunityId",
            "Opportunity",
            "OpportunityLineItems",
            label="Opportunity ID",
            required=True,
            cascade=True,
        ),
        lookup(
            "PricebookEntryId",
            "PricebookEntry",
            "OpportunityLineItems",
            label="Price Book Entry ID",
        ),
        lookup("Product2Id", "Product2", None, label="Product ID"),
        read_only("Name", label="Opportunity Product Name", length=376, name_field=True),
        Field("Quantity", "double", required=True, precision=12, scale=2),
        Field("UnitPrice", "currency", label="Sales Price", precision=18, scale=2),
        read_only("TotalPrice", "currency", "Total Price", precision=18, scale=2),
        read_only("ListPrice", "currency", "List Price", precision=18, scale=2),
        Field("ServiceDate", "date", label="Date"),
        Field("Description", length=255, label="Line Description"),
        *audit_fields(),
    ),
    derive=_line_item,
)
CAMPAIGN: Final = SObject(
    "Campaign",
    "Campaign",
    "Campaigns",
    "701",
    (
        id_field(),
        Field("Name", label="Campaign Name", length=80, required=True, name_field=True),
        picklist("Type", ("Conference", "Webinar", "Email", "Advertisement", "Other")),
        picklist("Status", ("Planned", "In Progress", "Completed", "Aborted")),
        Field("StartDate", "date", label="Start Date"),
        Field("EndDate", "date", label="End Date"),
        Field("IsActive", "boolean", label="Active", default=False),
        Field("BudgetedCost", "currency", label="Budgeted Cost in Campaign", precision=18),
        Field("ActualCost", "currency", label="Actual Cost in Campaign", precision=18),
        lookup("ParentId", "Campaign", "ChildCampaigns", label="Parent Campaign ID"),
        Field("Description", "textarea"),
        external_id(),
        *audit_fields(),
    ),
)
CAMPAIGN_MEMBER: Final = SObject(
    "CampaignMember",
    "Campaign Member",
    "Campaign Members",
    "00v",
    (
        id_field(),
        lookup(
            "CampaignId",
            "Campaign",
            "CampaignMembers",
            label="Campaign ID",
            required=True,
            cascade=True,
        ),
        lookup("LeadId", "Lead", "CampaignMembers", label="Lead ID"),
        lookup("ContactId", "Contact", "CampaignMembers", label="Contact ID"),
        picklist("Status", ("Planned", "Received", "Responded", "Sent"), default="Sent"),
        read_only("HasResponded", "boolean", "Responded", default=False),
        Field("FirstRespondedDate", "date", label="First Responded Date"),
        *audit_fields(),
    ),
    searchable=False,
)
TASK: Final = SObject(
    "Task",
    "Task",
    "Tasks",
    "00T",
    (
        id_field(),
        Field("Subject", "combobox", values=("Call", "Send Letter", "Send Quote", "Other")),
        picklist(
            "Status",
            ("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
            required=True,
            default="Not Started",
        ),
        picklist("Priority", ("High", "Normal", "Low"), required=True, default="Normal"),
        Field("ActivityDate", "date", label="Due Date Only"),
        Field("Description", "textarea", label="Description"),
        lookup("WhoId", _WHO, "Tasks", label="Name ID", relationship="Who"),
        lookup("WhatId", _WHAT, "Tasks", label="Related To ID", relationship="What"),
        read_only("IsClosed", "boolean", "Closed", default=False),
        picklist("TaskSubtype", ("Task", "Email", "Call")),
        *audit_fields(),
    ),
    derive=_task,
)
EVENT: Final = SObject(
    "Event",
    "Event",
    "Events",
    "00U",
    (
        id_field(),
        Field("Subject", "combobox", values=("Call", "Email", "Meeting", "Other")),
        Field("StartDateTime", "datetime", label="Start Date Time"),
        Field("EndDateTime", "datetime", label="End Date Time"),
        Field("ActivityDateTime", "datetime", label="Due Date Time"),
        Field("ActivityDate", "date", label="Due Date Only"),
        Field("DurationInMinutes", "int", label="Duration", precision=8),
        Field("IsAllDayEvent", "boolean", label="All-Day Event", default=False),
        Field("Location", length=255),
        Field("Description", "textarea"),
        picklist("ShowAs", ("Busy", "OutOfOffice", "Free"), label="Show Time As", default="Busy"),
        lookup("WhoId", _WHO, "Events", label="Name ID", relationship="Who"),
        lookup("WhatId", _WHAT, "Events", label="Related To ID", relationship="What"),
        *audit_fields(),
    ),
)

SALES_OBJECTS: Final = (
    OPPORTUNITY,
    LINE_ITEM,
    PRODUCT,
    PRICEBOOK,
    PRICEBOOK_ENTRY,
    CAMPAIGN,
    CAMPAIGN_MEMBER,
    TASK,
    EVENT,
)
