"""Switchable faults of FakeSalesforce, seen through simple-salesforce and requests."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
)

from sfresilience.testing import FakeSalesforce


QUERY = "SELECT Id FROM Account LIMIT 1"


def _content(error: SalesforceError) -> Any:
    """The parsed error body (simple-salesforce annotates it as bytes)."""
    return error.content


def _direct(fake: FakeSalesforce) -> Any:
    return Salesforce(
        instance_url=fake.instance_url,
        session_id=fake.issue_session(),
        session=fake.session(),
    )


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_outage_refuses_connections_and_restore_listens_on_the_same_port(
    sf: Any, fake: FakeSalesforce
) -> None:
    """An outage refuses connections; restore() serves again on the same port."""
    port = fake.port
    fake.faults.outage()
    assert _refused(port)
    with pytest.raises(requests.ConnectionError):
        sf.query(QUERY)
    fake.faults.restore()
    assert (port, 1) == (fake.port, sf.query(QUERY)["totalSize"])


def test_clear_ends_an_outage(sf: Any, fake: FakeSalesforce) -> None:
    """clear() also ends an outage."""
    fake.faults.outage()
    fake.faults.clear()
    assert 1 == sf.query(QUERY)["totalSize"]


def test_dropped_connections_by_probability(sf: Any, fake: FakeSalesforce) -> None:
    """outage(probability=1) drops requests unanswered while still listening."""
    fake.faults.outage(probability=1.0, seed=1)
    with pytest.raises(requests.ConnectionError):
        sf.query(QUERY)
    assert not _refused(fake.port)
    assert 0 == fake.request_log[-1].status


def test_maintenance_page(sf: Any, fake: FakeSalesforce) -> None:
    """Maintenance answers 503 text/html with the maintenance page."""
    fake.faults.maintenance()
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query(QUERY)
    assert 503 == caught.value.status
    assert "We are down for maintenance" in _content(caught.value)


def test_server_error_500_body(sf: Any, fake: FakeSalesforce) -> None:
    """A 500 server error carries UNKNOWN_EXCEPTION with an ErrorId."""
    fake.faults.server_errors(count=1)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query(QUERY)
    error = _content(caught.value)[0]
    assert (500, "UNKNOWN_EXCEPTION") == (caught.value.status, error["errorCode"])
    assert error["message"].startswith(
        "An unexpected error occurred. Please include this ErrorId if you contact support: "
    )


@pytest.mark.parametrize(
    ("status", "text"), [(502, "Salesforce Edge"), (503, "Salesforce CDN partner")]
)
def test_server_error_html_pages(sf: Any, fake: FakeSalesforce, status: int, text: str) -> None:
    """502 and 503 server errors are HTML pages from the edge and the CDN."""
    fake.faults.server_errors(count=1, status=status)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.query(QUERY)
    assert status == caught.value.status
    assert text in _content(caught.value)


def test_server_error_burst_stops_by_itself(sf: Any, fake: FakeSalesforce) -> None:
    """server_errors(count=3) fails exactly the next three counted requests."""
    fake.faults.server_errors(count=3)
    outcomes = []
    for _ in range(5):
        try:
            sf.query(QUERY)
            outcomes.append(200)
        except SalesforceGeneralError as error:
            outcomes.append(error.status)
    assert [500, 500, 500, 200, 200] == outcomes


def _statuses(fake: FakeSalesforce, session: requests.Session, count: int) -> list[int]:
    url = f"{fake.instance_url}/services/data/v59.0/limits/"
    headers = {"Authorization": f"Bearer {fake.issue_session()}"}
    return [session.get(url, headers=headers, timeout=5).status_code for _ in range(count)]


def test_probability_faults_are_deterministic_for_a_seed(fake: FakeSalesforce) -> None:
    """The same seed and request order fail the same requests."""
    session = fake.session()
    fake.faults.server_errors(probability=0.3, seed=7)
    first = _statuses(fake, session, 30)
    fake.faults.server_errors(probability=0.3, seed=7)
    second = _statuses(fake, session, 30)
    assert first == second
    assert {200, 500} == set(first)


def test_latency_delays_answers(fake: FakeSalesforce) -> None:
    """With latency on, a client with a shorter read timeout times out."""
    sf = _direct(fake)
    fake.faults.latency(30.0)
    with pytest.raises(requests.ReadTimeout):
        sf.query(QUERY, timeout=0.05)


def test_hang_holds_requests_until_cleared(fake: FakeSalesforce) -> None:
    """A hung request gets no answer until clear(), and then gets a normal one."""
    sf = _direct(fake)
    fake.faults.hang()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(sf.query, QUERY)
        assert fake.faults.wait_hanging(1)
        assert not pending.done()
        fake.faults.clear()
        assert 1 == pending.result(timeout=5)["totalSize"]


def test_hang_times_out_a_client(fake: FakeSalesforce) -> None:
    """A hung request makes a client with a read timeout give up."""
    sf = _direct(fake)
    fake.faults.hang()
    with pytest.raises(requests.ReadTimeout):
        sf.query(QUERY, timeout=0.05)


def test_stop_ends_hanging_requests(fake: FakeSalesforce) -> None:
    """stop() ends a hung request with a dropped connection."""
    session = fake.mount(requests.Session())
    headers = {"Authorization": f"Bearer {fake.issue_session()}"}
    fake.faults.hang()
    with session, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(
            session.get,
            f"{fake.instance_url}/services/data/v59.0/limits/",
            headers=headers,
            timeout=5,
        )
        assert fake.faults.wait_hanging(1)
        fake.stop()
        with pytest.raises(requests.ConnectionError):
            pending.result(timeout=5)


def test_read_only_refuses_writes_and_serves_reads(sf: Any, fake: FakeSalesforce) -> None:
    """Read-only mode fails writes with the maintenance error code."""
    fake.faults.read_only()
    record_id = sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"]
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.update(record_id, {"LastName": "Nope"})
    expected = [
        {
            "message": "Updates can't be made during maintenance. Try again when"
            " maintenance is complete.",
            "errorCode": "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
        }
    ]
    assert expected == _content(caught.value)


def test_expired_session_on_a_direct_client(fake: FakeSalesforce) -> None:
    """An expired session is 401 INVALID_SESSION_ID for a direct client."""
    sf = _direct(fake)
    fake.faults.expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as caught:
        sf.query(QUERY)
    expected = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert expected == _content(caught.value)


def test_credential_client_logs_in_again_after_revocation(sf: Any, fake: FakeSalesforce) -> None:
    """simple-salesforce's own refresh logs in again after revoke_sessions()."""
    fake.faults.revoke_sessions()
    assert 1 == sf.query(QUERY)["totalSize"]
    assert 2 == fake.login_count


