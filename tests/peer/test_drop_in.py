"""What simple-salesforce's own suite checks of its client, asserted of it and of it wrapped.

Every case runs twice (see conftest.py): once on ``Salesforce`` as built, once on
``ResilientClient`` around it, over real HTTP to the fake org. The cases are this
project's own, written after reading simple-salesforce's tests (test_api.py,
test_util.py, test_login.py) for the behaviours they pin down.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.bulk import SFBulkHandler
from simple_salesforce.bulk2 import SFBulk2Handler
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.util import Usage

from sfresilience import ResilientClient, Settings
from sfresilience.testing import ApexRequest, FakeSalesforce


# The `build` fixture: Salesforce(**kwargs), wrapped on the second run. Clients are
# Any here, as in the fake's own tests: simple-salesforce types sf.Contact as a union.
Build = Callable[..., Any]
JUNE_1 = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)  # the fake org's writes start here
JUNE_2 = dt.datetime(2024, 6, 2, tzinfo=dt.UTC)
EXTRA = {"X-Peer-Check": "sent"}


def recording(fake: FakeSalesforce) -> tuple[requests.Session, list[requests.PreparedRequest]]:
    """A session to the fake that keeps every request it sent, as sent."""
    sent: list[requests.PreparedRequest] = []
    session = fake.session()
    session.hooks["response"].append(lambda response, **_: sent.append(response.request))
    return session, sent


def first_contact(sf: Any) -> str:
    return str(sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"])


class TestSObjectCalls:
    """SFType methods: what they send, what they return (test_api.py's TestSFType)."""

    @pytest.mark.parametrize("extra", [EXTRA, None], ids=["extra-headers", "no-extra-headers"])
    def test_every_call_sends_the_session_and_any_extra_headers(
        self, build: Build, fake: FakeSalesforce, extra: dict[str, str] | None
    ) -> None:
        """metadata, describe, get, get_by_custom_id, create, update, upsert, delete,
        deleted and updated each send one request with the bearer and the headers given."""
        session, sent = recording(fake)
        sf = build(session=session)
        contact = sf.Contact
        contact_id = first_contact(sf)
        del sent[:]
        calls: list[tuple[str, Any]] = [
            ("metadata", lambda: contact.metadata(headers=extra)),
            ("describe", lambda: contact.describe(headers=extra)),
            ("get", lambda: contact.get(contact_id, headers=extra)),
            ("create", lambda: contact.create({"LastName": "Peer"}, headers=extra)),
            ("update", lambda: contact.update(contact_id, {"Title": "T"}, headers=extra)),
            (
                "upsert",
                lambda: contact.upsert("External_Id__c/P-1", {"LastName": "U"}, headers=extra),
            ),
            ("by id", lambda: contact.get_by_custom_id("External_Id__c", "P-1", headers=extra)),
            ("delete", lambda: contact.delete(contact_id, headers=extra)),
            ("deleted", lambda: contact.deleted(JUNE_1, JUNE_2, headers=extra)),
            ("updated", lambda: contact.updated(JUNE_1, JUNE_2, headers=extra)),
        ]
        for _, call in calls:
            call()
        assert len(calls) == len(sent)
        for request in sent:
            assert f"Bearer {sf.session_id}" == request.headers["Authorization"]
            assert ("sent" if extra else None) == request.headers.get("X-Peer-Check")

    def test_return_values(self, sf: Any) -> None:
        """create returns the JSON body, update/upsert/delete the status, or the
        Response with raw_response=True; get returns the record."""
        created = sf.Contact.create({"LastName": "Lovelace"})
        assert (True, []) == (created["success"], created["errors"])
        assert "Lovelace" == sf.Contact.get(created["id"])["LastName"]
        assert 204 == sf.Contact.update(created["id"], {"Title": "Countess"})
        response = sf.Contact.upsert("External_Id__c/L-1", {"LastName": "L"}, raw_response=True)
        assert isinstance(response, requests.Response)
        assert 201 == response.status_code
        assert 204 == sf.Contact.upsert("External_Id__c/L-1", {"LastName": "M"})
        assert 204 == sf.Contact.delete(created["id"])

    def test_get_by_custom_id_not_found(self, sf: Any) -> None:
        """A missing external id raises SalesforceResourceNotFound naming the sObject."""
        with pytest.raises(SalesforceResourceNotFound) as caught:
            sf.Contact.get_by_custom_id("External_Id__c", "nobody")
        assert ("Contact", 404) == (caught.value.resource_name, caught.value.status)

    def test_describe_lists_the_fields(self, sf: Any) -> None:
        fields = {field["name"] for field in sf.Contact.describe()["fields"]}
        assert {"Id", "LastName", "AccountId"} <= fields

    def test_parse_float_and_pairs_hook_follow_the_client(self, build: Build) -> None:
        """Query results honour parse_float and object_pairs_hook; sObject calls get
        the pairs hook (simple-salesforce passes parse_float no further)."""
        default = build()
        decimals = build(parse_float=decimal.Decimal, object_pairs_hook=dict)
        soql = "SELECT Id, Amount FROM Opportunity WHERE Amount != null LIMIT 1"
        assert isinstance(default.query(soql), OrderedDict)
        amount = decimals.query(soql)["records"][0]["Amount"]
        assert (decimal.Decimal, dict) == (type(amount), type(decimals.query(soql)))
        record = decimals.Contact.get(first_contact(decimals))
        assert dict is type(record)


class TestClient:
    """The Salesforce object itself (test_api.py's TestSalesforce)."""

    def test_custom_session_is_used_and_shared_with_sobjects(
        self, build: Build, fake: FakeSalesforce
    ) -> None:
        session, sent = recording(fake)
        sf = build(session=session)
        assert session is sf.session
        assert session is sf.Contact.session
        assert session.proxies is sf.Contact.session.proxies
        sf.query("SELECT Id FROM Account LIMIT 1")
        assert sent

    def test_custom_version(self, build: Build) -> None:
        sf = build(version="62.0")
        assert "v62.0" == sf.base_url.split("/")[-2]
        assert "62.0" == sf.sf_version
        assert "/v62.0/" in sf.Contact.base_url

    def test_session_attributes(self, sf: Any) -> None:
        assert sf.sf_instance in sf.base_url
        assert f"Bearer {sf.session_id}" == sf.headers["Authorization"]
        assert "password" == sf.auth_type
        assert sf.session_id == sf.Contact.session_id

    def test_api_usage_is_read_from_the_limit_header(self, sf: Any, fake: FakeSalesforce) -> None:
        """After a call, api_usage holds the Sforce-Limit-Info figures."""
        sf.query("SELECT Id FROM Account LIMIT 1")
        assert Usage(fake.api_usage, fake.api_limit) == sf.api_usage["api-usage"]

    def test_query_include_deleted_and_more(self, sf: Any, fake: FakeSalesforce) -> None:
        """query, queryAll (include_deleted), query_more by url and by locator id."""
        sf.Contact.delete(first_contact(sf))
        live = sf.query("SELECT Id FROM Contact")["totalSize"]
        everything = sf.query("SELECT Id FROM Contact", include_deleted=True)["totalSize"]
        assert (29, 30) == (live, everything)
        fake.query_batch_size = 10
        page = sf.query("SELECT Id FROM Contact")
        by_url = sf.query_more(page["nextRecordsUrl"], identifier_is_url=True)
        locator = page["nextRecordsUrl"].rsplit("/", 1)[-1]
        by_id = sf.query_more(locator, identifier_is_url=False)
        assert by_url == by_id
        assert 10 == len(by_url["records"])

    def test_query_all_and_query_all_iter(self, sf: Any, fake: FakeSalesforce) -> None:
        fake.query_batch_size = 7
        every = sf.query_all("SELECT Id FROM Contact")
        assert (30, True) == (every["totalSize"], every["done"])
        assert [r["Id"] for r in every["records"]] == [
            r["Id"] for r in sf.query_all_iter("SELECT Id FROM Contact")
        ]
        deleted = sf.query_all("SELECT Id FROM Contact WHERE IsDeleted = true", True)
        assert 0 == deleted["totalSize"]

    def test_limits_search_describe_is_sandbox(self, sf: Any) -> None:
        assert {"Max", "Remaining"} <= sf.limits()["DailyApiRequests"].keys()
        assert {"Account", "Contact"} <= {o["name"] for o in sf.describe()["sobjects"]}
        name = sf.query("SELECT LastName FROM Contact LIMIT 1")["records"][0]["LastName"]
        found = sf.search(f"FIND {{{name}}} IN ALL FIELDS RETURNING Contact(Id, LastName)")
        assert {name} == {r["LastName"] for r in found["searchRecords"]}
        assert sf.is_sandbox() is False

    def test_restful_and_apexecute(self, sf: Any, fake: FakeSalesforce) -> None:
        seen: list[ApexRequest] = []

        def handler(request: ApexRequest) -> dict[str, Any]:
            seen.append(request)
            return {"echo": request.body}

        fake.apex_route("POST", "/sync", handler)
        assert "sobjects" in sf.restful("")
        assert {"echo": {"n": 1}} == sf.apexecute("sync", method="POST", data={"n": 1})
        assert 1 == len(seen)

    def test_bulk_handlers_and_mdapi_are_simple_salesforce_s(self, sf: Any) -> None:
        assert isinstance(sf.bulk, SFBulkHandler)
        assert isinstance(sf.bulk2, SFBulk2Handler)
        assert sf.mdapi is sf.mdapi  # built once, kept on the client

    def test_sobjects_are_sftypes(self, sf: Any) -> None:
        assert isinstance(sf, Salesforce)
        assert isinstance(sf.Contact, SFType)
        assert "Contact" == sf.Contact.name
        assert sf.Contact.base_url.endswith("/sobjects/Contact/")


class TestErrors:
    """The exception each failure raises (test_util.py's TestExceptionHandler)."""

    @pytest.mark.parametrize(
        ("call", "raised", "status"),
        [
            (lambda sf: sf.query("SELEC Id FROM Contact"), SalesforceMalformedRequest, 400),
            (lambda sf: sf.Contact.get("003000000000000AAA"), SalesforceResourceNotFound, 404),
            (lambda sf: sf.Nothing__c.describe(), SalesforceResourceNotFound, 404),
            (lambda sf: sf.restful("no/such/thing"), SalesforceResourceNotFound, 404),
        ],
        ids=["400", "404-record", "404-sobject", "404-path"],
    )
    def test_status_maps_to_the_same_type(
        self, sf: Any, call: Any, raised: type[SalesforceError], status: int
    ) -> None:
        with pytest.raises(raised) as caught:
            call(sf)
        assert status == caught.value.status
        assert isinstance(caught.value.content, list)

    def test_403_and_500(self, sf: Any, fake: FakeSalesforce) -> None:
        # The 500 first: after a 403 TotalRequests the budget guard refuses calls
        # (BudgetExhausted) until /limits shows the window freed some.
        fake.faults.server_errors(status=500)
        with pytest.raises(SalesforceGeneralError) as caught:
            sf.query("SELECT Id FROM Account")
        assert 500 == caught.value.status
        fake.faults.clear()
        fake.set_api_usage(fake.api_limit)
        with pytest.raises(SalesforceRefusedRequest):
            sf.query("SELECT Id FROM Account")

    def test_expired_session_without_a_login(self, build: Build, fake: FakeSalesforce) -> None:
        """A client given a session id raises SalesforceExpiredSession when it expires."""
        sf = build(session_id=fake.issue_session(), instance_url=fake.instance_url)
        fake.faults.expire_sessions()
        with pytest.raises(SalesforceExpiredSession):
            sf.query("SELECT Id FROM Account")

    def test_expired_session_with_a_login_is_refreshed(self, sf: Any, fake: FakeSalesforce) -> None:
        """A client that logged in logs in again and the call succeeds."""
        before = sf.session_id
        fake.faults.expire_sessions()
        assert 5 == sf.query("SELECT COUNT() FROM Account")["totalSize"]
        assert before != sf.session_id


class TestLogin:
    """Logging in (test_login.py): the builders raise what Salesforce(...) raises."""

    @pytest.mark.parametrize("wrapped", [False, True], ids=["simple-salesforce", "sfresilience"])
    def test_bad_password(self, fake: FakeSalesforce, wrapped: bool) -> None:
        login: dict[str, Any] = {"username": fake.username, "password": "x", "security_token": "y"}

        def build() -> object:
            if wrapped:
                return ResilientClient.from_credentials(settings=Settings(), **login)
            return Salesforce(**login)

        login["session"] = fake.session()
        with pytest.raises(SalesforceAuthenticationFailed) as caught:
            build()
        assert "INVALID_LOGIN" in str(caught.value.code)

    def test_builders_give_the_same_client(self, fake: FakeSalesforce) -> None:
        login: dict[str, Any] = {
            "username": fake.username,
            "password": fake.password,
            "security_token": fake.security_token,
        }
        raw = Salesforce(session=fake.session(), **login)
        built = ResilientClient.from_credentials(
            settings=Settings(), session=fake.session(), **login
        )
        assert (raw.sf_instance, raw.base_url, raw.auth_type) == (
            built.sf_instance,
            built.base_url,
            built.auth_type,
        )
