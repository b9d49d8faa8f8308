"""The decision table: a failed attempt plus the call's state -> what happens next."""

from __future__ import annotations

import dataclasses

from .._classify import Classification, ErrorCategory
from ._backoff import backoff_delay
from ._contention import contended_records


@dataclasses.dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds of one guarded call."""

    attempts: int = 5
    """Most attempts, the first included; a retry after a session refresh is free."""
    deadline: float = 30.0
    """Seconds the whole call may take, waiting included."""
    backoff_initial: float = 0.2
    backoff_max: float = 5.0
    retry_ambiguous_writes: bool = False
    """Retry non-repeatable writes after failures that may have reached Salesforce."""


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    """The facts about one failed attempt."""

    classification: Classification
    attempts_made: int
    """Attempts counted against the policy so far, this one included."""
    elapsed: float
    """Seconds since the call started."""
    may_have_been_applied: bool
    """Salesforce may have carried out the request (e.g. a read timeout)."""
    repeatable: bool
    """Doing the operation twice is as good as doing it once (GET, PATCH...)."""
    refreshed: bool
    """This call already refreshed the session once."""
    can_refresh: bool
    """A way to log in again is known."""


@dataclasses.dataclass(frozen=True, slots=True)
class Retry:
    """Wait *delay* seconds, then try again."""

    delay: float


@dataclasses.dataclass(frozen=True, slots=True)
class QueueBehind:
    """Wait until the writes holding *records* finish, then try again.

    *records* are the keys the lock error named. When nobody known to this
    process (or, with Redis, to the fleet) holds them, wait at most *delay*
    seconds, the backoff a blind retry would have slept.
    """

    records: tuple[str, ...]
    delay: float


@dataclasses.dataclass(frozen=True, slots=True)
class Refresh:
    """Log in again (once per call), then try again at once."""


@dataclasses.dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop: raise the error, carrying *classification* and *reason*."""

    classification: Classification
    reason: str


Decision = Retry | QueueBehind | Refresh | GiveUp


def decide(attempt: Attempt, policy: RetryPolicy, *, jitter: float) -> Decision:
    """Choose what happens after *attempt* failed, within *policy*.

    Args:
        attempt: what went wrong and where the call stands.
        policy: the call's bounds.
        jitter: a uniform random number in ``[0, 1)`` for the backoff.
    """
    classification = attempt.classification
    if classification.category is ErrorCategory.SESSION_EXPIRED:
        return _decide_session(attempt)
    if not classification.retryable:
        return GiveUp(classification, "not retryable")
    if (
        attempt.may_have_been_applied
        and not attempt.repeatable
        and not policy.retry_ambiguous_writes
    ):
        return GiveUp(
            classification,
            "the write may have been applied, or may still be applied later, or not at all; "
            "it was not re-sent",
        )
    if attempt.attempts_made >= policy.attempts:
        return GiveUp(classification, f"gave up after {attempt.attempts_made} attempts")
    return _decide_wait(attempt, policy, jitter)


def _decide_wait(attempt: Attempt, policy: RetryPolicy, jitter: float) -> Decision:
    """How to wait for another attempt: behind the named records, or a backoff."""
    classification = attempt.classification
    delay = backoff_delay(
        attempt.attempts_made,
        initial=policy.backoff_initial,
        maximum=policy.backoff_max,
        jitter=jitter,
    )
    records = contended_records(classification)
    if records and attempt.elapsed < policy.deadline:
        # How long the queue takes is not known here; the guard bounds the
        # wait by the time left.
        return QueueBehind(records, delay)
    if attempt.elapsed + delay > policy.deadline:
        return GiveUp(
            classification,
            f"gave up after {attempt.attempts_made} attempts: "
            f"the {policy.deadline:g} s deadline leaves no room for another",
        )
    return Retry(delay)


def _decide_session(attempt: Attempt) -> Decision:
    if attempt.refreshed:
        # A fresh login that is refused at once is not an expiry: a refresh loop
        # would only burn logins (jsforce #1168, #1411).
        return GiveUp(
            _as_auth_failure(attempt.classification),
            "the session was refused again right after a fresh login",
        )
    if not attempt.can_refresh:
        return GiveUp(
            attempt.classification,
            "the session expired and no way to log in again was given",
        )
    return Refresh()


def _as_auth_failure(classification: Classification) -> Classification:
    return dataclasses.replace(
        classification,
        category=ErrorCategory.AUTH_FAILED,
        retryable=False,
        severity="P1",
        action=(
            "Salesforce refused a session it just issued: check the integration "
            "user's API permissions, IP restrictions and the session's host."
        ),
    )
