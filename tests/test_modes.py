"""Critical-only mode: the environment, a setting, the fleet switch; `critical` as both faces."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from sfresilience import Event, EventKind, Mode, ResilientClient, Settings, critical
from sfresilience._decorators import is_critical
from sfresilience._fallback import fallback_of
from sfresilience._freshness import freshness
from sfresilience._modes import set_fleet_switch
from sfresilience._store import MemoryStore
from sfresilience._timeline import timeline_for
from sfresilience.exceptions import ConfigurationError, CriticalOnlyBlocked
from sfresilience.testing import FakeSalesforce


SOQL = "SELECT Id FROM Account LIMIT 1"
UNCACHED = "SELECT Id FROM Contact LIMIT 1"  # never read first: the fallback cache has none


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(accounts=2, contacts=2, opportunities=0) as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def client(org: FakeSalesforce, store: MemoryStore, clock: Clock) -> ResilientClient:
    return ResilientClient(org.client(), settings=Settings(), store=store, wall_clock=clock)


@pytest.fixture
def critical_only_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("SF_CRITICAL_ONLY", "true")
    return monkeypatch


class TestEnvironment:
    @pytest.mark.usefixtures("critical_only_env")
    def test_non_critical_work_is_refused_and_nothing_is_sent(
        self, org: FakeSalesforce, client: ResilientClient
    ) -> None:
        """With SF_CRITICAL_ONLY=true a plain query raises, naming the reason, unsent."""
        sent = len(org.request_log)
        with pytest.raises(CriticalOnlyBlocked, match=r"env: SF_CRITICAL_ONLY=true"):
            client.query(SOQL)
        assert sent == len(org.request_log)

    @pytest.mark.usefixtures("critical_only_env")
    def test_a_refused_call_is_one_blocked_event_and_a_timeline_count(
        self, org: FakeSalesforce, store: MemoryStore
    ) -> None:
        """What the postmortem counts as "blocked": one event per call held back, with why."""
        events: list[Event] = []
        client = ResilientClient(
            org.client(), settings=Settings(), store=store, on_event=events.append
        )
        for _ in range(3):
            with pytest.raises(CriticalOnlyBlocked):
                client.query(UNCACHED)
        blocked = [e for e in events if e.kind is EventKind.CALL_BLOCKED]
        assert 3 == len(blocked)
        assert all("SF_CRITICAL_ONLY" in (e.reason or "") for e in blocked)
        timeline = timeline_for(store)
        timeline.flush()
        assert 3 == sum(e.count for e in timeline.entries() if e.kind == "call_blocked")

    @pytest.mark.usefixtures("critical_only_env")
    def test_critical_work_goes_through(self, client: ResilientClient) -> None:
        """Marked critical, the same query runs."""
        with critical():
            assert 1 == client.query(SOQL)["totalSize"]

    def test_a_flip_takes_effect_on_the_next_call(
        self, client: ResilientClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No restart: the variable is read at each call."""
        client.query(SOQL)
        monkeypatch.setenv("SF_CRITICAL_ONLY", "true")
        with pytest.raises(CriticalOnlyBlocked):
            client.query(UNCACHED)
        monkeypatch.setenv("SF_CRITICAL_ONLY", "false")
        client.query(SOQL)
        monkeypatch.delenv("SF_CRITICAL_ONLY")
        client.query(SOQL)

    @pytest.mark.usefixtures("critical_only_env")
    def test_mode_lists_the_environment_and_since_when(
        self, client: ResilientClient, clock: Clock
    ) -> None:
        """client.mode names the source and the time it was first seen on."""
        mode = client.mode
        assert ("critical-only", ["env"], clock.now) == (
            mode.effective,
            [r.source for r in mode.reasons],
            mode.reasons[0].since.timestamp() if mode.reasons[0].since else None,
        )
        assert "SF_CRITICAL_ONLY=true" in str(mode)

    def test_a_malformed_value_names_the_variable(
        self, client: ResilientClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`SF_CRITICAL_ONLY=maybe` is a clear configuration error, not a silent off."""
        monkeypatch.setenv("SF_CRITICAL_ONLY", "maybe")
        with pytest.raises(ConfigurationError) as caught:
            client.query(SOQL)
        (line,) = str(caught.value).splitlines()
        assert line.startswith("invalid sfresilience configuration: SF_CRITICAL_ONLY: ")
        assert line.endswith("(got 'maybe')")

    @pytest.mark.usefixtures("critical_only_env")
    def test_health_checks_count_as_critical(self, client: ResilientClient) -> None:
        """/limits is how on-call checks the org: it always runs."""
        assert "DailyApiRequests" in client.limits()

    @pytest.mark.usefixtures("critical_only_env")
    def test_logins_count_as_critical(self, org: FakeSalesforce) -> None:
        """Logging in (and so refreshing a session) is never refused."""
        client = ResilientClient.from_credentials(
            username=org.username,
            password=org.password,
            security_token=org.security_token,
            session=org.session(),
            settings=Settings(),
        )
        assert 1 == org.login_count
        with pytest.raises(CriticalOnlyBlocked):
            client.query(SOQL)

    def test_a_cached_non_critical_read_is_served_not_refused(
        self, org: FakeSalesforce, client: ResilientClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Critical-only mode answers a plain read from the fallback cache, sending nothing."""
        live = client.query(SOQL)
        assert fallback_of(client).flush(5)
        monkeypatch.setenv("SF_CRITICAL_ONLY", "true")
        sent = len(org.request_log)
        served = client.query(SOQL)
        assert live == served
        found = freshness(served)
        assert found is not None
        assert "critical-only" in found.reason
        assert sent == len(org.request_log)


class TestSettingsAndFleet:
    def test_a_setting_in_code_pins_the_mode(self, org: FakeSalesforce) -> None:
        """Settings(critical_only=True) keeps critical-only on, named as a setting."""
        client = ResilientClient(
            org.client(), settings=Settings(critical_only=True), store=MemoryStore()
        )
        with pytest.raises(CriticalOnlyBlocked, match="settings"):
            client.query(SOQL)
        assert ["settings"] == [r.source for r in client.mode.reasons]

    def test_a_setting_in_code_outlives_the_variable(
        self, org: FakeSalesforce, critical_only_env: pytest.MonkeyPatch
    ) -> None:
        """With both set, clearing SF_CRITICAL_ONLY leaves the code's pin in place."""
        client = ResilientClient(
            org.client(), settings=Settings(critical_only=True), store=MemoryStore()
        )
        assert {"env", "settings"} == {r.source for r in client.mode.reasons}
        critical_only_env.delenv("SF_CRITICAL_ONLY")
        with pytest.raises(CriticalOnlyBlocked, match="settings"):
            client.query(SOQL)
        assert ["settings"] == [r.source for r in client.mode.reasons]

    def test_settings_do_not_capture_the_variable(
        self, org: FakeSalesforce, critical_only_env: pytest.MonkeyPatch
    ) -> None:
        """Settings loaded while the variable was on do not keep it on once it is cleared."""
        critical_only_env.setenv("CRITICAL_ONLY", "true")  # nor by the field's own name
        settings = Settings()
        assert settings.critical_only is False  # code only: the variable is EnvToggle's
        critical_only_env.delenv("SF_CRITICAL_ONLY")
        client = ResilientClient(org.client(), settings=settings, store=MemoryStore())
        assert 1 == client.query(SOQL)["totalSize"]
        assert [] == list(client.mode.reasons)

    def test_the_fleet_switch_turns_it_on_and_off(
        self, client: ResilientClient, store: MemoryStore, clock: Clock
    ) -> None:
        """A switch in the store reaches the client within a second, with its reason."""
        client.query(SOQL)
        set_fleet_switch(store, "critical-only", on=True, reason="API budget incident", clock=clock)
        clock.now += 1
        with pytest.raises(CriticalOnlyBlocked, match="fleet switch: API budget incident"):
            client.query(UNCACHED)
        set_fleet_switch(store, "critical-only", on=False)
        clock.now += 1
        client.query(SOQL)
        assert Mode("normal", ()) == client.mode

    def test_a_switch_with_a_duration_lapses(self, store: MemoryStore) -> None:
        """`--for 1h` sets a TTL: the switch is gone once it passes."""
        set_fleet_switch(store, "critical-only", on=True, duration=3600)
        assert store.get("mode:critical-only") is not None

    def test_an_unreadable_switch_stays_on_and_says_so(
        self, client: ResilientClient, store: MemoryStore
    ) -> None:
        """A switch someone set but nobody can parse still blocks: fail safe, loudly."""
        store.set("mode:critical-only", b"not json", ttl=60)
        with pytest.raises(CriticalOnlyBlocked, match="unreadable switch record"):
            client.query(SOQL)

    @pytest.mark.usefixtures("critical_only_env")
    def test_every_reason_is_listed(self, client: ResilientClient, store: MemoryStore) -> None:
        """Two sources on at once: both show, neither hides the other."""
        set_fleet_switch(store, "critical-only", on=True, reason="drill")
        assert ["env", "fleet switch"] == [r.source for r in client.mode.reasons]


class TestCriticalMarker:
    def test_decorator_bare_and_called(self) -> None:
        """@critical and @critical() both mark the function's body, and only it."""

        @critical
        def bare() -> bool:
            return is_critical()

        @critical()
        def called() -> bool:
            return is_critical()

        assert (True, True, False) == (bare(), called(), is_critical())

    def test_context_manager_nests_and_restores(self) -> None:
        """Leaving the block restores what was there before."""
        with critical():
            with critical():
                assert is_critical()
            assert is_critical()
        assert not is_critical()

    def test_async_functions_are_marked_while_they_run(self) -> None:
        """A decorated coroutine function is critical inside, not around."""

        @critical
        async def work() -> bool:
            await asyncio.sleep(0)
            return is_critical()

        assert asyncio.run(work())
        assert not is_critical()

    def test_the_decorator_keeps_the_function_s_name(self) -> None:
        """functools.wraps: tracebacks and the caller label stay readable."""

        @critical
        def sync_accounts() -> None: ...

        assert "sync_accounts" == sync_accounts.__name__
