"""ResilientClient end to end: the unmodified simple-salesforce client, real HTTP, the fake org."""

from __future__ import annotations

import copy
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
)

from sfresilience import (
    ErrorCategory,
    Event,
    EventKind,
    ResilientClient,
    Settings,
    set_testing,
)
from sfresilience._auth import refresh_token_login
from sfresilience._core import RetryPolicy
from sfresilience._fallback import fallback_of
from sfresilience._freshness import freshness
from sfresilience._guard import Guard
from sfresilience.testing import FakeSalesforce


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(contacts=300) as org:
        yield org


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def resilient(
    fake: FakeSalesforce,
    clock: FakeClock,
    *,
    events: list[Event] | None = None,
    **settings: Any,
) -> ResilientClient:
    return ResilientClient(
        fake.client(),
        settings=Settings(**settings),
        on_event=events.append if events is not None else None,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.5,
    )


def requests_to(fake: FakeSalesforce, method: str, fragment: str) -> list[int]:
    return [r.status for r in fake.request_log if r.method == method and fragment in r.path]


QUERY = "SELECT Id, LastName, Account.Name FROM Contact ORDER BY LastName"


class TestDropIn:
    def test_same_results_as_the_wrapped_client(
        self, fake: FakeSalesforce, clock: FakeClock
    ) -> None:
        """Queries, gets, describes and limits return exactly what simple-salesforce does."""
        raw: Any = fake.client()
        client = resilient(fake, clock)
        contact_id = raw.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"]
        assert raw.query(QUERY) == client.query(QUERY)
        assert raw.query_all(QUERY) == client.query_all(QUERY)
        assert raw.Contact.get(contact_id) == client.Contact.get(contact_id)
        assert raw.Contact.describe() == client.Contact.describe()
        assert raw.describe() == client.describe()
        assert raw.limits()["DailyApiRequests"]["Max"] == client.limits()["DailyApiRequests"]["Max"]

    def test_writes_return_what_simple_salesforce_returns(
        self, fake: FakeSalesforce, clock: FakeClock
    ) -> None:
        """create returns the JSON body; update and delete return the HTTP status."""
        client = resilient(fake, clock)
        created = client.Contact.create({"LastName": "Lovelace"})
        assert {"id", "success", "errors"} <= created.keys()
        assert 204 == client.Contact.update(created["id"], {"Title": "Countess"})
        assert "Countess" == client.Contact.get(created["id"])["Title"]
        assert 204 == client.Contact.delete(created["id"])

    def test_unknown_attributes_delegate(self, fake: FakeSalesforce, clock: FakeClock) -> None:
        """Attributes of the wrapped client come through unchanged."""
        client = resilient(fake, clock)
        assert client.wrapped.session_id == client.session_id
        assert client.wrapped.base_url == client.base_url
        assert callable(client.parse_api_usage)

    def test_copies_without_recursion(self, fake: FakeSalesforce, clock: FakeClock) -> None:
        """copy.copy of the client and of an SObject works like any plain object."""
        client = resilient(fake, clock)
        assert client.wrapped is copy.copy(client).wrapped
        assert "Contact" == copy.copy(client.Contact).name

    def test_same_exception_type_with_classification(
        self, fake: FakeSalesforce, clock: FakeClock
    ) -> None:
        """A code bug raises simple-salesforce's own type, classified, after one request."""
        client = resilient(fake, clock)
        before = len(fake.request_log)
        with pytest.raises(SalesforceMalformedRequest) as caught:
            client.query("SELEC Id FROM Contact")
        classification = caught.value.classification  # type: ignore[attr-defined]
        assert ErrorCategory.INVALID_REQUEST is classification.category
        assert "MALFORMED_QUERY" == classification.error_code
        assert 1 == len(fake.request_log) - before
        assert [] == clock.sleeps
        assert any("INVALID_REQUEST" in note for note in caught.value.__notes__)