def test_session_ttl_with_an_injected_clock() -> None:
    """A session idle for session_ttl seconds expires."""
    now = [0.0]
    with FakeSalesforce(session_ttl=7200.0, clock=lambda: now[0]) as fake:
        sf = _direct(fake)
        assert 1 == sf.query(QUERY)["totalSize"]
        now[0] += 7200.0
        with pytest.raises(SalesforceExpiredSession):
            sf.query(QUERY)


def test_unknown_session_is_rejected(fake: FakeSalesforce) -> None:
    """A made-up session id is 401 INVALID_SESSION_ID."""
    sf = Salesforce(
        instance_url=fake.instance_url, session_id="00Dbogus!AQ", session=fake.session()
    )
    with pytest.raises(SalesforceExpiredSession):
        sf.query(QUERY)


def test_stop_clears_faults() -> None:
    """After stop() and start() no fault is left on: login and writes work again."""
    fake = FakeSalesforce()
    fake.start()
    fake.faults.hang()
    fake.faults.read_only()
    fake.faults.outage()
    fake.stop()
    with fake:
        assert (False, False) == (fake.faults.active, fake.faults.in_outage)
        sf: Any = fake.client()
        record_id = sf.query("SELECT Id FROM Contact LIMIT 1")["records"][0]["Id"]
        assert 204 == sf.Contact.update(record_id, {"LastName": "Again"})
