"""What the timeline tells: every kind of thing the library saw lands in the incident, counted.

Pure: events go through the real Timeline into a MemoryStore with an injected
clock; the incident package reads them back. The last test drives a real
triage subprocess against FakeTrust and a real Redis.
"""

from __future__ import annotations

import enum
import json
import os
import re
import subprocess
import sys

import pytest
import redis

from sfresilience import classify
from sfresilience._events import Event, EventKind
from sfresilience._store import MemoryStore, RedisStore
from sfresilience._timeline import Timeline
from sfresilience.incident import (
    action_items,
    chart_of,
    mermaid,
    postmortem_markdown,
    slack_update,
    summarize,
    usage_chart,
)
from sfresilience.testing import FakeSalesforce, FakeTrust


START = 1_800_000_000.0
LOCK = classify(status=500, body=[{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}])
DOWN = classify(status=503, body="Service Unavailable")
LIMIT = classify(status=403, body=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "x"}])


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


class Later(enum.StrEnum):
    """A kind no part reports yet (critical-only blocks): counted by its name all the same."""

    CRITICAL_ONLY_BLOCKED = "critical_only_blocked"


def event(kind: object, classification: object = LOCK, **extra: object) -> Event:
    return Event(kind, "Contact.update", 1, classification, **extra)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timeline(clock: Clock) -> Timeline:
    return Timeline(MemoryStore(), clock=clock)


def outage(timeline: Timeline, clock: Clock) -> None:
    """A lock storm, then an outage the fallback rides out, then a quiet recovery."""
    for _ in range(30):
        timeline.hook(event(EventKind.CLASSIFIED))
        timeline.hook(event(EventKind.RETRY, delay=0.1))
    timeline.hook(event(EventKind.GIVE_UP, reason="gave up after 5 attempts"))
    clock.now += 300
    timeline.hook(event(EventKind.BUDGET_WARNING, None, reason="usage 81 %"))
    for _ in range(12):
        timeline.hook(event(EventKind.CLASSIFIED, DOWN))
    timeline.hook(event(EventKind.BREAKER_OPENED, DOWN, reason="5 failures in 10 s"))
    for _ in range(40):
        timeline.hook(event(EventKind.SERVED_FROM_CACHE, None))
    for _ in range(3):
        timeline.hook(event(EventKind.WRITE_REFUSED, None))
        timeline.hook(event(Later.CRITICAL_ONLY_BLOCKED, None))
    timeline.record("mode", detail="critical-only on fleet-wide: Trust 5968 (set by oncall@host)")
    clock.now += 300
    timeline.hook(event(EventKind.BREAKER_CLOSED, None, reason="probe succeeded"))
    timeline.hook(event(EventKind.RECOVERED, DOWN, elapsed=2.0))


def test_every_kind_lands_in_the_impact(timeline: Timeline, clock: Clock) -> None:
    outage(timeline, clock)
    incident = summarize(timeline.entries(), since=START - 60, now=clock.now)
    impact = incident.impact
    assert (impact.failed_attempts, impact.retried, impact.failed) == (42, 30, 1)
    assert (impact.served_from_cache, impact.writes_refused, impact.blocked) == (40, 3, 3)
    assert impact.recovered == 1
    assert incident.severity == "P1"  # Salesforce unavailable is the runbook's P1
    moves = [(e.kind, e.detail) for e in incident.of("breaker")]
    assert moves == [
        ("breaker_opened", "5 failures in 10 s"),
        ("breaker_closed", "probe succeeded"),
    ]
    assert "Circuit breaker open" not in slack_update(incident).current_action  # closed again
    assert incident.state == "ongoing"
    assert incident.duration == pytest.approx(600, abs=60)


def test_counted_not_listed(timeline: Timeline, clock: Clock) -> None:
    outage(timeline, clock)
    entries = timeline.entries()
    assert sum(e.count for e in entries) > 3 * len(entries)
    assert len(entries) < 20


def test_resolved_after_ten_quiet_minutes(timeline: Timeline, clock: Clock) -> None:
    outage(timeline, clock)
    clock.now += 3600
    incident = summarize(timeline.entries(), since=START - 60, now=clock.now)
    assert incident.state == "resolved"
    update = slack_update(incident)
    assert update.next_update.startswith("None planned")
    assert update.status.startswith("Resolved: from ")


def test_severity_follows_what_happened(timeline: Timeline, clock: Clock) -> None:
    for _ in range(3):
        timeline.hook(event(EventKind.CLASSIFIED))
    assert summarize(timeline.entries(), since=0, now=clock.now).severity == "P4"
    timeline.hook(event(EventKind.GIVE_UP, reason="deadline"))
    assert summarize(timeline.entries(), since=0, now=clock.now).severity == "P3"
    timeline.hook(event(EventKind.CLASSIFIED, LIMIT))
    timeline.hook(event(EventKind.BUDGET_EXHAUSTED, None))
    assert summarize(timeline.entries(), since=0, now=clock.now).severity == "P1"


