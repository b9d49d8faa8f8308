"""The REST data API of FakeSalesforce, through the unmodified simple-salesforce."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from sfresilience.testing import ApexRequest, FakeSalesforce


def _content(error: SalesforceError) -> Any:
    """The parsed error body (simple-salesforce annotates it as bytes)."""
    return error.content


def test_query_all_pages_past_2000_records() -> None:
    """query_all follows nextRecordsUrl over 2,500 contacts in pages of 2,000."""
    with FakeSalesforce(contacts=2500) as fake:
        sf = fake.client()
        first = sf.query("SELECT Id FROM Contact")
        everything = sf.query_all("SELECT Id FROM Contact")
    assert (2500, False, 2000) == (
        first["totalSize"],
        first["done"],
        len(first["records"]),
    )
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    assert 2500 == len({record["Id"] for record in everything["records"]})


def test_query_more_by_locator(sf: Any, fake: FakeSalesforce) -> None:
    """query_more with the nextRecordsUrl returns the rest of the records."""
    fake.query_batch_size = 150
    first = sf.query("SELECT Id FROM Contact")
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert (150, 50, True) == (
        len(first["records"]),
        len(rest["records"]),
        rest["done"],
    )


def test_batch_size_header_is_honoured(sf: Any) -> None:
    """Sforce-Query-Options batchSize sets the page size, as on Salesforce."""
    page = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=200"})
    smaller = sf.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=50"})
    assert (200, True) == (len(page["records"]), page["done"])
    assert (200, True) == (len(smaller["records"]), smaller["done"])


def test_unknown_query_locator(sf: Any) -> None:
    """An unknown query locator is 400 INVALID_QUERY_LOCATOR."""
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query_more("01gFAKE99999999999-2000")
    assert "INVALID_QUERY_LOCATOR" == _content(caught.value)[0]["errorCode"]


def test_query_all_includes_deleted_rows(sf: Any) -> None:
    """queryAll returns deleted rows that query hides."""
    contact_id = sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"]
    sf.Contact.delete(contact_id)
    soql = f"SELECT Id, IsDeleted FROM Contact WHERE Id = '{contact_id}'"  # noqa: S608
    assert 0 == sf.query(soql)["totalSize"]
    deleted = sf.query_all(soql, include_deleted=True)["records"]
    assert [True] == [record["IsDeleted"] for record in deleted]


def test_count_query(sf: Any) -> None:
    """SELECT COUNT() answers totalSize with no records."""
    result = sf.query("SELECT COUNT() FROM Contact")
    assert (200, True, []) == (result["totalSize"], result["done"], result["records"])


def test_parent_fields(sf: Any) -> None:
    """Parent relationship fields come back nested with attributes."""
    record = sf.query("SELECT Id, Account.Name FROM Contact WHERE AccountId != null LIMIT 1")[
        "records"
    ][0]
    assert "Account" == record["Account"]["attributes"]["type"]
    assert isinstance(record["Account"]["Name"], str)


def test_instance_name_from_organization(sf: Any) -> None:
    """SELECT InstanceName FROM Organization names the org's instance."""
    records = sf.query("SELECT InstanceName FROM Organization")["records"]
    assert ["NA137"] == [record["InstanceName"] for record in records]


def test_search(sf: Any) -> None:
    """SOSL search returns searchRecords."""
    name = sf.query("SELECT LastName FROM Contact LIMIT 1")["records"][0]["LastName"]
    found = sf.search(f"FIND {{{name}}} IN ALL FIELDS RETURNING Contact(Id, LastName)")
    assert found["searchRecords"]
    assert {name} == {record["LastName"] for record in found["searchRecords"]}


def test_sobject_crud(sf: Any) -> None:
    """create, get, update and delete a Contact."""
    created = sf.Contact.create({"LastName": "Lovelace", "Email": "ada@example.com"})
    assert (True, []) == (created["success"], created["errors"])
    assert "Lovelace" == sf.Contact.get(created["id"])["LastName"]
    assert 204 == sf.Contact.update(created["id"], {"LastName": "Byron"})
    assert "Byron" == sf.Contact.get(created["id"])["LastName"]
    assert 204 == sf.Contact.delete(created["id"])
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Contact.get(created["id"])
    assert "NOT_FOUND" == _content(caught.value)[0]["errorCode"]


