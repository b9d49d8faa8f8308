"""The shared-state store: one behavioural suite, run on memory and on a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from sfresilience._store import (
    MemoryStore,
    RedisStore,
    Store,
    StoreUnavailable,
    open_store,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore(namespace="test")
        return
    client = request.getfixturevalue("redis_client")
    yield RedisStore(client, namespace="test")


def test_set_then_get(store: Store) -> None:
    """A stored value reads back byte for byte."""
    store.set("k", b"\x00value", ttl=60)
    assert b"\x00value" == store.get("k")


def test_absent_key_is_none(store: Store) -> None:
    """Reading a key never written gives None."""
    assert store.get("missing") is None


def test_delete_forgets(store: Store) -> None:
    """A deleted key reads as absent, and deleting it again is fine."""
    store.set("k", b"v", ttl=60)
    store.delete("k")
    store.delete("k")
    assert store.get("k") is None


def test_increment_counts_from_zero(store: Store) -> None:
    """Increments add up from zero."""
    assert 1 == store.increment("n", ttl=60)
    assert 6 == store.increment("n", 5, ttl=60)


def test_push_keeps_the_newest(store: Store) -> None:
    """A capped list keeps its newest items, newest first."""
    for number in range(5):
        store.push("log", str(number).encode(), limit=3, ttl=60)
    assert [b"4", b"3", b"2"] == store.newest("log", 10)
    assert [b"4"] == store.newest("log", 1)


def test_ping_succeeds_on_a_live_store(store: Store) -> None:
    """A reachable store answers ping."""
    store.ping()


@pytest.mark.redis
def test_redis_keys_are_namespaced_and_expire(redis_client: redis.Redis) -> None:
    """Every key written lands under the namespace with a TTL."""
    store = RedisStore(redis_client, namespace="ns")
    store.set("a", b"1", ttl=30)
    store.increment("b", ttl=30)
    store.push("c", b"x", limit=5, ttl=30)
    keys = sorted(key.decode() for key in redis_client.keys("*") if isinstance(key, bytes))
    assert ["ns:a", "ns:b", "ns:c"] == keys
    assert all(0 < redis_client.pttl(key) <= 30_000 for key in keys)


@pytest.mark.redis
def test_increment_sets_ttl_only_when_created(redis_client: redis.Redis) -> None:
    """A counter's TTL is set on creation and not pushed back by later increments."""
    store = RedisStore(redis_client, namespace="ns")
    store.increment("n", ttl=30)
    redis_client.pexpire("ns:n", 5_000)
    store.increment("n", ttl=30)
    assert redis_client.pttl("ns:n") <= 5_000


@pytest.mark.redis
def test_counter_that_returns_to_its_first_value_keeps_its_ttl(redis_client: redis.Redis) -> None:
    """A counter brought back to the increment's value does not get a fresh TTL."""
    store = RedisStore(redis_client, namespace="ns")
    store.increment("n", 2, ttl=30)
    store.increment("n", -2, ttl=30)
    redis_client.pexpire("ns:n", 5_000)
    store.increment("n", 2, ttl=30)
    assert 0 < redis_client.pttl("ns:n") <= 5_000


def test_memory_entries_expire_by_the_injected_clock() -> None:
    """Entries vanish once the injected clock passes their TTL: no waiting involved."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.set("k", b"v", ttl=10)
    store.increment("n", ttl=10)
    store.push("l", b"x", limit=3, ttl=10)
    clock.now += 9.9
    assert b"v" == store.get("k")
    clock.now += 0.2
    assert (None, [], 1) == (
        store.get("k"),
        store.newest("l", 3),
        store.increment("n", ttl=10),
    )


def test_redis_down_is_a_specific_error() -> None:
    """An unreachable Redis raises StoreUnavailable naming the server, not a RedisError."""
    store = RedisStore.from_url("redis://:hunter2@127.0.0.1:1/0")
    with pytest.raises(StoreUnavailable, match="unavailable") as caught:
        store.get("k")
    assert "hunter2" not in str(caught.value)


@pytest.mark.redis
def test_open_store_picks_the_backend(redis_url: str) -> None:
    """A Redis URL selects Redis; none selects the embedded store."""
    assert isinstance(open_store(redis_url), RedisStore)
    assert isinstance(open_store(None), MemoryStore)
