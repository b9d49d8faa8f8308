"""ResilientClient as a transparent proxy: it *is* the client it wraps, with methods guarded."""

from __future__ import annotations

import copy
import decimal
import inspect
import pickle
from collections.abc import Iterator
from typing import Any
from unittest.mock import MagicMock

import pytest
import requests
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.bulk import SFBulkHandler
from simple_salesforce.bulk2 import SFBulk2Handler
from simple_salesforce.exceptions import SalesforceResourceNotFound

from sfresilience import ErrorCategory, Event, EventKind, ResilientClient, Settings, SObject
from sfresilience.testing import FakeSalesforce


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(accounts=3, contacts=10) as org:
        yield org


def wrap(sf: Salesforce, **kwargs: Any) -> Any:
    """A wrapper that never waits; typed Any, as simple-salesforce types sObjects as a union."""
    return ResilientClient(sf, settings=Settings(), sleep=lambda _: None, **kwargs)


def count(client: Any) -> int:
    return int(client.query("SELECT COUNT() FROM Account")["totalSize"])


class TestIsTheClient:
    def test_isinstance_holds_for_the_client_and_its_sobjects(self, fake: FakeSalesforce) -> None:
        """The wrapper passes for a Salesforce, client.Contact for an SFType."""
        client = wrap(fake.client())
        assert isinstance(client, Salesforce)
        assert isinstance(client, ResilientClient)
        assert isinstance(client.Contact, SFType)
        assert isinstance(client.Contact, SObject)
        assert client.Contact.salesforce is client

    def test_sobject_calls_are_guarded(self, fake: FakeSalesforce) -> None:
        """client.Contact.get rides out a 503 burst and names itself in events."""
        events: list[Event] = []
        client = wrap(fake.client(), on_event=events.append)
        contact_id = fake.org.records("Contact")[0]["Id"]
        fake.faults.server_errors(2, status=503)
        assert contact_id == client.Contact.get(contact_id)["Id"]
        assert ["Contact.get"] * 2 == [e.operation for e in events if e.kind is EventKind.RETRY]

    def test_other_methods_of_the_class_are_guarded(self, fake: FakeSalesforce) -> None:
        """A method the wrapper does not spell out (oauth2) is guarded and classified."""
        events: list[Event] = []
        client = wrap(fake.client(), on_event=events.append)
        with pytest.raises(SalesforceResourceNotFound) as caught:
            client.oauth2("no-such-resource")
        assert ErrorCategory.NOT_FOUND is caught.value.classification.category  # type: ignore[attr-defined]
        assert {"oauth2"} == {event.operation for event in events}

    def test_type_checkers_see_a_salesforce(self, fake: FakeSalesforce) -> None:
        """A function annotated for Salesforce takes the wrapper (mypy checks this file)."""

        def instance_of(sf: Salesforce) -> str:
            return sf.sf_instance

        client: ResilientClient = ResilientClient(fake.client(), settings=Settings())
        assert fake.instance_url == f"https://{instance_of(client)}"

    def test_a_subclass_s_own_methods_are_guarded(self, fake: FakeSalesforce) -> None:
        """A method a Salesforce subclass adds runs under the guard, as one operation."""

        class Team(Salesforce):
            def account_count(self) -> int:
                return int(self.query("SELECT COUNT() FROM Account")["totalSize"])

        events: list[Event] = []
        sf = Team(
            username=fake.username,
            password=fake.password,
            security_token=fake.security_token,
            session=fake.session(),
        )
        client = wrap(sf, on_event=events.append)
        fake.faults.server_errors(1, status=503)
        assert 3 == client.account_count()
        assert [("account_count", EventKind.RETRY)] == [
            (e.operation, e.kind) for e in events if e.kind is EventKind.RETRY
        ]

    def test_wrapping_a_wrapper_wraps_its_client(self, fake: FakeSalesforce) -> None:
        sf = fake.client()
        assert sf is wrap(wrap(sf)).wrapped

    def test_dir_lists_both(self, fake: FakeSalesforce) -> None:
        names = dir(wrap(fake.client()))
        assert {"query", "session_id", "base_url", "wrapped", "logins", "settings"} <= set(names)


