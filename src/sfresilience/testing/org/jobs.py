"""Bulk jobs' progress and the org's bulk allocations (`fake.bulk`).

Real Bulk jobs run in the background and finish whenever Salesforce gets to them.
The fake's jobs never run on their own: a job (or a Bulk API 1.0 batch) is processed
the first time a client looks at it after it was closed (polling its state or
reading its results), so a test decides exactly when work happens and never waits.
`in_progress_polls` makes that many polls see `InProgress` first. The faults in
`fake.faults` make the first look go differently: `stuck_bulk_jobs()` keeps jobs
`InProgress` until `release()`, `failed_bulk_jobs(message)` fails them as a whole,
and `async_api_disabled()` refuses every Bulk request.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Final, Literal

from ..faults import Fault, Faults


__all__ = ["ASYNC_DISABLED_MESSAGE", "BulkJobs", "Outcome", "Progress"]

Outcome = Literal["held", "waiting", "failed", "run", "done"]

ASYNC_DISABLED_MESSAGE: Final = "Async API not enabled"
# Bulk API 2.0 counts one batch toward DailyBulkApiBatches per 10,000 records.
_RECORDS_PER_BATCH: Final = 10_000
_DAILY_BATCHES: Final = 15_000
_DAILY_QUERY_JOBS: Final = 10_000
_DAILY_QUERY_STORAGE_MB: Final = 976_562


@dataclass
class Progress:
    """Where one job (or v1 batch) is: decided at its first poll after closing."""

    started: bool = False
    held_until_release: int | None = None
    failure: str | None = None
    polls_left: int = 0
    done: bool = False


class BulkJobs:
    """The progress rules and counters every Bulk job of one fake org shares (`fake.bulk`)."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults
        self._lock = threading.Lock()
        self._release_generation = 0
        self.in_progress_polls = 0
        self._batches_used = 0
        self._query_jobs_used = 0
        self._query_bytes = 0

    def release(self) -> None:
        """Let stuck jobs finish on their next poll, and stop sticking new ones."""
        self._faults.disarm(Fault.BULK_JOBS_STUCK)
        with self._lock:
            self._release_generation += 1

    def refuses(self) -> bool:
        """Whether this Bulk request finds the Async API disabled (for the handlers)."""
        return self._faults.active and self._faults.fire(Fault.ASYNC_API_DISABLED) is not None

    def read_only(self) -> bool:
        """Whether this Bulk 1.0 POST finds the org read-only (`faults.read_only()`)."""
        return self._faults.active and self._faults.fire(Fault.READ_ONLY) is not None

    def clear(self) -> None:
        """Stuck jobs released and `in_progress_polls` back to 0 (allocations are kept)."""
        self.release()
        with self._lock:
            self.in_progress_polls = 0

    # --- the lifecycle, used by the Bulk handlers --------------------------------

    def poll(self, progress: Progress) -> Outcome:
        """Advance `progress` by one look and say what the job does now.

        "held" (stuck) and "waiting" (`in_progress_polls`) read InProgress; "failed"
        fails the job as a whole; "run" means process the records now, once; "done"
        (already processed) leaves it as it is.
        """
        with self._lock:
            if progress.done:
                return "failed" if progress.failure is not None else "done"
            if not progress.started:
                self._start(progress)
            if progress.held_until_release == self._release_generation:
                return "held"
            if progress.failure is not None:
                progress.done = True
                return "failed"
            if progress.polls_left > 0:
                progress.polls_left -= 1
                return "waiting"
            progress.done = True
            return "run"

    def _start(self, progress: Progress) -> None:
        progress.started = True
        progress.polls_left = max(0, self.in_progress_polls)
        if not self._faults.active:
            return
        if self._faults.fire(Fault.BULK_JOBS_STUCK) is not None:
            progress.held_until_release = self._release_generation
        failed = self._faults.fire(Fault.BULK_JOBS_FAIL)
        if failed is not None:
            progress.failure = failed.settings.message

    # --- allocations ------------------------------------------------------------

    def count_ingest(self, records: int) -> None:
        """Count a Bulk 2.0 ingest job's records toward DailyBulkApiBatches."""
        with self._lock:
            self._batches_used += max(1, math.ceil(records / _RECORDS_PER_BATCH))

    def count_batch(self) -> None:
        """Count one Bulk API 1.0 batch toward DailyBulkApiBatches."""
        with self._lock:
            self._batches_used += 1

    def count_query_job(self) -> None:
        """Count one Bulk 2.0 query job toward DailyBulkV2QueryJobs."""
        with self._lock:
            self._query_jobs_used += 1

    def count_query_bytes(self, size: int) -> None:
        """Count query results stored toward DailyBulkV2QueryFileStorageMB."""
        with self._lock:
            self._query_bytes += size

    def batches_exhausted(self) -> bool:
        """Whether DailyBulkApiBatches has nothing left."""
        return self._batches_used >= _DAILY_BATCHES

    def set_usage(self, *, batches: int | None = None, query_jobs: int | None = None) -> None:
        """Set the bulk allocations used so far (e.g. to just below the daily maximum)."""
        with self._lock:
            if batches is not None:
                self._batches_used = batches
            if query_jobs is not None:
                self._query_jobs_used = query_jobs

    def limits(self) -> dict[str, dict[str, int]]:
        """The bulk entries of GET /limits."""
        with self._lock:
            used_mb = math.ceil(self._query_bytes / (1024 * 1024))
            return {
                "DailyBulkApiBatches": _entry(_DAILY_BATCHES, self._batches_used),
                "DailyBulkV2QueryFileStorageMB": _entry(_DAILY_QUERY_STORAGE_MB, used_mb),
                "DailyBulkV2QueryJobs": _entry(_DAILY_QUERY_JOBS, self._query_jobs_used),
            }


def _entry(maximum: int, used: int) -> dict[str, int]:
    return {"Max": maximum, "Remaining": max(0, maximum - used)}
