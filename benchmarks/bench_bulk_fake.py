"""A Bulk API 2.0 ingest through the fake org, end to end with simple-salesforce's bulk2."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from _report import Report

from sfresilience.testing import FakeSalesforce


TARGET_SECONDS = 2.0


def _records(count: int) -> list[dict[str, str]]:
    return [
        {"FirstName": f"Bulk{i}", "LastName": f"Load{i}", "Email": f"bulk{i}@example.com"}
        for i in range(count)
    ]


def _ingest(sf: Any, records: list[dict[str, str]]) -> tuple[float, dict[str, Any], int]:
    """Insert `records` and read the successful results back: (seconds, result, rows)."""
    start = time.perf_counter()
    [result] = sf.bulk2.Contact.insert(records=records, wait=0)
    successful = sf.bulk2.Contact.get_successful_records(result["job_id"])
    elapsed = time.perf_counter() - start
    rows = sum(1 for _ in csv.DictReader(io.StringIO(successful)))
    return elapsed, result, rows


def run(report: Report) -> None:
    count = 1_000 if report.quick else 10_000
    report.section(
        "Bulk API 2.0 ingest through the fake org",
        f"`sf.bulk2.Contact.insert` of {count:,} contacts (create job, upload CSV,"
        " UploadComplete, poll, job info) plus `get_successful_records`, unmodified"
        " simple-salesforce over loopback HTTP; every row is validated, locked and"
        " written to the org's store.",
    )
    timings = []
    with FakeSalesforce(contacts=200) as org:
        sf: Any = org.client()
        _ingest(sf, _records(100))  # warm the connection pool and imports
        for _ in range(1 if report.quick else 3):
            elapsed, result, rows = _ingest(sf, _records(count))
            if result["numberRecordsFailed"] or rows != count:
                raise RuntimeError(f"bulk ingest lost rows: {result}, {rows} successful")
            timings.append(elapsed)
    best, worst = min(timings), max(timings)
    report.table(
        ("records", "runs", "fastest", "slowest", "records/s (fastest)"),
        [(f"{count:,}", len(timings), f"{best:.3f} s", f"{worst:.3f} s", f"{count / best:,.0f}")],
    )
    scaled = best * (10_000 / count)
    report.target("Bulk 2.0 ingest of 10,000 records, end to end", scaled, TARGET_SECONDS, "s")
    if report.quick:
        report.note("Quick run: the 10,000-record time is scaled from the smaller run.")
