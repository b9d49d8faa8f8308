"""One Bulk 2.0 load: the first job, follow-ups for transient row failures, stuck jobs."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from typing import Any

from simple_salesforce.bulk2 import JobState, _Bulk2Client
from simple_salesforce.exceptions import SalesforceBulkV2LoadError

from .._events import EventKind
from .._guard import Guard
from ._outcome import BulkJobResult, BulkOutcome, FailedRecord
from ._query import ingest_results
from ._rows import RowPolicy
from ._transport import BATCHES, RECORDS_PER_BATCH, count_daily
from ._watchdog import JobStuck, Watchdog, report_stuck, stuck_classification, stuck_error


_DELIMITERS = {
    "BACKQUOTE": "`",
    "CARET": "^",
    "COMMA": ",",
    "PIPE": "|",
    "SEMICOLON": ";",
    "TAB": "\t",
}
_LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
_UNPROCESSED = "unprocessedrecords"  # the path Salesforce documents


CLOSED_JOB_NOTE = (
    "sfresilience: ingest job {job_id} was closed before waiting on it failed: its rows may "
    "have been applied, and the job was not re-sent. Read the job's state and results "
    "(GET jobs/ingest/{job_id}) before loading the rows again."
)


class IngestRun:
    """The state of one load of one CSV chunk (one simple-salesforce ``_upload_data``)."""

    def __init__(  # noqa: PLR0917  (simple-salesforce's job options, by position)
        self,
        client: _Bulk2Client,
        guard: Guard,
        watchdog: Watchdog,
        operation: str,
        column_delimiter: str,
        line_ending: str,
        external_id_field: str | None,
        wait: float,
    ) -> None:
        self.client = client
        self.guard = guard
        self.watchdog = watchdog
        self.operation = str(getattr(operation, "value", operation))
        self.column_delimiter = column_delimiter
        self.line_ending = line_ending
        self.delimiter = _DELIMITERS[str(getattr(column_delimiter, "value", column_delimiter))]
        self.newline = _LINE_ENDINGS[str(getattr(line_ending, "value", line_ending))]
        self.external_id_field = external_id_field
        self.wait = wait
        self.label = f"bulk2 {client.object_name}.{self.operation}"
        self.policy = RowPolicy(guard, self.label)
        self.jobs: list[str] = []
        self.aborted: list[str] = []
        self.succeeded = 0
        self.retried: list[dict[str, Any]] = []
        self.failed: list[FailedRecord] = []
        self._transient: list[FailedRecord] = []
        self._unprocessed: list[dict[str, Any]] = []
        self._header: list[str] = []

    # The whole load ------------------------------------------------------------

    def go(self, data: str, total: int) -> BulkJobResult:
        end = data.find("\n")  # the header only: not a copy of the whole chunk
        first_line = data if end < 0 else data[: end + 1]
        self._header = next(csv.reader([first_line], delimiter=self.delimiter), [])
        self._job(data, int(total), attempt=1)
        while self._unprocessed or self._transient:
            if self._unprocessed:
                self._resubmit_unprocessed()
            else:
                self._retry_transient()
        outcome = BulkOutcome(
            object_name=self.client.object_name,
            operation=self.operation,
            total=total,
            succeeded=self.succeeded,
            retried=tuple(self.retried),
            failed=tuple(self.failed),
            job_ids=tuple(self.jobs),
            aborted_job_ids=tuple(self.aborted),
        )
        return BulkJobResult(outcome)

    def _retry_transient(self) -> None:
        """One follow-up job for rows that failed for a transient reason, under the retry policy."""
        pending, self._transient = self._transient, []
        attempt = self.policy.next_round(pending)
        if attempt is None:
            self.failed.extend(pending)
            return
        records = [row.record for row in pending]
        self.retried.extend(records)
        self._job(self._csv(records), len(records), attempt=attempt)

    def _resubmit_unprocessed(self) -> None:
        """The records an aborted stuck job never reached, in a new job (once per load)."""
        rows, self._unprocessed = self._unprocessed, []
        self.retried.extend(rows)
        self._job(self._csv(rows), len(rows), attempt=2)

    # One job -------------------------------------------------------------------

    def _job(self, data: str, rows: int, *, attempt: int) -> None:
        """Create, upload, close and watch one job of *rows* rows; sort them into the tallies."""
        job_id = self._open_job()
        closed = False
        try:
            self.client.upload_job_data(job_id, data)
            self.client.close_job(job_id)
            closed = True
            batches = max(1, math.ceil(rows / RECORDS_PER_BATCH))
            count_daily(self.client.session, BATCHES, batches)
            self.watchdog.wait(
                lambda: self.client.get_job(job_id, is_query=False), job_id, self.wait
            )
        except JobStuck as stuck:
            self._abort(job_id, stuck)
            self._collect(job_id, attempt)
            unprocessed = list(self._results(job_id, _UNPROCESSED))
            self._unprocessed.extend(unprocessed)
            fate = f"resubmitting its {len(unprocessed)} unprocessed records once"
            report_stuck(self.guard.hooks, self.label, stuck, fate)
            reason = f"aborted stuck job {job_id}; resubmitting its unprocessed records once"
            self.policy.emit(EventKind.RETRY, stuck_classification(stuck), 1, reason)
            return
        except Exception as error:
            if closed:  # Salesforce has the rows: some or all may have been applied
                error.add_note(CLOSED_JOB_NOTE.format(job_id=job_id))
            self._abort_if_running(job_id)
            raise
        self._collect(job_id, attempt)

    def _open_job(self) -> str:
        created = self.client.create_job(
            self.operation,  # type: ignore[arg-type]
            column_delimiter=self.column_delimiter,  # type: ignore[arg-type]
            line_ending=self.line_ending,  # type: ignore[arg-type]
            external_id_field=self.external_id_field,
        )
        job_id = str(created["id"])
        self.jobs.append(job_id)
        if created["state"] != JobState.open:
            self._abort_if_running(job_id)
            msg = f"Failed to upload job data. Response content: {created}"
            raise SalesforceBulkV2LoadError(msg)
        return job_id

    def _abort(self, job_id: str, stuck: JobStuck) -> None:
        self.client.abort_job(job_id, is_query=False)
        self.aborted.append(job_id)
        if len(self.aborted) > 1:
            fate = "its records were already resubmitted once: giving up"
            report_stuck(self.guard.hooks, self.label, stuck, fate)
            reason = f"aborted stuck job {job_id}; its records were already resubmitted once"
            self.policy.emit(EventKind.GIVE_UP, stuck_classification(stuck), 2, reason)
            raise stuck_error(stuck, reason) from None

    def _abort_if_running(self, job_id: str) -> None:
        """What simple-salesforce does when a load fails: abort a job still going."""
        info = self.client.get_job(job_id, is_query=False)
        if info["state"] in {JobState.upload_complete, JobState.in_progress, JobState.open}:
            self.client.abort_job(job_id, is_query=False)

    def _collect(self, job_id: str, attempt: int) -> None:
        info = self.client.get_job(job_id, is_query=False)
        processed = int(info.get("numberRecordsProcessed") or 0)
        failed = int(info.get("numberRecordsFailed") or 0)
        self.succeeded += processed - failed
        if failed:
            for row in self._results(job_id, "failedResults"):
                self._sort_failure(row, job_id, attempt)

    def _sort_failure(self, row: dict[str, str], job_id: str, attempt: int) -> None:
        error = row.pop("sf__Error", "")
        row.pop("sf__Id", None)
        failure = FailedRecord(row, error, self.policy.classify(error), job_id, attempt)
        (self._transient if failure.classification.retryable else self.failed).append(failure)

    # CSV -----------------------------------------------------------------------

    def _results(self, job_id: str, kind: str) -> Iterator[dict[str, str]]:
        """A result CSV's rows, read as they arrive: never the whole CSV in memory."""
        return ingest_results(self.client, job_id, kind, self.delimiter)

    def _csv(self, rows: list[dict[str, Any]]) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(
            out,
            fieldnames=self._header,
            delimiter=self.delimiter,
            lineterminator=self.newline,
            extrasaction="ignore",
        )
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
