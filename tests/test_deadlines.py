"""The deadline bounds the whole call: every byte of every response, every page, every setting."""

from __future__ import annotations

import json
import time
import typing
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceGeneralError

from sfresilience import ErrorCategory, ResilientClient, Settings
from sfresilience.exceptions import ConfigurationError
from sfresilience.testing import FakeSalesforce
from sfresilience.testing.wire.routing import mount


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


QUERY_BODY = json.dumps({"totalSize": 0, "done": True, "records": []}).encode() + b" " * 200


def trickled_client(canned_http: Any, deadline: float) -> ResilientClient:
    """A client of a "Salesforce" that sends its answers one byte every 50 ms."""
    session = mount(requests.Session(), canned_http.url)
    sf = Salesforce(instance="na1.salesforce.com", session_id="00Dxx0000000001!AQ", session=session)
    return ResilientClient(sf, settings=Settings(retry_deadline=deadline, read_timeout=30))


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as org:
        yield org


class TestTrickle:
    @pytest.mark.parametrize("part", ["body", "headers", "all"])
    def test_a_dripped_answer_is_cut_off_at_the_deadline(
        self, fake: FakeSalesforce, part: str
    ) -> None:
        """One byte every 50 ms (seconds of answer): the call ends by its 0.6 s deadline."""
        client = ResilientClient(
            fake.client(), settings=Settings(retry_deadline=0.6, read_timeout=30)
        )
        fake.faults.slow_drip(0.05, part=part)  # type: ignore[arg-type]
        started = time.monotonic()
        # requests raises ReadTimeout while the headers arrive, ConnectionError in the body.
        with pytest.raises((requests.ReadTimeout, requests.ConnectionError)) as caught:
            client.query("SELECT Id, Name FROM Account")
        assert time.monotonic() - started < 1.5
        assert ErrorCategory.UNAVAILABLE is caught.value.classification.category  # type: ignore[attr-defined]
        assert "deadline" in caught.value.__notes__[-1]

    def test_a_dripped_answer_over_tls_is_cut_off_at_the_deadline(self) -> None:
        """The same bound holds on HTTPS, where reads go through the TLS layer."""
        with FakeSalesforce(tls=True) as org:
            client = ResilientClient(
                org.client(), settings=Settings(retry_deadline=0.6, read_timeout=30)
            )
            org.faults.slow_drip(0.05, part="all")
            started = time.monotonic()
            with pytest.raises(requests.ReadTimeout):
                client.query("SELECT Id, Name FROM Account")
            assert time.monotonic() - started < 1.5

    def test_a_dripped_login_is_cut_off_at_the_deadline(self, fake: FakeSalesforce) -> None:
        """The login a client builder makes is bounded the same way."""
        fake.faults.slow_drip(0.05, part="all")
        started = time.monotonic()
        with pytest.raises((requests.ReadTimeout, requests.ConnectionError)):
            ResilientClient.from_credentials(
                settings=Settings(retry_deadline=0.6, read_timeout=30),
                username=fake.username,
                password=fake.password,
                security_token=fake.security_token,
                session=fake.session(),
            )
        assert time.monotonic() - started < 1.5

    def test_a_slow_answer_within_the_deadline_still_arrives(self, canned_http: Any) -> None:
        """Trickling that ends before the deadline is a slow answer, not a failure."""
        raw = canned_http.response(200, QUERY_BODY.strip())
        canned_http.answer(raw, trickle_from=len(raw) - 5, interval=0.01)
        client = trickled_client(canned_http, deadline=10)
        assert {"totalSize": 0, "done": True, "records": []} == client.query("SELECT Id FROM X")

    def test_outside_a_guarded_call_only_the_timeouts_apply(self, canned_http: Any) -> None:
        """The wrapped client, used directly, is not bounded by any call's deadline."""
        raw = canned_http.response(200, QUERY_BODY.strip())
        canned_http.answer(raw, trickle_from=len(raw) - 5, interval=0.01)
        client = trickled_client(canned_http, deadline=0.001)
        assert 0 == client.wrapped.query("SELECT Id FROM X")["totalSize"]


