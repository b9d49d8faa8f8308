"""What sfresilience costs on the happy path, measured side by side in one run."""

from __future__ import annotations

import functools
import http.client
import time

from _report import RATIO_HEADER, Report, interleaved, median_seconds, ratio_row

from sfresilience import ResilientClient, Settings, classify
from sfresilience._core import RetryPolicy
from sfresilience._guard import Guard
from sfresilience.testing import FakeSalesforce


SOQL = "SELECT Id, Name FROM Account LIMIT 1"
LOCK_BODY = (
    b'[{"message":"unable to obtain exclusive access to this record",'
    b'"errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]'
)


def _get(connection: http.client.HTTPConnection, path: str) -> bytes:
    connection.request("GET", path)
    return connection.getresponse().read()


def run(report: Report) -> None:
    rounds = report.rounds
    report.section(
        "Happy-path overhead",
        f"Medians of {rounds} interleaved rounds against the embedded fake org on loopback.",
    )
    rows = []
    with FakeSalesforce(contacts=200) as org:
        connection = http.client.HTTPConnection("127.0.0.1", org.port)
        fake_alone = median_seconds(rounds, functools.partial(_get, connection, "/services/data/"))
        connection.close()
        raw = org.client()
        wrapped = ResilientClient(org.client(), settings=Settings())
        for _ in range(200):  # warm both connection pools
            raw.query(SOQL)
            wrapped.query(SOQL)
        query = interleaved(rounds, lambda: raw.query(SOQL), lambda: wrapped.query(SOQL))
        rows.append(ratio_row("query: simple-salesforce → ResilientClient", *query))
        contact = org.org.records("Contact")[0]["Id"]
        get = interleaved(
            rounds, lambda: raw.Contact.get(contact), lambda: wrapped.Contact.get(contact)
        )
        rows.append(ratio_row("Contact.get: simple-salesforce → ResilientClient", *get))
    guard = Guard(policy=RetryPolicy())
    noop = interleaved(
        rounds * 10,
        lambda: None,
        lambda: guard.run(lambda: None, operation="noop", repeatable=True),
    )
    rows.append(ratio_row("no I/O: plain call → Guard.run", *noop))
    report.table(RATIO_HEADER, rows)
    start = time.perf_counter()
    for _ in range(rounds):
        classify(status=500, body=LOCK_BODY)
    per_call = (time.perf_counter() - start) / rounds
    report.note(
        f"- the fake org alone (http.client keep-alive GET): {fake_alone * 1e6:.1f} µs\n"
        f"- `classify(status=500, body=<lock error>)`: {per_call * 1e6:.1f} µs per call"
    )
    report.target("query ratio, embedded", query[1] / query[0], 1.05, "x")
