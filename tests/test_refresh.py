"""Session refresh that recovers: transient re-login failures, waiters, the swap, shared clients."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from sfresilience import ErrorCategory, Event, EventKind, ResilientClient, Settings
from sfresilience._auth import refresh_token_login
from sfresilience._session import Login
from sfresilience.testing import FakeSalesforce


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as org:
        yield org


def session_id_client(fake: FakeSalesforce, cls: type[Salesforce] = Salesforce) -> Salesforce:
    return cls(
        instance_url=fake.instance_url, session_id=fake.issue_session(), session=fake.session()
    )


def token_login(fake: FakeSalesforce, sf: Salesforce) -> Login:
    """The real OAuth refresh-token login, over HTTP to the fake's token endpoint."""
    return refresh_token_login(
        session=sf.session,
        consumer_key=fake.consumer_key,
        consumer_secret=fake.consumer_secret,
        refresh_token=fake.issue_refresh_token(),
    )


def statuses(fake: FakeSalesforce, fragment: str) -> list[int]:
    return [r.status for r in fake.request_log if fragment in r.path]


class Gate:
    """Counts REFRESH events; a login can wait until *n* callers are queued behind it."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.refreshes = 0

    def note(self, event: Event) -> None:
        if event.kind is EventKind.REFRESH:
            with self.condition:
                self.refreshes += 1
                self.condition.notify_all()

    def wait_for(self, count: int) -> None:
        with self.condition:
            assert self.condition.wait_for(lambda: self.refreshes >= count, timeout=10)


def run_in_threads(work: list[Callable[[], object]]) -> tuple[list[object], list[BaseException]]:
    results: list[object] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(work))

    def run(job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results.append(job())
        except BaseException as error:  # noqa: BLE001  (collected and asserted on)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


COUNT = "SELECT COUNT() FROM Account"


def total(client: ResilientClient, soql: str) -> object:
    return client.query(soql)["totalSize"]


def count(caller: int) -> str:
    """COUNT, spelt differently for each caller: concurrent identical reads are one call
    (single-flight), and these tests are about each caller meeting the expiry itself."""
    return f"{COUNT} LIMIT {1000 + caller}"


class TestTransientReLogin:
    def test_a_maintenance_page_on_the_re_login_is_retried(self, fake: FakeSalesforce) -> None:
        """One 503 maintenance page from the token endpoint: backoff, log in again, succeed."""
        sf = session_id_client(fake)
        real = token_login(fake, sf)
        tries: list[int] = []

        def login() -> tuple[str, str]:
            tries.append(1)
            if len(tries) == 1:
                fake.faults.maintenance(count=1)
            return real()

        slept: list[float] = []
        events: list[Event] = []
        client = ResilientClient(
            sf,
            settings=Settings(),
            refresh=login,
            sleep=slept.append,
            jitter=lambda: 0.5,
            on_event=events.append,
        )
        fake.faults.expire_sessions()
        assert 20 == client.query(COUNT)["totalSize"]
        assert (2, 1) == (len(tries), client.logins)
        assert pytest.approx([0.15]) == slept
        assert [503, 200] == statuses(fake, "/oauth2/token")
        assert EventKind.RECOVERED is events[-1].kind

    def test_a_timed_out_re_login_is_retried(self, fake: FakeSalesforce) -> None:
        """A token request that never answers times out and is tried again."""
        sf = session_id_client(fake)
        real = token_login(fake, sf)
        tries: list[int] = []

        def login() -> tuple[str, str]:
            tries.append(1)
            if len(tries) == 1:
                fake.faults.hang(count=1)
            return real()

        client = ResilientClient(
            sf, settings=Settings(read_timeout=0.3), refresh=login, sleep=lambda _: None
        )
        fake.faults.expire_sessions()
        assert 20 == client.query(COUNT)["totalSize"]
        assert (2, 1) == (len(tries), client.logins)

    def test_re_login_retries_count_against_the_attempt_cap(self, fake: FakeSalesforce) -> None:
        """Maintenance that lasts: the call stops after its attempts, as MAINTENANCE."""
        sf = session_id_client(fake)
        real = token_login(fake, sf)
        tries: list[int] = []

        def login() -> tuple[str, str]:
            tries.append(1)
            fake.faults.maintenance()
            return real()

        client = ResilientClient(
            sf, settings=Settings(retry_attempts=3), refresh=login, sleep=lambda _: None
        )
        fake.faults.expire_sessions()
        with pytest.raises(SalesforceAuthenticationFailed) as caught:  # how the login says it
            client.query(COUNT)
        classification = caught.value.classification  # type: ignore[attr-defined]
        assert ErrorCategory.MAINTENANCE is classification.category
        assert "logging in again failed" in caught.value.__notes__[-1]
        assert 3 == len(tries)
        assert [401] == statuses(fake, "/query")  # never re-sent with the dead session

    @pytest.mark.parametrize("flow", ["soap", "oauth-password"])
    def test_credential_clients_retry_a_re_login_in_maintenance(
        self, fake: FakeSalesforce, flow: str
    ) -> None:
        """simple-salesforce's own re-login, taken over, is retried through a 503 page too."""
        credentials: dict[str, dict[str, str]] = {
            "soap": {},
            "oauth-password": {
                "username": fake.username,
                "password": fake.password,
                "consumer_key": fake.consumer_key,
                "consumer_secret": fake.consumer_secret,
            },
        }

        def maintenance_on_the_login(event: Event) -> None:
            if event.kind is EventKind.REFRESH:  # the 401 is in; the login is next
                fake.faults.maintenance(count=1)

        client = ResilientClient(
            fake.client(**credentials[flow]),
            settings=Settings(),
            on_event=maintenance_on_the_login,
            sleep=lambda _: None,
        )
        logins = fake.login_count
        fake.faults.expire_sessions()
        assert 20 == client.query(COUNT)["totalSize"]
        assert (1, 1) == (fake.login_count - logins, client.logins)
        assert 503 in [r.status for r in fake.request_log]