def test_upsert_creates_then_updates(sf: Any) -> None:
    """Upsert by external id answers 201 when it creates and 204 when it updates."""
    created = sf.Contact.upsert("External_Id__c/EXT-1", {"LastName": "First"}, raw_response=True)
    updated = sf.Contact.upsert("External_Id__c/EXT-1", {"LastName": "Second"})
    assert (201, True) == (created.status_code, created.json()["created"])
    assert 204 == updated
    record = sf.Contact.get_by_custom_id("External_Id__c", "EXT-1")
    assert (created.json()["id"], "Second") == (record["Id"], record["LastName"])


def test_describe_and_describe_global(sf: Any) -> None:
    """describe() lists sObjects and SFType.describe() lists fields."""
    names = {entry["name"] for entry in sf.describe()["sobjects"]}
    fields = {field["name"] for field in sf.Contact.describe()["fields"]}
    assert {"Account", "Contact", "Opportunity"} <= names
    assert {"Id", "LastName", "AccountId"} <= fields


def test_limits(sf: Any, fake: FakeSalesforce) -> None:
    """limits() reports DailyApiRequests with the allocation and what remains."""
    fake.set_api_usage(100)
    daily = sf.limits()["DailyApiRequests"]
    assert {"Max": 15000, "Remaining": 14899} == daily


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Nope FROM Contact", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELEC Id FROM Contact", "MALFORMED_QUERY"),
    ],
)
def test_bad_queries(sf: Any, soql: str, code: str) -> None:
    """Bad SOQL raises SalesforceMalformedRequest with Salesforce's error body."""
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    assert (400, code) == (caught.value.status, _content(caught.value)[0]["errorCode"])


def test_unknown_sobject_describe(sf: Any) -> None:
    """Describing an unknown sObject is 404 NOT_FOUND."""
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.Nope.describe()
    assert "NOT_FOUND" == _content(caught.value)[0]["errorCode"]


def test_unknown_path(sf: Any) -> None:
    """An unknown REST path is 404 with The requested resource does not exist."""
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.restful("no/such/thing")
    expected = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
    assert expected == _content(caught.value)


def test_versions_list_is_open_and_uncounted(fake: FakeSalesforce) -> None:
    """GET /services/data/ lists versions without a session or a limit header."""
    response = fake.session().get(f"{fake.instance_url}/services/data/", timeout=5)
    assert 200 == response.status_code
    assert {
        "label": "Winter '24",
        "url": "/services/data/v59.0",
        "version": "59.0",
    } in response.json()
    assert "Sforce-Limit-Info" not in response.headers


def test_apex_rest_route(sf: Any, fake: FakeSalesforce) -> None:
    """A registered Apex REST handler answers apexecute calls."""
    seen: list[ApexRequest] = []

    def handler(request: ApexRequest) -> dict[str, Any]:
        seen.append(request)
        return {"echo": request.body}

    fake.apex_route("POST", "/sync/contacts", handler)
    assert {"echo": {"n": 1}} == sf.apexecute("sync/contacts", method="POST", data={"n": 1})
    assert [ApexRequest("POST", "/sync/contacts", {}, {"n": 1})] == seen


@pytest.mark.parametrize("version", ["31.0", "62.0", "64.0", "66.0"])
def test_every_supported_version_serves_data(fake: FakeSalesforce, version: str) -> None:
    """A client on any version from 31.0 to the newest can query after logging in."""
    sf = fake.client(version=version)
    assert 1 == sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"]