@pytest.fixture
def paged() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(contacts=2500) as org:  # two pages of query_all
        yield org


class TestQueryAll:
    def test_each_page_has_the_call_deadline(self, paged: FakeSalesforce) -> None:
        """Without a whole-call bound, each page may use the full retry deadline."""
        clock = FakeClock()
        client = ResilientClient(
            paged.client(),
            settings=Settings(retry_deadline=1.0, retry_attempts=3),
            clock=clock,
            sleep=clock.sleep,
            jitter=lambda: 0.5,
        )
        records = client.query_all_iter("SELECT Id FROM Contact")
        next(records)
        clock.now = 5.0  # far past one deadline since the first page
        paged.faults.server_errors(2, status=503)
        assert 2499 == len(list(records))

    def test_the_whole_call_bound_covers_every_page(self, paged: FakeSalesforce) -> None:
        """SFRESILIENCE_QUERY_ALL_DEADLINE stops retrying page 2 once all pages used it up."""
        clock = FakeClock()
        client = ResilientClient(
            paged.client(),
            settings=Settings(query_all_deadline=1.0, retry_attempts=10),
            clock=clock,
            sleep=clock.sleep,
            jitter=lambda: 0.5,
        )
        records = client.query_all_iter("SELECT Id FROM Contact")
        next(records)
        paged.faults.server_errors(status=503)
        with pytest.raises(SalesforceGeneralError) as caught:
            list(records)
        assert 0 < clock.now <= 1.0
        assert "1 s deadline" in caught.value.__notes__[-1]

    def test_no_page_is_sent_once_the_whole_call_bound_passed(self, paged: FakeSalesforce) -> None:
        """A page due after the whole-call bound is not requested at all."""
        clock = FakeClock()
        client = ResilientClient(
            paged.client(), settings=Settings(query_all_deadline=2.0), clock=clock
        )
        records = client.query_all_iter("SELECT Id FROM Contact")
        next(records)
        pages = len(paged.request_log)
        clock.now = 2.5
        with pytest.raises(requests.Timeout) as caught:
            list(records)
        assert pages == len(paged.request_log)
        assert ErrorCategory.UNAVAILABLE is caught.value.classification.category  # type: ignore[attr-defined]
        assert "before it was sent" in caught.value.__notes__[-1]


def holds_a_float(annotation: object) -> bool:
    """*annotation* is float, or an optional or annotated float."""
    if annotation is float:
        return True
    if typing.get_origin(annotation) is typing.Annotated:
        return holds_a_float(typing.get_args(annotation)[0])
    return any(holds_a_float(arg) for arg in typing.get_args(annotation))


DURATIONS = sorted(
    str(info.validation_alias)
    for name, info in Settings.model_fields.items()
    if holds_a_float(info.annotation) and name not in {"budget_warn", "budget_critical"}
)


class TestDurationSettings:
    def test_every_duration_setting_is_covered(self) -> None:
        """The parametrised checks below reach the deadlines, timeouts and backoff."""
        assert {
            "SFRESILIENCE_RETRY_DEADLINE",
            "SFRESILIENCE_QUERY_ALL_DEADLINE",
            "SFRESILIENCE_READ_TIMEOUT",
            "SFRESILIENCE_BULK_JOB_DEADLINE",
        } <= set(DURATIONS)

    @pytest.mark.parametrize("variable", DURATIONS)
    @pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e10", "0", "-1"])
    def test_unusable_durations_name_the_variable(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
    ) -> None:
        """Infinite, huge, zero and negative durations fail at once, naming the variable."""
        monkeypatch.setenv(variable, value)
        with pytest.raises(ConfigurationError, match=variable):
            Settings()

    def test_the_longest_deadline_still_refreshes(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A day-long deadline (the largest allowed) goes through a session refresh fine."""
        monkeypatch.setenv("SFRESILIENCE_RETRY_DEADLINE", "86400")
        with FakeSalesforce() as org:
            client = ResilientClient(org.client(), settings=Settings())
            org.faults.expire_sessions()
            assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
            assert 1 == client.logins
