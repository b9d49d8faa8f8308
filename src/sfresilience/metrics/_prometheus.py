"""Prometheus exposition of what the library did, as an event hook."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._events import Event, EventKind
from ._common import (
    BREAKER_STATES,
    MODES,
    OperationKinds,
    Watch,
    breaker_state,
    budget_threshold,
    import_extra,
)


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
        labels = ("category", "operation")

        def counter(name: str, doc: str, names: tuple[str, ...] = labels) -> Any:
            return prom.Counter(name, doc, names, namespace=namespace, registry=self.registry)

        self._errors = counter("errors", "Failed attempts, by error category.")
        self._retries = counter("retries", "Attempts made again after a failure.")
        self._recoveries = counter("recoveries", "Calls that succeeded after failing.")
        self._give_ups = counter("give_ups", "Calls that stopped and raised.")
        self._refreshes = counter(
            "session_refreshes", "Expired sessions logged in again.", ("operation",)
        )
        self._crossings = counter(
            "budget_threshold_crossings",
            "API budget thresholds crossed (recovered: back below one).",
            ("threshold",),
        )
        self._events = counter("events", "Every event the library reported.", ("kind",))
        self._stale = counter(
            "cache_stale_serves",
            "Reads answered from the fallback cache instead of Salesforce.",
            ("operation",),
        )
        self._refused = counter(
            "writes_refused", "Writes not sent (fallback mode, breaker open).", ("operation",)
        )
        self._breaker = counter(
            "breaker_transitions", "Circuit breaker state changes, by new state.", ("state",)
        )
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
        self._events.labels(event.kind.value).inc()
        self._watch.saw(event)
        threshold = budget_threshold(event)
        if threshold is not None:
            self._crossings.labels(threshold).inc()
            return
        state = breaker_state(event)
        if state is not None:
            self._breaker.labels(state).inc()
            return
        operation = self._operation(event.operation)
        by_operation = {
            EventKind.REFRESH: self._refreshes,
            EventKind.SERVED_FROM_CACHE: self._stale,
            EventKind.WRITE_REFUSED: self._refused,
        }.get(event.kind)
        if by_operation is not None:
            by_operation.labels(operation).inc()
            return
        counter = {
            EventKind.CLASSIFIED: self._errors,
            EventKind.RETRY: self._retries,
            EventKind.RECOVERED: self._recoveries,
            EventKind.GIVE_UP: self._give_ups,
        }.get(event.kind)
        if counter is None or event.classification is None:
            return
        counter.labels(event.classification.category.value, operation).inc()
        if event.kind is EventKind.RECOVERED and event.elapsed is not None:
            self._recovery_seconds.observe(event.elapsed)


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
