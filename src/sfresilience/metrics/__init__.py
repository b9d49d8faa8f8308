"""Metrics as event hooks: Prometheus (``sfresilience[prometheus]``) and OpenTelemetry
(``sfresilience[otel]``). Each imports its library when built, not before."""

from ._otel import OpenTelemetryHook
from ._prometheus import PrometheusHook


__all__ = ["OpenTelemetryHook", "PrometheusHook"]