class TestWaiters:
    THREADS = 16

    def hung_login_client(self, fake: FakeSalesforce, **settings: Any) -> tuple[Any, list[int]]:
        """A client whose first re-login hangs once every thread is queued behind it."""
        sf = session_id_client(fake)
        real = token_login(fake, sf)
        gate = Gate()
        tries: list[int] = []

        def login() -> tuple[str, str]:
            tries.append(1)
            if len(tries) == 1:
                gate.wait_for(self.THREADS)
                fake.faults.hang(count=1)
            return real()

        client = ResilientClient(
            sf,
            settings=Settings(read_timeout=0.3, **settings),
            refresh=login,
            on_event=gate.note,
            sleep=lambda _: None,
        )
        fake.faults.expire_sessions()
        return client, tries

    def test_waiters_get_the_logins_real_outcome(self, fake: FakeSalesforce) -> None:
        """16 threads behind a hung re-login all fail as it did: UNAVAILABLE, nothing re-sent."""
        client, tries = self.hung_login_client(fake, retry_attempts=1)
        results, errors = run_in_threads(
            [functools.partial(client.query, count(i)) for i in range(self.THREADS)]
        )
        assert ([], self.THREADS) == (results, len(errors))
        assert {requests.ReadTimeout} == {type(error) for error in errors}
        assert self.THREADS == len({id(error) for error in errors})  # each its own copy ...
        assert all(len(error.__notes__) == 1 for error in errors)  # ... told once
        categories = {error.classification.category for error in errors}  # type: ignore[attr-defined]
        assert {ErrorCategory.UNAVAILABLE} == categories
        assert 1 == len(tries)
        assert [401] * self.THREADS == statuses(fake, "/query")

    def test_waiters_recover_with_one_new_session(self, fake: FakeSalesforce) -> None:
        """With attempts to spare, the threads retry the login once between them and succeed."""
        client, tries = self.hung_login_client(fake, retry_attempts=3)
        results, errors = run_in_threads(
            [functools.partial(total, client, count(i)) for i in range(self.THREADS)]
        )
        assert ([], [20] * self.THREADS) == (errors, results)
        assert (2, 1) == (len(tries), client.logins)
        assert [200] == statuses(fake, "/oauth2/token")
        queries = statuses(fake, "/query")
        assert (self.THREADS, self.THREADS) == (queries.count(401), queries.count(200))


