"""Prometheus exposition of what the library did, as an event hook."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._events import Event
from ._common import BREAKER_STATES, COUNTERS, MODES, OperationKinds, Watch, counts, import_extra


if TYPE_CHECKING:
    from .._client import ResilientClient

_RECOVERY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class PrometheusHook:
    """Counts every event into Prometheus metrics; pass it as ``on_event=``.

    Counters ``sfresilience_<what>_total`` labelled by ``category`` and ``operation``
    (errors, retries, recoveries, give-ups), the session refreshes, budget threshold
    crossings, stale cache serves, refused writes and breaker transitions; the
    histogram ``sfresilience_recovery_duration_seconds``; gauges of the budget, the
    mode and the breaker's state, read at scrape time from the client given to
    :meth:`watch` (the budget and breaker gauges follow events until then). Every
    name and label is listed in docs/metrics.md.

    Args:
        registry: where the metrics are registered; default ``prometheus_client.REGISTRY``.
        namespace: the metric name prefix.
    """

    def __init__(self, registry: Any = None, *, namespace: str = "sfresilience") -> None:
        prom = import_extra("prometheus_client", "prometheus", "PrometheusHook")
        self.registry = prom.REGISTRY if registry is None else registry
        self._operation = OperationKinds()
        self._watch = Watch()
        # Registered first, so reading the budget at a scrape (which may report a
        # threshold crossing) comes before the counters are read in the same scrape.
        core = import_extra("prometheus_client.core", "prometheus", "PrometheusHook")
        self.registry.register(_StateCollector(core, self._watch, namespace))
        self._counters = {
            c.name: prom.Counter(
                c.name, c.description, c.labels, namespace=namespace, registry=self.registry
            )
            for c in COUNTERS
        }
        self._recovery_seconds = prom.Histogram(
            "recovery_duration",
            "Seconds from a call's start to its success after failing.",
            unit="seconds",
            namespace=namespace,
            registry=self.registry,
            buckets=_RECOVERY_BUCKETS,
        )

    def watch(self, client: ResilientClient) -> None:
        """Read the budget and mode gauges from *client* at every scrape."""
        self._watch.client(client)

    def __call__(self, event: Event) -> None:
        self._watch.saw(event)
        for count in counts(event, self._operation):
            self._counters[count.counter].labels(**count.labels).inc()
            if count.recovery_seconds is not None:
                self._recovery_seconds.observe(count.recovery_seconds)


class _StateCollector:
    """The gauges computed at scrape time from the watched state."""

    def __init__(self, core: Any, watch: Watch, namespace: str) -> None:
        self._gauge = core.GaugeMetricFamily
        self._watch = watch
        self._prefix = namespace

    def describe(self) -> list[Any]:
        return []  # computed at scrape time: no fixed samples to check up front

    def collect(self) -> Iterator[Any]:
        state = self._watch.now()
        gauge = self._gauge
        p = self._prefix
        if state.used is not None:
            yield gauge(f"{p}_budget_used", "API requests used in the last 24 h.", state.used)
        if state.limit is not None:
            yield gauge(f"{p}_budget_limit", "The org's daily API allocation.", state.limit)
        if state.ratio is not None:
            yield gauge(f"{p}_budget_used_ratio", "Share of the allocation used.", state.ratio)
        if state.mode is not None:
            mode = gauge(f"{p}_mode", "1 for the mode calls run in.", labels=("mode",))
            for name in MODES:
                mode.add_metric((name,), 1.0 if name == state.mode else 0.0)
            yield mode
        if state.breaker is not None:
            breaker = gauge(f"{p}_breaker_state", "1 for the breaker's state.", labels=("state",))
            for name in BREAKER_STATES:
                breaker.add_metric((name,), 1.0 if name == state.breaker else 0.0)
            yield breaker
