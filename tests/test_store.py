"""The shared-state store: one behavioural suite, run on memory and on a real Redis."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfresilience._store import (
    CRITICAL,
    EXHAUSTED,
    NORMAL,
    WARN,
    Exchange,
    FailoverStore,
    LedgerState,
    MemoryStore,
    Reading,
    RedisStore,
    Store,
    StoreUnavailable,
    Thresholds,
    shared_store,
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
def test_shared_store_picks_the_backend_once_per_process(redis_url: str) -> None:
    """A Redis URL selects Redis behind a failover; none selects the embedded store."""
    store = shared_store(redis_url)
    assert isinstance(store, FailoverStore)
    assert isinstance(store.primary, RedisStore)
    assert store is shared_store(redis_url)
    assert isinstance(shared_store(None), MemoryStore)


# The API-usage ledger -------------------------------------------------------

THRESHOLDS = Thresholds(warn=0.8, critical=0.95)


def _reading(used: int, *, limit: int = 100, sent: float = 10.0, writer: str = "w1") -> Reading:
    return Reading(
        used=used, limit=limit, sent=sent, received=sent + 0.1, writer=writer, source="header"
    )


def _exchange(
    store: Store,
    *,
    reading: Reading | None = None,
    release: int = 0,
    want: int = 0,
    critical: bool = False,
    now: float = 20.0,
    writer: str = "w1",
    spent: dict[str, int] | None = None,
) -> LedgerState:
    return store.exchange_ledger(
        "budget:{org}",
        Exchange(
            reading=reading,
            release=release,
            want=want,
            critical=critical,
            thresholds=THRESHOLDS,
            now=now,
            writer=writer,
            lease_ttl=900,
            spent=spent or {},
        ),
        ttl=60,
        spent_key="budget:{org}:spent:1",
        spent_ttl=60,
    )


def test_ledger_admits_blind_until_the_allocation_is_known(store: Store) -> None:
    """Before any reading, reservations are granted (and counted)."""
    state = _exchange(store, want=3)
    assert (None, 3, 3) == (state.reading, state.granted, state.reserved)


def test_ledger_grants_only_up_to_the_cap(store: Store) -> None:
    """used + reserved never passes the cap, however much is asked for."""
    _exchange(store, reading=_reading(90), want=0)
    first = _exchange(store, want=3)
    second = _exchange(store, want=3)
    assert (3, 2, 95) == (first.granted, second.granted, second.estimate)
    assert 0 == _exchange(store, want=1).granted
    assert 5 == _exchange(store, want=10, critical=True).granted  # the critical reserve


def test_ledger_grants_nothing_while_a_held_level_forbids_it(store: Store) -> None:
    """Inside the margin below a mark, the level still on keeps refusing."""
    _exchange(store, reading=_reading(95, sent=1.0))
    state = _exchange(store, reading=_reading(94, sent=2.0), want=1)
    assert (CRITICAL, 0) == (state.level, state.granted)
    _exchange(store, reading=_reading(100, sent=3.0))
    held = _exchange(store, reading=_reading(99, sent=4.0), want=1, critical=True)
    assert (EXHAUSTED, 0) == (held.level, held.granted)


def test_ledger_release_frees_reservations(store: Store) -> None:
    """Released reservations can be granted again."""
    _exchange(store, reading=_reading(90), want=5)
    state = _exchange(store, release=5, want=5)
    assert (5, 5) == (state.granted, state.reserved)


def test_ledger_release_only_frees_the_writers_own_reservations(store: Store) -> None:
    """A writer cannot give back what another writer holds."""
    _exchange(store, reading=_reading(0), want=4, writer="a")
    state = _exchange(store, release=10, want=0, writer="b")
    assert 4 == state.reserved


def test_ledger_forgets_reservations_of_a_silent_writer(store: Store) -> None:
    """A writer that has not traded for lease_ttl seconds no longer holds anything."""
    _exchange(store, reading=_reading(0), want=4, writer="dead", now=20.0)
    alive = _exchange(store, want=1, writer="live", now=919.0)
    lapsed = _exchange(store, want=0, writer="live", now=921.0)
    assert (5, 1) == (alive.reserved, lapsed.reserved)


def test_ledger_keeps_the_higher_of_two_overlapping_readings(store: Store) -> None:
    """A lower count whose request left before the last answer came is an overtaken answer."""
    _exchange(store, reading=_reading(50, sent=10.0))
    state = _exchange(store, reading=_reading(49, sent=10.05, writer="w2"))
    assert state.reading is not None
    assert 50 == state.reading.used


def test_ledger_accepts_a_lower_count_sent_after_the_last_answer(store: Store) -> None:
    """The rolling window freeing calls shows as a lower, newer reading."""
    _exchange(store, reading=_reading(50, sent=10.0))
    same_writer = _exchange(store, reading=_reading(40, sent=10.2))
    other_writer = _exchange(store, reading=_reading(30, sent=11.5, writer="w2"))
    assert same_writer.reading is not None
    assert other_writer.reading is not None
    assert (40, 30) == (same_writer.reading.used, other_writer.reading.used)


def test_ledger_levels_switch_on_at_their_marks_and_off_past_the_margin(store: Store) -> None:
    """Levels follow the estimate; one that is on waits for the margin below its mark."""
    levels = []
    for used, sent in ((79, 1), (80, 2), (95, 3), (100, 4), (99, 5), (98, 6), (79, 7), (78, 8)):
        state = _exchange(store, reading=_reading(used, sent=float(sent)))
        levels.append(state.level)
    assert [NORMAL, WARN, CRITICAL, EXHAUSTED, EXHAUSTED, CRITICAL, WARN, NORMAL] == levels


def test_ledger_remembers_since_when_each_level_is_on(store: Store) -> None:
    """`since` keeps the first time a level switched on, and clears when it goes off."""
    _exchange(store, reading=_reading(96, sent=1.0), now=100.0)
    on = _exchange(store, reading=_reading(97, sent=2.0), now=200.0)
    off = _exchange(store, reading=_reading(10, sent=3.0), now=300.0)
    assert (100.0, 100.0, None) == on.since
    assert ((None, None, None), CRITICAL, NORMAL) == (off.since, off.previous_level, off.level)


def test_ledger_counts_spend_per_caller(store: Store) -> None:
    """Per-caller spend adds up across exchanges."""
    _exchange(store, spent={"sync": 2, "web": 1})
    _exchange(store, spent={"sync": 3})
    assert {"sync": 5, "web": 1} == store.totals(["budget:{org}:spent:1", "budget:{org}:spent:2"])


def test_claim_is_taken_once_until_it_expires() -> None:
    """A claim is exclusive while it lives."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    assert (True, False) == (store.claim("probe", ttl=5), store.claim("probe", ttl=5))
    clock.now += 6
    assert store.claim("probe", ttl=5)


