"""Fault-matrix rows for the fallback: reads served from the cache, the breaker, writes refused.

Same shape as test_fault_matrix.py. A warm row first reads live (and waits for the
cache write), then arms the fault.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
from tests.chaos.matrix import Harness, Row, Seen, failed, run_row

from sfresilience import ErrorCategory, freshness
from sfresilience._fallback import fallback_of
from sfresilience.exceptions import FallbackUnavailable, WriteRefused


SOQL = "SELECT Id, Name FROM Contact LIMIT 5"
QUERY = "/query"
BREAKER = 5
"""Outcomes the breaker counts before it opens (its default)."""


def _warm(h: Harness) -> None:
    h.marks["live"] = h.client.query(SOQL)
    assert fallback_of(h.client).flush(5)
    h.marks["sent"] = len(h.fake.request_log)


def _warm_then(arm: Any) -> Any:
    def both(h: Harness) -> None:
        _warm(h)
        arm(h)

    return both


def _served_stale(seen: Seen) -> bool:
    if seen.error is not None:
        return False
    values = seen.value if isinstance(seen.value, list) else [seen.value]
    found = [freshness(value) for value in values]
    return all(f is not None and f.stale for f in found)


def _nothing_sent(h: Harness) -> bool:
    return bool(len(h.fake.request_log) == h.marks["sent"])


def _storm(h: Harness) -> Any:
    return [h.client.query(SOQL) for _ in range(3 * BREAKER)]


def _open_breaker_then_create(h: Harness) -> Any:
    for _ in range(BREAKER):
        h.client.query(SOQL)
    h.marks["sent"] = len(h.fake.request_log)
    return h.client.Contact.create({"LastName": "Zz-While-Open"})


def _fallback_mode(h: Harness) -> None:
    os.environ["SF_FALLBACK_MODE"] = "true"
    h.exits.callback(os.environ.pop, "SF_FALLBACK_MODE", None)


def _read_and_write_in_fallback_mode(h: Harness) -> Any:
    served = h.client.query(SOQL)
    h.marks["write"] = h.observe(lambda _h: h.client.Contact.update(h.contact(), {"Title": "x"}))
    h.marks["uncached"] = h.observe(lambda _h: h.client.query("SELECT Id FROM Account"))
    return served


def _write_and_uncached_refused(h: Harness) -> bool:
    write, uncached = h.marks["write"], h.marks["uncached"]
    return (
        isinstance(write.error, WriteRefused)
        and isinstance(uncached.error, FallbackUnavailable)
        and _nothing_sent(h)
    )


ROWS = [
    Row(
        "outage, warm cache: the read is served from the cache, marked stale",
        _warm_then(lambda h: h.fake.faults.outage()),
        lambda h: h.client.query(SOQL),
        _served_stale,
        _nothing_sent,
    ),
    Row(
        "outage, nothing cached: the outage's own error",
        lambda h: h.fake.faults.outage(),
        lambda h: h.client.query(SOQL),
        failed(requests.ConnectionError, ErrorCategory.UNAVAILABLE),
        lambda h: h.statuses("GET", QUERY) == [],
    ),
    Row(
        "503 storm, warm cache: every read served; the breaker stops sending after 5",
        _warm_then(lambda h: h.fake.faults.server_errors(status=503)),
        _storm,
        _served_stale,
        lambda h: h.statuses("GET", QUERY)[1:] == [503] * BREAKER,
        settings={"retry_attempts": 1},
    ),
    Row(
        "breaker open: a create is refused and not sent",
        _warm_then(lambda h: h.fake.faults.server_errors(status=503)),
        _open_breaker_then_create,
        lambda seen: isinstance(seen.error, WriteRefused),
        lambda h: _nothing_sent(h) and h.records("Contact", LastName="Zz-While-Open") == [],
        settings={"retry_attempts": 1},
    ),
    Row(
        "SF_FALLBACK_MODE: cached read served, write and uncached read refused, nothing sent",
        _warm_then(_fallback_mode),
        _read_and_write_in_fallback_mode,
        lambda seen: seen.error is None and freshness(seen.value) is not None,
        _write_and_uncached_refused,
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_fault_matrix_fallback(row: Row) -> None:
    run_row(row)
