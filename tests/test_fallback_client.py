"""The fallback wired into ResilientClient: real HTTP to the fake org, a real redis-server."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis

from sfresilience import Event, EventKind, ResilientClient, Settings, freshness
from sfresilience._fallback import fallback_of
from sfresilience._fallback._wiring import instance_key
from sfresilience._modes import set_fleet_switch
from sfresilience._store import MemoryStore, RedisStore
from sfresilience._trust_status import remembered_instance_key
from sfresilience.exceptions import CircuitOpen, FallbackUnavailable, WriteRefused
from sfresilience.testing import FakeSalesforce, FakeTrust


Q = "SELECT Id, Name FROM Contact LIMIT 5"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(contacts=20) as org:
        yield org


def queries(fake: FakeSalesforce) -> int:
    """Requests that reached the fake org's query endpoint."""
    return sum("/query" in r.path for r in fake.request_log)


def sent(fake: FakeSalesforce) -> int:
    return len(fake.request_log)


def build(
    fake: FakeSalesforce, clock: FakeClock, events: list[Event] | None = None, **kw: Any
) -> ResilientClient:
    kw.setdefault("settings", Settings(retry_attempts=1))
    hook: Callable[[Event], None] = (events if events is not None else []).append
    return ResilientClient(fake.client(), clock=clock, sleep=clock.sleep, on_event=hook, **kw)


def reason(result: object) -> str:
    found = freshness(result)
    assert found is not None, "expected a result served from the fallback cache"
    return found.reason


def warm(client: ResilientClient, soql: str = Q) -> Any:
    result = client.query(soql)
    assert freshness(result) is None  # live
    assert fallback_of(client).flush(5)
    return result


class TestOutage:
    def test_cached_reads_are_served_and_the_breaker_stops_calls(
        self, fake: FakeSalesforce
    ) -> None:
        """100 % failure: reads served and marked; after 5 outcomes nothing more is sent."""
        clock, events = FakeClock(), []  # type: ignore[var-annotated]
        client = build(fake, clock, events)
        live = warm(client)
        fake.faults.server_errors(status=503)
        before = queries(fake)
        for _ in range(12):
            served = client.query(Q)
            assert served == live
            found = freshness(served)
            assert found is not None
            assert found.stale
        assert 5 == queries(fake) - before  # the breaker's threshold, then none
        assert "breaker open" in reason(client.query(Q))
        kinds = [event.kind for event in events]
        assert EventKind.BREAKER_OPENED in kinds
        assert EventKind.SERVED_FROM_CACHE in kinds
        mode = client.mode
        assert "fallback" == mode.effective
        assert "breaker" in {reason.source for reason in mode.reasons}
        with pytest.raises(CircuitOpen):
            client.query("SELECT Id FROM Account")  # nothing cached
        assert 5 == queries(fake) - before

    def test_recovery_closes_through_one_probe(self, fake: FakeSalesforce) -> None:
        clock, events = FakeClock(), []  # type: ignore[var-annotated]
        client = build(fake, clock, events)
        warm(client)
        fake.faults.server_errors(status=503)
        for _ in range(6):
            client.query(Q)
        fake.faults.clear()
        before = queries(fake)
        client.query(Q)
        assert 0 == queries(fake) - before  # still open: nothing sent
        clock.now += 31  # past open_for
        assert freshness(client.query(Q)) is None  # the probe, live
        assert 1 == queries(fake) - before
        kinds = [event.kind for event in events]
        assert kinds.index(EventKind.BREAKER_HALF_OPEN) < kinds.index(EventKind.BREAKER_CLOSED)
        assert "normal" == client.mode.effective
        for _ in range(3):
            assert freshness(client.query(Q)) is None
        assert 4 == queries(fake) - before

    def test_writes_are_refused_naming_the_mode(self, fake: FakeSalesforce) -> None:
        clock, events = FakeClock(), []  # type: ignore[var-annotated]
        client = build(fake, clock, events)
        warm(client)
        fake.faults.server_errors(status=503)
        for _ in range(5):
            client.query(Q)
        before = sent(fake)
        with pytest.raises(WriteRefused, match=r"Contact\.create not sent: breaker") as refused:
            client.Contact.create({"LastName": "Late"})
        assert "breaker" == refused.value.mode
        with pytest.raises(WriteRefused):
            client.restful("sobjects/Contact", method="POST", json={"LastName": "x"})
        assert before == sent(fake)
        assert EventKind.WRITE_REFUSED in [event.kind for event in events]

    def test_every_kept_read_is_served_when_connections_are_refused(
        self, fake: FakeSalesforce
    ) -> None:
        """query_all, an sObject's get and describe, and the client's describe."""
        clock = FakeClock()
        client = build(fake, clock)
        some_id = client.query(Q)["records"][0]["Id"]
        reads: dict[str, Callable[[], Any]] = {
            "query_all": lambda: client.query_all("SELECT Id FROM Contact"),
            "get": lambda: client.Contact.get(some_id),
            "sobject describe": client.Contact.describe,
            "describe": client.describe,
        }
        live = {name: read() for name, read in reads.items()}
        assert 20 == len(live["query_all"]["records"])
        assert fallback_of(client).flush(5)
        fake.faults.outage()
        for name, read in reads.items():
            served = read()
            assert served == live[name], name
            assert freshness(served) is not None, name


