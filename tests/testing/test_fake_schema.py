"""A test's own objects and fields, over real HTTP through unmodified simple-salesforce."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfresilience.testing import CustomObject, FakeSalesforce, Field, Org, ValidationRule


def _positive_amount(record: Any) -> bool:
    amount = record["Amount__c"]
    return amount is not None and amount < 0


THING = CustomObject(
    "Thing__c",
    [
        Field("Code__c", length=20, required=True, unique=True, external_id=True),
        Field("Status__c", "picklist", values=["New", ("Done", "Finished")], default="New"),
        Field("Amount__c", "currency", precision=16, scale=2),
        Field(
            "Account__c",
            "reference",
            reference_to="Account",
            child_relationship="Things__r",
        ),
    ],
    label="Thing",
    validation_rules=[
        ValidationRule(
            "Positive_Amount", _positive_amount, "Amount must not be negative", field="Amount__c"
        )
    ],
    record_types=["Retail", "Wholesale"],
)


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    org = Org(
        accounts=2,
        contacts=0,
        opportunities=0,
        objects=[THING],
        fields={"Contact": [Field("Region__c", "picklist", values=["EMEA", "AMER"])]},
    )
    with FakeSalesforce(org=org) as running:
        yield running


@pytest.fixture
def sf(fake: FakeSalesforce) -> Any:
    return fake.client()


def _error(action: Any) -> dict[str, Any]:
    with pytest.raises(SalesforceMalformedRequest) as caught:
        action()
    content = caught.value.content
    assert isinstance(content, list)
    return dict(content[0])


def test_custom_object_round_trips(sf: Any) -> None:
    """Create, get, update, upsert by external id, query and delete a Thing__c."""
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    created = sf.Thing__c.create({"Name": "First", "Code__c": "T-1", "Account__c": account})
    thing = sf.Thing__c.get(created["id"])
    assert created["id"].startswith("a00")
    assert ("First", "New", account) == (thing["Name"], thing["Status__c"], thing["Account__c"])
    sf.Thing__c.update(created["id"], {"Amount__c": 12.5, "Status__c": "Done"})
    sf.Thing__c.upsert("Code__c/T-2", {"Name": "Second"})
    rows = sf.query_all(
        "SELECT Name, Amount__c, toLabel(Status__c), RecordType.Name, Account__r.Name "
        "FROM Thing__c ORDER BY Name"
    )["records"]
    assert [("First", 12.5, "Finished"), ("Second", None, "New")] == [
        (row["Name"], row["Amount__c"], row["Status__c"]) for row in rows
    ]
    assert rows[0]["Account__r"]["attributes"]["type"] == "Account"
    assert rows[0]["RecordType"]["Name"] == "Retail"  # the default record type
    assert rows[1]["Account__r"] is None
    sf.Thing__c.delete(created["id"])
    assert sf.query("SELECT COUNT() FROM Thing__c")["totalSize"] == 1


def test_required_field_missing(sf: Any) -> None:
    """A required custom field left out answers REQUIRED_FIELD_MISSING naming it."""
    error = _error(lambda: sf.Thing__c.create({"Name": "No code"}))
    assert ("REQUIRED_FIELD_MISSING", ["Code__c"]) == (error["errorCode"], error["fields"])


def test_restricted_picklist_refuses_other_values(sf: Any) -> None:
    """A restricted picklist takes its values only."""
    error = _error(lambda: sf.Thing__c.create({"Name": "x", "Code__c": "c", "Status__c": "Lost"}))
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" == error["errorCode"]
    assert "bad value for restricted picklist field: Lost" in error["message"]
    assert ["Status__c"] == error["fields"]


def test_unique_external_id_refuses_duplicates_ignoring_case(sf: Any) -> None:
    """A second record with the same unique value gets DUPLICATE_VALUE naming the holder."""
    first = sf.Thing__c.create({"Name": "a", "Code__c": "Same"})["id"]
    error = _error(lambda: sf.Thing__c.create({"Name": "b", "Code__c": "SAME"}))
    assert "DUPLICATE_VALUE" == error["errorCode"]
    assert error["message"].endswith(first)
    other = sf.Thing__c.create({"Name": "c", "Code__c": "Other"})["id"]
    error = _error(lambda: sf.Thing__c.update(other, {"Code__c": "same"}))
    assert "DUPLICATE_VALUE" == error["errorCode"]
    sf.Thing__c.delete(first)
    sf.Thing__c.update(other, {"Code__c": "same"})  # the holder is in the recycle bin


def test_validation_rule_answers_with_its_message(sf: Any) -> None:
    """A rule whose error condition holds refuses the write with its own message."""
    error = _error(lambda: sf.Thing__c.create({"Name": "x", "Code__c": "v", "Amount__c": -1}))
    assert {
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "message": "Amount must not be negative",
        "fields": ["Amount__c"],
    } == error
    thing = sf.Thing__c.create({"Name": "x", "Code__c": "v", "Amount__c": 1})["id"]
    error = _error(lambda: sf.Thing__c.update(thing, {"Amount__c": -5}))
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" == error["errorCode"]
    assert sf.Thing__c.get(thing)["Amount__c"] == 1


def test_describe_custom_object(sf: Any) -> None:
    """describe() reports the custom object, its fields, picklists and record types."""
    body = sf.Thing__c.describe()
    fields = {field["name"]: field for field in body["fields"]}
    assert (True, "Thing", "Things", "a00") == (
        body["custom"],
        body["label"],
        body["labelPlural"],
        body["keyPrefix"],
    )
    assert {"Id", "Name", "RecordTypeId", "Code__c", "OwnerId", "IsDeleted"} <= set(fields)
    code = fields["Code__c"]
    assert (True, True, True, False, "xsd:string") == (
        code["custom"],
        code["unique"],
        code["externalId"],
        code["nillable"],
        code["soapType"],
    )
    status = fields["Status__c"]
    assert status["restrictedPicklist"] is True
    assert [("New", "New", True), ("Done", "Finished", False)] == [
        (value["value"], value["label"], value["defaultValue"])
        for value in status["picklistValues"]
    ]
    assert (["Account"], "Account__r") == (
        fields["Account__c"]["referenceTo"],
        fields["Account__c"]["relationshipName"],
    )
    names = [info["name"] for info in body["recordTypeInfos"]]
    assert ["Retail", "Wholesale", "Master"] == names
    kinds = sf.query("SELECT Name FROM RecordType WHERE SobjectType = 'Thing__c' ORDER BY Name")
    assert ["Retail", "Wholesale"] == [row["Name"] for row in kinds["records"]]
    assert any(
        entry["name"] == "Thing__c" and entry["custom"] for entry in sf.describe()["sobjects"]
    )


def test_parent_describe_lists_the_child_relationship(sf: Any) -> None:
    """A lookup to Account shows on Account's describe as a child relationship."""
    children = sf.Account.describe()["childRelationships"]
    thing = next(child for child in children if child["childSObject"] == "Thing__c")
    assert ("Account__c", "Things__r") == (thing["field"], thing["relationshipName"])


