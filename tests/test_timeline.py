"""The incident timeline: counted per window, batched, shared through the store, bounded."""

from __future__ import annotations

import json
import socket

import pytest
import redis

from sfresilience import classify
from sfresilience._events import Event, EventKind
from sfresilience._store import MemoryStore, RedisStore, Store, shared_store
from sfresilience._timeline import Entry, Timeline, TimelineHook, timeline_for


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


LOCK = classify(status=500, body=[{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}])
BUG = classify(status=400, body=[{"errorCode": "MALFORMED_QUERY", "message": "bad"}])


def _event(kind: EventKind, classification: object = LOCK, **extra: object) -> Event:
    return Event(kind, "Contact.update", 1, classification, **extra)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "memory":
        return MemoryStore()
    url = request.getfixturevalue("redis_url")
    request.getfixturevalue("redis_client")  # empties the database afterwards
    return RedisStore.from_url(url)


def test_a_burst_is_counted_not_listed(store: Store) -> None:
    clock = Clock()
    timeline = Timeline(store, clock=clock)
    for _ in range(250):
        timeline.hook(_event(EventKind.CLASSIFIED))
    timeline.hook(_event(EventKind.CLASSIFIED, BUG))
    entries = timeline.entries()
    errors = {(e.category, e.code): e.count for e in entries if e.kind == "errors"}
    assert errors == {
        ("ROW_LOCK", "UNABLE_TO_LOCK_ROW"): 250,
        ("INVALID_REQUEST", "MALFORMED_QUERY"): 1,
    }
    assert all(e.at <= clock.now < e.until for e in entries)


def test_windows_split_the_counts(store: Store) -> None:
    clock = Clock()
    timeline = Timeline(store, window=60, clock=clock)
    timeline.hook(_event(EventKind.CLASSIFIED))
    clock.now += 61
    timeline.hook(_event(EventKind.CLASSIFIED))
    timeline.hook(_event(EventKind.CLASSIFIED))
    assert [e.count for e in timeline.entries()] == [1, 2]


def test_nothing_reaches_the_store_until_a_batch_is_due(store: Store) -> None:
    clock = Clock()
    writer = Timeline(store, flush_every=5, clock=clock)
    reader = Timeline(store, clock=clock)
    writer.hook(_event(EventKind.RETRY, delay=0.5))
    assert reader.entries() == []
    clock.now += 5
    writer.hook(_event(EventKind.RETRY, delay=0.5))
    assert [(e.kind, e.count) for e in reader.entries()] == [("retry", 2)]


def test_every_process_of_the_fleet_writes_one_history(
    redis_url: str, redis_client: redis.Redis
) -> None:
    clock = Clock()
    workers = [Timeline(RedisStore.from_url(redis_url), clock=clock) for _ in range(3)]
    for worker in workers:
        worker.hook(_event(EventKind.CLASSIFIED))
        worker.hook(_event(EventKind.GIVE_UP, reason="attempts used up"))
        worker.flush()
    on_call = Timeline(RedisStore.from_url(redis_url), clock=clock)
    counts = {e.kind: e.count for e in on_call.entries()}
    assert counts == {"errors": 3, "give_up": 3}
    assert redis_client.ttl("sfr:timeline") > 0  # a TTL on everything


def test_kinds_recorded(store: Store) -> None:
    timeline = Timeline(store, clock=Clock())
    timeline.hook(_event(EventKind.REFRESH))
    timeline.hook(_event(EventKind.RECOVERED, elapsed=1.5))
    timeline.hook(_event(EventKind.GIVE_UP, reason="deadline passed"))
    timeline.record("mode", detail="critical-only on: budget at 96 %")
    timeline.record("blocked", count=7, operation="query")
    found = {(e.kind, e.detail) for e in timeline.entries()}
    assert found == {
        ("refresh", None),
        ("recovered", None),
        ("give_up", "deadline passed"),
        ("mode", "critical-only on: budget at 96 %"),
        ("blocked", None),
    }


def test_holds_no_secret(store: Store) -> None:
    timeline = Timeline(store, clock=Clock())
    token = "00D5g000004XYZA!AQ4AQFakeTokenValue.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef"
    timeline.record("mode", detail=f"switched by a script with access_token={token}")
    timeline.hook(_event(EventKind.GIVE_UP, reason=f"Authorization: Bearer {token}"))
    raw = b"".join(store.newest("timeline", 100))
    assert b"AQ4AQFakeTokenValue" not in raw
    assert all("[REDACTED]" in (e.detail or "") for e in timeline.entries())


