"""The breaker's state machine, and what it asks the Trust status API on opening."""

from __future__ import annotations

import threading

import pytest

from sfresilience import ErrorCategory
from sfresilience._core._breaker import Admit, Breaker, BreakerPolicy, State
from sfresilience._fallback import BreakerCell, SingleFlight
from sfresilience._trust_status import TrustV1
from sfresilience.testing import FakeTrust


UNAVAILABLE = ErrorCategory.UNAVAILABLE
POLICY = BreakerPolicy(threshold=3, window=10, open_for=30, open_for_incident=120, probes=1)


def _opened(now: float = 0.0) -> Breaker:
    breaker = Breaker(POLICY)
    for _ in range(3):
        breaker.record(now, UNAVAILABLE)
    return breaker


def test_threshold_outages_inside_the_window_open_it() -> None:
    breaker = Breaker(POLICY)
    assert not breaker.record(0, UNAVAILABLE)
    assert not breaker.record(1, ErrorCategory.SERVER_ERROR)
    assert breaker.record(2, ErrorCategory.MAINTENANCE)
    assert breaker.state is State.OPEN
    assert breaker.admit(3) is Admit.REFUSE


def test_outages_spread_wider_than_the_window_do_not() -> None:
    breaker = Breaker(POLICY)
    for now in (0, 10, 20, 30):
        assert not breaker.record(now, UNAVAILABLE)
    assert breaker.state is State.CLOSED


def test_a_success_or_a_non_outage_error_does_not_count() -> None:
    breaker = Breaker(POLICY)
    breaker.record(0, UNAVAILABLE)
    breaker.record(1, UNAVAILABLE)
    breaker.record(2, None)
    breaker.record(3, UNAVAILABLE)
    breaker.record(4, ErrorCategory.ROW_LOCK)
    assert breaker.state is State.CLOSED


def test_half_open_lets_one_probe_through_and_closes_on_its_success() -> None:
    breaker = _opened()
    assert breaker.admit(29) is Admit.REFUSE
    assert breaker.admit(30) is Admit.PROBE
    assert breaker.admit(30) is Admit.REFUSE  # one probe at a time
    breaker.record(31, None)
    assert breaker.state is State.CLOSED
    assert breaker.admit(31) is Admit.GO


def test_a_failed_probe_opens_it_again_for_a_full_period() -> None:
    breaker = _opened()
    assert breaker.admit(30) is Admit.PROBE
    assert breaker.record(31, UNAVAILABLE)
    assert breaker.admit(60) is Admit.REFUSE
    assert breaker.admit(61) is Admit.PROBE


def test_a_released_probe_frees_its_slot() -> None:
    breaker = _opened()
    assert breaker.admit(30) is Admit.PROBE
    breaker.release_probe()
    assert breaker.admit(30) is Admit.PROBE


def test_core_incident_keeps_it_open_longer_unknown_does_not() -> None:
    breaker = _opened()
    breaker.learn_status(0, incident=True)
    assert breaker.admit(60) is Admit.REFUSE
    assert breaker.admit(120) is Admit.PROBE
    unknown = _opened()
    unknown.learn_status(0, incident=None)
    assert unknown.admit(30) is Admit.PROBE


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestTrust:
    def test_opening_asks_trust_and_an_incident_holds_it_open(self) -> None:
        clock = Clock()
        with FakeTrust(instances=("NA137",)) as trust:
            trust.open_incident("NA137", severity="major")
            cell = BreakerCell(
                POLICY, instance=lambda: "NA137", status=TrustV1(trust.url), clock=clock
            )
            for _ in range(3):
                cell.record(UNAVAILABLE)
        assert cell.status is not None
        assert cell.status.core_incident is True
        assert "MAJOR_INCIDENT_CORE" in cell.describe()
        clock.now = 60
        assert cell.admit() is Admit.REFUSE

    def test_healthy_instance_and_unreachable_api(self) -> None:
        with FakeTrust(instances=("NA137",)) as trust:
            url = trust.url
            healthy = TrustV1(url).instance_status("NA137")
            unknown = TrustV1(url).instance_status("XX1")  # 404
        assert healthy.core_incident is False
        assert unknown.core_incident is None
        gone = TrustV1(url, timeout=0.5).instance_status("NA137")  # server stopped
        assert gone.core_incident is None
        assert "unreachable" in gone.detail

    def test_a_fleet_claim_that_is_taken_refuses_the_probe(self) -> None:
        clock = Clock()
        cell = BreakerCell(POLICY, claim_probe=lambda _ttl: False, clock=clock)
        for _ in range(3):
            cell.record(UNAVAILABLE)
        clock.now = 30
        assert cell.admit() is Admit.REFUSE
        clock.now = 31
        assert cell.state is State.OPEN


def test_single_flight_makes_one_call_for_concurrent_identical_reads() -> None:
    flights = SingleFlight()
    gate = threading.Event()
    calls: list[int] = []

    def call() -> dict[str, list[int]]:
        calls.append(1)
        gate.wait(5)
        return {"records": [1]}

    results: list[object] = []
    threads = [
        threading.Thread(target=lambda: results.append(flights.run("k", call))) for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    while flights.shared < 19 and all(t.is_alive() for t in threads):
        threading.Event().wait(0.001)  # sleep-ok: polling other threads
    gate.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1
    assert results == [{"records": [1]}] * 20
    assert len({id(r) for r in results}) == 20  # followers get their own copy


def test_single_flight_shares_the_error() -> None:
    flights = SingleFlight()

    def fail() -> None:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        flights.run("k", fail)
    assert flights.run("k", lambda: 1) == 1