def test_custom_field_on_a_standard_object(sf: Any) -> None:
    """Fields added to Contact are written, read and described like standard ones."""
    created = sf.Contact.create({"LastName": "Hopper", "Region__c": "EMEA"})
    assert sf.Contact.get(created["id"])["Region__c"] == "EMEA"
    fields = {field["name"]: field for field in sf.Contact.describe()["fields"]}
    assert fields["Region__c"]["custom"] is True
    error = _error(lambda: sf.Contact.create({"LastName": "x", "Region__c": "APAC"}))
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" == error["errorCode"]


def test_declaration_mistakes_are_caught_early() -> None:
    """Names without __c and lookups to unknown objects fail at declaration."""
    with pytest.raises(ValueError, match="__c"):
        CustomObject("Thing", [])
    with pytest.raises(ValueError, match="__c"):
        CustomObject("Thing__c", [Field("Code")])
    with pytest.raises(ValueError, match="unknown object"):
        Org(objects=[CustomObject("Bad__c", [Field("X__c", "reference", reference_to="Nope")])])
    with pytest.raises(ValueError, match="unknown field type"):
        Field("X__c", "blob")


def test_compound_address_reads_as_a_nested_object(sf: Any) -> None:
    """MailingAddress is read as the dict Salesforce returns, built from its parts."""
    created = sf.Contact.create(
        {"LastName": "Liskov", "MailingStreet": "1 Main St", "MailingCity": "Boston"}
    )
    record = sf.Contact.get(created["id"])
    assert {
        "city": "Boston",
        "country": None,
        "geocodeAccuracy": None,
        "latitude": None,
        "longitude": None,
        "postalCode": None,
        "state": None,
        "street": "1 Main St",
    } == record["MailingAddress"]
    soql = f"SELECT MailingAddress FROM Contact WHERE Id = '{created['id']}'"  # noqa: S608
    row = sf.query(soql)
    assert row["records"][0]["MailingAddress"]["city"] == "Boston"
    fields = {field["name"]: field for field in sf.Contact.describe()["fields"]}
    assert ("address", "urn:address", False) == (
        fields["MailingAddress"]["type"],
        fields["MailingAddress"]["soapType"],
        fields["MailingAddress"]["createable"],
    )
    assert fields["MailingCity"]["compoundFieldName"] == "MailingAddress"