class SwapWindow(Salesforce):
    """simple-salesforce's client, pausing as a new session id is set on it.

    Stands for the scheduler preempting the refresher mid-swap: whatever
    another thread does in that pause must not lead to a second login.
    """

    in_the_window: ClassVar[Callable[[], None] | None] = None

    def __setattr__(self, name: str, value: object) -> None:
        hook = type(self).in_the_window
        if name == "session_id" and hook is not None:
            type(self).in_the_window = None
            hook()
        super().__setattr__(name, value)


class TestSwap:
    def test_no_second_login_from_the_swap_window(self, fake: FakeSalesforce) -> None:
        """A thread starting while the new session is being installed causes no second login."""
        sf = session_id_client(fake, SwapWindow)
        gate = Gate()
        client = ResilientClient(
            sf, settings=Settings(), refresh=token_login(fake, sf), on_event=gate.note
        )
        outcome: list[object] = []

        def another_call() -> None:
            outcome.append(client.query(count(1))["totalSize"])

        def start_another_call() -> None:
            thread = threading.Thread(target=another_call)
            thread.start()
            gate.wait_for(2)  # it met the old session and queued behind this refresh
            threads.append(thread)

        threads: list[threading.Thread] = []
        SwapWindow.in_the_window = start_another_call
        fake.faults.expire_sessions()
        assert 20 == client.query(COUNT)["totalSize"]
        threads[0].join(timeout=10)
        assert [20] == outcome
        assert 1 == client.logins
        assert [200] == statuses(fake, "/oauth2/token")


class TestTwoWrappers:
    def test_timeouts_stay_per_wrapper(self, fake: FakeSalesforce) -> None:
        """A 0.3 s wrapper times out at 0.3 s and a 5 s wrapper of the same client waits 5 s."""
        sf = fake.client()
        quick = ResilientClient(sf, settings=Settings(read_timeout=0.3, retry_attempts=1))
        patient = ResilientClient(sf, settings=Settings(read_timeout=5, retry_attempts=1))
        fake.faults.latency(0.6, count=1)
        assert 20 == patient.query(COUNT)["totalSize"]
        fake.faults.hang(count=1)
        started = time.monotonic()
        with pytest.raises(requests.ReadTimeout):
            quick.query(count(1))  # not patient's read: nothing cached to serve instead
        assert time.monotonic() - started < 2

    def test_one_refresher_per_client(self, fake: FakeSalesforce) -> None:
        """Two wrappers, each given refresh=, meeting one expiry together: one login."""
        sf = session_id_client(fake)
        gate = Gate()
        tries: list[int] = []
        real = token_login(fake, sf)

        def login() -> tuple[str, str]:
            tries.append(1)
            gate.wait_for(2)  # both wrappers met the expiry
            return real()

        first = ResilientClient(sf, settings=Settings(), refresh=login, on_event=gate.note)
        second = ResilientClient(sf, settings=Settings(), refresh=login, on_event=gate.note)
        fake.faults.expire_sessions()
        results, errors = run_in_threads(
            [
                lambda: first.query(count(1))["totalSize"],
                lambda: second.query(count(2))["totalSize"],
            ]
        )
        assert ([], [20, 20]) == (errors, results)
        assert 1 == len(tries)
        assert (1, 1) == (first.logins, second.logins)


class TestLoginBugs:
    def test_a_bug_in_the_login_callable_is_raised_untouched(self, fake: FakeSalesforce) -> None:
        """A TypeError from the user's refresh= is their bug: raised as it is, not retried."""
        sf = session_id_client(fake)
        tries: list[int] = []

        def broken() -> tuple[str, str]:
            tries.append(1)
            raise TypeError("refresh callable bug")

        client = ResilientClient(sf, settings=Settings(), refresh=broken, sleep=lambda _: None)
        fake.faults.expire_sessions()
        with pytest.raises(TypeError, match="refresh callable bug"):
            client.query(COUNT)
        assert 1 == len(tries)
