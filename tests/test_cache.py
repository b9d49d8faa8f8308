"""The fallback cache: envelope, keys, encryption, both backends, write-behind."""

from __future__ import annotations

import functools
import logging
import socket
import threading
import uuid
from collections import OrderedDict

import pytest
import redis
from cryptography.fernet import Fernet

from sfresilience._cache import (
    FallbackCache,
    LruBackend,
    Scope,
    StoreBackend,
    WriteBehind,
    cache_key,
    cipher_from,
    normalise_soql,
)
from sfresilience._store import RedisStore
from sfresilience.exceptions import ConfigurationError


ORG = Scope("00D000000000001", "59.0")
RESULT = OrderedDict(totalSize=1, done=True, records=[OrderedDict(Id="001", Name="Acme")])


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_store(url: str) -> RedisStore:
    client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
    return RedisStore(client, namespace=f"t{uuid.uuid4().hex[:8]}", url=url)


def test_keys_differ_by_org_version_and_query_but_not_by_whitespace() -> None:
    soql = "SELECT Id  FROM\n Account"
    key = cache_key("00DA", "59.0", "query", normalise_soql(soql))
    assert key == cache_key("00DA", "59.0", "query", normalise_soql("SELECT Id FROM Account"))
    assert key != cache_key("00DB", "59.0", "query", normalise_soql(soql))
    assert key != cache_key("00DA", "60.0", "query", normalise_soql(soql))
    assert key != cache_key("00DA", "59.0", "query_all", normalise_soql(soql))
    assert key.startswith("cache:{")
    assert key.endswith("}")


def test_round_trip_keeps_simple_salesforces_shape() -> None:
    clock = Clock()
    cache = FallbackCache(LruBackend(), scope=ORG, clock=clock)
    cache.put_now("k", RESULT)
    clock.now += 5
    entry = cache.lookup("k")
    assert entry is not None
    assert entry.value == RESULT
    assert isinstance(entry.value, OrderedDict)
    assert isinstance(entry.value["records"][0], OrderedDict)
    assert cache.age(entry) == 5


def test_max_age_bounds_what_is_served() -> None:
    clock = Clock()
    cache = FallbackCache(LruBackend(clock=clock), scope=ORG, clock=clock, max_age=60)
    cache.put_now("k", RESULT)
    clock.now += 61
    assert cache.lookup("k") is None


def test_entry_of_another_org_is_a_miss_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    backend = LruBackend()
    mine = FallbackCache(backend, scope=ORG)
    theirs = FallbackCache(backend, scope=Scope("00D000000000002", "59.0"))
    theirs.put_now("k", RESULT)
    with caplog.at_level(logging.WARNING, "sfresilience"):
        assert mine.lookup("k") is None
    assert "another org" in caplog.text
    assert mine.bad_entries == 1


@pytest.mark.parametrize(
    "raw", [b"garbage", b"j1:{not json", b'j1:{"v": 99}', b'j1:["a"]', b"\x80\x04pickle"]
)
def test_corrupted_entry_is_a_miss_and_a_rate_limited_warning(
    raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    backend = LruBackend()
    cache = FallbackCache(backend, scope=ORG)
    backend.set("k", raw, ttl=60)
    with caplog.at_level(logging.WARNING, "sfresilience"):
        assert cache.lookup("k") is None
        assert cache.lookup("k") is None
    assert len([r for r in caplog.records if "unreadable" in r.getMessage()]) == 1
    assert cache.bad_entries == 2


def test_encryption_hides_the_records_and_rotates() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    backend = LruBackend()
    FallbackCache(backend, scope=ORG, cipher=cipher_from(old)).put_now("k", RESULT)
    raw = backend.get("k")
    assert raw is not None
    assert b"Acme" not in raw
    rotated = FallbackCache(backend, scope=ORG, cipher=cipher_from(f"{new},{old}"))
    entry = rotated.lookup("k")
    assert entry is not None
    assert entry.value == RESULT
    assert FallbackCache(backend, scope=ORG, cipher=cipher_from(new)).lookup("k") is None
    assert FallbackCache(backend, scope=ORG).lookup("k") is None  # no key: cannot read


def test_plain_entry_is_refused_when_encryption_is_on() -> None:
    backend = LruBackend()
    FallbackCache(backend, scope=ORG).put_now("k", RESULT)
    sealed = FallbackCache(backend, scope=ORG, cipher=cipher_from(Fernet.generate_key().decode()))
    assert sealed.lookup("k") is None


def test_malformed_cache_key_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="SFRESILIENCE_CACHE_KEY"):
        cipher_from("not-a-key")


def test_result_that_is_not_json_is_not_kept(caplog: pytest.LogCaptureFixture) -> None:
    cache = FallbackCache(LruBackend(), scope=ORG)
    with caplog.at_level(logging.WARNING, "sfresilience"):
        cache.put_now("k", {"when": object()})
    assert cache.lookup("k") is None
    assert "not JSON" in caplog.text