class TestRetries:
    def test_503_burst_shorter_than_the_deadline_is_ridden_through(
        self, fake: FakeSalesforce, clock: FakeClock
    ) -> None:
        """Three 503s in a row are retried with backoff, then the query succeeds."""
        client = resilient(fake, clock)
        fake.faults.server_errors(3, status=503)
        assert 300 == client.query("SELECT COUNT() FROM Contact")["totalSize"]
        assert [503, 503, 503, 200] == requests_to(fake, "GET", "/query")
        assert pytest.approx([0.15, 0.3, 0.6]) == clock.sleeps

    @pytest.mark.parametrize("status", [500, 502])
    def test_server_errors_are_retried(
        self, fake: FakeSalesforce, clock: FakeClock, status: int
    ) -> None:
        """500 and 502 bursts are retried like 503s."""
        client = resilient(fake, clock)
        fake.faults.server_errors(2, status=status)
        client.query("SELECT Id FROM Account LIMIT 1")
        assert [status, status, 200] == requests_to(fake, "GET", "/query")

    def test_outage_longer_than_the_deadline_ends_unavailable_within_it(
        self, fake: FakeSalesforce, clock: FakeClock
    ) -> None:
        """Refused connections are retried until the deadline, then surface as UNAVAILABLE."""
        client = resilient(fake, clock, retry_attempts=100, retry_deadline=10)
        fake.faults.outage()
        with pytest.raises(requests.ConnectionError) as caught:
            client.query("SELECT Id FROM Account")
        classification = caught.value.classification  # type: ignore[attr-defined]
        assert ErrorCategory.UNAVAILABLE is classification.category
        assert clock.now <= 10
        assert len(clock.sleeps) >= 5
        assert "deadline" in caught.value.__notes__[-1]

    def test_recovers_when_the_outage_ends(self, fake: FakeSalesforce) -> None:
        """A call during an outage succeeds once the org listens again."""
        restored: list[float] = []

        def sleep_then_restore(seconds: float) -> None:
            restored.append(seconds)
            fake.faults.restore()

        client = ResilientClient(fake.client(), settings=Settings(), sleep=sleep_then_restore)
        fake.faults.outage()
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
        assert 1 == len(restored)

    def test_attempt_cap_ends_retries(self, fake: FakeSalesforce, clock: FakeClock) -> None:
        """A permanent 500 stops after the configured attempts with the last error."""
        client = resilient(fake, clock, retry_attempts=3)
        fake.faults.server_errors(status=500)
        with pytest.raises(SalesforceGeneralError) as caught:
            client.query("SELECT Id FROM Account")
        assert ErrorCategory.SERVER_ERROR is caught.value.classification.category  # type: ignore[attr-defined]
        assert 3 == len(requests_to(fake, "GET", "/query"))

    def test_total_requests_limit_is_never_retried(
        self, fake: FakeSalesforce, clock: FakeClock
    ) -> None:
        """An exhausted daily allocation is classified and raised after one request."""
        client = resilient(fake, clock)
        fake.set_api_usage(fake.api_limit)
        with pytest.raises(SalesforceRefusedRequest) as caught:
            client.query("SELECT Id FROM Account")
        assert ErrorCategory.API_LIMIT_EXCEEDED is caught.value.classification.category  # type: ignore[attr-defined]
        assert [403] == requests_to(fake, "GET", "/query")

    def test_read_only_maintenance_writes_are_not_retried(
        self, fake: FakeSalesforce, clock: FakeClock
    ) -> None:
        """Writes refused for maintenance surface at once; reads keep working."""
        client = resilient(fake, clock)
        fake.faults.read_only()
        with pytest.raises(SalesforceMalformedRequest) as caught:
            client.Contact.create({"LastName": "Hopper"})
        assert ErrorCategory.MAINTENANCE is caught.value.classification.category  # type: ignore[attr-defined]
        assert 1 == len(requests_to(fake, "POST", "/sobjects/Contact"))
        assert 300 == client.query("SELECT COUNT() FROM Contact")["totalSize"]

    def test_set_testing_caps_attempts_and_never_sleeps(
        self, fake: FakeSalesforce, clock: FakeClock
    ) -> None:
        """In testing mode a failing call makes the capped attempts with no waiting."""
        client = resilient(fake, clock)
        fake.faults.server_errors(status=500)
        with set_testing(True, attempts=2), pytest.raises(SalesforceGeneralError):
            client.query("SELECT Id FROM Account")
        assert 2 == len(requests_to(fake, "GET", "/query"))
        assert [] == clock.sleeps

    def test_nested_guards_do_not_multiply_attempts(
        self, fake: FakeSalesforce, clock: FakeClock
    ) -> None:
        """A retrying function that calls the client makes its own attempts, not a product."""
        client = resilient(fake, clock, retry_attempts=4)
        outer = Guard(policy=RetryPolicy(attempts=3), sleep=clock.sleep)
        fake.faults.server_errors(status=500)
        with pytest.raises(SalesforceGeneralError):
            outer.run(
                lambda: client.query("SELECT Id FROM Account"),
                operation="job",
                repeatable=True,
            )
        assert 3 == len(requests_to(fake, "GET", "/query"))


