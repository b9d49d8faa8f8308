"""The one loop every face runs: attempt, classify, ask the core, carry it out."""

from __future__ import annotations

import contextvars
import dataclasses
import random
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import requests
from simple_salesforce.exceptions import SalesforceError, SalesforceOperationError

from ._classify import Classification, classify, may_have_been_applied
from ._core import Attempt, GiveUp, QueueBehind, Refresh, Retry, RetryPolicy, decide
from ._events import Event, EventKind, Hook, emit
from ._lockqueue import CallLocks, LockQueue, queue_timeout_classification
from ._redact import redact
from ._session import SessionRefresher
from ._testing_mode import TestingMode, current_testing_mode
from ._transport import TimeoutPair, deadline_scope
from .exceptions import BudgetExhausted, CriticalOnlyBlocked, LockWaitTimeout


T = TypeVar("T")

# Errors that come from Salesforce or the wire; anything else is the caller's bug
# (a TypeError, say) and goes through untouched.
_HANDLED = (SalesforceError, SalesforceOperationError, requests.RequestException)

# Marks an error from a write that must not be sent again: the outer guards of
# a nested call read it.
_UNREPEATABLE = "sfresilience_unrepeatable_write"

# Set while a guarded call runs: a guarded call inside it makes one attempt and
# leaves retrying to the outer one, so nesting never multiplies attempts.
_active: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sfresilience_guard_active", default=False
)


@dataclasses.dataclass(frozen=True, slots=True)
class Guard:
    """Everything a guarded call needs besides the call itself."""

    policy: RetryPolicy
    refresher: SessionRefresher | None = None
    hooks: Sequence[Hook] = ()
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    timeouts: TimeoutPair | None = None
    """``(connect, read)`` for this guard's requests; ``None``: the session's defaults."""
    locks: LockQueue | None = None
    """Where writes of a known record queue behind its record locks."""

    def run(
        self,
        call: Callable[[], T],
        *,
        operation: str,
        repeatable: bool,
        deadline: float | None = None,
        record: str | None = None,
    ) -> T:
        """Run *call* under the policy; raise its last error, classified.

        *deadline*, when given, shortens the policy's deadline for this call
        (the time left of a larger whole, such as every page of ``query_all``).
        *record* is the id of the record the call writes, if any: writes of it
        and of what it locks queue behind each other.
        """
        token = _active.set(True)
        try:
            nested = token.old_value is True
            run = _Run(self, operation, repeatable, nested=nested)
            if deadline is not None:
                run.shorten_deadline(deadline)
            if record is not None and self.locks is not None and not nested:
                run.locks = self.locks.for_call(record)
            return run.go(call)
        finally:
            _active.reset(token)


def _decoded(call: Callable[[], T]) -> T:
    """*call*'s result; a body nested too deep for the JSON decoder fails as bad JSON.

    ``json`` raises ``RecursionError`` past a few hundred levels, which requests
    lets through; as ``requests.JSONDecodeError`` it is classified like any other
    undecodable body.
    """
    try:
        return call()
    except RecursionError as error:
        message = "response body nested too deeply to decode"
        raise requests.JSONDecodeError(message, "", 0) from error