@pytest.mark.redis
def test_redis_claim_is_exclusive(redis_client: redis.Redis) -> None:
    """Two claims on one key: only the first wins."""
    store = RedisStore(redis_client, namespace="ns")
    assert (True, False) == (store.claim("probe", ttl=5), store.claim("probe", ttl=5))


@pytest.mark.redis
def test_redis_ledger_keys_share_a_hash_tag_and_expire(redis_client: redis.Redis) -> None:
    """Ledger and spend keys are namespaced, hash-tagged and carry a TTL."""
    store = RedisStore(redis_client, namespace="ns")
    _exchange(store, reading=_reading(5), want=1, spent={"sync": 1})
    keys = sorted(key.decode() for key in redis_client.keys("*") if isinstance(key, bytes))
    assert ["ns:budget:{org}", "ns:budget:{org}:spent:1"] == keys
    assert all(0 < redis_client.pttl(key) <= 60_000 for key in keys)


# The Lua script and the Python reference agree, step by step ------------------

_writers = st.sampled_from(["w1", "w2", "w3"])
_readings = st.one_of(
    st.none(),
    st.builds(
        Reading,
        used=st.integers(0, 120),
        limit=st.just(100),
        sent=st.floats(0, 50, allow_nan=False),
        received=st.floats(50, 60, allow_nan=False),
        writer=_writers,
        source=st.just("header"),
    ),
)
_exchanges = st.builds(
    Exchange,
    reading=_readings,
    release=st.integers(0, 5),
    want=st.integers(0, 8),
    critical=st.booleans(),
    thresholds=st.just(THRESHOLDS),
    now=st.integers(0, 2000).map(float),
    skew=st.just(1.0),
    writer=_writers,
    lease_ttl=st.just(900.0),
)


@pytest.mark.redis
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(_exchanges, min_size=1, max_size=12))
def test_redis_ledger_matches_the_python_reference(
    redis_client: redis.Redis, steps: list[Exchange]
) -> None:
    """Random exchanges give the same state on both backends; no grant passes its cap."""
    redis_client.flushdb()
    memory, remote = MemoryStore(), RedisStore(redis_client)
    now = 0.0
    for step in steps:
        now = max(now, step.now)  # time only moves forward
        exchange = dataclasses.replace(step, now=now)
        states = [
            store.exchange_ledger("l:{o}", exchange, ttl=60, spent_key="s:{o}", spent_ttl=60)
            for store in (memory, remote)
        ]
        first, second = states
        assert (first.reading, first.reserved, first.granted, first.level, first.since) == (
            second.reading,
            second.reserved,
            second.granted,
            second.level,
            second.since,
        )
        if first.reading is not None and first.granted:
            cap = 100 if exchange.critical else 95
            assert first.reading.used + first.reserved <= cap
