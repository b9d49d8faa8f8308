"""The API-budget guard against the fake org: usage, thresholds, the reserve, exhaustion."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from simple_salesforce.exceptions import SalesforceRefusedRequest

from sfresilience import Event, EventKind, ResilientClient, Settings, caller, critical
from sfresilience._store import MemoryStore
from sfresilience.exceptions import BudgetExhausted, CriticalOnlyBlocked
from sfresilience.testing import FakeSalesforce


SOQL = "SELECT Id FROM Account LIMIT 1"


class Clock:
    """Wall-clock time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(api_limit=100, accounts=3, contacts=3, opportunities=0) as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def client(org: FakeSalesforce, clock: Clock, events: list[Event]) -> ResilientClient:
    return ResilientClient(
        org.client(),
        settings=Settings(),
        on_event=events.append,
        store=MemoryStore(),
        wall_clock=clock,
    )


def _refused(org: FakeSalesforce) -> int:
    """Requests Salesforce refused as over the allocation: calls past the cap."""
    return sum(1 for r in org.request_log if r.status == 403)


def _sent(org: FakeSalesforce) -> int:
    return len(org.request_log)


def _calls_until(client: ResilientClient, refusal: type[Exception], most: int = 50) -> int:
    """Query until *refusal* is raised; how many calls went through before it."""
    for made in range(most):
        try:
            # Each a new query: a repeated one is answered from the fallback cache
            # in critical-only mode instead of being refused.
            client.query(f"{SOQL} OFFSET {made}")
        except refusal:
            return made
    pytest.fail(f"no {refusal.__name__} within {most} calls")


def _kinds(events: list[Event]) -> list[EventKind]:
    return [e.kind for e in events if e.kind.value.startswith("budget")]


class TestUsage:
    def test_nothing_is_known_before_the_first_answer(self, client: ResilientClient) -> None:
        """A fresh client reports no numbers rather than guessing."""
        budget = client.budget
        assert (None, None, None, None, None) == (
            budget.used,
            budget.limit,
            budget.remaining,
            budget.fraction,
            budget.source,
        )

    def test_the_header_of_an_answer_gives_the_numbers(
        self, org: FakeSalesforce, client: ResilientClient, clock: Clock
    ) -> None:
        """After one call the budget holds Salesforce's own count, from the header."""
        org.set_api_usage(40)
        client.query(SOQL)
        clock.now += 5
        budget = client.budget
        assert (41, 100, 59, 0.41, "header", 5.0) == (
            budget.used,
            budget.limit,
            budget.remaining,
            budget.fraction,
            budget.source,
            budget.age,
        )

    def test_every_call_kind_is_counted_once(
        self, org: FakeSalesforce, client: ResilientClient
    ) -> None:
        """Queries, sObject calls, raw REST and Apex REST each take one reservation."""
        org.apex_route("GET", "/ping", lambda _request: {"ok": True})
        contact = org.org.records("Contact")[0]["Id"]
        client.query(SOQL)
        client.Contact.get(contact)
        client.Account.create({"Name": "Acme"})
        client.restful("sobjects")
        client.apexecute("ping")
        counted = sum(1 for r in org.request_log if r.counted)
        assert (5, 5) == (counted, client.budget.by_caller["unlabelled"])

    def test_limits_is_not_asked_while_the_header_is_fresh(
        self, org: FakeSalesforce, client: ResilientClient
    ) -> None:
        """Watching the budget costs no calls: the answers' headers are enough."""
        for _ in range(20):
            client.query(SOQL)
        assert not [r for r in org.request_log if r.path.rstrip("/").endswith("/limits")]

    def test_a_limits_call_fills_in_the_daily_limits(self, client: ResilientClient) -> None:
        """Reading /limits yourself also tells the guard, Bulk limits included."""
        client.limits()
        budget = client.budget
        assert ("limits", (15000, 15000)) == (
            budget.source,
            budget.daily_limits["DailyBulkApiBatches"],
        )


