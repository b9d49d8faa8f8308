"""Bulk jobs' progress, their faults, and the org's bulk allocations (`fake.bulk`).

Real Bulk jobs run in the background and finish whenever Salesforce gets to them.
The fake's jobs never run on their own: a job (or a Bulk API 1.0 batch) is processed
the first time a client looks at it after it was closed (polling its state or
reading its results), so a test decides exactly when work happens and never waits.
The switches here make that first look go differently:

* `stick()`: jobs stay `InProgress` (a v1 batch: `InProgress`) on every poll until
  `release()`, as a job stuck behind a busy org does.
* `fail_jobs(message)`: jobs fail as a whole (`Failed`, with `message` as the job's
  `errorMessage` / the batch's `stateMessage`), processing no record.
* `disable_async()`: the org has no Async API; every Bulk request answers
  `FeatureNotEnabled: Async API not enabled`.
* `in_progress_polls`: how many polls see `InProgress` before a job completes
  (0 by default: the first poll sees it complete).

All thread-safe; `clear()` switches everything off (so does `FakeSalesforce.stop()`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Final


__all__ = ["ASYNC_DISABLED_MESSAGE", "BulkJobs", "Progress"]

ASYNC_DISABLED_MESSAGE: Final = "Async API not enabled"
# A real whole-job failure text (a CSV with CRLF line endings in an LF job).
DEFAULT_FAILURE: Final = (
    "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF"
)
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
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class _Switch:
    count: int | None = None

    def fires(self) -> bool:
        if self.count is None:
            return True
        if self.count <= 0:
            return False
        self.count -= 1
        return True


class BulkJobs:
    """Switches and counters every Bulk job of one fake org shares (`fake.bulk`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stick: _Switch | None = None
        self._fail: _Switch | None = None
        self._failure_message = DEFAULT_FAILURE
        self._release_generation = 0
        self._async_enabled = True
        self.in_progress_polls = 0
        self._batches_used = 0
        self._query_jobs_used = 0
        self._query_bytes = 0

    # --- switches -------------------------------------------------------------

    def stick(self, *, count: int | None = None) -> None:
        """Jobs that start from now on (the next `count`, or all) stay InProgress."""
        if count is not None and count < 0:
            raise ValueError("count must be >= 0")
        with self._lock:
            self._stick = _Switch(count)

    def release(self) -> None:
        """Let stuck jobs finish on their next poll, and stop sticking new ones."""
        with self._lock:
            self._stick = None
            self._release_generation += 1

    def fail_jobs(self, message: str = DEFAULT_FAILURE, *, count: int | None = None) -> None:
        """Jobs that start from now on (the next `count`, or all) fail as a whole."""
        if count is not None and count < 0:
            raise ValueError("count must be >= 0")
        with self._lock:
            self._fail = _Switch(count)
            self._failure_message = message

    def disable_async(self) -> None:
        """Answer every Bulk request `FeatureNotEnabled: Async API not enabled`."""
        with self._lock:
            self._async_enabled = False

    def enable_async(self) -> None:
        """Serve the Bulk APIs again after `disable_async()`."""
        with self._lock:
            self._async_enabled = True

    @property
    def async_enabled(self) -> bool:
        """Whether the org serves the Bulk APIs."""
        return self._async_enabled

    def clear(self) -> None:
        """Every switch off; stuck jobs released; `in_progress_polls` back to 0."""
        self.release()
        with self._lock:
            self._fail = None
            self._async_enabled = True
            self.in_progress_polls = 0

    # --- the lifecycle, used by the Bulk handlers --------------------------------

    def poll(self, progress: Progress) -> str:
        """Advance `progress` by one look: "held", "failed", "waiting" or "run".

        "run" means: process the records now (the caller then sets `done`).
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
            return "run"

    def _start(self, progress: Progress) -> None:
        progress.started = True
        progress.polls_left = max(0, self.in_progress_polls)
        if self._stick is not None and self._stick.fires():
            progress.held_until_release = self._release_generation
        if self._fail is not None and self._fail.fires():
            progress.failure = self._failure_message

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

    def query_jobs_exhausted(self) -> bool:
        """Whether DailyBulkV2QueryJobs has nothing left."""
        return self._query_jobs_used >= _DAILY_QUERY_JOBS

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
