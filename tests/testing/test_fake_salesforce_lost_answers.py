"""Faults of the answer, not the request: lost, late and slow answers, over real HTTP."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce

from sfresilience.testing import FakeSalesforce, Fault, FaultSettings


NEW_CONTACT = {"LastName": "Lost-Answer"}
COUNT_LOST = "SELECT COUNT() FROM Contact WHERE LastName = 'Lost-Answer'"
# A short answer (401 INVALID_SESSION_ID, ~70 bytes) keeps dripping tests quick.
SMALL = "/services/data/v59.0/limits"


def _direct(fake: FakeSalesforce) -> Any:
    return Salesforce(
        instance_url=fake.instance_url,
        session_id=fake.issue_session(),
        session=fake.session(),
    )


def _lost_count(sf: Any) -> int:
    return int(sf.query(COUNT_LOST)["totalSize"])


def _title(sf: Any, record_id: str) -> Any:
    return sf.Contact.get(record_id)["Title"]


def _first_contact(sf: Any) -> str:
    return str(sf.query("SELECT Id FROM Contact ORDER BY Id LIMIT 1")["records"][0]["Id"])


class TestLoseResponses:
    def test_the_write_is_committed_and_the_client_sees_a_dropped_connection(
        self, fake: FakeSalesforce
    ) -> None:
        sf = _direct(fake)
        fake.faults.lose_responses(count=1)
        with pytest.raises(requests.ConnectionError):
            sf.Contact.create(NEW_CONTACT)
        assert 1 == _lost_count(sf)
        assert "/sobjects/Contact" in fake.request_log[-2].path
        assert 0 == fake.request_log[-2].status

    def test_a_retried_create_duplicates(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        fake.faults.lose_responses(count=1)
        with pytest.raises(requests.ConnectionError):
            sf.Contact.create(NEW_CONTACT)
        assert sf.Contact.create(NEW_CONTACT)["success"]
        assert 2 == _lost_count(sf)

    def test_reads_are_answered_and_do_not_use_up_the_count(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        fake.faults.lose_responses(count=1)
        assert 0 == _lost_count(sf)
        with pytest.raises(requests.ConnectionError):
            sf.Contact.create(NEW_CONTACT)
        assert not fake.faults.active

    def test_the_write_is_counted_against_the_api_allocation(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        before = fake.api_usage
        fake.faults.lose_responses(count=1)
        with pytest.raises(requests.ConnectionError):
            sf.Contact.create(NEW_CONTACT)
        assert before + 1 == fake.api_usage

    def test_by_seeded_probability(self, fake: FakeSalesforce) -> None:
        def run() -> list[bool]:
            fake.faults.lose_responses(probability=0.5, seed=3)
            outcomes = []
            for _ in range(12):
                try:
                    sf.Contact.create(NEW_CONTACT)
                    outcomes.append(True)
                except requests.ConnectionError:
                    outcomes.append(False)
            return outcomes

        sf = _direct(fake)
        first, second = run(), run()
        assert first == second
        assert {True, False} == set(first)
        assert 24 == _lost_count(sf)


class TestDelayWrites:
    def test_the_write_lands_only_when_released(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        fake.faults.delay_writes(count=1)
        with pytest.raises(requests.ConnectionError):
            sf.Contact.create(NEW_CONTACT)
        assert (0, 1) == (_lost_count(sf), fake.faults.delayed)
        assert 1 == fake.faults.release_delayed()
        assert (1, 0) == (_lost_count(sf), fake.faults.delayed)
        landed = fake.request_log[-2]
        assert (201, True, False) == (landed.status, landed.late, landed.counted)

    def test_a_retried_update_is_overtaken_by_the_late_original(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        record_id = _first_contact(sf)
        fake.faults.delay_writes(count=1, after_requests=1)
        with pytest.raises(requests.ConnectionError):
            sf.Contact.update(record_id, {"Title": "first"})
        assert 204 == sf.Contact.update(record_id, {"Title": "second"})
        assert "first" == _title(sf, record_id)
        assert 0 == fake.faults.delayed

    def test_after_requests_counts_the_later_requests(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        fake.faults.delay_writes(count=1, after_requests=3)
        with pytest.raises(requests.ConnectionError):
            sf.Contact.create(NEW_CONTACT)
        assert [0, 0, 0, 1] == [_lost_count(sf) for _ in range(4)]

    def test_clear_discards_writes_that_have_not_landed(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        fake.faults.delay_writes()
        with pytest.raises(requests.ConnectionError):
            sf.Contact.create(NEW_CONTACT)
        fake.faults.clear()
        assert (0, 0, 0) == (fake.faults.delayed, fake.faults.release_delayed(), _lost_count(sf))

    def test_a_delayed_write_still_meets_validation(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        fake.faults.delay_writes(count=1)
        with pytest.raises(requests.ConnectionError):
            sf.Contact.create({"FirstName": "No last name"})
        fake.faults.release_delayed()
        assert 400 == fake.request_log[-1].status

    def test_after_seconds_on_the_fakes_clock(self) -> None:
        """The write lands with the first request handled once the clock has moved on."""
        now = [0.0]
        with FakeSalesforce(clock=lambda: now[0]) as fake:
            sf = _direct(fake)
            fake.faults.delay_writes(count=1, after_seconds=30.0)
            with pytest.raises(requests.ConnectionError):
                sf.Contact.create(NEW_CONTACT)
            now[0] = 29.0
            assert 0 == _lost_count(sf)
            now[0] = 30.0
            assert 0 == _lost_count(sf)  # this request lands it, after being answered
            assert (1, 0) == (_lost_count(sf), fake.faults.delayed)

    def test_whichever_comes_first_requests_or_seconds(self) -> None:
        now = [0.0]
        with FakeSalesforce(clock=lambda: now[0]) as fake:
            sf = _direct(fake)
            fake.faults.delay_writes(count=1, after_requests=2, after_seconds=60.0)
            with pytest.raises(requests.ConnectionError):
                sf.Contact.create(NEW_CONTACT)
            assert [0, 0, 1] == [_lost_count(sf) for _ in range(3)]

    @pytest.mark.parametrize(
        ("settings", "message"),
        [({"after_requests": 0}, "after_requests"), ({"after_seconds": -1.0}, "after_seconds")],
    )
    def test_bad_delays(self, fake: FakeSalesforce, settings: Any, message: str) -> None:
        with pytest.raises(ValueError, match=message):
            fake.faults.delay_writes(**settings)


def _raw_get(fake: FakeSalesforce, path: str) -> list[bytes]:
    """The answer to one GET as the separate chunks `recv` returned."""
    chunks = []
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as conn:
        conn.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return chunks


class TestSlowDrip:
    def test_the_body_arrives_a_byte_at_a_time_and_whole(self, fake: FakeSalesforce) -> None:
        whole = b"".join(_raw_get(fake, SMALL))
        fake.faults.slow_drip(0.002, count=1)
        chunks = _raw_get(fake, SMALL)
        assert whole == b"".join(chunks)
        body = whole.partition(b"\r\n\r\n")[2]
        assert len(chunks) >= len(body) // 2

    def test_headers_can_drip_too(self, fake: FakeSalesforce) -> None:
        fake.faults.slow_drip(0.002, part="headers", count=1)
        chunks = _raw_get(fake, SMALL)
        header = b"".join(chunks).partition(b"\r\n\r\n")[0]
        assert len(chunks) >= len(header) // 2

    def test_a_client_reads_a_correct_answer(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        fake.faults.slow_drip(0.001)
        assert 1 == sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"]

    def test_a_per_read_timeout_does_not_catch_a_slow_drip(self, fake: FakeSalesforce) -> None:
        """Each byte comes inside the read timeout, so the whole answer is read.

        The answer takes longer than the read timeout in all (about 70 bytes at
        10 ms each), which is what makes slow drip worth simulating.
        """
        session = fake.session()
        fake.faults.slow_drip(0.01, count=1)
        response = session.get(f"{fake.instance_url}{SMALL}", timeout=(5, 0.3))
        assert 401 == response.status_code
        assert "INVALID_SESSION_ID" == response.json()[0]["errorCode"]

    @pytest.mark.parametrize(("seconds", "part"), [(0.0, "body"), (0.1, "trailers")])
    def test_bad_settings(self, fake: FakeSalesforce, seconds: float, part: Any) -> None:
        with pytest.raises(ValueError, match=r"seconds|part"):
            fake.faults.slow_drip(seconds, part=part)


class TestTheTable:
    def test_named_switches_fill_one_table(self, fake: FakeSalesforce) -> None:
        fake.faults.server_errors(count=2, status=503)
        fake.faults.latency(0.0, probability=0.5, seed=1)
        armed = fake.faults.armed
        assert {Fault.SERVER_ERRORS, Fault.LATENCY} == set(armed)
        assert (2, 503) == (
            armed[Fault.SERVER_ERRORS].remaining,
            armed[Fault.SERVER_ERRORS].settings.status,
        )
        assert 0.5 == armed[Fault.LATENCY].probability

    def test_arm_and_fire_any_fault(self, fake: FakeSalesforce) -> None:
        fake.faults.arm(Fault.MAINTENANCE, count=2)
        hits = [fake.faults.fire(Fault.MAINTENANCE) for _ in range(3)]
        assert [1, 2] == [hit.serial for hit in hits if hit is not None]
        assert hits[2] is None
        assert Fault.MAINTENANCE not in fake.faults.armed

    def test_arm_with_settings_reaches_the_server(self, fake: FakeSalesforce) -> None:
        sf = _direct(fake)
        fake.faults.arm(Fault.SERVER_ERRORS, count=1, settings=FaultSettings(status=502))
        with pytest.raises(Exception, match="502"):
            sf.query("SELECT Id FROM Account LIMIT 1")

    def test_disarm(self, fake: FakeSalesforce) -> None:
        fake.faults.read_only()
        fake.faults.disarm(Fault.READ_ONLY)
        assert not fake.faults.active

    @pytest.mark.parametrize(("count", "probability"), [(-1, None), (None, 1.5)])
    def test_bad_triggers(self, fake: FakeSalesforce, count: Any, probability: Any) -> None:
        with pytest.raises(ValueError, match=r"count|probability"):
            fake.faults.arm(Fault.HANG, count=count, probability=probability)
