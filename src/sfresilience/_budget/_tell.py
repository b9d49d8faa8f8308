"""Telling what the ledger says: the ``Budget`` snapshot, and one event per threshold crossed."""

from __future__ import annotations

from datetime import UTC, datetime

from .._events import Event, EventKind
from .._store import CRITICAL, EXHAUSTED, WARN, LedgerState
from ._held import writer_id
from ._snapshot import LEVELS, Budget


_EVENT_KINDS = {
    WARN: EventKind.BUDGET_WARNING,
    CRITICAL: EventKind.BUDGET_CRITICAL,
    EXHAUSTED: EventKind.BUDGET_EXHAUSTED,
}
_THRESHOLD_NAMES = {
    WARN: "SFRESILIENCE_BUDGET_WARN",
    CRITICAL: "SFRESILIENCE_BUDGET_CRITICAL",
    EXHAUSTED: "the daily allocation",
}


def crossing_events(state: LedgerState, budget: Budget) -> list[Event]:
    """One event per threshold the last trade crossed, up or down."""
    assert state.reading is not None  # noqa: S101  (levels move only with a reading)
    up = state.level > state.previous_level
    crossed = (
        range(state.previous_level + 1, state.level + 1)
        if up
        else range(state.previous_level, state.level, -1)
    )
    used = f"{state.estimate} of {state.reading.limit} API calls used or in flight"
    events = []
    for level in crossed:
        name = _THRESHOLD_NAMES[level]
        if up:
            kind, reason = _EVENT_KINDS[level], f"{used}: reached {name}"
        else:
            kind, reason = EventKind.BUDGET_RECOVERED, f"{used}: back below {name}"
        events.append(Event(kind, "budget", 0, None, reason=reason, budget=budget))
    return events


def snapshot_of(
    state: LedgerState | None,
    by_caller: dict[str, int],
    daily: dict[str, tuple[int, int]],
    now: float,
    *,
    fleet: bool,
) -> Budget:
    reading = state.reading if state else None
    if reading is None:
        return Budget(None, None, None, None, by_caller, state.reserved if state else 0)
    source = reading.source
    if fleet and reading.writer != writer_id():
        source = "fleet"
    return Budget(
        used=reading.used,
        limit=reading.limit,
        source=source,  # type: ignore[arg-type]
        age=max(0.0, now - reading.received),
        by_caller=by_caller,
        reserved=state.reserved if state else 0,
        level=LEVELS[state.level if state else 0],
        daily_limits=daily,
    )


def since_datetime(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)
