"""OpenTelemetryHook: real traffic through the fake org, read with the SDK's in-memory reader."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from sfresilience import ResilientClient, critical
from sfresilience.metrics import OpenTelemetryHook
from sfresilience.testing import FakeSalesforce

from .traffic import Clock, a_recovery, an_incident, an_outage, client_for


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def hook(reader: InMemoryMetricReader) -> Iterator[OpenTelemetryHook]:
    provider = MeterProvider(metric_readers=[reader])
    yield OpenTelemetryHook(meter=provider.get_meter("test"))
    provider.shutdown()


def watched(hook: OpenTelemetryHook, client: ResilientClient) -> ResilientClient:
    hook.watch(client)
    return client


def collect(reader: InMemoryMetricReader) -> dict[str, Any]:
    data = reader.get_metrics_data()
    assert data is not None
    return {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


def point(metric: Any, **attributes: str) -> float:
    """The value (or, for a histogram, the count) of the point with exactly *attributes*."""
    for data_point in metric.data.data_points:
        if dict(data_point.attributes) == attributes:
            if hasattr(data_point, "count"):  # a histogram's point
                return float(data_point.count)
            return float(data_point.value)
    return 0.0


def test_an_incident_is_recorded_with_dotted_names_units_and_attributes(
    org: FakeSalesforce, hook: OpenTelemetryHook, reader: InMemoryMetricReader
) -> None:
    client = watched(hook, client_for(org, hook))
    an_incident(org, client)
    metrics = collect(reader)
    unavailable = {"error.type": "UNAVAILABLE", "sfresilience.operation": "query"}
    assert 2 == point(metrics["sfresilience.errors"], **unavailable)
    assert 2 == point(metrics["sfresilience.retries"], **unavailable)
    assert 1 == point(metrics["sfresilience.recoveries"], **unavailable)
    bug = {"error.type": "INVALID_REQUEST", "sfresilience.operation": "query"}
    assert 1 == point(metrics["sfresilience.give_ups"], **bug)
    refreshes = metrics["sfresilience.session.refreshes"]
    assert 1 == point(refreshes, **{"sfresilience.operation": "query"})
    duration = metrics["sfresilience.recovery.duration"]
    assert "s" == duration.unit
    assert 1 == point(duration, **unavailable)
    assert "{error}" == metrics["sfresilience.errors"].unit
    assert all(name.startswith("sfresilience.") for name in metrics)


def test_budget_and_mode_are_observed_from_the_client(
    org: FakeSalesforce, hook: OpenTelemetryHook, reader: InMemoryMetricReader
) -> None:
    client = watched(hook, client_for(org, hook))
    org.set_api_usage(int(org.api_limit * 0.96))
    client.query("SELECT Id FROM Account LIMIT 1")
    with critical():  # the next call trades the reading: the thresholds are crossed
        client.query("SELECT Id FROM Account LIMIT 1")
    metrics = collect(reader)
    used = point(metrics["sfresilience.budget.used"])
    assert used >= org.api_limit * 0.96
    assert org.api_limit == point(metrics["sfresilience.budget.limit"])
    assert "{request}" == metrics["sfresilience.budget.used"].unit
    utilization = metrics["sfresilience.budget.utilization"]
    assert "1" == utilization.unit
    assert used / org.api_limit == pytest.approx(point(utilization))
    mode = metrics["sfresilience.mode"]
    assert 1 == point(mode, **{"sfresilience.mode": "critical-only"})
    assert 0 == point(mode, **{"sfresilience.mode": "normal"})
    crossings = metrics["sfresilience.budget.threshold_crossings"]
    assert 1 == point(crossings, **{"sfresilience.budget.threshold": "critical"})


def test_attributes_hold_no_secret(
    org: FakeSalesforce, hook: OpenTelemetryHook, reader: InMemoryMetricReader
) -> None:
    client = watched(hook, client_for(org, hook))
    contact = str(org.org.records("Contact")[0]["Id"])
    org.faults.server_errors(1, status=503)
    client.Contact.update(contact, {"Title": "Scanned"})
    org.faults.expire_sessions()
    client.query("SELECT Id FROM Contact WHERE Id = '" + contact + "'")  # noqa: S608
    an_outage(org, client)  # the reasons of these events name URLs: attributes must not
    values = {
        str(value)
        for metric in collect(reader).values()
        for data_point in metric.data.data_points
        for value in data_point.attributes.values()
    }
    assert values  # something was recorded
    for secret in (client.session_id, contact, org.instance_url, "SELECT"):
        assert not any(secret in value for value in values)


def test_an_outage_records_stale_serves_refused_writes_and_the_breaker(
    org: FakeSalesforce, hook: OpenTelemetryHook, reader: InMemoryMetricReader
) -> None:
    clock = Clock()
    client = watched(hook, client_for(org, hook, clock))
    an_outage(org, client)
    metrics = collect(reader)
    query = {"sfresilience.operation": "query"}
    assert 6 == point(metrics["sfresilience.cache.stale_serves"], **query)
    assert "{read}" == metrics["sfresilience.cache.stale_serves"].unit
    update = {"sfresilience.operation": "update"}
    assert 1 == point(metrics["sfresilience.writes.refused"], **update)
    opened = {"sfresilience.breaker.state": "open"}
    assert 1 == point(metrics["sfresilience.breaker.transitions"], **opened)
    assert 1 == point(metrics["sfresilience.breaker.state"], **opened)
    a_recovery(org, client, clock)
    metrics = collect(reader)
    closed = {"sfresilience.breaker.state": "closed"}
    assert 1 == point(metrics["sfresilience.breaker.transitions"], **closed)
    assert 1 == point(metrics["sfresilience.breaker.state"], **closed)
    assert 0 == point(metrics["sfresilience.breaker.state"], **opened)


def test_the_docs_list_exactly_the_instruments_recorded(
    org: FakeSalesforce, hook: OpenTelemetryHook, reader: InMemoryMetricReader
) -> None:
    clock = Clock()
    client = watched(hook, client_for(org, hook, clock))
    an_incident(org, client)
    an_outage(org, client)
    a_recovery(org, client, clock)
    org.set_api_usage(int(org.api_limit * 0.96))
    with critical():
        client.query("SELECT Id FROM Account LIMIT 1")
        client.query("SELECT Id FROM Account LIMIT 1")
    page = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(sfresilience\.[a-z_.]+)` \|", page, re.MULTILINE))
    assert documented == set(collect(reader))