def test_a_quiet_timeline_is_no_incident(timeline: Timeline, clock: Clock) -> None:
    timeline.hook(event(EventKind.RECOVERED, elapsed=0.1))
    incident = summarize(timeline.entries(), since=0, now=clock.now)
    assert (incident.state, incident.severity, chart_of(incident)) == ("quiet", None, None)
    assert "no incident" in slack_update(incident).title


def test_the_chart_buckets_an_incident_of_hours(timeline: Timeline, clock: Clock) -> None:
    for _ in range(10):  # a failure every 20 minutes for 3 h 20 min
        timeline.hook(event(EventKind.CLASSIFIED, DOWN))
        clock.now += 1200
    chart = chart_of(summarize(timeline.entries(), since=0, now=clock.now))
    assert chart is not None
    assert chart.size == 600  # 3 h 20 min in at most 24 bars
    assert len(chart.starts) <= 24
    assert sum(chart.totals()) == 10
    block = mermaid(chart)
    assert block.count('"') == 2 * (len(chart.starts) + 2)  # the labels, title, y-axis
    assert re.search(r"y-axis \"calls\" 0 --> 1\n", block)


def test_the_heaviest_caller_and_the_lock_storm_become_action_items(
    timeline: Timeline, clock: Clock
) -> None:
    outage(timeline, clock)
    incident = summarize(timeline.entries(), since=0, now=clock.now)
    items = action_items(incident, {"nightly-sync": 9000, "web": 800})
    assert items[0].startswith("Move `nightly-sync` to Bulk API 2.0")
    assert any(item.startswith("Review the budget guard") for item in items)
    assert any(item.startswith("Lock storm (30 UNABLE_TO_LOCK_ROW") for item in items)
    assert any("server error(s) or unreachable" in item for item in items)
    assert any("held back by critical-only" in item for item in items)
    assert not any("Bulk API" in item for item in action_items(incident, {"a": 4, "b": 3, "c": 3}))


def test_no_secret_and_no_record_data(clock: Clock) -> None:
    store = MemoryStore()
    timeline = Timeline(store, clock=clock)
    token = "00D5g000004XYZA!AQ4AQFakeTokenValue.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef"
    record = classify(
        status=400,
        body=[{"errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "jane@example.com"}],
    )
    timeline.hook(event(EventKind.CLASSIFIED, record))
    timeline.hook(event(EventKind.BREAKER_OPENED, DOWN, reason=f"Authorization: Bearer {token}"))
    timeline.record("mode", detail=f"on: sid={token}")
    raw = b"".join(store.newest("timeline", 100))
    for leaked in (b"AQ4AQFakeTokenValue", b"jane@example.com"):
        assert leaked not in raw
    text = postmortem_markdown(summarize(timeline.entries(), since=0, now=clock.now), {})
    assert "AQ4AQFakeTokenValue" not in text
    assert "jane@example.com" not in text
    fields = {
        key
        for batch in store.newest("timeline", 100)
        for entry in json.loads(batch)["entries"]
        for key in entry
    }
    assert fields <= {
        "at",
        "until",
        "kind",
        "count",
        "category",
        "code",
        "severity",
        "operation",
        "detail",
    }


def test_bounded_in_size(clock: Clock) -> None:
    store = MemoryStore()
    timeline = Timeline(store, max_batches=5, flush_every=0, clock=clock)
    for minute in range(500):
        clock.now = START + 60 * minute
        timeline.hook(event(EventKind.CLASSIFIED))
    assert len(store.newest("timeline", 1000)) == 5
    assert len(timeline.entries()) <= 5 * 64


def test_triage_records_the_trust_incident_it_sees(
    redis_url: str, redis_client: redis.Redis
) -> None:
    with FakeSalesforce(tls=True, trust=FakeTrust(), contacts=2) as org:
        assert org.trust is not None
        org.trust.open_incident("NA137", severity="major", message="Login failures")
        env = {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url, "PATH": os.environ["PATH"]}
        done = subprocess.run(
            [sys.executable, "-m", "sfresilience.cli", "triage", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert json.loads(done.stdout)["verdict"] == "salesforce_incident", done.stderr
    (seen,) = [
        e for e in Timeline(RedisStore.from_url(redis_url)).entries() if e.kind == "trust_incident"
    ]
    assert "NA137" in (seen.detail or "")
    assert "Login failures" in (seen.detail or "")


def test_api_usage_is_charted_per_hour_with_the_top_callers() -> None:
    hourly = {
        START: {"nightly-sync": 900, "web": 100, "a": 1, "b": 1, "c": 1},
        START + 3600: {"nightly-sync": 50, "d": 7},
        START + 7200: {},
    }
    chart = usage_chart(hourly)
    assert chart is not None
    assert [s.name for s in chart.series] == ["nightly-sync", "web", "d", "a", "other callers"]
    assert chart.totals() == [1003, 57, 0]
    assert "| bar | every API call | 1,060 |" in mermaid(chart)
    assert usage_chart({START: {}}) is None
