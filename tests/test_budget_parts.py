"""The budget guard's pure parts, and what it does with answers that never came."""

from __future__ import annotations

import gc

import pytest
import requests

from sfresilience import ResilientClient, Settings
from sfresilience._budget import BudgetGuard, request_kind
from sfresilience._budget._transport import Kind
from sfresilience._budget._usage import parse_daily_limits, parse_limit_info, usage_from_limits
from sfresilience._store import Exchange, MemoryStore, Reading, Thresholds
from sfresilience.testing import FakeSalesforce


SOQL = "SELECT Id FROM Account LIMIT 1"
THRESHOLDS = Thresholds(warn=0.8, critical=0.95)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("api-usage=18/5000", (18, 5000)),
        ("api-usage=10018/100000; api-bursts=1/750", (10018, 100000)),
        ("per-app-api-usage=17/250(appName=sample-connected-app); api-usage=3/15000", (3, 15000)),
        ("per-app-api-usage=17/250(appName=x)", None),
        ("API-Usage = 7 / 100", (7, 100)),
        ("api-usage=abc/100", None),
        ("api-usage=5/0", None),
        ("", None),
        (None, None),
    ],
)
def test_the_header_is_read_and_anything_else_is_no_reading(
    value: str | None, expected: tuple[int, int] | None
) -> None:
    """Only `api-usage=USED/LIMIT` counts; malformed values never raise."""
    assert expected == parse_limit_info(value)


def test_limits_bodies_coerce_old_string_numbers_and_skip_nested_apps() -> None:
    """v29-era strings become ints; per-app sub-objects and junk are skipped."""
    body = {
        "DailyApiRequests": {"Max": "5000", "Remaining": "4980", "Dataloader Bulk": {"Max": 0}},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 14990},
        "Broken": {"Max": "lots"},
        "NotALimit": 3,
    }
    limits = parse_daily_limits(body)
    assert {"DailyApiRequests": (5000, 4980), "DailyBulkApiBatches": (15000, 14990)} == limits
    assert (20, 5000) == usage_from_limits(limits)
    assert {} == parse_daily_limits(["not", "a", "mapping"])


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/services/data/v59.0/query/", Kind.COUNTED),
        ("/services/data/v59.0/sobjects/Account/001000000000001", Kind.COUNTED),
        ("/services/data/v59.0/composite/sobjects", Kind.COUNTED),
        ("/services/data/v59.0/jobs/ingest/750000000000001/batches", Kind.COUNTED),
        ("/services/async/59.0/job", Kind.COUNTED),
        ("/services/apexrest/orders/42", Kind.COUNTED),
        ("/services/Soap/m/59.0", Kind.COUNTED),
        ("/services/data/v59.0/limits/", Kind.HEALTH),
        ("/services/data/v59.0/limits", Kind.HEALTH),
        ("/services/data/v59.0/sobjects/Limits__c", Kind.COUNTED),
        ("/services/data/", Kind.UNCOUNTED),
        ("/services/oauth2/token", Kind.UNCOUNTED),
        ("/services/Soap/u/59.0", Kind.UNCOUNTED),
        ("/id/00D000000000001/005000000000001", Kind.UNCOUNTED),
    ],
)
def test_which_requests_use_the_allocation(path: str, kind: Kind) -> None:
    """Data API, Bulk, Apex REST and SOAP count; logins and the versions list do not."""
    assert kind is request_kind(path)


def test_a_lost_answer_stays_reserved_until_a_newer_reading_covers_it() -> None:
    """No header came back, so the call may have counted: it is released only by a
    reading from a request sent after it was lost."""
    store = MemoryStore()
    now = [100.0]
    guard = BudgetGuard(store, "00D000000000001", THRESHOLDS, clock=lambda: now[0])
    guard.answered(guard.acquire(critical=False, label="x"), (10, 100), source="header")
    guard.snapshot()
    sent = guard.acquire(critical=False, label="x")
    assert sent == now[0]
    now[0] += 1
    guard.unanswered()
    assert 1 <= guard.snapshot().reserved
    now[0] += 1
    guard.answered(guard.acquire(critical=False, label="x"), (12, 100), source="header")
    guard.close()
    assert 0 == guard.snapshot().reserved


def test_answers_lost_on_the_wire_keep_the_guard_conservative() -> None:
    """Lost answers through the fake: the calls are not forgotten, and not double counted."""
    with FakeSalesforce(api_limit=100, accounts=1, contacts=1, opportunities=0) as org:
        client = ResilientClient(org.client(), settings=Settings(), store=MemoryStore())
        client.query(SOQL)
        org.faults.lose_responses(count=2)
        for _ in range(3):
            client.query(SOQL)  # retried through the lost answers
        budget = client.budget
        assert budget.used == org.api_usage
        assert budget.used is not None
        assert budget.used + budget.reserved >= org.api_usage


def test_a_collected_client_gives_its_lease_back() -> None:
    """Reservations leased but unused return to the ledger when the client goes away."""
    store = MemoryStore()
    with FakeSalesforce(api_limit=10_000, accounts=1, contacts=1, opportunities=0) as org:
        session = org.mount(requests.Session())  # not kept by the fake, unlike org.session()
        client = ResilientClient(org.client(session=session), settings=Settings(), store=store)
        for _ in range(3):
            client.query(SOQL)
        assert 0 < client.budget.reserved
        del client, session
        gc.collect()
    state = store.exchange_ledger(
        f"budget:{{{org.org.org_id[:15]}}}",
        Exchange(reading=None, release=0, want=0, critical=False, thresholds=THRESHOLDS, now=0.0),
        ttl=60,
        spent_key="x:{y}",
        spent_ttl=60,
    )
    assert 0 == state.reserved


def test_a_reading_from_another_process_is_the_fleet_s() -> None:
    """Through a shared store, numbers another process read say so: source "fleet"."""
    from sfresilience._store import FailoverStore  # noqa: PLC0415

    shared = FailoverStore(MemoryStore())
    now = 1_800_000_000.0
    shared.exchange_ledger(
        "budget:{00D000000000001}",
        Exchange(
            reading=Reading(40, 100, now - 2, now - 1, "other-host:1", "header"),
            release=0,
            want=0,
            critical=False,
            thresholds=THRESHOLDS,
            now=now,
        ),
        ttl=60,
        spent_key="budget:{00D000000000001}:spent:0",
        spent_ttl=60,
    )
    guard = BudgetGuard(shared, "00D000000000001", THRESHOLDS, clock=lambda: now)
    budget = guard.snapshot()
    assert ("fleet", 40, 1.0) == (budget.source, budget.used, budget.age)