class TestWrites:
    def test_create_is_not_resent_after_an_ambiguous_failure(self, fake: FakeSalesforce) -> None:
        """A create whose response never came may have been applied, so it is not re-sent."""
        events: list[Event] = []
        client = ResilientClient(
            fake.client(), settings=Settings(read_timeout=0.3), on_event=events.append
        )
        fake.faults.hang(count=1)
        with pytest.raises(requests.ReadTimeout) as caught:
            client.Contact.create({"LastName": "Turing"})
        assert ErrorCategory.UNAVAILABLE is caught.value.classification.category  # type: ignore[attr-defined]
        assert [EventKind.CLASSIFIED, EventKind.GIVE_UP] == [e.kind for e in events]
        assert "may have been applied" in (events[-1].reason or "")

    def test_update_is_not_resent_after_an_ambiguous_failure(self, fake: FakeSalesforce) -> None:
        """A timed-out update may still land later, so it is not re-sent (see test_write_safety)."""
        client = ResilientClient(fake.client(), settings=Settings(read_timeout=0.3))
        contact = fake.org.records("Contact")[0]
        fake.faults.hang(count=1)
        with pytest.raises(requests.ReadTimeout) as caught:
            client.Contact.update(contact["Id"], {"Title": "Retried"})
        assert "may have been applied" in str(caught.value.__notes__)

    def test_login_has_a_timeout_and_is_retried(self, fake: FakeSalesforce) -> None:
        """A login that hangs times out and is tried again instead of blocking forever."""
        fake.faults.hang(count=1)
        client = ResilientClient.from_credentials(
            settings=Settings(read_timeout=0.3),
            username=fake.username,
            password=fake.password,
            security_token=fake.security_token,
            session=fake.session(),
        )
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]

    @pytest.mark.parametrize("lock_status", [400, 500])
    def test_lock_contention_applies_every_update_exactly_once(self, lock_status: int) -> None:
        """Eight threads updating Contacts of the same Accounts all succeed, each once."""
        with FakeSalesforce(
            accounts=2,
            contacts=16,
            lock_hold=0.03,
            lock_wait=0.005,
            lock_error_status=lock_status,
        ) as org:
            client = ResilientClient(
                org.client(),
                settings=Settings(retry_attempts=60, backoff_initial=0.01, backoff_max=0.1),
            )
            contacts = [str(c["Id"]) for c in org.org.records("Contact")]
            chunks = [contacts[i::8] for i in range(8)]
            errors = run_in_threads(
                [functools.partial(update_titles, client, ids) for ids in chunks]
            )
            assert [] == errors
            assert {c["Id"]: f"T-{c['Id']}" for c in org.org.records("Contact")} == {
                c["Id"]: c["Title"] for c in org.org.records("Contact")
            }
            patches = requests_to(org, "PATCH", "/sobjects/Contact/")
            assert 16 == patches.count(204)
            assert lock_status in patches  # contention really happened


def update_titles(client: ResilientClient, contact_ids: list[str]) -> None:
    for contact_id in contact_ids:
        client.Contact.update(contact_id, {"Title": f"T-{contact_id}"})