class TestValues:
    def test_a_mock_session_comes_back_as_it_is(self, fake: FakeSalesforce) -> None:
        """A user's MagicMock session is a value, not a method: it is not wrapped."""
        session = MagicMock()
        sf = Salesforce(session_id="00D!x", instance_url=fake.instance_url, session=session)
        client = wrap(sf)
        assert client.session is session
        assert client.session.request is session.request
        assert client.Contact.session is session

    def test_callable_values_come_back_as_they_are(self, fake: FakeSalesforce) -> None:
        """A parse_float hook, a callable the user hung on the client, a static method."""
        sf = fake.client(parse_float=decimal.Decimal)
        sf.on_change = print  # type: ignore[attr-defined]
        client = wrap(sf)
        assert client._parse_float is decimal.Decimal
        assert client.on_change is print
        assert client.parse_api_usage is Salesforce.parse_api_usage
        amount = client.query("SELECT Amount FROM Opportunity WHERE Amount != null LIMIT 1")
        assert isinstance(amount["records"][0]["Amount"], decimal.Decimal)

    def test_bulk_bulk2_and_mdapi_pass_through(self, fake: FakeSalesforce) -> None:
        """They are simple-salesforce's own objects (guarded in a later release)."""
        sf = fake.client()
        client = wrap(sf)
        assert isinstance(client.bulk, SFBulkHandler)
        assert isinstance(client.bulk2, SFBulk2Handler)
        assert client.mdapi is sf.mdapi


class TestAttributeWrites:
    def test_writes_land_on_the_wrapped_client(self, fake: FakeSalesforce) -> None:
        """headers, session_id and new attributes are the client's, seen by every wrapper."""
        sf = fake.client()
        client = wrap(sf)
        headers = {**sf.headers, "X-Trace": "on"}
        client.headers = headers
        client.session_id = fake.issue_session()
        client.note = "mine"
        assert headers == sf.headers
        assert "mine" == vars(sf)["note"]
        assert client.session_id == sf.session_id
        assert sf.headers is wrap(sf).headers

    def test_the_written_values_are_sent(self, fake: FakeSalesforce) -> None:
        """A header set through the wrapper goes out on the next call."""
        sent: list[requests.PreparedRequest] = []
        session = fake.session()
        session.hooks["response"].append(lambda response, **_: sent.append(response.request))
        client = wrap(fake.client(session=session))
        client.headers = {**client.headers, "X-Trace": "on"}
        count(client)
        assert "on" == sent[-1].headers["X-Trace"]

    def test_a_client_set_up_through_the_wrapper_works(self, fake: FakeSalesforce) -> None:
        """Salesforce.__new__ then attributes set one by one, as simple-salesforce's tests do."""
        client = wrap(Salesforce.__new__(Salesforce))
        client.session = fake.session()
        client.session_id = fake.issue_session()
        client.headers = {"Authorization": f"Bearer {client.session_id}"}
        client.base_url = f"{fake.instance_url}/services/data/v59.0/"
        client._salesforce_login_partial = None
        assert 3 == count(client)
        assert fake.api_usage == client.api_usage["api-usage"].used

    def test_the_wrapper_s_own_names_are_read_only(self, fake: FakeSalesforce) -> None:
        client = wrap(fake.client())
        with pytest.raises(AttributeError):
            client.settings = Settings()


