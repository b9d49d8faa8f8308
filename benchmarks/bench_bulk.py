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

# Runs in a fresh interpreter, so that the figures are the client's and not the fake org's.
# tracemalloc sees Python's allocations; VmHWM (Linux) the process's peak resident memory,
# C buffers too. (Not ru_maxrss: Linux carries the parent's across fork and exec.)
_PEAK_SCRIPT = """
import json, sys, tracemalloc
from sfresilience import ResilientClient, Settings

def hwm():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmHWM:"))

client = ResilientClient.from_env(settings=Settings(bulk_query_threshold=1))
before = hwm()
tracemalloc.start()
rows = sum(1 for _ in client.query_all_iter(sys.argv[1]))
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
after = hwm()
print(json.dumps({"rows": rows, "peak": peak, "rss": after, "rss_growth": after - before}))
"""
MILLION = 1_000_000


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
    """The streamed download's rows and memory, and the API calls it spent (the fake's count)."""
    env = {**os.environ, **fake.env()}
    before = fake.api_usage
    done = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", _PEAK_SCRIPT, QUERY],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    figures = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    return {**figures, "calls": fake.api_usage - before}


def run(report: Report) -> None:
    sizes = (5_000, 20_000) if report.quick else (10_000, 100_000)
    rows: list[list[object]] = []
    peaks: list[dict[str, int]] = []
    polls = 1
    for size in sizes:
        with FakeSalesforce(contacts=size, tls=True) as fake:
            rest, read_rest = _calls(fake, Settings())
            bulk, read_bulk = _calls(fake, Settings(bulk_query_threshold=1))
            assert read_rest == read_bulk == size  # noqa: S101
            polls = bulk - _modelled(size, 0)[1]
            rows.append([f"{size:,}", rest, bulk, f"{rest / bulk:.1f}x", "measured"])
            if size == sizes[-1]:
                peaks.append(_peak(fake))
                # The fresh interpreter spends what this one does: its 1M count compares.
                assert peaks[-1]["calls"] == bulk  # noqa: S101
    rest_m, bulk_m = _modelled(MILLION, polls)
    how = "both by model"
    if not report.quick:
        with FakeSalesforce(contacts=MILLION, tls=True) as fake:
            peaks.append(_peak(fake))
        bulk_m, how = peaks[-1]["calls"], "REST by model, Bulk measured"
    rows.append([f"{MILLION:,}", rest_m, bulk_m, f"{rest_m / bulk_m:.1f}x", how])
    _calls_section(report, rows, polls)
    _peak_section(report, peaks, sizes[-1] if report.quick else MILLION)


def _calls_section(report: Report, rows: list[list[object]], polls: int) -> None:
    report.section(
        "Bulk: API calls of query_all with and without the Bulk 2.0 switch",
        f"`ResilientClient.query_all_iter({QUERY!r})` against FakeSalesforce seeded with N"
        " contacts, counted by the fake's own API accounting; with"
        " `SFRESILIENCE_BULK_QUERY_THRESHOLD=1` the query becomes a Bulk 2.0 query job."
        " In the 1,000,000 row the REST figure is **by model** (pages of 2,000), not run;"
        " the Bulk figure is measured against a fake seeded with 1,000,000 contacts (by"
        " model too in a quick run: Bulk pages of 50,000, the polls observed).",
    )
    report.table(("records", "REST query_all calls", "Bulk path calls", "saving", "how"), rows)
    report.note(
        f"Polls observed against the fake: {polls} (its jobs finish at their first poll)."
        " A real org's job runs for a while: the watchdog's interval starts at 1 s and doubles"
        " up to 30 s, so a 10-minute query job adds about 25 polls, still far below REST."
    )


def _peak_section(report: Report, peaks: list[dict[str, int]], peak_size: int) -> None:
    report.section(
        "Bulk: peak memory of a streamed Bulk 2.0 download",
        "`query_all_iter` on the Bulk path (Bulk 2.0 query job, results pages of 50,000"
        " rows) in a fresh interpreter, measured (the fake org runs in the benchmark's own"
        " process). Records are parsed row by row from each response as it arrives and"
        " counted, not kept. *Traced peak*: Python allocations during the download"
        " (tracemalloc). *Peak RSS*: the client process's peak resident memory (Linux"
        " `VmHWM`), interpreter and imports included; *RSS growth*: what the download"
        " added to it (tracemalloc's own bookkeeping included).",
    )
    rows = [
        [
            f"{peak['rows']:,}",
            f"{peak['peak'] / 1e6:.2f} MB",
            f"{peak['rss'] / 1e6:.1f} MB",
            f"{peak['rss_growth'] / 1e6:.1f} MB",
        ]
        for peak in peaks
    ]
    report.table(("records", "traced peak", "peak RSS", "RSS growth"), rows)
    largest = peaks[-1]
    report.target(
        f"peak traced memory streaming {largest['rows']:,} records",
        largest["peak"] / 1e6,
        PEAK_TARGET_MB,
        "MB",
    )
    if largest["rows"] != peak_size:
        raise RuntimeError(f"streamed {largest['rows']:,} rows, expected {peak_size:,}")
    if report.quick:
        report.note("Quick run: no 1,000,000-record download (run without --quick for it).")