def test_versions_list_runs_from_31_to_the_newest(fake: FakeSalesforce) -> None:
    """GET /services/data/ lists 31.0 through max_api_version (66.0 by default)."""
    listed = fake.session().get(f"{fake.instance_url}/services/data/", timeout=5).json()
    assert [f"{v}.0" for v in range(31, 67)] == [entry["version"] for entry in listed]
    assert {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"} == listed[-1]


def test_versions_above_the_newest_are_not_found() -> None:
    """With max_api_version 64.0, version 65.0 is 404 NOT_FOUND and 64.0 is listed last."""
    with FakeSalesforce(max_api_version="64.0") as fake:
        listed = fake.session().get(f"{fake.instance_url}/services/data/", timeout=5).json()
        with pytest.raises(SalesforceResourceNotFound) as caught:
            fake.client(version="65.0").query("SELECT Id FROM Account LIMIT 1")
    assert "64.0" == listed[-1]["version"]
    assert "NOT_FOUND" == _content(caught.value)[0]["errorCode"]


def test_retired_versions_are_gone(fake: FakeSalesforce) -> None:
    """Versions 30.0 and older answer 410 UNSUPPORTED_API_VERSION."""
    sf = fake.client(version="30.0")
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query("SELECT Id FROM Account LIMIT 1")
    expected = [
        {"message": "API version is no longer supported", "errorCode": "UNSUPPORTED_API_VERSION"}
    ]
    assert (410, expected) == (caught.value.status, _content(caught.value))


@pytest.mark.parametrize("version", ["66", "v66.0", "66.1", "30.0"])
def test_bad_max_api_version_is_refused(version: str) -> None:
    """max_api_version must be a whole version no older than 31.0."""
    with pytest.raises(ValueError, match="max_api_version"):
        FakeSalesforce(max_api_version=version)


def test_external_id_with_plus_is_decoded_once(sf: Any) -> None:
    """An external id holding `+` is stored as sent, and found again by that value."""
    created = sf.Account.upsert("External_Id__c/a+b@x.com", {"Name": "Plus"}, raw_response=True)
    record_id = created.json()["id"]
    stored = sf.query(f"SELECT External_Id__c FROM Account WHERE Id = '{record_id}'")  # noqa: S608
    found = sf.Account.get_by_custom_id("External_Id__c", "a+b@x.com")
    assert "a+b@x.com" == stored["records"][0]["External_Id__c"]
    assert (record_id, "Plus") == (found["Id"], found["Name"])


def test_advertised_resources_are_served(sf: Any, fake: FakeSalesforce) -> None:
    """Every resource in the version's resource list answers (none is a 404)."""
    resources = sf.restful("")
    session = fake.session()
    headers = {"Authorization": f"Bearer {sf.session_id}"}
    answers = {
        name: session.get(f"{fake.instance_url}{url}", headers=headers, timeout=5)
        for name, url in resources.items()
    }
    assert "tooling" in resources
    assert [] == [name for name, answer in answers.items() if answer.status_code == 404]
    assert (200, []) == (answers["recent"].status_code, answers["recent"].json())


JUNE_1 = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)  # the fake org's writes start here
JUNE_2 = dt.datetime(2024, 6, 2, tzinfo=dt.UTC)


def test_deleted_lists_records_deleted_in_the_window(sf: Any) -> None:
    """SFType.deleted returns the deleted ids with their deletedDate and the window."""
    contact_id = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Contact.delete(contact_id)
    soql = f"SELECT SystemModstamp FROM Contact WHERE Id = '{contact_id}'"  # noqa: S608
    stamp = sf.query_all(soql, include_deleted=True)["records"][0]["SystemModstamp"]
    expected = {
        "deletedRecords": [{"id": contact_id, "deletedDate": stamp}],
        "earliestDateAvailable": "2023-01-01T00:00:00.000+0000",
        "latestDateCovered": "2024-06-02T00:00:00.000+0000",
    }
    assert expected == sf.Contact.deleted(JUNE_1, JUNE_2)
    assert [] == sf.Contact.deleted(JUNE_1 - dt.timedelta(days=1), JUNE_1)["deletedRecords"]


def test_updated_lists_records_written_in_the_window(sf: Any) -> None:
    """SFType.updated returns created and changed ids, oldest change first."""
    created = sf.Contact.create({"LastName": "New"})["id"]
    changed = sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"]
    sf.Contact.update(changed, {"LastName": "Changed"})
    expected = {"ids": [created, changed], "latestDateCovered": "2024-06-01T23:59:00.000+0000"}
    assert expected == sf.Contact.updated(JUNE_1, JUNE_2 - dt.timedelta(seconds=30))


def test_replication_window_must_be_a_minute(sf: Any) -> None:
    """A start that does not precede the end by a minute is 400 INVALID_REPLICATION_DATE."""
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.updated(JUNE_1, JUNE_1 + dt.timedelta(seconds=30))
    assert "INVALID_REPLICATION_DATE" == _content(caught.value)[0]["errorCode"]


def test_replication_dates_are_required(sf: Any, fake: FakeSalesforce) -> None:
    """A missing or unreadable start or end is 400 INVALID_REPLICATION_DATE."""
    url = f"{fake.instance_url}/services/data/v59.0/sobjects/Contact/deleted/"
    headers = {"Authorization": f"Bearer {sf.session_id}"}
    session = fake.session()
    start = {"start": "2024-06-01T00:00:00+00:00"}
    missing = session.get(url, params=start, headers=headers, timeout=5)
    unreadable = session.get(
        url, params={"start": "June", "end": "July"}, headers=headers, timeout=5
    )
    assert [(400, "INVALID_REPLICATION_DATE")] * 2 == [
        (answer.status_code, answer.json()[0]["errorCode"]) for answer in (missing, unreadable)
    ]