class TestCopies:
    def test_copy_is_another_wrapper_of_the_same_client(self, fake: FakeSalesforce) -> None:
        """It shares the client, its settings and its one refresher."""
        client = wrap(fake.client())
        twin = copy.copy(client)
        assert (client.wrapped, client.settings) == (twin.wrapped, twin.settings)
        fake.faults.expire_sessions()
        assert 3 == count(twin)
        assert (1, 1) == (client.logins, twin.logins)
        assert "Contact" == copy.copy(client.Contact).name

    def test_deepcopy_wraps_a_copy_that_refreshes_on_its_own(self, fake: FakeSalesforce) -> None:
        sf = fake.client()
        client = wrap(sf)
        clone = copy.deepcopy(client)
        assert isinstance(clone, ResilientClient)
        assert clone.wrapped is not sf
        assert clone.settings == client.settings
        session_id = sf.session_id
        fake.faults.expire_sessions()
        assert 3 == count(clone)
        assert (0, 1) == (client.logins, clone.logins)
        assert session_id == sf.session_id != clone.session_id
        assert 3 == count(client)

    def test_pickle_round_trip_keeps_settings_and_refresh(self, fake: FakeSalesforce) -> None:
        client = ResilientClient(fake.client(), settings=Settings(retry_attempts=2))
        restored = pickle.loads(pickle.dumps(client))  # noqa: S301  (our own bytes)
        assert isinstance(restored, ResilientClient)
        assert 2 == restored.settings.retry_attempts
        fake.faults.expire_sessions()
        assert 3 == count(restored)
        assert 1 == restored.logins

    def test_a_refresh_token_client_pickles_and_refreshes(self, fake: FakeSalesforce) -> None:
        """from_refresh_token's login travels with the pickle and logs in again."""
        client = ResilientClient.from_refresh_token(
            consumer_key=fake.consumer_key,
            consumer_secret=fake.consumer_secret,
            refresh_token=fake.issue_refresh_token(),
            settings=Settings(),
            session=fake.session(),
        )
        restored = pickle.loads(pickle.dumps(client))  # noqa: S301  (our own bytes)
        logins = fake.login_count
        fake.faults.expire_sessions()
        assert 3 == count(restored)
        assert (1, 1) == (restored.logins, fake.login_count - logins)

    def test_pickle_names_a_hook_it_cannot_keep(self, fake: FakeSalesforce) -> None:
        client = ResilientClient(fake.client(), settings=Settings(), on_event=lambda _: None)
        with pytest.raises((pickle.PicklingError, AttributeError), match="lambda"):
            pickle.dumps(client)

    def test_the_raw_client_stays_copyable_and_picklable(self, fake: FakeSalesforce) -> None:
        """After wrapping, the client copies and pickles, and each copy refreshes on its own."""
        sf = fake.client()
        client = wrap(sf)
        copies = [
            copy.copy(sf),
            copy.deepcopy(sf),
            pickle.loads(pickle.dumps(sf)),  # noqa: S301  (our own bytes)
        ]
        fake.faults.expire_sessions()
        for each in copies:
            rewrapped = wrap(each)
            assert 3 == count(rewrapped)
            assert 1 == rewrapped.logins
        assert 0 == client.logins


class TestSObject:
    def test_built_directly_it_is_guarded(self, fake: FakeSalesforce) -> None:
        """SObject(name, client) stands in for SFType(name, session_id, instance, ...)."""
        client = wrap(fake.client())
        contacts = SObject("Contact", client)
        contact_id = str(fake.org.records("Contact")[0]["Id"])
        fake.faults.server_errors(1, status=503)
        assert contact_id == contacts.get(contact_id)["Id"]
        assert contacts.base_url == client.Contact.base_url

    def test_every_sftype_method_that_calls_salesforce_is_guarded(self) -> None:
        """SObject replaces each public SFType function but the local JSON helper."""
        public = {
            name
            for name, value in vars(SFType).items()
            if not name.startswith("_") and inspect.isfunction(value)
        }
        guarded = {name for name in public if vars(SObject).get(name) is not None}
        assert public - {"parse_result_to_json"} == guarded
        assert SFType.update is SObject.update.__wrapped__  # type: ignore[attr-defined]

    def test_needs_a_resilient_client(self, fake: FakeSalesforce) -> None:
        with pytest.raises(TypeError, match="ResilientClient"):
            SObject("Contact", fake.client())  # type: ignore[arg-type]

    def test_a_held_sobject_follows_a_refresh_to_a_new_instance(self, fake: FakeSalesforce) -> None:
        """When a refresh moves the org, a held SObject calls the new instance."""
        sf = Salesforce(
            session_id=fake.issue_session(), instance_url=fake.instance_url, session=fake.session()
        )
        moved = "moved-org.my.salesforce.com"
        client = wrap(sf, refresh=lambda: (fake.issue_session(), moved))
        contacts = SObject("Contact", client)
        contact_id = str(fake.org.records("Contact")[0]["Id"])
        fake.faults.expire_sessions()
        assert contact_id == contacts.get(contact_id)["Id"]
        assert contacts.base_url.startswith(f"https://{moved}/services/data/")
