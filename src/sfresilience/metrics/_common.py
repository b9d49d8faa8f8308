"""What both exporters share: low-cardinality labels, the lazy import, the watched state.

A label names a category, an operation *kind* or a budget threshold, never a
record id, a query, a URL path or a token: each label's values come from a
small fixed vocabulary, whatever the calls carry.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import threading
from types import ModuleType
from typing import TYPE_CHECKING, Final

from .._events import Event, EventKind, logger
from .._fallback import fallback_of
from .._store import StoreUnavailable


if TYPE_CHECKING:
    from .._budget import Budget
    from .._client import ResilientClient


__all__ = [
    "BREAKER_STATES",
    "MODES",
    "State",
    "Watch",
    "breaker_state",
    "budget_threshold",
    "import_extra",
    "operation_kind",
]

MODES: Final = ("normal", "critical-only", "fallback")
BREAKER_STATES: Final = ("closed", "open", "half-open")
_BREAKER_EVENTS: Final = {
    EventKind.BREAKER_OPENED: "open",
    EventKind.BREAKER_HALF_OPEN: "half-open",
    EventKind.BREAKER_CLOSED: "closed",
}
OTHER: Final = "other"
_WORD = re.compile(r"[a-z][a-z0-9_]{0,39}")
_MAX_OPERATIONS: Final = 64
"""Distinct operation kinds a hook labels; any further one is counted as ``other``."""

_THRESHOLDS: Final = {
    EventKind.BUDGET_WARNING: "warning",
    EventKind.BUDGET_CRITICAL: "critical",
    EventKind.BUDGET_EXHAUSTED: "exhausted",
    EventKind.BUDGET_RECOVERED: "recovered",
}


def import_extra(module: str, extra: str, what: str) -> ModuleType:
    """*module*, or an ImportError that says which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ModuleNotFoundError(
            f"{what} needs {module.partition('.')[0]}: pip install 'sfresilience[{extra}]'",
            name=module,
        ) from error


class OperationKinds:
    """Maps an event's operation to a bounded label value, thread-safely."""

    def __init__(self, limit: int = _MAX_OPERATIONS) -> None:
        self._seen: set[str] = set()
        self._limit = limit
        self._lock = threading.Lock()

    def __call__(self, operation: str) -> str:
        kind = operation_kind(operation)
        with self._lock:
            if kind in self._seen:
                return kind
            if len(self._seen) >= self._limit:
                return OTHER
            self._seen.add(kind)
            return kind


def operation_kind(operation: str) -> str:
    """``"Contact.update"`` -> ``"update"``; ``"bulk2 POST /jobs/ingest/750..."`` -> ``"bulk2"``.

    The sObject name, record ids and URL paths are dropped: they would make one
    time series per record.
    """
    api, space, rest = operation.partition(" ")
    method = (rest if space else api).rsplit(".", 1)[-1]
    if space:
        if not _WORD.fullmatch(api):
            return OTHER
        return f"{api}.{method}" if _WORD.fullmatch(method) else api
    return method if _WORD.fullmatch(method) else OTHER


def breaker_state(event: Event) -> str | None:
    """The state a breaker event moved to: ``"open"``, ``"half-open"`` or ``"closed"``."""
    return _BREAKER_EVENTS.get(event.kind)


def budget_threshold(event: Event) -> str | None:
    """``"warning"``, ``"critical"``, ``"exhausted"`` or ``"recovered"`` for a budget event."""
    return _THRESHOLDS.get(event.kind)


@dataclasses.dataclass(frozen=True, slots=True)
class State:
    """What a gauge shows now: the budget and the effective mode (None: not known)."""

    used: int | None = None
    limit: int | None = None
    mode: str | None = None
    breaker: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.used is None or not self.limit:
            return None
        return self.used / self.limit


class Watch:
    """The state gauges read: a watched client's, else what the last budget event said."""

    def __init__(self) -> None:
        self._client: ResilientClient | None = None
        self._budget: Budget | None = None
        self._breaker: str | None = None
        self._lock = threading.Lock()

    def client(self, client: ResilientClient) -> None:
        with self._lock:
            self._client = client

    def saw(self, event: Event) -> None:
        state = breaker_state(event)
        with self._lock:
            if event.budget is not None:
                self._budget = event.budget
            if state is not None:
                self._breaker = state

    def now(self) -> State:
        with self._lock:
            client, budget, breaker = self._client, self._budget, self._breaker
        if client is not None:
            try:
                live = client.budget
                breaker = fallback_of(client).breaker.state.value
                return State(live.used, live.limit, client.mode.effective, breaker)
            except StoreUnavailable:  # a scrape must not fail while the shared store is down
                logger.warning("sfresilience metrics: reading the client's state failed")
        if budget is None:
            return State(breaker=breaker)
        return State(budget.used, budget.limit, breaker=breaker)
