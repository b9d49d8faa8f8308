"""The demo's step summary counts like events together, and only like ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sfresilience import Event, EventKind, ResilientClient
from sfresilience._events import describe
from sfresilience.cli._demo import _summarised
from sfresilience.testing import FakeSalesforce


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as org:
        yield org


def _budget_event(kind: EventKind, reason: str) -> Event:
    return Event(kind=kind, operation="query", attempt=1, classification=None, reason=reason)


def test_events_without_a_classification_are_told_apart_by_their_reason() -> None:
    """Three distinct budget events stay three lines; a repeated one is counted."""
    below = "back below the daily allocation"
    events = [
        _budget_event(EventKind.BUDGET_RECOVERED, below),
        _budget_event(EventKind.BUDGET_RECOVERED, "back below the warning threshold"),
        _budget_event(EventKind.BUDGET_RECOVERED, below),
        _budget_event(EventKind.BUDGET_RECOVERED, "back below the critical threshold"),
    ]
    lines = _summarised(events)
    assert 3 == len(lines)
    assert f"query: {below} (x2)" in lines


def test_a_recovery_by_refresh_says_so(fake: FakeSalesforce) -> None:
    """After an expired session, the log line names the refresh, not "1 attempt"."""
    events: list[Event] = []
    client = ResilientClient(fake.client(), on_event=events.append)
    fake.faults.expire_sessions()
    client.query("SELECT Id FROM Account LIMIT 1")
    assert EventKind.RECOVERED is events[-1].kind
    assert "query recovered after a session refresh in" in describe(events[-1])
