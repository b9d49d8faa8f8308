"""resilient_query end to end: the fake org over real HTTP, unmodified simple-salesforce."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sfresilience import Event, EventKind, ResilientClient, Settings, resilient_query
from sfresilience._fallback import fallback_of
from sfresilience._freshness import freshness
from sfresilience.exceptions import CircuitOpen, FallbackUnavailable
from sfresilience.testing import FakeSalesforce


ACCOUNTS = "SELECT Id, Name, BillingState FROM Account WHERE BillingState = '{}' ORDER BY Name"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(accounts=0, contacts=0) as fake:
        for state, name in (("CA", "Acme"), ("CA", "Globex"), ("NY", "Initech")):
            fake.org.create("Account", {"Name": name, "BillingState": state})
        yield fake


def resilient(
    org: FakeSalesforce, wall_clock: Clock | None = None, **settings: Any
) -> ResilientClient:
    clock = Clock()
    settings.setdefault("retry_attempts", 2)
    return ResilientClient(
        org.client(),
        settings=Settings(**settings),
        clock=clock,
        sleep=clock.sleep,
        wall_clock=wall_clock,
    )


def queries(org: FakeSalesforce) -> int:
    return sum(1 for r in org.request_log if r.path.endswith("/query/"))


class Runs:
    def __init__(self) -> None:
        self.count = 0


def accounts_function(runs: Runs, *, ttl: float = 0.0, critical: bool = False) -> Any:
    @resilient_query(key="accounts:{region}", ttl=ttl, critical=critical)
    def accounts(client: ResilientClient, region: str) -> list[str]:
        runs.count += 1
        found = client.query(ACCOUNTS.format(region))
        return [record["Name"] for record in found["records"]]

    return accounts


def settle(client: ResilientClient) -> None:
    """Wait for the write-through of what was read (it is off the caller's path)."""
    assert fallback_of(client).flush(5)


class TestLive:
    def test_a_live_result_is_the_functions_own(self, org: FakeSalesforce) -> None:
        client, runs = resilient(org), Runs()
        accounts = accounts_function(runs)
        result = accounts(client, "CA")
        assert (["Acme", "Globex"], None, 1) == (result, freshness(result), queries(org))

    def test_inside_ttl_it_is_served_without_calling(self, org: FakeSalesforce) -> None:
        client, runs = resilient(org), Runs()
        accounts = accounts_function(runs, ttl=600)
        accounts(client, "CA")
        settle(client)
        again = accounts(client, "CA")
        found = freshness(again)
        assert found is not None
        assert (["Acme", "Globex"], False, 1, 1) == (again, found.stale, runs.count, queries(org))
        assert "ttl" in found.reason

    def test_after_its_ttl_the_function_runs_again(self, org: FakeSalesforce) -> None:
        wall = Clock()
        wall.now = 1_800_000_000.0
        client, runs = resilient(org, wall_clock=wall), Runs()
        accounts = accounts_function(runs, ttl=600)
        accounts(client, "CA")
        settle(client)
        wall.now += 599
        found = freshness(accounts(client, "CA"))
        assert found is not None
        assert (599.0, 1) == (found.age, runs.count)
        wall.now += 1
        assert freshness(accounts(client, "CA")) is None
        assert (2, 2) == (runs.count, queries(org))

    def test_without_ttl_every_call_runs(self, org: FakeSalesforce) -> None:
        client, runs = resilient(org), Runs()
        accounts = accounts_function(runs)
        accounts(client, "CA")
        settle(client)
        assert freshness(accounts(client, "CA")) is None
        assert (2, 2) == (runs.count, queries(org))

    def test_changing_a_live_result_never_changes_the_entry(self, org: FakeSalesforce) -> None:
        client, runs = resilient(org), Runs()
        accounts = accounts_function(runs, ttl=600)
        cache = fallback_of(client).cache
        assert cache is not None
        held = threading.Event()

        def hold() -> None:
            held.wait(5)

        cache.writer.submit(hold)  # the result's write queues behind this one
        first = accounts(client, "CA")
        first.append("Changed by the caller")
        held.set()
        settle(client)
        assert ["Acme", "Globex"] == accounts(client, "CA")

    def test_the_key_tells_arguments_apart(self, org: FakeSalesforce) -> None:
        client, runs = resilient(org), Runs()
        accounts = accounts_function(runs, ttl=600)
        accounts(client, "CA")
        settle(client)
        assert ["Initech"] == accounts(client, region="NY")
        assert freshness(accounts(client, region="CA")) is not None
        assert 2 == runs.count

    def test_concurrent_identical_calls_run_once(self, org: FakeSalesforce) -> None:
        client, runs = resilient(org), Runs()
        waiting = threading.Event()
        flights = fallback_of(client).flights

        @resilient_query(key="slow:{region}")
        def slow(client: ResilientClient, region: str) -> list[str]:
            runs.count += 1
            waiting.wait(5)  # until the others are waiting on this call
            return [r["Name"] for r in client.query(ACCOUNTS.format(region))["records"]]

        results: list[list[str]] = []
        threads = [
            threading.Thread(target=lambda: results.append(slow(client, "CA"))) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        while flights.shared < 7 and any(t.is_alive() for t in threads):
            threading.Event().wait(0.001)  # sleep-ok: waiting for threads, not for time
        waiting.set()
        for thread in threads:
            thread.join(5)
        assert ([["Acme", "Globex"]] * 8, 1, 1) == (results, runs.count, queries(org))


class TestOutage:
    def test_an_outage_serves_the_last_result_marked(self, org: FakeSalesforce) -> None:
        client, runs = resilient(org), Runs()
        accounts = accounts_function(runs)
        accounts(client, "CA")
        settle(client)
        org.faults.outage()
        served = accounts(client, "CA")
        found = freshness(served)
        assert found is not None
        assert (["Acme", "Globex"], True) == (served, found.stale)
        assert "UNAVAILABLE" in found.reason

    def test_serving_from_the_cache_is_told_to_the_hooks(self, org: FakeSalesforce) -> None:
        events: list[Event] = []
        client = ResilientClient(
            org.client(), settings=Settings(retry_attempts=1), on_event=events.append
        )
        accounts = accounts_function(Runs())
        accounts(client, "CA")
        settle(client)
        org.faults.outage()
        accounts(client, "CA")
        served = [e for e in events if e.kind is EventKind.SERVED_FROM_CACHE]
        assert ["accounts_function.<locals>.accounts"] == [e.operation for e in served]

    def test_nothing_cached_raises_the_calls_own_error_then_circuit_open(
        self, org: FakeSalesforce
    ) -> None:
        client, runs = resilient(org), Runs()
        accounts = accounts_function(runs)
        org.faults.outage()
        for _ in range(5):  # the breaker's threshold
            with pytest.raises(requests.ConnectionError):
                accounts(client, "CA")
        with pytest.raises(CircuitOpen, match="breaker open") as refused:
            accounts(client, "CA")
        assert "breaker open" in refused.value.reason
        assert 5 == runs.count  # open: the function did not even run

    def test_fallback_mode_sends_nothing(
        self, org: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        client, runs = resilient(org), Runs()
        accounts = accounts_function(runs)
        accounts(client, "CA")
        settle(client)
        monkeypatch.setenv("SF_FALLBACK_MODE", "true")
        before = len(org.request_log)
        found = freshness(accounts(client, "CA"))
        assert found is not None
        assert "SF_FALLBACK_MODE" in found.reason
        with pytest.raises(FallbackUnavailable, match="nothing usable cached") as missing:
            accounts(client, "NY")
        assert "SF_FALLBACK_MODE" in missing.value.reason
        assert (before, 1) == (len(org.request_log), runs.count)

    def test_critical_only_serves_non_critical_functions_from_the_cache(
        self, org: FakeSalesforce, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        client = resilient(org)
        everyday, vital = accounts_function(Runs()), accounts_function(Runs(), critical=True)
        everyday(client, "CA")
        settle(client)
        monkeypatch.setenv("SF_CRITICAL_ONLY", "true")
        found = freshness(everyday(client, "CA"))
        assert found is not None
        assert "critical-only" in found.reason
        assert freshness(vital(client, "CA")) is None  # critical: it ran, live
        assert 2 == queries(org)

    def test_its_own_reads_never_serve_stale_piecemeal(self, org: FakeSalesforce) -> None:
        """A query the client kept on its own is not served inside the function."""
        client, runs = resilient(org), Runs()
        kept = client.query(ACCOUNTS.format("CA"))
        settle(client)
        org.faults.outage()
        assert freshness(client.query(ACCOUNTS.format("CA"))) is not None  # outside: served
        accounts = accounts_function(runs)
        with pytest.raises(requests.ConnectionError):
            accounts(client, "CA")  # inside: the function's own cache has nothing
        assert kept["totalSize"] == 2


class TestSharedCache:
    @pytest.mark.redis
    def test_a_fleet_shares_results_through_redis(
        self, org: FakeSalesforce, redis_url: str, redis_client: Any
    ) -> None:
        """What one process read, another serves in fallback mode, sending nothing."""
        writer = resilient(org, redis_url=redis_url)
        accounts = accounts_function(Runs())
        accounts(writer, "CA")
        settle(writer)
        reader = resilient(org, redis_url=redis_url, fallback_mode=True)
        before = len(org.request_log)
        served = accounts(reader, "CA")
        found = freshness(served)
        assert found is not None
        assert (["Acme", "Globex"], before) == (served, len(org.request_log))
        assert "fallback_mode" in found.reason
        assert redis_client.dbsize() > 0

    @pytest.mark.redis
    def test_redis_dying_loses_no_live_call(self, org: FakeSalesforce, start_redis: Any) -> None:
        with start_redis() as server:
            client = resilient(org, redis_url=server.url)
            runs = Runs()
            accounts = accounts_function(runs)
            accounts(client, "CA")
            settle(client)
            server.process.kill()
            server.process.wait()
            for region in ("CA", "NY", "CA"):
                assert freshness(accounts(client, region)) is None
            assert 4 == runs.count
            org.faults.outage()
            with pytest.raises(requests.ConnectionError):
                accounts(client, "CA")  # nothing reachable to serve: the call's own error


class TestFindingTheClient:
    def test_a_method_uses_the_client_it_holds(self, org: FakeSalesforce) -> None:
        class Pages:
            def __init__(self, client: ResilientClient) -> None:
                self.client = client

            @resilient_query(key="names:{region}", ttl=600)
            def names(self, region: str) -> list[str]:
                found = self.client.query(ACCOUNTS.format(region))
                return [r["Name"] for r in found["records"]]

        client = resilient(org)
        pages = Pages(client)
        assert ["Initech"] == pages.names("NY")
        settle(client)
        assert freshness(Pages(client).names("NY")) is not None  # self is not in the key

    def test_client_given_to_the_decorator(self, org: FakeSalesforce) -> None:
        client = resilient(org)

        @resilient_query(key="count", client=client)
        def count() -> int:
            return int(client.query("SELECT COUNT() FROM Account")["totalSize"])

        @resilient_query(key="count", client=lambda: client)
        def count_lazily() -> int:
            return int(client.query("SELECT COUNT() FROM Account")["totalSize"])

        assert (3, 3) == (count(), count_lazily())

    def test_client_named_by_parameter_or_attribute(self, org: FakeSalesforce) -> None:
        class Pages:
            def __init__(self, client: ResilientClient) -> None:
                self._sf = client
                self.spare = resilient(org)

            @property
            def sf(self) -> ResilientClient:
                return self._sf

            @resilient_query(key="n", client="sf")
            def through_property(self) -> int:
                return int(self.sf.query("SELECT COUNT() FROM Account")["totalSize"])

        @resilient_query(key="n", client="main")
        def by_parameter(main: ResilientClient, other: ResilientClient) -> int:
            return int(main.query("SELECT COUNT() FROM Account")["totalSize"])

        client = resilient(org)
        assert 3 == Pages(client).through_property()
        assert 3 == by_parameter(client, resilient(org))
        with pytest.raises(TypeError, match=r"client='main'.*expected a ResilientClient, got str"):
            by_parameter("nope", client)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"client='sf'.*names no parameter.*not a method"):
            resilient_query(client="sf")(by_parameter)

    def test_no_client_is_a_clear_error(self, org: FakeSalesforce) -> None:
        @resilient_query(key="x:{sf}")
        def plain(sf: Any) -> int:
            return 1

        with pytest.raises(TypeError, match=r"no ResilientClient .* wrap it"):
            plain(org.client())

    def test_two_clients_on_self_is_ambiguous(self, org: FakeSalesforce) -> None:
        class Two:
            def __init__(self) -> None:
                self.a, self.b = resilient(org), resilient(org)

            @resilient_query()
            def read(self) -> int:
                return 1

        with pytest.raises(TypeError, match="several ResilientClients"):
            Two().read()
