"""OpenTelemetry metrics of what the library did, as an event hook."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from .._events import Event, EventKind
from ._common import (
    BREAKER_STATES,
    MODES,
    OperationKinds,
    State,
    Watch,
    breaker_state,
    budget_threshold,
    import_extra,
)


if TYPE_CHECKING:
    from .._client import ResilientClient

_CATEGORY = "error.type"  # the semantic conventions' low-cardinality error class
_OPERATION = "sfresilience.operation"
_BREAKER = "sfresilience.breaker.state"


class OpenTelemetryHook:
    """Records every event as OpenTelemetry metrics; pass it as ``on_event=``.

    Counters ``sfresilience.<what>`` with units and the attributes ``error.type``
    (the category) and ``sfresilience.operation``; the histogram
    ``sfresilience.recovery.duration`` (s); observable gauges of the budget, the mode
    and the breaker's state, read from the client given to :meth:`watch`. Every name,
    unit and attribute is listed in docs/metrics.md.

    Args:
        meter: the meter to record with; default the global provider's ``"sfresilience"``.
    """

    def __init__(self, meter: Any = None) -> None:
        otel = import_extra("opentelemetry.metrics", "otel", "OpenTelemetryHook")
        if meter is None:
            meter = otel.get_meter("sfresilience", version("sfresilience"))
        self._observation = otel.Observation
        self._operation = OperationKinds()
        self._watch = Watch()

        def counter(name: str, unit: str, doc: str) -> Any:
            return meter.create_counter(f"sfresilience.{name}", unit=unit, description=doc)

        self._errors = counter("errors", "{error}", "Failed attempts, by error category.")
        self._retries = counter("retries", "{retry}", "Attempts made again after a failure.")
        self._recoveries = counter("recoveries", "{call}", "Calls that succeeded after failing.")
        self._give_ups = counter("give_ups", "{call}", "Calls that stopped and raised.")
        self._refreshes = counter("session.refreshes", "{login}", "Expired sessions renewed.")
        self._crossings = counter(
            "budget.threshold_crossings", "{crossing}", "API budget thresholds crossed."
        )
        self._events = counter("events", "{event}", "Every event the library reported.")
        self._stale = counter(
            "cache.stale_serves", "{read}", "Reads answered from the fallback cache."
        )
        self._refused = counter("writes.refused", "{write}", "Writes not sent.")
        self._breaker = counter(
            "breaker.transitions", "{transition}", "Circuit breaker state changes."
        )
        self._recovery_seconds = meter.create_histogram(
            "sfresilience.recovery.duration",
            unit="s",
            description="Seconds from a call's start to its success after failing.",
        )
        self._gauges(meter)

    def _gauges(self, meter: Any) -> None:
        def gauge(name: str, unit: str, doc: str, read: Callable[[State], Iterable[Any]]) -> None:
            meter.create_observable_gauge(
                f"sfresilience.{name}",
                callbacks=[lambda _options: list(read(self._watch.now()))],
                unit=unit,
                description=doc,
            )

        obs = self._observation
        gauge("budget.used", "{request}", "API requests used in the last 24 h.",
              lambda s: [] if s.used is None else [obs(s.used)])  # fmt: skip
        gauge("budget.limit", "{request}", "The org's daily API allocation.",
              lambda s: [] if s.limit is None else [obs(s.limit)])  # fmt: skip
        gauge("budget.utilization", "1", "Share of the allocation used.",
              lambda s: [] if s.ratio is None else [obs(s.ratio)])  # fmt: skip
        gauge("mode", "1", "1 for the mode calls run in.", self._modes)
        gauge("breaker.state", "1", "1 for the circuit breaker's state.", self._breaker_states)

    def _modes(self, state: State) -> list[Any]:
        if state.mode is None:
            return []
        return [
            self._observation(1 if name == state.mode else 0, {"sfresilience.mode": name})
            for name in MODES
        ]

    def _breaker_states(self, state: State) -> list[Any]:
        if state.breaker is None:
            return []
        return [
            self._observation(1 if name == state.breaker else 0, {_BREAKER: name})
            for name in BREAKER_STATES
        ]

    def watch(self, client: ResilientClient) -> None:
        """Read the budget and mode gauges from *client* at every collection."""
        self._watch.client(client)

    def __call__(self, event: Event) -> None:
        self._events.add(1, {"sfresilience.event.kind": event.kind.value})
        self._watch.saw(event)
        threshold = budget_threshold(event)
        if threshold is not None:
            self._crossings.add(1, {"sfresilience.budget.threshold": threshold})
            return
        state = breaker_state(event)
        if state is not None:
            self._breaker.add(1, {_BREAKER: state})
            return
        operation = self._operation(event.operation)
        by_operation = {
            EventKind.REFRESH: self._refreshes,
            EventKind.SERVED_FROM_CACHE: self._stale,
            EventKind.WRITE_REFUSED: self._refused,
        }.get(event.kind)
        if by_operation is not None:
            by_operation.add(1, {_OPERATION: operation})
            return
        counter = {
            EventKind.CLASSIFIED: self._errors,
            EventKind.RETRY: self._retries,
            EventKind.RECOVERED: self._recoveries,
            EventKind.GIVE_UP: self._give_ups,
        }.get(event.kind)
        if counter is None or event.classification is None:
            return
        attributes = {_CATEGORY: event.classification.category.value, _OPERATION: operation}
        counter.add(1, attributes)
        if event.kind is EventKind.RECOVERED and event.elapsed is not None:
            self._recovery_seconds.record(event.elapsed, attributes)
