"""Bulk jobs go through the client's fallback: refused, not sent, in fallback mode
and while the breaker refuses writes. Real HTTP to the fake org."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sfresilience import ResilientClient, Settings
from sfresilience.exceptions import FallbackUnavailable, WriteRefused
from sfresilience.testing import FakeSalesforce


ROWS = [{"LastName": "Bulk", "Email": "bulk@example.com"}]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(contacts=5) as org:
        yield org


def build(fake: FakeSalesforce) -> ResilientClient:
    clock = FakeClock()
    settings = Settings(retry_attempts=1)
    return ResilientClient(fake.client(), settings=settings, clock=clock, sleep=clock.sleep)


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_FALLBACK_MODE", "true")


@pytest.mark.usefixtures("forced")
class TestFallbackMode:
    def test_bulk2_insert_is_refused_unsent(self, fake: FakeSalesforce) -> None:
        client = build(fake)
        before = len(fake.request_log)
        with pytest.raises(WriteRefused, match="fallback mode") as refused:
            client.bulk2.Contact.insert(records=ROWS)
        assert "fallback" == refused.value.mode
        assert before == len(fake.request_log)

    def test_bulk1_insert_is_refused_unsent(self, fake: FakeSalesforce) -> None:
        client = build(fake)
        before = len(fake.request_log)
        with pytest.raises(WriteRefused):
            client.bulk.Contact.insert(ROWS)
        assert before == len(fake.request_log)

    def test_bulk2_query_is_refused_unsent(self, fake: FakeSalesforce) -> None:
        client = build(fake)
        before = len(fake.request_log)
        with pytest.raises(FallbackUnavailable, match="not kept"):
            list(client.bulk2.Contact.query("SELECT Id FROM Contact"))
        assert before == len(fake.request_log)

    def test_bulk1_query_is_refused_unsent(self, fake: FakeSalesforce) -> None:
        client = build(fake)
        before = len(fake.request_log)
        with pytest.raises(FallbackUnavailable):
            client.bulk.Contact.query("SELECT Id FROM Contact")
        assert before == len(fake.request_log)


def test_bulk_writes_are_refused_while_the_breaker_is_open(fake: FakeSalesforce) -> None:
    client = build(fake)
    fake.faults.server_errors(status=503)
    for _ in range(5):  # the breaker's threshold of outage outcomes
        with pytest.raises(Exception):  # noqa: B017, PT011  (Salesforce's 503, any shape)
            client.query("SELECT Id FROM Account")
    fake.faults.clear()
    before = len(fake.request_log)
    with pytest.raises(WriteRefused) as refused:
        client.bulk2.Contact.insert(records=ROWS)
    assert "breaker" == refused.value.mode
    with pytest.raises(WriteRefused):
        client.bulk.Contact.insert(ROWS)
    assert before == len(fake.request_log)


def test_bulk_works_when_nothing_refuses(fake: FakeSalesforce) -> None:
    client = build(fake)
    results = client.bulk2.Contact.insert(records=ROWS)
    assert 1 == sum(int(r["numberRecordsProcessed"]) for r in results)
    assert 1 == len(client.bulk.Contact.query("SELECT Id FROM Contact WHERE LastName = 'Bulk'"))
