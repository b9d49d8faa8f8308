"""API calls with and without the Bulk switch for query_all; peak memory of a streamed download."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from _report import Report

from sfresilience import ResilientClient, Settings
from sfresilience.testing import FakeSalesforce


QUERY = "SELECT Id, FirstName, LastName, Email, Account.Name FROM Contact"
REST_PAGE = 2_000  # records per REST query page
BULK_PAGE = 50_000  # records per Bulk 2.0 results page (simple-salesforce's default)
PEAK_TARGET_MB = 16.0

# Runs in a fresh interpreter, so that tracemalloc sees the client and not the fake org.
_PEAK_SCRIPT = """
import json, sys, tracemalloc
from sfresilience import ResilientClient, Settings
client = ResilientClient.from_env(settings=Settings(bulk_query_threshold=1))
tracemalloc.start()
rows = sum(1 for _ in client.query_all_iter(sys.argv[1]))
_, peak = tracemalloc.get_traced_memory()
print(json.dumps({"rows": rows, "peak": peak}))
"""


def _calls(fake: FakeSalesforce, settings: Settings) -> tuple[int, int]:
    """(API calls spent, records read) by one query_all through the wrapper."""
    client = ResilientClient(fake.client(), settings=settings, sleep=lambda _: None)
    before = fake.api_usage
    records = sum(1 for _ in client.query_all_iter(QUERY))
    return fake.api_usage - before, records


def _modelled(records: int, polls: int) -> tuple[int, int]:
    """(REST calls, Bulk calls) for *records*, from the page sizes and observed polls."""
    rest = max(1, math.ceil(records / REST_PAGE))
    # first REST page (its totalSize decides) + describe + create + polls + results pages
    bulk = 1 + 1 + 1 + polls + max(1, math.ceil(records / BULK_PAGE))
    return rest, bulk


def _peak(fake: FakeSalesforce) -> dict[str, int]:
    env = {**os.environ, **fake.env()}
    done = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", _PEAK_SCRIPT, QUERY],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run(report: Report) -> None:
    sizes = (5_000, 20_000) if report.quick else (10_000, 100_000)
    report.section(
        "Bulk: API calls of query_all with and without the Bulk 2.0 switch",
        f"`ResilientClient.query_all_iter({QUERY!r})` against FakeSalesforce seeded with N"
        " contacts, counted by the fake's own API accounting; with"
        " `SFRESILIENCE_BULK_QUERY_THRESHOLD=1` the query becomes a Bulk 2.0 query job."
        " The 1,000,000 row is **by model** (REST pages of 2,000, Bulk pages of 50,000,"
        " the polls observed against the fake), not measured.",
    )
    rows: list[list[object]] = []
    polls = 1
    peak: dict[str, int] = {}
    for size in sizes:
        with FakeSalesforce(contacts=size, tls=True) as fake:
            rest, read_rest = _calls(fake, Settings())
            bulk, read_bulk = _calls(fake, Settings(bulk_query_threshold=1))
            assert read_rest == read_bulk == size  # noqa: S101
            polls = bulk - _modelled(size, 0)[1]
            rows.append([f"{size:,}", rest, bulk, f"{rest / bulk:.1f}x", "measured"])
            if size == sizes[-1]:
                peak = _peak(fake)
    million = 1_000_000
    rest_m, bulk_m = _modelled(million, polls)
    rows.append([f"{million:,}", rest_m, bulk_m, f"{rest_m / bulk_m:.1f}x", "by model"])
    report.table(("records", "REST query_all calls", "Bulk path calls", "saving", "how"), rows)
    report.note(
        f"Polls observed against the fake: {polls} (its jobs finish at their first poll)."
        " A real org's job runs for a while: the watchdog's interval starts at 1 s and doubles"
        " up to 30 s, so a 10-minute query job adds about 25 polls, still far below REST."
    )
    report.section(
        "Bulk: peak memory of a streamed Bulk 2.0 download",
        f"`query_all_iter` over {sizes[-1]:,} records on the Bulk path, in a fresh"
        " interpreter measured with tracemalloc (the fake org runs in the benchmark's own"
        " process). Records are parsed row by row from the response as it arrives.",
    )
    peak_mb = peak["peak"] / 1e6
    report.table(("records", "peak traced memory"), [[f"{peak['rows']:,}", f"{peak_mb:.2f} MB"]])
    report.target(f"peak memory streaming {sizes[-1]:,} records", peak_mb, PEAK_TARGET_MB, "MB")
