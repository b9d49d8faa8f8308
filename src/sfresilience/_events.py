"""What the library did, told once: to stdlib logging and to the user's hooks."""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeAlias

from ._classify import Classification, ErrorCategory
from ._logsafe import mask_record_data


if TYPE_CHECKING:
    from ._budget import Budget


logger = logging.getLogger("sfresilience")
# A library does not print unless the application configures logging.
logger.addHandler(logging.NullHandler())


class EventKind(enum.StrEnum):
    """The things a guarded call reports."""

    CLASSIFIED = "classified"
    """An attempt failed and the error was classified."""
    RETRY = "retry"
    """The call will try again after ``delay`` seconds, or, when ``reason`` says
    "queued behind ...", as soon as the writes holding those records finish."""
    REFRESH = "refresh"
    """The session expired; the call logs in again and retries."""
    GIVE_UP = "give_up"
    """The call stops and raises; ``reason`` says why."""
    BUDGET_WARNING = "budget_warning"
    """API usage reached ``SFRESILIENCE_BUDGET_WARN`` (once per crossing, fleet-wide)."""
    BUDGET_CRITICAL = "budget_critical"
    """Usage reached ``SFRESILIENCE_BUDGET_CRITICAL``: critical-only mode is on."""
    BUDGET_EXHAUSTED = "budget_exhausted"
    """The allocation is spent: every call stops until the window frees some."""
    BUDGET_RECOVERED = "budget_recovered"
    """Usage fell back below a threshold; ``reason`` says which."""
    RECOVERED = "recovered"
    """The call succeeded after failing: ``attempt`` attempts and ``elapsed``
    seconds in all; ``classification`` is the last failure it rode out."""
    BREAKER_OPENED = "breaker_opened"
    """The circuit breaker on Salesforce opened: reads are served from the fallback
    cache and writes refused until a probe succeeds; ``reason`` describes it."""
    BREAKER_HALF_OPEN = "breaker_half_open"
    """The breaker lets a probe through to see whether Salesforce is back."""
    BREAKER_CLOSED = "breaker_closed"
    """A probe succeeded: calls go to Salesforce again."""
    SERVED_FROM_CACHE = "served_from_cache"
    """A read was answered from the fallback cache; ``reason`` says why."""
    WRITE_REFUSED = "write_refused"
    """A write was not sent (fallback mode, breaker open, maintenance); ``reason`` says why."""
    CALL_BLOCKED = "call_blocked"
    """The call was not sent: critical-only mode or the spent daily allocation held it
    back (``reason`` says which). A read the fallback cache then answers is also a
    ``SERVED_FROM_CACHE``."""
    BULK_JOB_STUCK = "bulk_job_stuck"
    """A Bulk job ran past its deadline and was aborted; ``reason`` names the job,
    its state and what happens to its unprocessed records."""


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened during a guarded call. Holds no secrets."""

    kind: EventKind
    operation: str
    """What was called, e.g. ``"query"`` or ``"Contact.update"``; secrets masked,
    query strings dropped."""
    attempt: int
    """1-based attempt the event belongs to."""
    classification: Classification | None
    """What went wrong; None for budget events, which are not errors."""
    delay: float | None = None
    """Seconds before the next attempt (``RETRY``)."""
    reason: str | None = None
    """Why the call stopped (``GIVE_UP``), or what is retried when it is not the call."""
    elapsed: float | None = None
    """Seconds since the call started (``RECOVERED``)."""
    budget: Budget | None = None
    """The budget snapshot, on budget events."""


Hook: TypeAlias = Callable[[Event], None]

_LEVELS = {
    EventKind.CLASSIFIED: logging.DEBUG,
    EventKind.RETRY: logging.INFO,
    EventKind.REFRESH: logging.INFO,
    EventKind.GIVE_UP: logging.WARNING,
    EventKind.BUDGET_WARNING: logging.WARNING,
    EventKind.BUDGET_CRITICAL: logging.ERROR,
    EventKind.BUDGET_EXHAUSTED: logging.ERROR,
    EventKind.BUDGET_RECOVERED: logging.INFO,
    EventKind.RECOVERED: logging.INFO,
    EventKind.CALL_BLOCKED: logging.INFO,
    EventKind.BREAKER_OPENED: logging.ERROR,
    EventKind.BREAKER_HALF_OPEN: logging.INFO,
    EventKind.BREAKER_CLOSED: logging.WARNING,
    EventKind.SERVED_FROM_CACHE: logging.INFO,
    EventKind.WRITE_REFUSED: logging.WARNING,
    EventKind.BULK_JOB_STUCK: logging.WARNING,
}


def normalize_hooks(hooks: Hook | Iterable[Hook] | None) -> tuple[Hook, ...]:
    """Accept one hook, several, or none."""
    if hooks is None:
        return ()
    if callable(hooks):
        return (hooks,)
    return tuple(hooks)


def emit(event: Event, hooks: Sequence[Hook]) -> None:
    """Log *event* and hand it to every hook; a failing hook never fails the call."""
    level = _LEVELS[event.kind]
    if logger.isEnabledFor(level):
        logger.log(level, describe(event), extra={"sfresilience_event": event})
    for hook in hooks:
        try:
            hook(event)
        except Exception:
            logger.exception("sfresilience event hook %r failed", hook)


def describe(event: Event) -> str:  # noqa: PLR0911  (one line per kind of event)
    """One line a person reads in a log."""
    c = event.classification
    if c is None:
        return f"{event.operation}: {event.reason}"
    what = f"{c.category.value}" + (f" ({c.error_code})" if c.error_code else "")
    head = f"{event.operation} attempt {event.attempt}: {what}"
    if event.kind is EventKind.RETRY and event.reason:
        return f"{head}; retrying, {event.reason}"  # queued behind a record lock
    if event.kind is EventKind.RETRY:
        what_again = event.reason or "retrying"
        return f"{head}; {what_again} in {event.delay:.2f} s"
    if event.kind is EventKind.RECOVERED and c.category is ErrorCategory.SESSION_EXPIRED:
        return (
            f"{event.operation} recovered after a session refresh in {event.elapsed or 0.0:.2f} s"
        )
    if event.kind is EventKind.RECOVERED:
        return (
            f"{event.operation} recovered after {event.attempt} "
            f"attempt{'' if event.attempt == 1 else 's'} "
            f"in {event.elapsed or 0.0:.2f} s (last failure: {what})"
        )
    if event.kind is EventKind.REFRESH:
        return f"{head}; refreshing the session"
    if event.kind is EventKind.GIVE_UP:
        return f"{head}; giving up: {event.reason}. {c.action}"
    if event.kind is EventKind.BULK_JOB_STUCK:
        return f"{event.operation}: {event.reason}"
    return f"{head}: {mask_record_data(c.message)}"
