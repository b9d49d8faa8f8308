"""The fake org itself: start-up with 10,000 Contacts, and one request over HTTP and HTTPS."""

from __future__ import annotations

import functools
import http.client
import ssl
import time

from _report import Report, median_seconds

from sfresilience.testing import FakeSalesforce


# The fake alone answered a keep-alive GET /services/data/ in ~137 µs (http.client)
# before the testing/ split; the split, the fault table and TLS must not make it slower.
BEFORE_SPLIT_SECONDS = 137e-6
STARTUP_LIMIT_SECONDS = 0.5


def _startup_seconds(contacts: int) -> float:
    """Seconds from nothing to a fake with `contacts` Contacts answering on loopback."""
    began = time.perf_counter()
    fake = FakeSalesforce(contacts=contacts)
    fake.start()
    elapsed = time.perf_counter() - began
    fake.stop()
    return elapsed


def _get(connection: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> bytes:
    connection.request("GET", path, headers=headers)
    return connection.getresponse().read()


def _latencies(
    fake: FakeSalesforce, connection: http.client.HTTPConnection, rounds: int
) -> dict[str, float]:
    token = {"Authorization": f"Bearer {fake.issue_session()}"}
    calls = {
        "GET /services/data/ (versions, no auth)": ("/services/data/", {}),
        "GET /services/data/v59.0/limits (counted)": ("/services/data/v59.0/limits", token),
        "GET .../sobjects/Contact/{id}": (
            f"/services/data/v59.0/sobjects/Contact/{fake.org.records('Contact')[0]['Id']}",
            token,
        ),
    }
    found = {}
    for name, (path, headers) in calls.items():
        call = functools.partial(_get, connection, path, headers)
        for _ in range(100):
            call()
        found[name] = median_seconds(rounds, call)
    return found


def run(report: Report) -> None:
    rounds = report.rounds
    report.section(
        "The fake org",
        "Start-up is the median of a few constructions plus `start()`; request latency is "
        f"the median of {rounds} keep-alive requests through `http.client`, plain HTTP and "
        "TLS (a throwaway CA, TLS 1.3) side by side.",
    )
    contacts = 2_000 if report.quick else 10_000
    startup = min(_startup_seconds(contacts) for _ in range(2 if report.quick else 3))
    with FakeSalesforce() as plain, FakeSalesforce(tls=True) as tls:
        plain_connection = http.client.HTTPConnection("127.0.0.1", plain.port)
        context = ssl.create_default_context(cafile=tls.ca_bundle)
        tls_connection = http.client.HTTPSConnection("127.0.0.1", tls.port, context=context)
        over_http = _latencies(plain, plain_connection, rounds)
        over_tls = _latencies(tls, tls_connection, rounds)
        plain_connection.close()
        tls_connection.close()
    report.table(
        ("request", "HTTP", "HTTPS", "TLS cost"),
        [
            [
                name,
                f"{over_http[name] * 1e6:.1f} µs",
                f"{over_tls[name] * 1e6:.1f} µs",
                f"+{(over_tls[name] - over_http[name]) * 1e6:.1f} µs",
            ]
            for name in over_http
        ],
    )
    report.note(
        f"- start-up with {contacts:,} Contacts (construct + start): {startup * 1e3:.0f} ms\n"
        f"- before the split, the versions GET took ~{BEFORE_SPLIT_SECONDS * 1e6:.0f} µs"
    )
    if not report.quick:
        report.target("fake start-up, 10,000 Contacts", startup, STARTUP_LIMIT_SECONDS, "s")
    versions = over_http["GET /services/data/ (versions, no auth)"]
    report.target(
        "fake alone, keep-alive GET over HTTP", versions * 1e6, BEFORE_SPLIT_SECONDS * 1e6, "µs"
    )