class TestForcedFallback:
    def test_sf_fallback_mode_sends_zero_requests(
        self, fake: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        clock = FakeClock()
        client = build(fake, clock)
        live = warm(client)
        monkeypatch.setenv("SF_FALLBACK_MODE", "true")
        before = sent(fake)
        served = client.query(Q)
        assert served == live
        assert "SF_FALLBACK_MODE" in reason(served)
        with pytest.raises(FallbackUnavailable, match="nothing usable cached"):
            client.query("SELECT Id FROM Account")
        with pytest.raises(FallbackUnavailable):
            client.search("FIND {x}")  # not kept: refused all the same
        with pytest.raises(WriteRefused) as refused:
            client.Contact.update("003000000000001", {"LastName": "x"})
        assert "fallback" == refused.value.mode
        assert before == sent(fake)
        mode = client.mode
        assert "fallback" == mode.effective
        assert ["env"] == [reason.source for reason in mode.reasons]
        monkeypatch.setenv("SF_FALLBACK_MODE", "false")
        assert freshness(client.query(Q)) is None

    def test_settings_pin_fallback_and_a_bad_toggle_names_itself(
        self, fake: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        client = build(fake, FakeClock(), settings=Settings(fallback_mode=True))
        with pytest.raises(FallbackUnavailable, match="fallback_mode=True"):
            client.query(Q)
        assert 0 == queries(fake)
        monkeypatch.setenv("SF_FALLBACK_MODE", "perhaps")
        with pytest.raises(ValueError, match="SF_FALLBACK_MODE"):
            build(fake, FakeClock()).query(Q)


# --- Redis --------------------------------------------------------------------------------


def redis_client_of(fake: FakeSalesforce, url: str, namespace: str, **kw: Any) -> ResilientClient:
    store = RedisStore.from_url(url, namespace=namespace)
    return build(fake, FakeClock(), store=store, **kw)


class TestRedis:
    def test_a_corrupted_entry_is_a_miss_and_a_warning(
        self,
        fake: FakeSalesforce,
        redis_url: str,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        namespace = f"t{uuid.uuid4().hex[:8]}"
        client = redis_client_of(fake, redis_url, namespace)
        warm(client)
        raw = redis.Redis.from_url(redis_url)
        keys = list(raw.scan_iter(f"{namespace}:cache:*"))
        assert 1 == len(keys)
        raw.set(keys[0], b"j1:{not json", keepttl=True)
        monkeypatch.setenv("SF_FALLBACK_MODE", "true")
        with (
            caplog.at_level(logging.WARNING, logger="sfresilience"),
            pytest.raises(FallbackUnavailable),
        ):
            client.query(Q)
        assert "unreadable" in caplog.text
        raw.close()

    def test_two_orgs_in_one_redis_stay_isolated(
        self, redis_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        namespace = f"t{uuid.uuid4().hex[:8]}"
        with FakeSalesforce(contacts=5, seed=1) as one, FakeSalesforce(contacts=5, seed=2) as two:
            first = redis_client_of(one, redis_url, namespace)
            second = redis_client_of(two, redis_url, namespace)
            assert one.org.org_id != two.org.org_id
            mine = warm(first)
            theirs = warm(second, "SELECT Id FROM Contact LIMIT 1")
            monkeypatch.setenv("SF_FALLBACK_MODE", "true")
            assert mine == first.query(Q)
            with pytest.raises(FallbackUnavailable):
                second.query(Q)  # the first org's entry is not the second's
            assert theirs == second.query("SELECT Id FROM Contact LIMIT 1")
            with pytest.raises(FallbackUnavailable):
                first.query("SELECT Id FROM Contact LIMIT 1")


@contextlib.contextmanager
def redis_on(binary: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A redis-server on *port* again (the killed one's), without persistence."""
    command = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
    probe = redis.Redis(port=port)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.ConnectionError):
                probe.ping()
                break
            time.sleep(0.01)  # sleep-ok: polling an external process, not waiting for time
        yield process
    finally:
        probe.close()
        process.terminate()
        process.wait(timeout=10)


class TestRedisDies:
    def test_killing_redis_loses_no_call_and_the_cache_comes_back(
        self,
        fake: FakeSalesforce,
        start_redis: Callable[..., contextlib.AbstractContextManager[Any]],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        clock = FakeClock()
        with start_redis() as server:
            client = build(fake, clock, settings=Settings(retry_attempts=1, redis_url=server.url))
            live = warm(client)
            server.process.kill()
            server.process.wait(timeout=10)
            for _ in range(10):  # the primary path: every read live, none lost
                assert live == client.query(Q)
                assert freshness(client.query(Q)) is None
            assert fallback_of(client).flush(5)
            monkeypatch.setenv("SF_FALLBACK_MODE", "true")
            with pytest.raises(FallbackUnavailable, match="unavailable"):
                client.query(Q)
            monkeypatch.delenv("SF_FALLBACK_MODE")
            with redis_on(server.binary, server.port):
                clock.now += 60  # past the cache's cooldown on Redis
                assert freshness(client.query(Q)) is None
                assert fallback_of(client).flush(5)
                monkeypatch.setenv("SF_FALLBACK_MODE", "true")
                assert live == client.query(Q)  # written to the new server, read back
                assert freshness(client.query(Q)) is not None


class TestTrustOnOpening:
    def outage(self, client: ResilientClient, fake: FakeSalesforce) -> None:
        warm(client)
        fake.faults.server_errors(status=503)
        for _ in range(5):
            client.query(Q)

    def test_a_core_incident_keeps_the_breaker_open_longer(self) -> None:
        clock = FakeClock()
        with (
            FakeTrust(instances=("NA137",)) as trust,
            FakeSalesforce(contacts=5, my_domain="na137") as fake,
        ):
            trust.open_incident("NA137", severity="major")
            settings = Settings(retry_attempts=1, status_url=trust.url)
            client = build(fake, clock, settings=settings)
            self.outage(client, fake)
            breaker = fallback_of(client).breaker
            assert breaker.status is not None
            assert breaker.status.core_incident is True
            assert any("NA137" in str(reason) for reason in client.mode.reasons)
            fake.faults.clear()
            before = queries(fake)
            clock.now += 31  # past the usual open_for, not the incident's
            assert freshness(client.query(Q)) is not None
            assert before == queries(fake)
            clock.now += 90
            assert freshness(client.query(Q)) is None  # the probe
            assert before + 1 == queries(fake)

    def test_a_host_without_its_instance_uses_the_one_triage_learnt(self) -> None:
        """A My Domain host names no instance: the breaker asks Trust about triage's."""
        clock = FakeClock()
        with (
            FakeTrust(instances=("NA137",)) as trust,
            FakeSalesforce(contacts=5) as fake,
        ):
            trust.open_incident("NA137", severity="major")
            store = MemoryStore()
            sf = fake.client()
            host = urlsplit(f"//{sf.sf_instance}").hostname or ""
            assert instance_key(sf) is None
            store.set(remembered_instance_key(host), b"NA137", ttl=3600)
            settings = Settings(retry_attempts=1, status_url=trust.url)
            client = ResilientClient(
                sf, clock=clock, sleep=clock.sleep, store=store, settings=settings
            )
            self.outage(client, fake)
            status = fallback_of(client).breaker.status
            assert status is not None
            assert (status.instance, status.core_incident) == ("NA137", True)

    def test_an_unreachable_status_api_is_unknown_never_healthy(self) -> None:
        clock = FakeClock()
        with FakeSalesforce(contacts=5, my_domain="na137") as fake:
            settings = Settings(retry_attempts=1, status_url="http://127.0.0.1:9")
            client = build(fake, clock, settings=settings)
            self.outage(client, fake)
            breaker = fallback_of(client).breaker
            assert breaker.status is not None
            assert breaker.status.core_incident is None
            assert "unreachable" in breaker.describe()
            assert "fallback" == client.mode.effective


class TestFleetSwitch:
    def test_the_fleet_switch_forces_fallback_with_its_reason_and_expiry(
        self, fake: FakeSalesforce
    ) -> None:
        store = MemoryStore()
        client = build(fake, FakeClock(), store=store)
        live = warm(client)
        set_fleet_switch(store, "fallback", on=True, reason="Trust 5968", duration=3600)
        fresh = build(fake, FakeClock(), store=store)  # the switch is re-read each second
        before = sent(fake)
        assert live == fresh.query(Q)
        assert "Trust 5968" in reason(fresh.query(Q))
        (why,) = fresh.mode.reasons
        assert ("fallback", "fleet switch") == (why.mode, why.source)
        assert "until" in why.detail
        assert why.since is not None
        with pytest.raises(WriteRefused, match="Trust 5968"):
            fresh.Contact.create({"LastName": "x"})
        assert before == sent(fake)
        set_fleet_switch(store, "fallback", on=False)
        assert "normal" == build(fake, FakeClock(), store=store).mode.effective