class TestThresholds:
    def test_non_critical_work_stops_at_the_critical_mark_and_critical_work_goes_on(
        self, org: FakeSalesforce, client: ResilientClient
    ) -> None:
        """Usage 90/100: plain calls get to 95, critical ones to 100, none past it."""
        org.set_api_usage(90)
        plain = _calls_until(client, CriticalOnlyBlocked)
        sent = _sent(org)
        with pytest.raises(CriticalOnlyBlocked, match="budget guard"):
            client.query(SOQL)
        assert (5, 95, sent) == (plain, org.api_usage, _sent(org))
        with critical():
            for _ in range(5):
                client.query(SOQL)
            with pytest.raises(BudgetExhausted):
                client.query(SOQL)
        assert (100, 0) == (org.api_usage, _refused(org))

    def test_mode_says_why_critical_only_is_on(
        self, org: FakeSalesforce, client: ResilientClient, clock: Clock
    ) -> None:
        """client.mode names the budget guard and since when."""
        org.set_api_usage(93)
        client.query(SOQL)
        assert "normal" == client.mode.effective
        clock.now += 10
        client.query(SOQL)
        mode = client.mode
        assert ("critical-only", ["budget guard"]) == (
            mode.effective,
            [r.source for r in mode.reasons],
        )
        assert mode.reasons[0].since is not None
        assert clock.now == mode.reasons[0].since.timestamp()

    def test_each_crossing_emits_its_event_once(
        self, org: FakeSalesforce, client: ResilientClient, clock: Clock, events: list[Event]
    ) -> None:
        """Up across warn: one warning however many calls; down and up again: once more."""
        org.set_api_usage(70)
        for _ in range(15):
            client.query(SOQL)
            clock.now += 1
        assert [EventKind.BUDGET_WARNING] == _kinds(events)
        org.set_api_usage(40)
        for _ in range(5):
            client.query(SOQL)
            clock.now += 1
        org.set_api_usage(82)
        for _ in range(5):
            client.query(SOQL)
            clock.now += 1
        assert [
            EventKind.BUDGET_WARNING,
            EventKind.BUDGET_RECOVERED,
            EventKind.BUDGET_WARNING,
        ] == _kinds(events)

    def test_critical_and_exhausted_crossings_emit_once_each(
        self, org: FakeSalesforce, client: ResilientClient, events: list[Event]
    ) -> None:
        """Straight from normal to spent: warn, critical and exhausted, one each."""
        org.set_api_usage(50)
        client.query(SOQL)
        org.set_api_usage(99)
        with critical():
            client.query(SOQL)
            for _ in range(3):
                with pytest.raises(BudgetExhausted):
                    client.query(SOQL)
        assert [
            EventKind.BUDGET_WARNING,
            EventKind.BUDGET_CRITICAL,
            EventKind.BUDGET_EXHAUSTED,
        ] == _kinds(events)
        exhausted = next(e for e in events if e.kind is EventKind.BUDGET_EXHAUSTED)
        assert exhausted.budget is not None
        assert (100, "exhausted") == (exhausted.budget.used, exhausted.budget.level)
        # Each call the spent allocation held back is told once, as such.
        assert 3 == sum(e.kind is EventKind.CALL_BLOCKED for e in events)

    def test_thresholds_come_from_the_settings(
        self, org: FakeSalesforce, clock: Clock, events: list[Event]
    ) -> None:
        """SFRESILIENCE_BUDGET_CRITICAL moves the mark where plain work stops."""
        client = ResilientClient(
            org.client(),
            settings=Settings(budget_warn=0.5, budget_critical=0.6),
            on_event=events.append,
            store=MemoryStore(),
            wall_clock=clock,
        )
        org.set_api_usage(55)
        _calls_until(client, CriticalOnlyBlocked)
        assert (60, [EventKind.BUDGET_WARNING, EventKind.BUDGET_CRITICAL]) == (
            org.api_usage,
            _kinds(events),
        )


