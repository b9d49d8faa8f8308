"""OpenTelemetry metrics of what the library did, as an event hook."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from .._events import Event
from ._common import (
    BREAKER_STATES,
    COUNTERS,
    MODES,
    OperationKinds,
    State,
    Watch,
    counts,
    import_extra,
)


if TYPE_CHECKING:
    from .._client import ResilientClient

_BREAKER = "sfresilience.breaker.state"
_ATTRIBUTES = {
    "category": "error.type",  # the semantic conventions' low-cardinality error class
    "operation": "sfresilience.operation",
    "threshold": "sfresilience.budget.threshold",
    "state": _BREAKER,
    "kind": "sfresilience.event.kind",
}


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
        self._counters = {
            c.name: meter.create_counter(
                f"sfresilience.{c.otel_name}", unit=c.unit, description=c.description
            )
            for c in COUNTERS
        }
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
        self._watch.saw(event)
        for count in counts(event, self._operation):
            attributes = {_ATTRIBUTES[name]: value for name, value in count.labels.items()}
            self._counters[count.counter].add(1, attributes)
            if count.recovery_seconds is not None:
                self._recovery_seconds.record(count.recovery_seconds, attributes)