def test_describe_carries_the_keys_real_describes_carry(sf: Any) -> None:
    """Object-level and field-level describe keys, as integrations read them."""
    body = sf.Lead.describe()
    for key in (
        "actionOverrides",
        "activateable",
        "childRelationships",
        "compactLayoutable",
        "createable",
        "custom",
        "customSetting",
        "deletable",
        "keyPrefix",
        "layoutable",
        "queryable",
        "recordTypeInfos",
        "replicateable",
        "retrieveable",
        "searchable",
        "supportedScopes",
        "triggerable",
        "undeletable",
        "updateable",
        "urls",
    ):
        assert key in body, key
    status = next(field for field in body["fields"] if field["name"] == "Status")
    assert status["defaultValue"] is None
    assert status["picklistValues"][0]["defaultValue"] is True
    assert body["recordTypeInfos"][0]["recordTypeId"] == "012000000000000AAA"


def test_describe_layouts(sf: Any, fake: FakeSalesforce) -> None:
    """describe/layouts/ lists a layout for one record type, or null with several."""
    session = fake.session()
    headers = {"Authorization": f"Bearer {fake.issue_session()}"}
    base = f"{fake.instance_url}/services/data/v59.0/sobjects"
    account = session.get(f"{base}/Account/describe/layouts/", headers=headers).json()
    layout = account["layouts"][0]
    assert account["recordTypeSelectorRequired"] == [False]
    assert account["recordTypeMappings"][0]["layoutId"] == layout["id"]
    names = [
        component["value"]
        for row in layout["detailLayoutSections"][0]["layoutRows"]
        for item in row["layoutItems"]
        for component in item["layoutComponents"]
    ]
    assert "Name" in names
    assert "CreatedDate" not in names
    related = {entry["name"] for entry in layout["relatedLists"]}
    assert {"Contacts", "Opportunities", "Things__r"} <= related
    things = session.get(f"{base}/Thing__c/describe/layouts/", headers=headers).json()
    assert things["layouts"] is None
    retail = things["recordTypeMappings"][0]["recordTypeId"]
    one = session.get(f"{base}/Thing__c/describe/layouts/{retail}", headers=headers)
    assert (200, layout.keys()) == (one.status_code, one.json().keys())
    missing = session.get(f"{base}/Thing__c/describe/layouts/012000000000001AAA", headers=headers)
    assert 404 == missing.status_code


def test_standard_sales_and_activity_objects(sf: Any) -> None:
    """Leads, campaigns, tasks, products and opportunity line items work end to end."""
    lead = sf.Lead.create({"LastName": "Ng", "Company": "Initech", "City": "Austin"})["id"]
    campaign = sf.Campaign.create({"Name": "Launch"})["id"]
    sf.CampaignMember.create({"CampaignId": campaign, "LeadId": lead})
    sf.Task.create({"Subject": "Call", "WhoId": lead})
    read = sf.Lead.get(lead)
    assert ("Open - Not Contacted", "Austin") == (read["Status"], read["Address"]["city"])
    members = sf.query(
        "SELECT Name, (SELECT Lead.Name, Status FROM CampaignMembers) FROM Campaign"
    )["records"][0]["CampaignMembers"]
    assert [("Ng", "Sent")] == [(row["Lead"]["Name"], row["Status"]) for row in members["records"]]
    tasks = sf.query(f"SELECT Subject, Status, Who.Name FROM Task WHERE WhoId = '{lead}'")  # noqa: S608
    assert ("Not Started", "Ng") == (
        tasks["records"][0]["Status"],
        tasks["records"][0]["Who"]["Name"],
    )

    book = sf.query("SELECT Id FROM Pricebook2 WHERE IsStandard = true")["records"][0]["Id"]
    product = sf.Product2.create({"Name": "Widget", "IsActive": True})["id"]
    entry = sf.PricebookEntry.create(
        {"Pricebook2Id": book, "Product2Id": product, "UnitPrice": 10, "IsActive": True}
    )["id"]
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    deal = sf.Opportunity.create(
        {"Name": "Big", "StageName": "Closed Won", "CloseDate": "2024-05-01", "AccountId": account}
    )["id"]
    sf.OpportunityLineItem.create(
        {"OpportunityId": deal, "PricebookEntryId": entry, "Quantity": 3, "UnitPrice": 10}
    )
    soql = "SELECT IsWon, (SELECT TotalPrice FROM OpportunityLineItems) FROM Opportunity"
    rows = sf.query(f"{soql} WHERE Id = '{deal}'")["records"]
    assert rows[0]["IsWon"] is True
    assert [30.0] == [item["TotalPrice"] for item in rows[0]["OpportunityLineItems"]["records"]]
    sf.Opportunity.delete(deal)  # line items go with their opportunity
    assert 0 == sf.query("SELECT COUNT() FROM OpportunityLineItem")["totalSize"]