class TestLru:
    def test_bounded_by_entries(self) -> None:
        lru = LruBackend(max_entries=2)
        lru.set("a", b"1", ttl=60)
        lru.set("b", b"2", ttl=60)
        lru.get("a")  # a is now the most recent
        lru.set("c", b"3", ttl=60)
        assert (lru.get("a"), lru.get("b"), lru.get("c")) == (b"1", None, b"3")
        assert lru.evictions == 1

    def test_bounded_by_bytes(self) -> None:
        lru = LruBackend(max_bytes=100)
        for number in range(50):
            lru.set(f"k{number}", b"x" * 30, ttl=60)
            assert lru.bytes <= 100
        assert len(lru) == 3
        lru.set("huge", b"x" * 200, ttl=60)
        assert lru.get("huge") is None
        assert lru.bytes <= 100

    def test_ttl_expires_and_frees_bytes(self) -> None:
        clock = Clock(0.0)
        lru = LruBackend(clock=clock)
        lru.set("a", b"1", ttl=10)
        clock.now = 10
        assert lru.get("a") is None
        assert lru.bytes == 0


class TestStoreBackend:
    @pytest.mark.redis
    def test_round_trip_through_redis_with_a_ttl(self, redis_url: str) -> None:
        store = _redis_store(redis_url)
        cache = FallbackCache(StoreBackend(store), scope=ORG, max_age=120)
        cache.put_now("k", RESULT)
        entry = cache.lookup("k")
        assert entry is not None
        assert entry.value == RESULT
        ttl = redis.Redis.from_url(redis_url).pttl(f"{store.namespace}:k")
        assert 0 < ttl <= 120_000

    def test_redis_down_is_a_miss_a_warning_and_a_pause(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        clock = Clock(0.0)
        backend = StoreBackend(
            _redis_store(f"redis://127.0.0.1:{_free_port()}/0"), cooldown=5, clock=clock
        )
        cache = FallbackCache(backend, scope=ORG)
        with caplog.at_level(logging.WARNING, "sfresilience"):
            cache.put_now("k", RESULT)
            assert cache.lookup("k") is None
        assert backend.errors == 1  # the second call was not paid as a timeout
        assert not backend.available
        assert len(caplog.records) == 1
        clock.now = 5
        assert backend.available
        assert cache.lookup("k") is None
        assert backend.errors == 2


def _note(seen: list[tuple[int, str]], number: int) -> None:
    seen.append((number, threading.current_thread().name))


class TestWriteBehind:
    def test_writes_land_in_order_off_the_callers_thread(self) -> None:
        seen: list[tuple[int, str]] = []
        writer = WriteBehind()
        for number in range(5):
            writer.submit(functools.partial(_note, seen, number))
        assert writer.flush(timeout=5)
        assert [n for n, _ in seen] == [0, 1, 2, 3, 4]
        assert {name for _, name in seen} == {"sfresilience-cache-writer"}

    def test_full_queue_drops_the_oldest_and_counts(self) -> None:
        release = threading.Event()
        started = threading.Event()
        done: list[int] = []
        writer = WriteBehind(max_pending=2)

        def blocker() -> None:
            started.set()
            release.wait(5)

        writer.submit(blocker)
        assert started.wait(5)
        for number in range(4):
            writer.submit(functools.partial(done.append, number))
        release.set()
        assert writer.flush(timeout=5)
        assert done == [2, 3]
        assert writer.dropped == 2

    def test_a_failing_write_does_not_stop_the_next(self) -> None:
        done: list[int] = []
        writer = WriteBehind()

        def fail() -> None:
            raise RuntimeError("boom")

        writer.submit(fail)
        writer.submit(lambda: done.append(1))
        assert writer.flush(timeout=5)
        assert done == [1]


def test_an_equal_answer_a_moment_later_is_not_kept_again() -> None:
    """A hot key re-read with the same answer costs no encode; a new answer always is kept."""
    clock = Clock()
    writer = WriteBehind()
    cache = FallbackCache(LruBackend(), scope=ORG, clock=clock, writer=writer)
    key = cache.key("query", normalise_soql("SELECT Id FROM Account"))
    changed = OrderedDict(RESULT, totalSize=2)
    for value, seconds_later in ((RESULT, 0.0), (RESULT, 0.5), (changed, 0.1), (changed, 1.5)):
        clock.now += seconds_later
        cache.put(key, OrderedDict(value))
    assert writer.flush(timeout=5)
    assert 3 == writer.written  # the second equal answer within a second was skipped
    entry = cache.lookup(key)
    assert entry is not None
    assert (2, clock.now) == (entry.value["totalSize"], entry.fetched_at)
