"""Shared state on a Redis Cluster of three masters started by the test session.

Every multi-key script must find its keys in one slot (hash tags), or Redis answers
CROSSSLOT; the failover store would hide that behind its local view, so each test
also checks that the store never failed over.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from tests.chaos.matrix import Clock
from tests.chaos.servers import Cluster, StartRedis, start_cluster

from sfresilience import ResilientClient, Settings, critical, freshness
from sfresilience._cache import FallbackCache, Scope, StoreBackend
from sfresilience._modes import CRITICAL_ONLY, set_fleet_switch
from sfresilience._store import Exchange, FailoverStore, RedisStore, StoreUnavailable, Thresholds
from sfresilience._timeline import Timeline
from sfresilience.exceptions import ConfigurationError, CriticalOnlyBlocked
from sfresilience.testing import FakeSalesforce


pytestmark = pytest.mark.redis

SOQL = "SELECT Id FROM Account LIMIT 1"


@pytest.fixture
def namespace() -> str:
    return f"c{uuid.uuid4().hex[:8]}"


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(accounts=2, contacts=6, lock_hold=0.2, lock_wait=0.0) as org:
        yield org


def _ours(cluster: Cluster, namespace: str) -> dict[int, list[str]]:
    return {
        port: [key for key in keys if key.startswith(f"{namespace}:")]
        for port, keys in cluster.keys().items()
    }


def test_every_store_operation_works_across_the_masters(
    redis_cluster: Cluster, namespace: str
) -> None:
    """Many hash tags spread over all three masters; every key has a TTL."""
    store = RedisStore.from_url(redis_cluster.url, namespace=namespace)
    for tag in range(30):
        store.set(f"k:{{{tag}}}", b"v", ttl=30)
        assert b"v" == store.get(f"k:{{{tag}}}")
        assert 5 == store.increment(f"n:{{{tag}}}", 5, ttl=30)
        store.push(f"l:{{{tag}}}", b"a", limit=2, ttl=30)
        assert [b"a"] == store.newest(f"l:{{{tag}}}", 5)
        assert store.acquire(f"r{tag}", b"me", ttl=30)
        assert store.release(f"r{tag}", b"me")
        assert store.wait_released(f"r{tag}", 0.01)
        assert store.claim(f"c:{{{tag}}}", ttl=30)
        assert not store.claim(f"c:{{{tag}}}", ttl=30)
    store.delete("k:{0}")
    assert store.get("k:{0}") is None
    spread = _ours(redis_cluster, namespace)
    assert all(spread.values()), f"some master holds none of our keys: {spread}"
    for index, keys in enumerate(spread.values()):
        node = redis_cluster.node(index)
        assert all(0 < int(node.pttl(key)) for key in keys)
        node.close()


def test_the_budget_ledger_script_runs_in_one_slot(redis_cluster: Cluster, namespace: str) -> None:
    """The ledger and its per-caller counters (two keys, one script) on a Cluster."""
    store = RedisStore.from_url(redis_cluster.url, namespace=namespace)
    for org in ("00D000000000001", "00D000000000002", "00D000000000003"):
        key = f"budget:{{{org}}}"
        exchange = Exchange(
            reading=None,
            release=0,
            want=3,
            critical=False,
            thresholds=Thresholds(warn=0.8, critical=0.95, margin=0.01),
            skew=1.0,
            now=1_700_000_000.0,
            writer="w1",
            lease_ttl=30.0,
            spent={"etl": 2},
        )
        state = store.exchange_ledger(
            key, exchange, ttl=60, spent_key=f"{key}:spent:1", spent_ttl=60
        )
        assert 3 == state.granted
        assert {"etl": 2} == store.totals([f"{key}:spent:1", f"{key}:spent:0"])


def _fleet_client(fake: FakeSalesforce, url: str) -> tuple[ResilientClient, FailoverStore]:
    store = FailoverStore(RedisStore.from_url(url))
    client = ResilientClient(fake.client(), settings=Settings(redis_url=url), store=store)
    return client, store


def test_a_fleet_shares_budget_modes_locks_and_timeline_on_a_cluster(
    fake: FakeSalesforce, redis_cluster: Cluster
) -> None:
    """Two clients with stores of their own (two processes' worth) share only the Cluster."""
    here, here_store = _fleet_client(fake, redis_cluster.url)
    there, there_store = _fleet_client(fake, redis_cluster.url)
    here.query(SOQL)
    there.query(SOQL)
    contact = str(fake.org.records("Contact")[0]["Id"])
    writer = threading.Thread(target=here.Contact.update, args=(contact, {"Title": "h"}))
    writer.start()
    there.Contact.update(contact, {"Title": "t"})
    writer.join()
    set_fleet_switch(here_store, CRITICAL_ONLY, on=True, reason="chaos", duration=30)
    late, late_store = _fleet_client(fake, redis_cluster.url)  # reads the switch at once
    # The read the others made is in the fallback cache on the Cluster: served from it.
    found = freshness(late.query(SOQL))
    assert found is not None
    assert "critical-only" in found.reason
    with pytest.raises(CriticalOnlyBlocked):
        late.query("SELECT Id FROM Contact")
    with critical():
        assert freshness(late.query("SELECT Id FROM Contact")) is None
    set_fleet_switch(here_store, CRITICAL_ONLY, on=False)
    failures = here_store.failures + there_store.failures + late_store.failures
    assert 0 == failures, "a store fell back to memory"
    keys = [key for keys in redis_cluster.keys().values() for key in keys]
    assert any(key.startswith("sfr:budget:{") for key in keys), keys
    assert [] == [r for r in fake.request_log if r.status >= 500 and r.method == "GET"]


def test_the_timeline_written_by_one_is_read_by_another(
    redis_cluster: Cluster, namespace: str
) -> None:
    writer = Timeline(RedisStore.from_url(redis_cluster.url, namespace=namespace))
    writer.record("retry", category="lock_contention", operation="update")
    writer.flush()
    reader = Timeline(RedisStore.from_url(redis_cluster.url, namespace=namespace))
    assert [("retry", 1)] == [(entry.kind, entry.count) for entry in reader.entries()]


def test_cache_entries_of_several_orgs_live_on_the_cluster(
    redis_cluster: Cluster, namespace: str
) -> None:
    store = RedisStore.from_url(redis_cluster.url, namespace=namespace)
    for number in range(6):
        cache = FallbackCache(StoreBackend(store), scope=Scope(f"00D00000000000{number}", "59.0"))
        key = cache.key("query", SOQL)
        cache.put_now(key, {"totalSize": number, "done": True, "records": []})
        entry = cache.lookup(key)
        assert entry is not None
        assert number == entry.value["totalSize"]
    assert sum(len(keys) for keys in _ours(redis_cluster, namespace).values()) == 6


def test_settings_take_a_cluster_url_and_refuse_an_unknown_scheme() -> None:
    assert "redis+cluster://h:1/0" == Settings(redis_url="redis+cluster://h:1/0").redis_url
    assert Settings(redis_url="rediss+cluster://h:1/0").redis_url
    with pytest.raises(ConfigurationError, match=r"SFRESILIENCE_REDIS_URL.*redis\+cluster://"):
        Settings(redis_url="cluster://h:1")


def test_a_cluster_nobody_answers_is_unavailable_not_a_crash() -> None:
    """Building the Cluster client contacts the nodes: that failure is StoreUnavailable,
    raised on first use, and the failover store serves from memory instead."""
    store = FailoverStore(RedisStore.from_url("redis+cluster://:s3cret-pw@127.0.0.1:9/0"))
    assert 1 == store.increment("n", ttl=5)
    assert store.degraded
    with pytest.raises(StoreUnavailable) as caught:
        store.primary.ping()
    assert "s3cret-pw" not in f"{caught.value} {store!r}"


@pytest.mark.chaos
def test_a_master_killed_mid_run_costs_no_call(
    fake: FakeSalesforce, start_redis: StartRedis, caplog: pytest.LogCaptureFixture
) -> None:
    """A Cluster of its own loses a master: calls go on, on the local view, each sent once."""
    with start_cluster(start_redis) as cluster:
        store = FailoverStore(RedisStore.from_url(cluster.url))
        wall = Clock(time.time)
        client = ResilientClient(fake.client(), settings=Settings(), store=store, wall_clock=wall)
        for _ in range(3):
            wall.advance(1.1)  # a budget trade per call: each call talks to the Cluster
            client.query(SOQL)
        assert not store.degraded
        owner = _master_of(cluster, "sfr:budget:{")
        cluster.kill(owner)
        with caplog.at_level(logging.WARNING, logger="sfresilience"):
            for _ in range(5):
                wall.advance(1.1)
                client.query(SOQL)
        assert store.degraded
        assert [r for r in caplog.records if "local view" in r.getMessage()]
        assert 8 == sum(1 for r in fake.request_log if r.counted)


def _master_of(cluster: Cluster, prefix: str) -> int:
    for index, keys in enumerate(cluster.keys().values()):
        if any(key.startswith(prefix) for key in keys):
            return index
    raise AssertionError(f"no master holds a key starting {prefix}")