def test_lookups_between_custom_objects() -> None:
    """A custom child of a custom parent: parent paths, subqueries and cascade delete."""
    parent = CustomObject("Project__c", [Field("Code__c", unique=True)])
    child = CustomObject(
        "Milestone__c",
        [
            Field(
                "Project__c",
                "reference",
                reference_to="Project__c",
                child_relationship="Milestones__r",
                required=True,
                cascade_delete=True,
            ),
            Field("Due__c", "date"),
        ],
    )
    org = Org(accounts=0, contacts=0, opportunities=0, objects=[parent, child])
    with FakeSalesforce(org=org) as fake:
        sf: Any = fake.client()
        project = sf.Project__c.create({"Name": "Apollo", "Code__c": "AP"})["id"]
        sf.Milestone__c.create({"Name": "Launch", "Project__c": project, "Due__c": "1969-07-16"})
        rows = sf.query("SELECT Name, Project__r.Code__c FROM Milestone__c")["records"]
        assert "AP" == rows[0]["Project__r"]["Code__c"]
        nested = sf.query("SELECT (SELECT Name, Due__c FROM Milestones__r) FROM Project__c")
        milestones = nested["records"][0]["Milestones__r"]["records"]
        assert [("Launch", "1969-07-16")] == [(row["Name"], row["Due__c"]) for row in milestones]
        wrong = _error(
            lambda: sf.Milestone__c.create({"Name": "x", "Project__c": fake.org.user_id})
        )
        assert "INVALID_CROSS_REFERENCE_KEY" == wrong["errorCode"]
        sf.Project__c.delete(project)
        assert 0 == sf.query("SELECT COUNT() FROM Milestone__c")["totalSize"]
        assert "a01" == sf.Milestone__c.metadata()["objectDescribe"]["keyPrefix"]


def test_fake_salesforce_takes_objects_and_fields_as_keywords() -> None:
    """FakeSalesforce(objects=..., fields=...) builds its org with them."""
    region = Field("Region__c", "picklist", values=["EMEA"])
    with FakeSalesforce(objects=[THING], fields={"Account": [region]}, contacts=0) as fake:
        sf: Any = fake.client()
        sf.Thing__c.create({"Name": "kw", "Code__c": "K"})
        assert sf.query("SELECT COUNT() FROM Thing__c")["totalSize"] == 1
        assert any(field["name"] == "Region__c" for field in sf.Account.describe()["fields"])


def test_simple_salesforce_describe_layout(sf: Any) -> None:
    """SFType.describe_layout(recordTypeId) reads one record type's layout."""
    retail = sf.Thing__c.describe()["recordTypeInfos"][0]["recordTypeId"]
    layout = sf.Thing__c.describe_layout(retail)
    fields = [
        component["value"]
        for section in layout["editLayoutSections"]
        for row in section["layoutRows"]
        for item in row["layoutItems"]
        for component in item["layoutComponents"]
    ]
    assert {"Name", "Code__c", "Status__c"} <= set(fields)


def test_a_detail_write_locks_its_master_record() -> None:
    """Updating a line item locks its Opportunity (and that one's Account) too."""
    org = Org(accounts=1, contacts=0, opportunities=1)
    deal = str(org.records("Opportunity")[0]["Id"])
    account = str(org.records("Opportunity")[0]["AccountId"])
    item = org.create("OpportunityLineItem", {"OpportunityId": deal, "Quantity": 1})
    assert [item, deal] == org.lock_keys("OpportunityLineItem", item)
    assert [deal, account] == org.lock_keys("Opportunity", deal)