class TestExhaustion:
    def test_a_403_from_salesforce_stops_everything_until_the_window_frees_calls(
        self, org: FakeSalesforce, client: ResilientClient, clock: Clock
    ) -> None:
        """Another tool spent the allocation: one 403, then nothing is sent, critical
        work included; once the window frees calls, /limits says so and calls resume."""
        client.query(SOQL)
        org.set_api_usage(100)
        with pytest.raises(SalesforceRefusedRequest):
            client.query(SOQL)
        sent = _sent(org)
        with critical(), pytest.raises(BudgetExhausted, match="rolling 24-hour window"):
            client.query(SOQL)
        assert sent == _sent(org)
        org.set_api_usage(30)
        clock.now += 30
        with pytest.raises(BudgetExhausted):
            client.query(SOQL)  # the numbers are not stale yet: no probe
        assert sent == _sent(org)
        clock.now += 31
        client.query(SOQL)
        paths = [r.path for r in org.request_log[sent:]]
        assert ["/services/data/v59.0/limits/", "/services/data/v59.0/query/"] == paths
        assert "normal" == client.mode.effective

    def test_the_probe_is_asked_once_while_salesforce_still_says_spent(
        self, org: FakeSalesforce, client: ResilientClient, clock: Clock
    ) -> None:
        """Still spent at the probe: calls stay refused, and the next probe waits its turn."""
        client.query(SOQL)
        org.set_api_usage(100)
        with pytest.raises(SalesforceRefusedRequest):
            client.query(SOQL)
        clock.now += 61
        for _ in range(5):
            with pytest.raises(BudgetExhausted):
                client.query(SOQL)
        probes = [r for r in org.request_log if r.path.endswith("/limits/")]
        assert [403] == [r.status for r in probes]


class TestCallers:
    def test_calls_are_counted_per_caller_label(self, client: ResilientClient) -> None:
        """`with caller(...)` and `@caller` label the calls made inside."""

        @caller
        def nightly_sync() -> None:
            for _ in range(3):
                client.query(SOQL)

        nightly_sync()
        with caller("web"):
            client.query(SOQL)
            with caller("web.search"):
                client.query(SOQL)
        client.query(SOQL)
        assert {
            "TestCallers.test_calls_are_counted_per_caller_label.<locals>.nightly_sync": 3,
            "web": 1,
            "web.search": 1,
            "unlabelled": 1,
        } == dict(client.budget.by_caller)

    def test_an_empty_label_is_refused(self) -> None:
        """A blank label would hide who spent the calls."""
        with pytest.raises(ValueError, match="empty"):
            caller("  ")

    def test_refused_calls_are_not_counted(
        self, org: FakeSalesforce, client: ResilientClient
    ) -> None:
        """Only calls that were sent count towards a caller."""
        org.set_api_usage(94)
        client.query(SOQL)
        with caller("batch"), pytest.raises(CriticalOnlyBlocked):
            client.query(f"{SOQL} OFFSET 1")  # not cached: refused, not served
        assert "batch" not in client.budget.by_caller


class TestOutsideSpending:
    def test_leases_overtaken_by_others_spending_do_not_dip_into_the_reserve(
        self, clock: Clock
    ) -> None:
        """Another tool spends calls while this client holds a lease: plain work still
        stops at the critical mark, not a lease's worth past it."""
        with FakeSalesforce(api_limit=2000, accounts=1, contacts=1, opportunities=0) as org:
            client = ResilientClient(
                org.client(), settings=Settings(), store=MemoryStore(), wall_clock=clock
            )
            for _ in range(3):
                client.query(SOQL)  # holds a lease of several calls now
            assert client.budget.reserved > 5
            org.set_api_usage(1890)
            _calls_until(client, CriticalOnlyBlocked)
            assert (1900, 0) == (org.api_usage, _refused(org))
