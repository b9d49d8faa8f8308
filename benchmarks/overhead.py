"""What sfresilience costs on the happy path, measured side by side in one run.

Prints medians and ratios; the machine's noise cancels out of the ratios
because each pair of measurements is interleaved.

    nox -s bench            # or: python benchmarks/overhead.py --rounds 3000
"""

from __future__ import annotations

import argparse
import functools
import http.client
import statistics
import time
from collections.abc import Callable

from sfresilience import ResilientClient, Settings, classify
from sfresilience._core import RetryPolicy
from sfresilience._guard import Guard
from sfresilience.testing import FakeSalesforce


def interleaved(
    rounds: int, first: Callable[[], object], second: Callable[[], object]
) -> tuple[float, float]:
    """Median seconds of each callable, timed alternately."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        for call, samples in ((first, a), (second, b)):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def _get(connection: http.client.HTTPConnection, path: str) -> bytes:
    connection.request("GET", path)
    return connection.getresponse().read()


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def report(name: str, base: float, measured: float, unit: str = "µs") -> None:
    scale = 1e6
    print(
        f"{name:<44} {base * scale:9.1f} {unit} -> {measured * scale:9.1f} {unit}"
        f"   ratio {measured / base:5.2f}   (+{(measured - base) * scale:.1f} {unit})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    soql = "SELECT Id, Name FROM Account LIMIT 1"
    with FakeSalesforce(contacts=200) as org:
        connection = http.client.HTTPConnection("127.0.0.1", org.port)
        fetch = functools.partial(_get, connection, "/services/data/")
        fake_alone = statistics.median(_timed(fetch) for _ in range(rounds))
        print(f"{'the fake org alone: http.client keep-alive GET':<44} {fake_alone * 1e6:9.1f} µs")
        connection.close()
        raw = org.client()
        wrapped = ResilientClient(org.client(), settings=Settings())
        for _ in range(200):  # warm both connection pools
            raw.query(soql)
            wrapped.query(soql)
        print(f"{'happy path, medians of ' + str(rounds) + ' interleaved rounds':<44}")
        report(
            "query: simple-salesforce -> ResilientClient",
            *interleaved(rounds, lambda: raw.query(soql), lambda: wrapped.query(soql)),
        )
        contact = org.org.records("Contact")[0]["Id"]
        report(
            "Contact.get: simple-salesforce -> Resilient",
            *interleaved(
                rounds,
                lambda: raw.Contact.get(contact),
                lambda: wrapped.Contact.get(contact),
            ),
        )
    guard = Guard(policy=RetryPolicy())
    report(
        "no I/O: plain call -> Guard.run",
        *interleaved(
            rounds * 10,
            lambda: None,
            lambda: guard.run(lambda: None, operation="noop", repeatable=True),
        ),
    )
    body = (
        b'[{"message":"unable to obtain exclusive access to this record",'
        b'"errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]'
    )
    start = time.perf_counter()
    for _ in range(rounds):
        classify(status=500, body=body)
    per_call = (time.perf_counter() - start) / rounds
    print(f"{'classify(status=500, body=<lock error>)':<44} {per_call * 1e6:9.1f} µs per call")


if __name__ == "__main__":
    main()
