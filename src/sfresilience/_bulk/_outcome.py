"""What a guarded Bulk load tells its caller: simple-salesforce's dict, and the whole story."""

from __future__ import annotations

import dataclasses
from typing import Any

from .._classify import Classification


@dataclasses.dataclass(frozen=True, slots=True)
class FailedRecord:
    """A row Salesforce did not apply, and why."""

    record: dict[str, Any]
    """The row as it was submitted (Bulk 2.0: CSV text, without the ``sf__``
    columns; Bulk 1.0: the caller's dict)."""
    error: str
    """``sf__Error`` as Salesforce wrote it, ``CODE:message:fields --`` (Bulk 1.0:
    the row's first error, written the same way)."""
    classification: Classification
    job_id: str
    """The job the row last failed in."""
    attempts: int
    """Jobs the row was submitted in (1: never resubmitted)."""


@dataclasses.dataclass(frozen=True, slots=True)
class BulkOutcome:
    """Every job one Bulk 2.0 load took, and what became of each row."""

    object_name: str
    operation: str
    total: int
    """Rows submitted by the caller."""
    succeeded: int
    """Rows applied, in the first job or a follow-up."""
    retried: tuple[dict[str, Any], ...]
    """Rows resubmitted in a follow-up job: failed for a transient reason
    (``UNABLE_TO_LOCK_ROW``, ...) or left unprocessed by an aborted stuck job."""
    failed: tuple[FailedRecord, ...]
    """Rows not applied in the end, each with its classification."""
    job_ids: tuple[str, ...]
    """The first job, then each follow-up, in order."""
    aborted_job_ids: tuple[str, ...]
    """Jobs the watchdog aborted for running past their deadline."""

    @property
    def unapplied(self) -> int:
        return len(self.failed)


class BulkJobResult(dict[str, Any]):
    """simple-salesforce's per-job dict, with :attr:`resilient` added.

    The keys are simple-salesforce's: ``numberRecordsFailed`` counts the rows
    that failed *in the end* (after follow-up jobs), ``numberRecordsProcessed``
    the rows that succeeded or failed, ``numberRecordsTotal`` the rows
    submitted, ``job_id`` the first job.
    """

    resilient: BulkOutcome

    def __init__(self, outcome: BulkOutcome) -> None:
        failed = len(outcome.failed)
        super().__init__(
            numberRecordsFailed=failed,
            numberRecordsProcessed=outcome.succeeded + failed,
            numberRecordsTotal=outcome.total,
            job_id=outcome.job_ids[0],
        )
        self.resilient = outcome


class BulkResults(list[Any]):
    """simple-salesforce's Bulk 1.0 result list (one entry per row, in order), with
    :attr:`resilient` added. The entries of resubmitted rows are their last job's."""

    resilient: BulkOutcome

    def __init__(self, results: list[Any], outcome: BulkOutcome) -> None:
        super().__init__(results)
        self.resilient = outcome
