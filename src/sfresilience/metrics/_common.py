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
    "COUNTERS",
    "MODES",
    "Count",
    "Counter",
    "State",
    "Watch",
    "breaker_state",
    "budget_threshold",
    "counts",
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


@dataclasses.dataclass(frozen=True, slots=True)
class Counter:
    """One counter both exporters make: Prometheus ``sfresilience_<name>_total``,
    OpenTelemetry ``sfresilience.<otel_name>`` in *unit*."""

    name: str
    otel_name: str
    unit: str
    description: str
    labels: tuple[str, ...]


_BY_CALL = ("category", "operation")
COUNTERS: Final = (
    Counter("errors", "errors", "{error}", "Failed attempts, by error category.", _BY_CALL),
    Counter("retries", "retries", "{retry}", "Attempts made again after a failure.", _BY_CALL),
    Counter("recoveries", "recoveries", "{call}", "Calls that succeeded after failing.",
            _BY_CALL),
    Counter("give_ups", "give_ups", "{call}", "Calls that stopped and raised.", _BY_CALL),
    Counter("session_refreshes", "session.refreshes", "{login}",
            "Expired sessions logged in again.", ("operation",)),
    Counter("budget_threshold_crossings", "budget.threshold_crossings", "{crossing}",
            "API budget thresholds crossed (recovered: back below one).", ("threshold",)),
    Counter("cache_stale_serves", "cache.stale_serves", "{read}",
            "Reads answered from the fallback cache instead of Salesforce.", ("operation",)),
    Counter("writes_refused", "writes.refused", "{write}",
            "Writes not sent (fallback mode, breaker open).", ("operation",)),
    Counter("breaker_transitions", "breaker.transitions", "{transition}",
            "Circuit breaker state changes, by the state entered.", ("state",)),
    Counter("events", "events", "{event}", "Every event the library reported.", ("kind",)),
)  # fmt: skip
_BY_KIND: Final = {
    EventKind.CLASSIFIED: "errors",
    EventKind.RETRY: "retries",
    EventKind.RECOVERED: "recoveries",
    EventKind.GIVE_UP: "give_ups",
    EventKind.REFRESH: "session_refreshes",
    EventKind.SERVED_FROM_CACHE: "cache_stale_serves",
    EventKind.WRITE_REFUSED: "writes_refused",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Count:
    """What one event adds: one to *counter* with *labels*, and maybe a recovery's seconds."""

    counter: str
    labels: dict[str, str]
    recovery_seconds: float | None = None


def counts(event: Event, operations: OperationKinds) -> list[Count]:
    """The counts *event* makes, ``events`` first; labels from fixed vocabularies only."""
    found = [Count("events", {"kind": event.kind.value})]
    threshold, state = budget_threshold(event), breaker_state(event)
    if threshold is not None:
        return [*found, Count("budget_threshold_crossings", {"threshold": threshold})]
    if state is not None:
        return [*found, Count("breaker_transitions", {"state": state})]
    counter = _BY_KIND.get(event.kind)
    if counter is None:
        return found
    labels = {"operation": operations(event.operation)}
    if "category" in _COUNTER[counter].labels:
        if event.classification is None:
            return found
        labels = {"category": event.classification.category.value, **labels}
    recovered = event.elapsed if event.kind is EventKind.RECOVERED else None
    return [*found, Count(counter, labels, recovered)]


_COUNTER: Final = {counter.name: counter for counter in COUNTERS}


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