def test_long_text_is_cut(store: Store) -> None:
    timeline = Timeline(store, clock=Clock())
    timeline.record("mode", detail="x" * 5000)
    (entry,) = timeline.entries()
    assert entry.detail is not None
    assert len(entry.detail) == 200


def test_bounded_by_batches(store: Store) -> None:
    clock = Clock()
    timeline = Timeline(store, max_batches=3, flush_every=0, clock=clock)
    for _ in range(10):
        timeline.hook(_event(EventKind.CLASSIFIED))
        clock.now += 60
    assert len(store.newest("timeline", 100)) == 3
    assert sum(e.count for e in timeline.entries()) == 3


def test_bounded_by_age(store: Store) -> None:
    clock = Clock()
    timeline = Timeline(store, max_age=3600, clock=clock)
    timeline.hook(_event(EventKind.CLASSIFIED))
    timeline.flush()
    clock.now += 1800
    timeline.hook(_event(EventKind.CLASSIFIED, BUG))
    assert len(timeline.entries()) == 2
    clock.now += 1900
    assert [e.code for e in timeline.entries()] == ["MALFORMED_QUERY"]
    assert [e.code for e in timeline.entries(since=0)] == ["MALFORMED_QUERY"]


def test_since_filters(store: Store) -> None:
    clock = Clock()
    timeline = Timeline(store, clock=clock)
    timeline.hook(_event(EventKind.CLASSIFIED))
    clock.now += 600
    timeline.hook(_event(EventKind.CLASSIFIED, BUG))
    assert [e.code for e in timeline.entries(since=clock.now - 60)] == ["MALFORMED_QUERY"]


def test_damaged_batches_are_skipped(store: Store) -> None:
    timeline = Timeline(store, clock=Clock())
    timeline.hook(_event(EventKind.CLASSIFIED))
    timeline.flush()
    store.push("timeline", b"\x00 not json", limit=10, ttl=60)
    store.push(
        "timeline", json.dumps({"entries": [{"kind": "errors"}, 3]}).encode(), limit=10, ttl=60
    )
    assert [e.count for e in timeline.entries()] == [1]


def test_a_store_that_is_down_keeps_the_counts() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = RedisStore.from_url(f"redis://127.0.0.1:{port}/0")
    timeline = Timeline(down, clock=Clock())
    timeline.hook(_event(EventKind.CLASSIFIED))
    timeline.flush()  # does not raise
    memory = MemoryStore()
    timeline.store = memory  # the same counts, once a store answers
    assert [e.count for e in timeline.entries()] == [1]


def test_entry_round_trips() -> None:
    entry = Entry(1.0, 61.0, "errors", 4, "ROW_LOCK", "UNABLE_TO_LOCK_ROW", "query")
    assert Entry.from_json(json.loads(json.dumps(entry.to_json()))) == entry
    assert Entry.from_json({"at": "x"}) is None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="positive"):
        Timeline(MemoryStore(), window=0)


def test_a_client_counts_into_the_fleet_timeline(redis_url: str, redis_client: redis.Redis) -> None:
    from sfresilience import ResilientClient, Settings  # noqa: PLC0415
    from sfresilience.testing import FakeSalesforce  # noqa: PLC0415

    with FakeSalesforce(contacts=3) as org:
        client = ResilientClient(
            org.client(), settings=Settings(redis_url=redis_url), sleep=lambda _: None
        )
        org.faults.server_errors(2, status=500)
        client.query("SELECT Id FROM Contact")
    timeline_for(shared_store(redis_url)).flush()  # the process's one timeline for that Redis
    on_call = Timeline(RedisStore.from_url(redis_url))
    kinds = {(e.kind, e.category): e.count for e in on_call.entries()}
    assert kinds[("errors", "SERVER_ERROR")] == 2
    assert kinds[("retry", "SERVER_ERROR")] == 2
    assert kinds[("recovered", "SERVER_ERROR")] == 1


def test_a_copied_hook_counts_into_the_same_timeline(redis_url: str) -> None:
    import copy as copying  # noqa: PLC0415

    hook = TimelineHook(None, redis_url)
    copy = copying.deepcopy(hook)  # as a copied or unpickled client's hook would be
    assert copy.timeline is hook.timeline