class _Run:
    """The state of one guarded call."""

    def __init__(self, guard: Guard, operation: str, repeatable: bool, *, nested: bool) -> None:
        self.guard = guard
        self.operation = operation
        self.repeatable = repeatable
        self.nested = nested
        testing = current_testing_mode()
        self.policy = _effective_policy(guard.policy, testing, nested=nested)
        self.testing = testing is not None
        self.started = guard.clock()
        self.attempts_made = 0
        self.refreshed = False
        self.last_failure: Classification | None = None
        self.locks: CallLocks | None = None
        self.lock_error: tuple[Exception, Classification] | None = None
        self._told_operation: str | None = None

    def shorten_deadline(self, seconds: float) -> None:
        if seconds < self.policy.deadline:
            self.policy = dataclasses.replace(self.policy, deadline=seconds)

    def go(self, call: Callable[[], T]) -> T:
        if self._seconds_left() <= 0:
            raise self._no_time_left()
        free_attempt = False
        while True:
            if not free_attempt:
                self.attempts_made += 1
            generation = self._generation()
            try:
                result = self._attempt(call)
            except _HANDLED as error:
                free_attempt = self._handle(error, generation)
            except _QueueTimeout as timeout:
                raise self._queue_timed_out(timeout.record) from None
            except (CriticalOnlyBlocked, BudgetExhausted) as held_back:
                if not self.nested:  # the outermost guard tells it, once
                    self._emit(EventKind.CALL_BLOCKED, None, reason=str(held_back))
                raise
            else:
                if self.last_failure is not None:
                    self._emit(EventKind.RECOVERED, self.last_failure, elapsed=self._elapsed())
                return result

    def _attempt(self, call: Callable[[], T]) -> T:
        if self.locks is None:
            with deadline_scope(self._seconds_left(), self.guard.timeouts):
                return _decoded(call)
        with self.locks.attempt(self._seconds_left(), self.guard.sleep) as timed_out:
            if timed_out is not None:
                raise _QueueTimeout(timed_out)
            with deadline_scope(self._seconds_left(), self.guard.timeouts):
                return _decoded(call)

    def _no_time_left(self) -> Exception:
        error = requests.Timeout(
            f"{self._operation()} not sent: its {self.policy.deadline:g} s deadline had passed"
        )
        classification = classify(error)
        return self._give_up(error, classification, "the deadline passed before it was sent")

    def _handle(self, error: Exception, generation: int) -> bool:
        """Carry out the decision; True when the next attempt is a free one."""
        classification = _classification_from_inner_guard(error) or classify(error)
        self.last_failure = classification
        self._emit(EventKind.CLASSIFIED, classification)
        ambiguous = may_have_been_applied(error)
        # A write an inner guarded call made is no more repeatable for being
        # wrapped in a call its caller marked repeatable.
        repeatable = self.repeatable and not getattr(error, _UNREPEATABLE, False)
        decision = decide(
            Attempt(
                classification=classification,
                attempts_made=self.attempts_made,
                elapsed=self.guard.clock() - self.started,
                may_have_been_applied=ambiguous,
                repeatable=repeatable,
                refreshed=self.refreshed,
                can_refresh=self._can_refresh(),
            ),
            self.policy,
            jitter=self.guard.jitter(),
        )
        if isinstance(decision, GiveUp):
            if ambiguous and not repeatable:
                setattr(error, _UNREPEATABLE, True)
            raise self._give_up(error, decision.classification, decision.reason)
        if isinstance(decision, Refresh):
            self._emit(EventKind.REFRESH, classification)
            self._refresh(error, classification, generation)
            return True
        delay = 0.0 if self.testing else decision.delay
        if isinstance(decision, QueueBehind) and self.locks is not None:
            self.lock_error = (error, classification)
            self.locks.queue_behind(decision.records, delay)
            reason = "queued behind " + ", ".join(decision.records)
            self._emit(EventKind.RETRY, classification, delay=0.0, reason=reason)
            return False
        # A plain retry, or a lock error when the call writes no known record: back off.
        self._emit(EventKind.RETRY, classification, delay=delay)
        if delay > 0:
            self.guard.sleep(delay)
        return False

    def _queue_timed_out(self, record: str) -> Exception:
        reason = f"the {self.policy.deadline:g} s deadline passed while queued behind {record}"
        if self.lock_error is not None:
            error, classification = self.lock_error
            return self._give_up(error, classification, reason)
        error = LockWaitTimeout(f"a write of {record} was not sent: {reason}")
        return self._give_up(error, queue_timeout_classification(record), reason)

    def _give_up(self, error: Exception, classification: Classification, reason: str) -> Exception:
        if self.nested:
            # The outer guard decides and tells; it reads this classification.
            error.classification = classification  # type: ignore[attr-defined]
            return error
        self._emit(EventKind.GIVE_UP, classification, reason=reason)
        return enrich(error, classification, reason)

    def _refresh(self, error: Exception, classification: Classification, generation: int) -> None:
        """Log in again (or learn how another thread's login went), retrying a transient failure."""
        refresher = self.guard.refresher
        assert refresher is not None  # noqa: S101  (can_refresh said so)
        while True:
            seconds_left = self._seconds_left()
            with deadline_scope(seconds_left, self.guard.timeouts):
                outcome = refresher.refresh(generation, wait=seconds_left)
            if outcome is None or (outcome.error is None and self._seconds_left() <= 0):
                raise self._give_up(
                    error, classification, "the deadline passed while the session was refreshed"
                )
            if outcome.error is None:
                self.refreshed = True
                return
            generation = outcome.generation
            self._login_failed(outcome.error, error)

    def _login_failed(self, login_error: Exception, error: Exception) -> None:
        """Retry a transient login failure under the call's policy; raise any other."""
        if not isinstance(login_error, _HANDLED):
            raise login_error  # a bug in the login itself: untouched, like any call's
        classification = classify(login_error)
        self.last_failure = classification
        self._emit(EventKind.CLASSIFIED, classification, reason="logging in again failed")
        decision = decide(
            Attempt(
                classification=classification,
                attempts_made=self.attempts_made,
                elapsed=self._elapsed(),
                may_have_been_applied=False,
                repeatable=True,
                refreshed=False,
                can_refresh=False,
            ),
            self.policy,
            jitter=self.guard.jitter(),
        )
        if not isinstance(decision, Retry):
            reason = decision.reason if isinstance(decision, GiveUp) else "not retryable"
            raise self._give_up(
                login_error, classification, f"logging in again failed ({reason})"
            ) from error
        self.attempts_made += 1
        delay = 0.0 if self.testing else decision.delay
        self._emit(EventKind.RETRY, classification, delay=delay, reason="logging in again")
        if delay > 0:
            self.guard.sleep(delay)

    def _generation(self) -> int:
        refresher = self.guard.refresher
        return refresher.generation if refresher is not None else 0

    def _can_refresh(self) -> bool:
        refresher = self.guard.refresher
        return refresher is not None and refresher.can_refresh

    def _elapsed(self) -> float:
        return self.guard.clock() - self.started

    def _seconds_left(self) -> float:
        return self.policy.deadline - self._elapsed()

    def _operation(self) -> str:
        """The operation as events and logs tell it: no query string, no secret."""
        if self._told_operation is None:
            self._told_operation = redact_operation(self.operation)
        return self._told_operation

    def _emit(
        self,
        kind: EventKind,
        classification: Classification | None,
        *,
        delay: float | None = None,
        reason: str | None = None,
        elapsed: float | None = None,
    ) -> None:
        event = Event(
            kind, self._operation(), self.attempts_made, classification, delay, reason, elapsed
        )
        emit(event, self.guard.hooks)


