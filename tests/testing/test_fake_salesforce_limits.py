"""API accounting, the concurrency limit and record locking of FakeSalesforce."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceRefusedRequest

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


def test_limit_header_on_counted_responses(sf: Any, fake: FakeSalesforce) -> None:
    """simple-salesforce reads the running count from Sforce-Limit-Info."""
    fake.set_api_usage(41)
    sf.query(QUERY)
    assert (42, 15000) == sf.api_usage["api-usage"]
    assert 42 == fake.api_usage


def test_limit_header_value(fake: FakeSalesforce) -> None:
    """The header reads api-usage=used/allocation after counting the call."""
    headers = {"Authorization": f"Bearer {fake.issue_session()}"}
    response = fake.session().get(
        f"{fake.instance_url}/services/data/v59.0/limits/", headers=headers, timeout=5
    )
    assert "api-usage=1/15000" == response.headers["Sforce-Limit-Info"]


def test_login_is_not_counted(fake: FakeSalesforce) -> None:
    """Logging in uses no API allocation."""
    fake.client()
    assert 0 == fake.api_usage


def test_exhausted_allocation_refuses_calls() -> None:
    """Past the daily allocation every counted call is refused with TotalRequests."""
    with FakeSalesforce(api_limit=5) as fake:
        sf = _direct(fake)
        fake.set_api_usage(4)
        assert 1 == sf.query(QUERY)["totalSize"]
        with pytest.raises(SalesforceRefusedRequest) as caught:
            sf.query(QUERY)
        assert [
            {
                "message": "TotalRequests Limit exceeded.",
                "errorCode": "REQUEST_LIMIT_EXCEEDED",
            }
        ] == (_content(caught.value))
        assert 5 == fake.api_usage


def test_concurrent_long_request_limit() -> None:
    """With the long-request slots full, a new request is refused."""
    now = [0.0]
    with FakeSalesforce(
        clock=lambda: now[0], long_request_threshold=20.0, concurrent_long_limit=2
    ) as fake:
        clients = [_direct(fake) for _ in range(3)]
        fake.faults.hang(count=2)
        with ThreadPoolExecutor(2) as pool:
            held = [pool.submit(client.query, QUERY) for client in clients[:2]]
            assert fake.faults.wait_hanging(2)
            now[0] += 20.0
            with pytest.raises(SalesforceRefusedRequest) as caught:
                clients[2].query(QUERY)
            fake.faults.clear()
            assert [1, 1] == [future.result(timeout=5)["totalSize"] for future in held]
        expected = [
            {
                "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
                "errorCode": "REQUEST_LIMIT_EXCEEDED",
            }
        ]
        assert expected == _content(caught.value)
        assert 1 == clients[2].query(QUERY)["totalSize"]


def test_short_requests_are_not_limited() -> None:
    """Requests younger than the threshold don't count against the concurrency limit."""
    now = [0.0]
    with FakeSalesforce(clock=lambda: now[0], concurrent_long_limit=1) as fake:
        clients = [_direct(fake) for _ in range(2)]
        fake.faults.hang(count=1)
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(clients[0].query, QUERY)
            assert fake.faults.wait_hanging(1)
            assert 1 == clients[1].query(QUERY)["totalSize"]
            fake.faults.clear()
            assert 1 == held.result(timeout=5)["totalSize"]


def _siblings(fake: FakeSalesforce) -> tuple[str, str]:
    counts = Counter(
        str(record["AccountId"])
        for record in fake.org.records("Contact")
        if record["AccountId"] is not None
    )
    account_id = counts.most_common(1)[0][0]
    first, second = [
        str(record["Id"])
        for record in fake.org.records("Contact")
        if record["AccountId"] == account_id
    ][:2]
    return first, second


def _race(fake: FakeSalesforce, record_ids: tuple[str, str]) -> list[Any]:
    clients = [_direct(fake) for _ in record_ids]
    barrier = threading.Barrier(len(record_ids))

    def write(client: Any, record_id: str) -> Any:
        barrier.wait(timeout=5)
        try:
            return client.Contact.update(record_id, {"Title": "Raced"})
        except SalesforceError as error:
            return error

    with ThreadPoolExecutor(len(record_ids)) as pool:
        return list(pool.map(write, clients, record_ids))


@pytest.mark.parametrize("status", [400, 500])
def test_sibling_writes_contend_for_the_parent_lock(status: int) -> None:
    """Two writers of one Account's Contacts: one wins, one gets UNABLE_TO_LOCK_ROW."""
    with FakeSalesforce(lock_hold=0.25, lock_wait=0.05, lock_error_status=status) as fake:
        outcomes = _race(fake, _siblings(fake))
    winners = [outcome for outcome in outcomes if outcome == 204]
    losers = [outcome for outcome in outcomes if isinstance(outcome, SalesforceError)]
    assert (1, 1) == (len(winners), len(losers))
    error = _content(losers[0])[0]
    assert (status, "UNABLE_TO_LOCK_ROW", []) == (
        losers[0].status,
        error["errorCode"],
        error["fields"],
    )
    assert error["message"].startswith(
        "unable to obtain exclusive access to this record or 1 records: "
    )


def test_a_writer_waits_for_a_short_lock() -> None:
    """A competing writer that waits longer than the hold succeeds."""
    with FakeSalesforce(lock_hold=0.02, lock_wait=2.0) as fake:
        outcomes = _race(fake, _siblings(fake))
    assert [204, 204] == outcomes


def test_lock_timeout_message_names_the_record() -> None:
    """Two writers of one record: the lock error names that record."""
    with FakeSalesforce(lock_hold=0.25, lock_wait=0.05) as fake:
        first, _ = _siblings(fake)
        outcomes = _race(fake, (first, first))
    loser = next(outcome for outcome in outcomes if isinstance(outcome, SalesforceError))
    expected = f"unable to obtain exclusive access to this record or 1 records: {first}"
    assert expected == _content(loser)[0]["message"]


def test_error_responses_are_counted_with_a_header(fake: FakeSalesforce) -> None:
    """A failing data API call still uses the allocation and carries the header."""
    headers = {"Authorization": f"Bearer {fake.issue_session()}"}
    response = fake.session().get(
        f"{fake.instance_url}/services/data/v59.0/sobjects/Nope/describe/",
        headers=headers,
        timeout=5,
    )
    assert (404, "api-usage=1/15000") == (
        response.status_code,
        response.headers["Sforce-Limit-Info"],
    )


def test_exhausted_allocation_still_sends_the_limit_header() -> None:
    """The TotalRequests 403 carries Sforce-Limit-Info like every counted answer."""
    with FakeSalesforce(api_limit=5, api_usage=5) as fake:
        headers = {"Authorization": f"Bearer {fake.issue_session()}"}
        response = fake.session().get(
            f"{fake.instance_url}/services/data/v59.0/limits/", headers=headers, timeout=5
        )
    assert (403, "api-usage=5/5") == (
        response.status_code,
        response.headers.get("Sforce-Limit-Info"),
    )
