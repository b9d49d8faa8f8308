"""Waiting for a Bulk 2.0 job: polls on the guard's clock, and a deadline per job."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from simple_salesforce.exceptions import SalesforceOperationError

from .._classify import Classification, ErrorCategory, classify
from .._events import Event, EventKind, Hook, emit
from .._guard import enrich


# Salesforce's polling advice: start short, back off, cap the interval.
_MAX_POLL_INTERVAL = 30.0
_DONE = "JobComplete"
_ENDED = frozenset({"Failed", "Aborted"})
STUCK_STATES = frozenset({"UploadComplete", "InProgress"})


class JobStuck(Exception):
    """A job still ``UploadComplete`` / ``InProgress`` when its deadline passed."""

    def __init__(self, job_id: str, state: str, deadline: float) -> None:
        super().__init__(job_id)
        self.job_id = job_id
        self.state = state
        self.deadline = deadline


@dataclasses.dataclass(frozen=True, slots=True)
class Watchdog:
    """Polls a job until it ends, or until *deadline* seconds have passed."""

    deadline: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]

    def wait(self, get_job: Callable[[], Any], job_id: str, interval: float) -> dict[str, Any]:
        """The job's final info; raises :class:`JobStuck` past the deadline, or a
        classified ``SalesforceOperationError`` when the job failed as a whole."""
        ends = self.clock() + self.deadline
        interval = max(float(interval), 0.0)
        while True:
            info: dict[str, Any] = dict(get_job())
            state = str(info.get("state"))
            if state == _DONE:
                return info
            if state in _ENDED:
                raise job_failed(info)
            left = ends - self.clock()
            if left <= 0:
                raise JobStuck(job_id, state, self.deadline)
            self.sleep(min(interval, left))
            interval = min(max(interval * 2, 0.5), _MAX_POLL_INTERVAL)


def job_failed(info: dict[str, Any]) -> SalesforceOperationError:
    """simple-salesforce's error for a failed job, classified by its ``errorMessage``."""
    message = info.get("errorMessage") or info
    error = SalesforceOperationError(f"Job failure. Response content: {message}")
    classification = classify(error)
    return _enriched(error, classification, f"Bulk job {info.get('id')} ended {info.get('state')}")


def stuck_classification(stuck: JobStuck) -> Classification:
    """The runbook's stuck bulk job: abort it and retry."""
    return Classification(
        category=ErrorCategory.SERVER_ERROR,
        error_code=None,
        message=(
            f"Bulk job {stuck.job_id} still {stuck.state} after its {stuck.deadline:g} s deadline"
        ),
        http_status=None,
        retryable=True,
        action="Stuck bulk job: abort it and resubmit its unprocessed records (once).",
        severity="P3",
    )


def report_stuck(hooks: Sequence[Hook], operation: str, stuck: JobStuck, fate: str) -> None:
    """Tell a stuck job: a classified failure (the timeline's ``errors``, what
    ``triage`` counts) and a ``bulk_job_stuck`` event (a timeline entry naming
    the job and *fate*, what became of its records)."""
    classification = stuck_classification(stuck)
    emit(Event(EventKind.CLASSIFIED, operation, 1, classification), hooks)
    reason = (
        f"job {stuck.job_id} still {stuck.state} after its {stuck.deadline:g} s deadline:"
        f" aborted; {fate}"
    )
    emit(Event(EventKind.BULK_JOB_STUCK, operation, 1, classification, reason=reason), hooks)


def stuck_error(stuck: JobStuck, reason: str) -> SalesforceOperationError:
    error = SalesforceOperationError(f"Job timeout. Job status: {stuck.state}")
    return _enriched(error, stuck_classification(stuck), reason)


def _enriched(
    error: SalesforceOperationError, classification: Classification, reason: str
) -> SalesforceOperationError:
    enriched = enrich(error, classification, reason)
    assert isinstance(enriched, SalesforceOperationError)  # noqa: S101  (enrich keeps the type)
    return enriched