def run_in_threads(work: list[Callable[[], object]]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work))

    def run(job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as error:  # noqa: BLE001  (collected and asserted on)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


class TestSessionRefresh:
    def test_expiry_mid_paging_costs_one_login(self) -> None:
        """A session that expires between pages of query_all is refreshed once."""
        with FakeSalesforce(contacts=2500) as org:
            client = ResilientClient(org.client(), settings=Settings())
            logins = org.login_count
            records = client.query_all_iter("SELECT Id FROM Contact")
            first = next(records)
            org.faults.expire_sessions()
            rest = list(records)
            assert 2500 == len({first["Id"], *(r["Id"] for r in rest)})
            assert 1 == org.login_count - logins
            assert 1 == client.logins

    @pytest.mark.parametrize("flow", ["soap", "oauth-password", "jwt-bearer", "client-credentials"])
    def test_every_credential_flow_is_refreshed_once(
        self, fake: FakeSalesforce, private_key_pem: bytes, tmp_path: Path, flow: str
    ) -> None:
        """Clients of each login flow log in again once when their session expires."""
        key_file = tmp_path / "server.key"
        key_file.write_bytes(private_key_pem)
        credentials: dict[str, dict[str, Any]] = {
            "soap": {},
            "oauth-password": {
                "username": fake.username,
                "password": fake.password,
                "consumer_key": fake.consumer_key,
                "consumer_secret": fake.consumer_secret,
            },
            "jwt-bearer": {
                "username": fake.username,
                "consumer_key": fake.consumer_key,
                "privatekey_file": str(key_file),
            },
            "client-credentials": {
                "consumer_key": fake.consumer_key,
                "consumer_secret": fake.consumer_secret,
                "domain": "fake-org.my",
            },
        }
        client = ResilientClient(fake.client(**credentials[flow]), settings=Settings())
        logins = fake.login_count
        fake.faults.expire_sessions()
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
        assert (1, 1) == (fake.login_count - logins, client.logins)

    def test_concurrent_expiry_costs_one_login(self, fake: FakeSalesforce) -> None:
        """Eight threads meeting an expired session together cause a single login."""
        client = ResilientClient(fake.client(), settings=Settings())
        client.query("SELECT Id FROM Account LIMIT 1")
        logins = fake.login_count
        fake.faults.expire_sessions()
        results: list[int] = []
        errors = run_in_threads(
            [
                lambda: results.append(client.query("SELECT COUNT() FROM Contact")["totalSize"])
                for _ in range(8)
            ]
        )
        assert ([], [300] * 8) == (errors, results)
        assert 1 == fake.login_count - logins

    def test_sobject_calls_pick_up_the_refreshed_session(self, fake: FakeSalesforce) -> None:
        """client.Contact.* after an expiry refreshes and retries instead of looping."""
        client = ResilientClient(fake.client(), settings=Settings())
        contact = fake.org.records("Contact")[0]
        fake.faults.expire_sessions()
        assert contact["Id"] == client.Contact.get(contact["Id"])["Id"]
        assert 1 == client.logins

    def test_session_id_client_refreshes_through_a_refresh_token(
        self, fake: FakeSalesforce
    ) -> None:
        """A client built from a session id logs in again with the given refresh callable."""
        session = fake.session()
        sf = Salesforce(
            instance_url=fake.instance_url,
            session_id=fake.issue_session(),
            session=session,
        )
        login = refresh_token_login(
            session=session,
            consumer_key=fake.consumer_key,
            consumer_secret=fake.consumer_secret,
            refresh_token=fake.issue_refresh_token(),
        )
        client = ResilientClient(sf, settings=Settings(), refresh=login)
        fake.faults.expire_sessions()
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
        assert 1 == client.logins

    def test_failed_refresh_surfaces_as_auth_failed(self, fake: FakeSalesforce) -> None:
        """A revoked refresh token ends the call with AUTH_FAILED, not a loop."""
        session = fake.session()
        sf = Salesforce(
            instance_url=fake.instance_url,
            session_id=fake.issue_session(),
            session=session,
        )
        login = refresh_token_login(
            session=session,
            consumer_key=fake.consumer_key,
            refresh_token=fake.issue_refresh_token(),
        )
        client = ResilientClient(sf, settings=Settings(), refresh=login)
        fake.faults.revoke_refresh_tokens()
        fake.faults.expire_sessions()
        with pytest.raises(SalesforceAuthenticationFailed) as caught:
            client.query("SELECT Id FROM Account")
        assert ErrorCategory.AUTH_FAILED is caught.value.classification.category  # type: ignore[attr-defined]

    def test_refused_fresh_session_is_auth_failed(self, fake: FakeSalesforce) -> None:
        """A 401 right after a fresh login is AUTH_FAILED, and only one login is tried."""
        sf = Salesforce(
            instance_url=fake.instance_url,
            session_id=fake.issue_session(),
            session=fake.session(),
        )
        logins: list[str] = []

        def bad_login() -> tuple[str, str]:
            logins.append("x")
            return "00Dxx0000000000!AQbogus", sf.sf_instance

        client = ResilientClient(sf, settings=Settings(), refresh=bad_login)
        fake.faults.expire_sessions()
        with pytest.raises(SalesforceExpiredSession) as caught:
            client.query("SELECT Id FROM Account")
        assert ErrorCategory.AUTH_FAILED is caught.value.classification.category  # type: ignore[attr-defined]
        assert ["x"] == logins

    def test_session_id_client_without_refresh_surfaces_expiry(self, fake: FakeSalesforce) -> None:
        """Without a way to log in, an expired session is raised as SESSION_EXPIRED."""
        sf = Salesforce(
            instance_url=fake.instance_url,
            session_id=fake.issue_session(),
            session=fake.session(),
        )
        client = ResilientClient(sf, settings=Settings())
        fake.faults.expire_sessions()
        with pytest.raises(SalesforceExpiredSession) as caught:
            client.query("SELECT Id FROM Account")
        assert ErrorCategory.SESSION_EXPIRED is caught.value.classification.category  # type: ignore[attr-defined]


class TestEventsAndSecrets:
    def test_events_tell_the_story(self, fake: FakeSalesforce, clock: FakeClock) -> None:
        """Each failure is classified, then retried, then the recovery told; in order."""
        events: list[Event] = []
        client = resilient(fake, clock, events=events)
        fake.faults.server_errors(1, status=503)
        client.query("SELECT Id FROM Account LIMIT 1")
        assert [EventKind.CLASSIFIED, EventKind.RETRY, EventKind.RECOVERED] == [
            e.kind for e in events
        ]
        assert ("query", 1) == (events[1].operation, events[1].attempt)
        assert pytest.approx(0.15) == events[1].delay
        assert 2 == events[2].attempt
        assert pytest.approx(0.15) == events[2].elapsed

    def test_a_failing_hook_never_fails_the_call(
        self, fake: FakeSalesforce, clock: FakeClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A hook that raises is logged and ignored."""

        def broken(event: Event) -> None:
            raise RuntimeError("hook bug")

        client = ResilientClient(
            fake.client(), settings=Settings(), on_event=broken, sleep=clock.sleep
        )
        fake.faults.server_errors(1, status=503)
        assert client.query("SELECT Id FROM Account LIMIT 1")["records"]
        assert "hook bug" in caplog.text

    def test_no_secret_in_logs_notes_or_reprs(
        self, fake: FakeSalesforce, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Session ids, passwords and tokens never reach logs, notes, messages or reprs."""
        caplog.set_level(logging.DEBUG, logger="sfresilience")
        events: list[Event] = []
        sf = fake.client()
        expired_session = sf.session_id
        client = ResilientClient(
            sf, settings=Settings(retry_attempts=2), sleep=lambda _: None, on_event=events.append
        )
        fake.faults.expire_sessions()
        client.query("SELECT Id FROM Account LIMIT 1")
        assert fallback_of(client).flush(5)
        fake.faults.server_errors(status=500)
        with pytest.raises(SalesforceGeneralError) as caught:
            client.query("SELECT Id FROM Contact LIMIT 1")  # nothing cached: the error itself
        served = freshness(client.query("SELECT Id FROM Account LIMIT 1"))  # cached: served
        assert served is not None
        told = "\n".join(
            [caplog.text, repr(client), str(caught.value), *caught.value.__notes__]
            + [repr(event) for event in events]
            + [served.reason, repr(client.mode), repr(fallback_of(client).cache)]
        )
        for secret in (expired_session, sf.session_id, fake.password, fake.security_token):
            assert secret not in told
        assert "refreshing the session" in caplog.text


class TestBoundaries:
    """Regressions found in review: deadlines, nesting, failed refreshes, drop-in values."""

    def test_threads_behind_a_refused_login_do_not_each_log_in(self, fake: FakeSalesforce) -> None:
        """Eight threads meeting an expiry whose login is refused cause one login attempt."""
        sf = Salesforce(
            instance_url=fake.instance_url, session_id=fake.issue_session(), session=fake.session()
        )
        refreshing = threading.Condition()
        waiting: list[Event] = []
        attempts: list[int] = []

        def note(event: Event) -> None:
            if event.kind is EventKind.REFRESH:
                with refreshing:
                    waiting.append(event)
                    refreshing.notify_all()

        def refused_login() -> tuple[str, str]:
            with refreshing:  # refuse only once every thread is queued behind this login
                refreshing.wait_for(lambda: len(waiting) == 8, timeout=10)
            attempts.append(1)
            raise SalesforceAuthenticationFailed("invalid_grant", "expired access/refresh token")

        client = ResilientClient(sf, settings=Settings(), refresh=refused_login, on_event=note)
        fake.faults.expire_sessions()
        errors = run_in_threads([lambda: client.query("SELECT Id FROM Account")] * 8)
        assert [1] == attempts
        assert 8 == len(errors)
        categories = {e.classification.category for e in errors}  # type: ignore[attr-defined]
        assert {ErrorCategory.AUTH_FAILED} == categories

    def test_nested_guard_keeps_the_outer_deadline(self, fake: FakeSalesforce) -> None:
        """A client call inside a guard with a shorter deadline ends by that deadline."""
        client = ResilientClient(fake.client(), settings=Settings(read_timeout=5))
        outer = Guard(policy=RetryPolicy(deadline=0.3))
        fake.faults.hang(count=1)
        started = time.monotonic()
        with pytest.raises(requests.ReadTimeout):
            outer.run(
                lambda: client.query("SELECT Id FROM Account"), operation="job", repeatable=True
            )
        assert time.monotonic() - started < 2  # not the 5 s read timeout

    def test_nested_refused_session_is_classified_and_told_once(self, fake: FakeSalesforce) -> None:
        """The inner guard's verdict reaches the outer one, which adds the only note."""
        sf = Salesforce(
            instance_url=fake.instance_url, session_id=fake.issue_session(), session=fake.session()
        )
        client = ResilientClient(
            sf, settings=Settings(), refresh=lambda: ("00Dxx0000000000!AQbogus", sf.sf_instance)
        )
        fake.faults.expire_sessions()
        outer = Guard(policy=RetryPolicy())
        with pytest.raises(SalesforceExpiredSession) as caught:
            outer.run(
                lambda: client.query("SELECT Id FROM Account"), operation="job", repeatable=True
            )
        assert ErrorCategory.AUTH_FAILED is caught.value.classification.category  # type: ignore[attr-defined]
        assert 1 == len(caught.value.__notes__)
        assert 1 == client.logins

    def test_login_respects_the_deadline(self, fake: FakeSalesforce) -> None:
        """A hanging login gives up by the deadline, not after attempts x read timeout."""
        fake.faults.hang()
        started = time.monotonic()
        with pytest.raises(requests.ReadTimeout):
            ResilientClient.from_credentials(
                settings=Settings(retry_deadline=0.5, read_timeout=5),
                username=fake.username,
                password=fake.password,
                security_token=fake.security_token,
                session=fake.session(),
            )
        assert time.monotonic() - started < 2

    def test_sobject_values_stay_values(self, fake: FakeSalesforce, clock: FakeClock) -> None:
        """Non-callable SFType attributes come through as they are, not as functions."""
        raw: Any = fake.client()
        client = resilient(fake, clock)
        assert ("Contact", raw.Contact.base_url) == (client.Contact.name, client.Contact.base_url)

    def test_custom_apex_write_is_not_resent_after_an_ambiguous_failure(
        self, fake: FakeSalesforce
    ) -> None:
        """apexecute PATCH may run any Apex, so a timed-out one is not sent again."""
        fake.apex_route("PATCH", "/counter", lambda _request: {"ok": True})
        client = ResilientClient(fake.client(), settings=Settings(read_timeout=0.3))
        fake.faults.hang(count=1)
        with pytest.raises(requests.ReadTimeout):
            client.apexecute("counter", method="PATCH", data={"add": 1})
        # The hung first attempt is never answered, so it is not in the log; a
        # second attempt would have been answered and logged.
        assert (1, []) == (fake.faults.hanging, requests_to(fake, "PATCH", "/apexrest/counter"))

    def test_other_client_methods_are_guarded(self, fake: FakeSalesforce, clock: FakeClock) -> None:
        """A delegated method such as oauth2 is retried and classified like the rest."""
        client = resilient(fake, clock)
        fake.faults.server_errors(1, status=503)
        assert client.is_sandbox() is False
        with pytest.raises(SalesforceMalformedRequest) as caught:
            client.restful("query/", params={"q": "SELEC"})
        assert ErrorCategory.INVALID_REQUEST is caught.value.classification.category  # type: ignore[attr-defined]
