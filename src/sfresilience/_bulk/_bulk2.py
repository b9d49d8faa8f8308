"""``client.bulk2``: simple-salesforce's Bulk 2.0 handler, guarded.

The handler and type objects *are* simple-salesforce's (subclasses, built
with a :class:`GuardedSession`), so every call shape and return value stays
theirs. Two things are ours: waiting for a job (a watchdog on the guard's
clock, with a deadline per job) and a load's failed rows (classified, and the
transient ones resubmitted in follow-up jobs).
"""

from __future__ import annotations

from typing import Any

from simple_salesforce.bulk2 import (
    ColumnDelimiter,
    JobState,
    LineEnding,
    Operation,
    SFBulk2Handler,
    SFBulk2Type,
    _Bulk2Client,
    _count_csv,
)

from .._guard import Guard
from ._ingest import CLOSED_JOB_NOTE, IngestRun
from ._transport import QUERY_JOBS, count_daily
from ._watchdog import JobStuck, Watchdog, report_stuck, stuck_error


_QUERY_OPERATIONS = frozenset({Operation.query.value, Operation.query_all.value})


class ResilientBulk2Handler(SFBulk2Handler):
    """``sf.bulk2`` as simple-salesforce builds it; ``.<Object>`` gives a guarded type."""

    def __init__(self, sf: Any, session: Any, guard: Guard, watchdog: Watchdog) -> None:
        super().__init__(sf.session_id, sf.bulk2_url, sf.proxies, session)
        self._guard = guard
        self._watchdog = watchdog

    def __getattr__(self, name: str) -> ResilientBulk2Type:
        if name.startswith("_"):
            raise AttributeError(name)
        return ResilientBulk2Type(
            name, self.bulk2_url, self.headers, self.session, self._guard, self._watchdog
        )


class ResilientBulk2Type(SFBulk2Type):
    """simple-salesforce's ``SFBulk2Type``: same methods, same results, guarded.

    ``insert`` / ``update`` / ``upsert`` / ``delete`` / ``hard_delete`` return
    simple-salesforce's list of per-job dicts; each is a
    :class:`~sfresilience.BulkJobResult` whose ``.resilient`` tells which rows
    succeeded, which were resubmitted and which failed, classified.
    """

    def __init__(  # noqa: PLR0917  (simple-salesforce's, plus the guard)
        self,
        object_name: str,
        bulk2_url: str,
        headers: dict[str, str],
        session: Any,
        guard: Guard,
        watchdog: Watchdog,
    ) -> None:
        super().__init__(object_name, bulk2_url, headers, session)
        self._guard = guard
        self._watchdog = watchdog
        self._client = _WatchedClient(object_name, bulk2_url, headers, session, guard, watchdog)

    def _upload_data(  # noqa: PLR0917  (simple-salesforce's signature)
        self,
        operation: Operation,
        data: str | tuple[int, str],
        column_delimiter: ColumnDelimiter = ColumnDelimiter.COMMA,
        line_ending: LineEnding = LineEnding.LF,
        external_id_field: str | None = None,
        wait: int = 5,
    ) -> dict[str, int]:
        if isinstance(data, tuple):
            total, text = data
        else:
            total = _count_csv(data=data, line_ending=line_ending, skip_header=True)
            text = data
        run = IngestRun(
            self._client,
            self._guard,
            self._watchdog,
            operation,
            column_delimiter,
            line_ending,
            external_id_field,
            wait,
        )
        return run.go(text, int(total))


class _WatchedClient(_Bulk2Client):
    """simple-salesforce's Bulk 2.0 client, waiting for jobs on the watchdog."""

    def __init__(  # noqa: PLR0917  (simple-salesforce's, plus the guard)
        self,
        object_name: str,
        bulk2_url: str,
        headers: dict[str, str],
        session: Any,
        guard: Guard,
        watchdog: Watchdog,
    ) -> None:
        super().__init__(object_name, bulk2_url, headers, session)
        self._guard = guard
        self._watchdog = watchdog

    def create_job(self, *args: Any, **kwargs: Any) -> Any:
        """simple-salesforce's; a query job is counted toward ``DailyBulkV2QueryJobs``."""
        created = super().create_job(*args, **kwargs)
        operation = args[0] if args else kwargs.get("operation")
        if str(getattr(operation, "value", operation)) in _QUERY_OPERATIONS:
            count_daily(self.session, QUERY_JOBS, 1)
        return created

    def wait_for_job(self, job_id: str, is_query: bool, wait: float = 0.5) -> Any:
        """Wait on the guard's clock; a job stuck past its deadline is aborted."""
        try:
            self._watchdog.wait(lambda: self.get_job(job_id, is_query), job_id, wait)
        except JobStuck as stuck:
            self.abort_job(job_id, is_query)
            kind = "query" if is_query else "ingest"
            operation = f"bulk2 {self.object_name}.{kind}"
            report_stuck(self._guard.hooks, operation, stuck, "raising a classified timeout")
            raise stuck_error(stuck, f"aborted stuck job {job_id}") from None
        except Exception as error:
            if not is_query:  # waited on only once the job was closed: Salesforce has it
                error.add_note(CLOSED_JOB_NOTE.format(job_id=job_id))
            raise
        return JobState.job_complete