def redact_operation(operation: str) -> str:
    """*operation* without its query string and with any secret in its path masked.

    ``restful``, ``apexecute`` and ``toolingexecute`` name the path they call,
    and a path may carry a token (``?access_token=...``, a session id in a
    segment). The query string is dropped, not just masked: it is rarely a
    useful label and often a long SOQL text.
    """
    path, question, _ = operation.partition("?")
    return redact(path) + ("?…" if question else "")


class _QueueTimeout(Exception):
    """The wait in a lock queue ran out; never escapes the guard."""

    def __init__(self, record: str) -> None:
        super().__init__(record)
        self.record = record


def _classification_from_inner_guard(error: Exception) -> Classification | None:
    found = getattr(error, "classification", None)
    return found if isinstance(found, Classification) else None


def _effective_policy(
    policy: RetryPolicy, testing: TestingMode | None, *, nested: bool
) -> RetryPolicy:
    attempts = policy.attempts
    if testing is not None:
        attempts = min(attempts, testing.attempts)
    if nested:
        attempts = 1
    if attempts == policy.attempts:
        return policy  # the common case: no copy on the hot path
    return dataclasses.replace(policy, attempts=attempts)


def enrich(error: Exception, classification: Classification, reason: str) -> Exception:
    """Add ``.classification`` and a note to *error*; its type stays as it was."""
    error.classification = classification  # type: ignore[attr-defined]
    code = f" {classification.error_code}" if classification.error_code else ""
    error.add_note(
        f"sfresilience: {classification.category.value}{code} "
        f"[{classification.severity}] {reason}. {classification.action}"
    )
    return error
