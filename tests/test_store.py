"""The shared-state store: one behavioural suite, run on memory and on a real Redis."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

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


def test_a_lock_has_one_holder(store: Store) -> None:
    """A held lock cannot be taken again until its holder gives it back."""
    assert store.acquire("rec", b"one", ttl=60)
    assert not store.acquire("rec", b"two", ttl=60)
    assert store.release("rec", b"one")
    assert store.acquire("rec", b"two", ttl=60)


def test_only_the_holder_releases(store: Store) -> None:
    """A stale holder's release (its lock lapsed and passed on) frees nothing."""
    assert store.acquire("rec", b"one", ttl=60)
    assert not store.release("rec", b"other")
    assert not store.acquire("rec", b"two", ttl=60)
    assert not store.release("absent", b"one")


def test_locks_are_not_values(store: Store) -> None:
    """A lock lives beside the values: get() never returns a holder's token."""
    store.acquire("rec", b"token", ttl=60)
    assert store.get("rec") is None


def test_a_free_lock_needs_no_wait(store: Store) -> None:
    assert store.wait_released("nobody-holds-this", 5.0)


def test_a_release_wakes_a_waiter(store: Store) -> None:
    """A waiter blocked on a held lock returns as soon as it is released."""
    store.acquire("rec", b"one", ttl=60)
    woke = threading.Event()

    def wait() -> None:
        if store.wait_released("rec", 5.0):
            woke.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    store.release("rec", b"one")
    waiter.join(10)
    assert woke.is_set()


def test_a_wait_without_a_release_runs_out(store: Store) -> None:
    store.acquire("rec", b"one", ttl=60)
    assert not store.wait_released("rec", 0.01)


def test_a_memory_lock_lapses_after_its_ttl() -> None:
    """A crashed holder's lock does not stall the others for ever."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    store.acquire("rec", b"one", ttl=5)
    clock.now += 5
    assert store.acquire("rec", b"two", ttl=5)


@pytest.mark.redis
def test_redis_locks_are_namespaced_hash_tagged_and_expire(redis_client: redis.Redis) -> None:
    """The lock and its wake list share one Cluster slot, and both carry a TTL."""
    store = RedisStore(redis_client, namespace="ns")
    store.acquire("rec", b"one", ttl=5)
    assert 0 < redis_client.pttl("ns:lock:{rec}") <= 5000
    store.release("rec", b"one")
    assert redis_client.pttl("ns:lock:{rec}") == -2  # gone
    assert 0 < redis_client.pttl("ns:lock:{rec}:wake") <= 10_000


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


@pytest.mark.parametrize(
    "operation",
    [
        lambda store: store.acquire("k", b"t", ttl=1),
        lambda store: store.release("k", b"t"),
        lambda store: store.wait_released("k", 0.01),
    ],
    ids=["acquire", "release", "wait_released"],
)
def test_redis_down_is_a_specific_error_for_locks(operation: Callable[[Store], object]) -> None:
    store = RedisStore.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(StoreUnavailable, match="unavailable"):
        operation(store)


@pytest.mark.redis
def test_open_store_picks_the_backend(redis_url: str) -> None:
    """A Redis URL selects Redis; none selects the embedded store."""
    assert isinstance(open_store(redis_url), RedisStore)
    assert isinstance(open_store(None), MemoryStore)
