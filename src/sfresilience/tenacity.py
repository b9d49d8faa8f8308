"""tenacity building blocks that bring the runbook's classification to ``@tenacity.retry`` code.

Teams that already decorate their Salesforce calls with tenacity keep doing so,
and let sfresilience say *whether* and *how long*::

    import tenacity
    from sfresilience.tenacity import retry_if_salesforce, wait_salesforce

    @tenacity.retry(
        retry=retry_if_salesforce(),           # the runbook's retryable errors
        wait=wait_salesforce(),                 # the library's own backoff
        stop=tenacity.stop_after_attempt(5),
        reraise=True,
    )
    def load(sf):
        return sf.query("SELECT Id FROM Account")

The predicate never retries sfresilience's own refusals (``CircuitOpen``,
``WriteRefused``, ``FallbackUnavailable``, ``CriticalOnlyBlocked``,
``BudgetExhausted``) nor the daily API cap (``API_LIMIT_EXCEEDED``): another
call only spends what is left of it. The wait is the one the library's core
chooses (:func:`sfresilience._core.decide`): equal-jitter exponential backoff,
and for ``UNABLE_TO_LOCK_ROW`` the same contention-aware lock retry backoff the
guard uses before it queues behind the named records.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import tenacity

from ._classify import Classification, ErrorCategory, classify, may_have_been_applied
from ._classify._table import own_error_key
from ._core import Attempt, GiveUp, QueueBehind, RetryPolicy, decide


__all__ = ["retry_if_salesforce", "wait_salesforce"]

_NEVER = frozenset({ErrorCategory.API_LIMIT_EXCEEDED})
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _classification(state: tenacity.RetryCallState) -> Classification | None:
    outcome = state.outcome
    if outcome is None or not outcome.failed:
        return None
    error = outcome.exception()
    if not isinstance(error, Exception) or own_error_key(error) is not None:
        return None  # the library's own refusal is a decision, not a transient failure
    found = getattr(error, "classification", None)
    return found if isinstance(found, Classification) else classify(error)


def _ambiguous_write(state: tenacity.RetryCallState) -> bool:
    """Whether the failed attempt was a write that may have been applied."""
    error = state.outcome.exception() if state.outcome is not None else None
    request = getattr(error, "request", None)
    method = str(getattr(request, "method", "") or "").upper()
    if not method or method in _READS or not isinstance(error, Exception):
        return False
    return may_have_been_applied(error)


class retry_if_salesforce(tenacity.retry_base):  # noqa: N801  (tenacity's own naming)
    """Retry a failed attempt whose error the runbook says to retry.

    Args:
        categories: retry errors of these categories (names or
            :class:`~sfresilience.ErrorCategory`); none given: every error the
            runbook marks ``retryable``.
        retryable: with *categories*, also require (True) or exclude (False)
            errors marked retryable; None: the categories alone decide.
        ambiguous_writes: also retry a write (POST, PATCH, PUT, DELETE) whose
            request may have reached Salesforce (a read timeout, a connection cut
            mid-request): re-sending it may apply it twice. Off by default, as in
            the library's own retries (``SFRESILIENCE_RETRY_AMBIGUOUS_WRITES``).

    ``API_LIMIT_EXCEEDED`` is never retried, even when named. A write is told by the
    request the error carries (``requests``' errors do); an error that names none is
    judged by its category alone.
    """

    def __init__(
        self,
        *categories: ErrorCategory | str,
        retryable: bool | None = None,
        ambiguous_writes: bool = False,
    ) -> None:
        self.categories = frozenset(ErrorCategory(c) for c in categories)
        self.retryable = retryable
        self.ambiguous_writes = ambiguous_writes

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        found = _classification(retry_state)
        if found is None or found.category in _NEVER:
            return False
        if not self.ambiguous_writes and _ambiguous_write(retry_state):
            return False
        if not self.categories:
            return found.retryable if self.retryable is None else found.retryable is self.retryable
        if found.category not in self.categories:
            return False
        return self.retryable is None or found.retryable is self.retryable


class wait_salesforce(tenacity.wait.wait_base):  # noqa: N801  (tenacity's own naming)
    """Wait as the library's core would before the next attempt.

    Args:
        initial: ceiling of the first backoff, seconds.
        maximum: ceiling of any backoff, seconds.
        jitter: a source of uniform numbers in ``[0, 1)`` (injectable for tests).
    """

    def __init__(
        self,
        *,
        initial: float = 0.2,
        maximum: float = 5.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.policy = RetryPolicy(
            attempts=10**6, deadline=86_400.0, backoff_initial=initial, backoff_max=maximum
        )
        self._jitter = jitter

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        found = _classification(retry_state)
        if found is None or found.category in _NEVER:
            return 0.0
        decision = decide(
            Attempt(
                classification=found,
                attempts_made=retry_state.attempt_number,
                elapsed=0.0,
                may_have_been_applied=False,
                repeatable=True,
                refreshed=True,
                can_refresh=False,
            ),
            self.policy,
            jitter=self._jitter(),
        )
        if isinstance(decision, GiveUp):
            return 0.0
        if isinstance(decision, QueueBehind):
            return decision.delay
        return getattr(decision, "delay", 0.0)
