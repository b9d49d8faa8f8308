"""Fault-matrix rows that need more than one call: concurrency, tokens, limits, timeouts.

Same shape as test_fault_matrix.py: arm, call, then the caller's view and what
reached Salesforce.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceRefusedRequest,
)
from tests.chaos.matrix import FAST, Harness, Row, Seen, ambiguous, failed, ok, run_row

from sfresilience import ErrorCategory, ResilientClient, Settings
from sfresilience.exceptions import BudgetExhausted


SOQL = "SELECT Id FROM Account"
QUERY = "/query"
THREADS = 8


def _in_threads(h: Harness, work: Callable[[int], Any]) -> list[Seen]:
    """Run *work(i)* on THREADS threads at once; what each caller saw."""
    start = threading.Barrier(THREADS)

    def one(index: int) -> Seen:
        start.wait()
        return h.observe(lambda _h: work(index))

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(one, range(THREADS)))


def _all_ok(seen: Seen) -> bool:
    return seen.error is None and all(each.error is None for each in seen.value)


def _expire_then_query_together(h: Harness) -> Any:
    before = h.fake.login_count
    h.fake.faults.expire_sessions()
    # Distinct queries: identical reads in flight together would share one request.
    seen = _in_threads(h, lambda i: h.client.query(f"{SOQL} LIMIT {i + 1}"))
    h.marks["logins"] = h.fake.login_count - before
    return seen


def _revoked_refresh_token(h: Harness) -> Any:
    client = ResilientClient.from_refresh_token(
        consumer_key=h.fake.consumer_key,
        consumer_secret=h.fake.consumer_secret,
        refresh_token=h.fake.issue_refresh_token(),
        settings=Settings(**FAST),
        session=h.fake.session(),
    )
    h.fake.faults.revoke_refresh_tokens()
    h.fake.faults.expire_sessions()
    h.marks["token_posts"] = len(h.statuses("POST", "/oauth2/token"))
    return client.query(SOQL)


def _spend_the_allocation(h: Harness) -> None:
    h.fake.set_api_usage(h.fake.api_limit)


def _query_twice(h: Harness) -> Any:
    """The first call learns from Salesforce's refusal; the second is not sent."""
    return [h.observe(lambda _h: h.client.query(SOQL)) for _ in range(2)]


def _refused_then_not_sent(seen: Seen) -> bool:
    first, second = seen.value
    refused = failed(SalesforceRefusedRequest, ErrorCategory.API_LIMIT_EXCEEDED)(first)
    return refused and isinstance(second.error, BudgetExhausted)


def _long_request_holds_the_only_slot(h: Harness) -> None:
    """One request hangs and, 30 s later by the fake's clock, is a long one: the only one
    the org allows at once. It finishes while the next call backs off."""
    other = h.fake.client()  # another integration's client: no timeout, no retries
    h.fake.faults.hang(count=1)
    holder = threading.Thread(target=other.query, args=(SOQL,))
    holder.start()
    h.exits.callback(holder.join)
    h.exits.callback(h.fake.faults.clear)  # first: the holder must not hang the test
    assert h.fake.faults.wait_hanging(1)
    h.clock.advance(30)

    def long_request_done() -> None:
        h.fake.faults.clear()
        holder.join()

    h.on_sleep.append(long_request_done)


def _lock_storm(h: Harness) -> Any:
    """Eight writers update eight Contacts of one Account, whose lock each write takes."""
    contacts = [str(c["Id"]) for c in h.fake.org.records("Contact")][:THREADS]
    return _in_threads(h, lambda i: h.client.Contact.update(contacts[i], {"Title": f"s{i}"}))


def _every_storm_write_landed_once(h: Harness) -> bool:
    titles = sorted(str(r.get("Title")) for r in h.records("Contact") if r.get("Title"))
    return (
        titles == [f"s{i}" for i in range(THREADS)]
        and h.statuses("PATCH", "/Contact/").count(204) == THREADS
    )


ROWS = [
    Row(
        "session expiry under concurrency: one new login for eight callers",
        lambda _h: None,
        _expire_then_query_together,
        _all_ok,
        lambda h: h.marks["logins"] == 1 and h.statuses("GET", QUERY).count(200) == THREADS,
    ),
    Row(
        "refresh token revoked: refused once, not retried",
        lambda _h: None,
        _revoked_refresh_token,
        failed(SalesforceAuthenticationFailed, ErrorCategory.AUTH_FAILED),
        lambda h: len(h.statuses("POST", "/oauth2/token")) == h.marks["token_posts"] + 1,
    ),
    Row(
        "daily limit exhausted: refused once, then not sent",
        _spend_the_allocation,
        _query_twice,
        _refused_then_not_sent,
        lambda h: h.statuses("GET", QUERY) == [403],
    ),
    Row(
        "concurrency limit: retried once the long request is done",
        _long_request_holds_the_only_slot,
        lambda h: h.client.query(SOQL),
        ok,
        lambda h: h.statuses("GET", QUERY).count(403) == 1,
        fake={"long_request_threshold": 20.0, "concurrent_long_limit": 1},
    ),
    Row(
        "lock storm: eight writers on one Account",
        lambda _h: None,
        _lock_storm,
        _all_ok,
        _every_storm_write_landed_once,
        settings={"retry_attempts": 5, "backoff_initial": 0.2, "backoff_max": 1.0},
        fake={"accounts": 1, "contacts": THREADS, "lock_hold": 0.05},
    ),
    Row(
        "slow drip past the deadline: read timeouts never fire, the deadline does",
        lambda h: h.fake.faults.slow_drip(0.02, part="body"),
        lambda h: h.client.query("SELECT Id, Name FROM Contact"),
        failed(requests.ConnectionError, ErrorCategory.UNAVAILABLE),
        lambda h: len(h.statuses("GET", QUERY)) <= 1 + FAST["retry_attempts"],
        settings={"retry_deadline": 1.0},
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_fault_matrix_under_load(row: Row) -> None:
    run_row(row)


def _bulk_insert(h: Harness) -> Any:
    rows = [{"LastName": "Zz-Bulk", "External_Id__c": f"B{i}"} for i in range(3)]
    return h.client.bulk2.Contact.insert(records=rows, wait=0.05)


def test_a_bulk_job_that_ran_but_could_not_be_polled_is_reported_ambiguous() -> None:
    """Seeded: the job is created, loaded and closed; then two polls meet the maintenance
    page and the call gives up, while the job runs and its three rows land."""
    run_row(
        Row(
            "bulk: closed, then polling fails",
            lambda h: h.fake.faults.maintenance(probability=0.5, seed=3),
            _bulk_insert,
            ambiguous(SalesforceError),
            lambda h: len(h.records("Contact", LastName="Zz-Bulk")) == 3,
            settings={"retry_attempts": 2},
        )
    )
