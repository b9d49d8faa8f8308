"""PrometheusHook: real traffic through the fake org, scraped as Prometheus scrapes it."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
import requests
from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from sfresilience import ErrorCategory, EventKind, ResilientClient
from sfresilience._store import MemoryStore
from sfresilience.metrics import PrometheusHook
from sfresilience.metrics._common import BREAKER_STATES, MODES, operation_kind
from sfresilience.testing import FakeSalesforce

from .traffic import Clock, a_recovery, an_incident, an_outage, client_for


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def watched(hook: PrometheusHook, client: ResilientClient) -> ResilientClient:
    hook.watch(client)
    return client


def scrape(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_an_incident_is_counted_by_category_and_operation(
    org: FakeSalesforce, registry: CollectorRegistry
) -> None:
    hook = PrometheusHook(registry=registry)
    an_incident(org, watched(hook, client_for(org, hook)))
    samples = scrape(generate_latest(registry).decode())
    unavailable = {"category": ErrorCategory.UNAVAILABLE.value, "operation": "query"}
    assert 2 == value(samples, "sfresilience_errors_total", **unavailable)
    assert 2 == value(samples, "sfresilience_retries_total", **unavailable)
    assert 1 == value(samples, "sfresilience_recoveries_total", **unavailable)
    assert 1 == value(samples, "sfresilience_session_refreshes_total", operation="query")
    expired = {"category": "SESSION_EXPIRED", "operation": "query"}
    assert 1 == value(samples, "sfresilience_recoveries_total", **expired)
    bug = {"category": "INVALID_REQUEST", "operation": "query"}
    assert 1 == value(samples, "sfresilience_errors_total", **bug)
    assert 0 == value(samples, "sfresilience_retries_total", **bug)
    assert 1 == value(samples, "sfresilience_give_ups_total", **bug)
    assert 2 == value(samples, "sfresilience_recovery_duration_seconds_count")
    assert 1 == value(samples, "sfresilience_events_total", kind="refresh")


def test_lock_contention_is_ridden_through_and_counted(
    org: FakeSalesforce, registry: CollectorRegistry
) -> None:
    """A write finds its record locked; the lock is let go while the client backs off."""
    hook = PrometheusHook(registry=registry)
    contact = str(org.org.records("Contact")[0]["Id"])
    with contextlib.ExitStack() as held:
        held.enter_context(org.locked(contact))
        client = ResilientClient(
            org.client(),
            on_event=hook,
            sleep=lambda _seconds: held.close(),  # the other writer finishes meanwhile
            store=MemoryStore(),
        )
        client.Contact.update(contact, {"Title": "Counted"})
    samples = scrape(generate_latest(registry).decode())
    lock = {"category": "ROW_LOCK", "operation": "update"}
    assert 1 == value(samples, "sfresilience_errors_total", **lock)
    assert 1 == value(samples, "sfresilience_retries_total", **lock)
    assert 1 == value(samples, "sfresilience_recoveries_total", **lock)


def test_budget_and_mode_gauges_follow_the_client(
    org: FakeSalesforce, registry: CollectorRegistry
) -> None:
    hook = PrometheusHook(registry=registry)
    client = watched(hook, client_for(org, hook))
    org.set_api_usage(int(org.api_limit * 0.96))
    client.query("SELECT Id FROM Account LIMIT 1")
    samples = scrape(generate_latest(registry).decode())
    used = value(samples, "sfresilience_budget_used")
    assert used >= org.api_limit * 0.96
    assert org.api_limit == value(samples, "sfresilience_budget_limit")
    assert used / org.api_limit == pytest.approx(value(samples, "sfresilience_budget_used_ratio"))
    assert 1 == value(samples, "sfresilience_mode", mode="critical-only")
    assert 0 == value(samples, "sfresilience_mode", mode="normal")
    assert 1 == value(samples, "sfresilience_budget_threshold_crossings_total", threshold="warning")
    assert 1 == value(
        samples, "sfresilience_budget_threshold_crossings_total", threshold="critical"
    )


def test_a_scrape_over_http_sees_the_counts(
    org: FakeSalesforce, registry: CollectorRegistry
) -> None:
    hook = PrometheusHook(registry=registry)
    an_incident(org, watched(hook, client_for(org, hook)))
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        response = requests.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = scrape(response.text)
    assert 1 == value(samples, "sfresilience_session_refreshes_total", operation="query")
    assert 1 == value(samples, "sfresilience_mode", mode="normal")


# Labels: a small vocabulary, and never a secret ----------------------------------

_SALESFORCE_ID = re.compile(r"\b[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?\b")


def test_labels_hold_no_secret_no_record_id_and_no_query(
    org: FakeSalesforce, registry: CollectorRegistry
) -> None:
    hook = PrometheusHook(registry=registry)
    client = watched(hook, client_for(org, hook))
    an_incident(org, client)
    contact = str(org.org.records("Contact")[0]["Id"])
    org.faults.server_errors(1, status=503)
    client.Contact.update(contact, {"Title": "Scanned"})
    an_outage(org, client)  # served stale, breaker, a refused write: reasons name the URL
    text = generate_latest(registry).decode()
    secrets = [client.session_id, org.instance_url, contact, "SELECT", "Nmae"]
    for secret in secrets:
        assert secret not in text
    vocabulary = {
        "category": {c.value for c in ErrorCategory},
        "operation": {"query", "update", "login", "other"},
        "kind": {kind.value for kind in EventKind},
        "threshold": {"warning", "critical", "exhausted", "recovered"},
        "mode": set(MODES),
        "state": set(BREAKER_STATES),
    }
    for _name, labels in scrape(text):
        for label, label_value in labels:
            if label == "le":
                continue
            assert label_value in vocabulary[label], (label, label_value)
            assert not _SALESFORCE_ID.fullmatch(label_value)


@pytest.mark.parametrize(
    ("operation", "kind"),
    [
        ("query", "query"),
        ("Contact.update", "update"),
        ("My_Object__c.create", "create"),
        ("bulk2 POST jobs/ingest/7507y00000AbCdEAAZ/batches", "bulk2"),
        ("bulk2 Contact.insert", "bulk2.insert"),
        ("https://example.my.salesforce.com/services/data/v59.0/sobjects/0031x00000AbCdE", "other"),
        ("", "other"),
    ],
)
def test_operations_become_a_bounded_kind(operation: str, kind: str) -> None:
    assert kind == operation_kind(operation)


def test_the_docs_list_exactly_the_metrics_a_scrape_shows(
    org: FakeSalesforce, registry: CollectorRegistry
) -> None:
    hook = PrometheusHook(registry=registry)
    watched(hook, client_for(org, hook)).query("SELECT Id FROM Account LIMIT 1")
    page = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(sfresilience_[a-z_]+)` \|", page, re.MULTILINE))
    scraped = {
        family.name + ("_total" if family.type == "counter" else "")
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        if not family.name.endswith("_created")  # prometheus_client's own start times
    }
    assert documented == scraped


def test_an_outage_counts_stale_serves_refused_writes_and_the_breaker(
    org: FakeSalesforce, registry: CollectorRegistry
) -> None:
    hook = PrometheusHook(registry=registry)
    clock = Clock()
    client = watched(hook, client_for(org, hook, clock))
    an_outage(org, client)
    samples = scrape(generate_latest(registry).decode())
    assert 6 == value(samples, "sfresilience_cache_stale_serves_total", operation="query")
    assert 1 == value(samples, "sfresilience_writes_refused_total", operation="update")
    assert 1 == value(samples, "sfresilience_breaker_transitions_total", state="open")
    assert 1 == value(samples, "sfresilience_breaker_state", state="open")
    assert 0 == value(samples, "sfresilience_breaker_state", state="closed")
    assert 1 == value(samples, "sfresilience_mode", mode="fallback")
    a_recovery(org, client, clock)
    samples = scrape(generate_latest(registry).decode())
    assert 1 == value(samples, "sfresilience_breaker_transitions_total", state="half-open")
    assert 1 == value(samples, "sfresilience_breaker_transitions_total", state="closed")
    assert 1 == value(samples, "sfresilience_breaker_state", state="closed")
    assert 1 == value(samples, "sfresilience_mode", mode="normal")


def test_without_a_watched_client_the_breaker_gauge_follows_its_events(
    org: FakeSalesforce, registry: CollectorRegistry
) -> None:
    hook = PrometheusHook(registry=registry)
    an_outage(org, client_for(org, hook))
    samples = scrape(generate_latest(registry).decode())
    assert 1 == value(samples, "sfresilience_breaker_state", state="open")
    assert ("sfresilience_mode", (("mode", "normal"),)) not in samples
