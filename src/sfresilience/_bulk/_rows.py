"""Which failed Bulk rows are resubmitted, and when: one policy for Bulk 2.0 and Bulk 1.0.

A row is resubmitted when its error's classification is retryable: a lock
(``UNABLE_TO_LOCK_ROW``), a Salesforce-side failure (``UNKNOWN_EXCEPTION``,
``QUERY_TIMEOUT``, ...), an outage code. Rows rejected for their data, and rows
whose code is unknown, are reported and never sent again: a code we cannot read
could be about the data.
"""

from __future__ import annotations

from collections.abc import Sequence

from .._classify import Classification, classify
from .._core import RetryPolicy, backoff_delay
from .._events import Event, EventKind, emit
from .._guard import Guard
from .._testing_mode import current_testing_mode
from ._outcome import FailedRecord


class RowPolicy:
    """Classifies failed rows (cached per error text) and paces their resubmission."""

    def __init__(self, guard: Guard, label: str) -> None:
        self.guard = guard
        self.label = label
        self._classifications: dict[str, Classification] = {}

    def classify(self, error: str) -> Classification:
        """The classification of one row's error text (``CODE:message:fields``)."""
        found = self._classifications.get(error)
        if found is None:
            found = self._classifications[error] = classify(body=error)
        return found

    def next_round(self, pending: Sequence[FailedRecord]) -> int | None:
        """The attempt a follow-up job of *pending* would be, after its backoff;
        None when the rows have used up the retry policy's attempts."""
        policy: RetryPolicy = self.guard.policy
        attempt = max(row.attempts for row in pending) + 1
        if attempt > _attempt_cap(policy):
            return None
        codes = sorted({row.classification.error_code or "?" for row in pending})
        delay = backoff_delay(
            attempt - 1,
            initial=policy.backoff_initial,
            maximum=policy.backoff_max,
            jitter=self.guard.jitter(),
        )
        delay = 0.0 if current_testing_mode() is not None else delay
        reason = f"resubmitting {len(pending)} rows that failed {', '.join(codes)}"
        self.emit(EventKind.RETRY, pending[0].classification, attempt, reason, delay)
        if delay > 0:
            self.guard.sleep(delay)
        return attempt

    def emit(
        self,
        kind: EventKind,
        classification: Classification,
        attempt: int,
        reason: str | None = None,
        delay: float | None = None,
    ) -> None:
        emit(Event(kind, self.label, attempt, classification, delay, reason), self.guard.hooks)


def _attempt_cap(policy: RetryPolicy) -> int:
    testing = current_testing_mode()
    return min(policy.attempts, testing.attempts) if testing is not None else policy.attempts
