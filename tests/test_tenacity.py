"""tenacity building blocks: the runbook decides what @tenacity.retry retries and waits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import tenacity
from simple_salesforce.exceptions import SalesforceError, SalesforceMalformedRequest

from sfresilience import ErrorCategory, classify
from sfresilience.tenacity import retry_if_salesforce, wait_salesforce
from sfresilience.testing import FakeSalesforce


class Waits(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _retrying(waits: Waits | None = None, **kwargs: Any) -> tenacity.Retrying:
    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(4),
        sleep=Waits() if waits is None else waits,
        reraise=True,
        **kwargs,
    )


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as fake:
        yield fake


def _sf(org: FakeSalesforce) -> Any:  # simple-salesforce's sObject attributes are untyped
    return org.client()


def test_lock_error_is_retried_with_the_cores_backoff(org: FakeSalesforce) -> None:
    sf = _sf(org)
    account = sf.Account.create({"Name": "Acme"})["id"]
    org.lock_wait = 0.0
    waits = Waits()
    retrying = _retrying(
        waits, retry=retry_if_salesforce(), wait=wait_salesforce(jitter=lambda: 0.0)
    )
    with org.locked(account), pytest.raises(SalesforceError, match="UNABLE_TO_LOCK_ROW"):
        retrying(sf.Account.update, account, {"Name": "Acme 2"})
    assert retrying.statistics["attempt_number"] == 4
    assert waits == [0.1, 0.2, 0.4]  # equal jitter at 0: half of each ceiling


def test_transient_server_error_is_retried_until_it_passes(org: FakeSalesforce) -> None:
    sf = _sf(org)
    org.faults.server_errors(2, status=503)
    retrying = _retrying(retry=retry_if_salesforce(), wait=wait_salesforce())
    assert retrying(sf.query, "SELECT Id FROM Account")["done"] is True
    assert retrying.statistics["attempt_number"] == 3


def test_code_bug_is_not_retried(org: FakeSalesforce) -> None:
    sf = _sf(org)
    retrying = _retrying(retry=retry_if_salesforce(), wait=wait_salesforce())
    with pytest.raises(SalesforceMalformedRequest):
        retrying(sf.query, "SELECT Nope FROM Account")
    assert retrying.statistics["attempt_number"] == 1


def _daily_cap() -> None:
    raise SalesforceError(
        "https://example.my.salesforce.com/services/data/v59.0/query",
        403,
        "query",
        b'[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]',
    )


@pytest.mark.parametrize(
    "predicate",
    [retry_if_salesforce(), retry_if_salesforce(ErrorCategory.API_LIMIT_EXCEEDED)],
)
def test_daily_cap_is_never_retried_even_when_named(predicate: retry_if_salesforce) -> None:
    retrying = _retrying(retry=predicate, wait=wait_salesforce())
    with pytest.raises(SalesforceError):
        retrying(_daily_cap)
    assert retrying.statistics["attempt_number"] == 1


def test_categories_narrow_what_is_retried(org: FakeSalesforce) -> None:
    sf = _sf(org)
    org.faults.server_errors(1, status=503)
    only_locks = _retrying(retry=retry_if_salesforce("ROW_LOCK"), wait=wait_salesforce())
    with pytest.raises(SalesforceError):
        only_locks(sf.query, "SELECT Id FROM Account")
    assert only_locks.statistics["attempt_number"] == 1
    org.faults.server_errors(1, status=503)
    unavailable = _retrying(
        retry=retry_if_salesforce("UNAVAILABLE", "SERVER_ERROR"), wait=wait_salesforce()
    )
    assert unavailable(sf.query, "SELECT Id FROM Account")["done"] is True
    assert unavailable.statistics["attempt_number"] == 2


def _state(error: BaseException, attempt: int) -> tenacity.RetryCallState:
    state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def _salesforce_error(status: int, code: str) -> SalesforceError:
    body = f'[{{"errorCode": "{code}", "message": "{code}"}}]'.encode()
    return SalesforceError("https://x.my.salesforce.com/services/data", status, "query", body)


def test_backoff_doubles_to_its_cap_and_keeps_its_jitter() -> None:
    lock = _salesforce_error(400, "UNABLE_TO_LOCK_ROW")
    low, high = wait_salesforce(jitter=lambda: 0.0), wait_salesforce(jitter=lambda: 0.999)
    assert [0.1, 0.2, 0.4, 0.8] == [low(_state(lock, n)) for n in range(1, 5)]
    assert 2.5 == low(_state(lock, 30))
    assert 4.99 < high(_state(lock, 30)) < 5.0
    assert 0.0 == low(_state(_salesforce_error(400, "MALFORMED_QUERY"), 1))


def test_session_expiry_is_retryable_unless_categories_leave_it_out() -> None:
    expired = _state(_salesforce_error(401, "INVALID_SESSION_ID"), 1)
    assert retry_if_salesforce()(expired)
    assert not retry_if_salesforce("ROW_LOCK", "UNAVAILABLE", retryable=True)(expired)


def test_a_classification_already_on_the_error_is_kept() -> None:
    error = ValueError("not Salesforce's")
    assert not retry_if_salesforce()(_state(error, 1))
    error.classification = classify(status=503, body=b"down")  # type: ignore[attr-defined]
    assert retry_if_salesforce()(_state(error, 1))


@pytest.mark.parametrize(("ambiguous_writes", "created"), [(False, 1), (True, 2)])
def test_a_create_whose_answer_was_lost_is_not_sent_again(
    org: FakeSalesforce, ambiguous_writes: bool, created: int
) -> None:
    """Applied, then the connection dropped: re-sending would make a second record."""
    sf = _sf(org)
    org.faults.lose_responses(count=1)
    retrying = _retrying(
        retry=retry_if_salesforce(ambiguous_writes=ambiguous_writes), wait=wait_salesforce()
    )
    if ambiguous_writes:
        retrying(sf.Account.create, {"Name": "Lost Answer"})  # sent again, and applied again
    else:
        with pytest.raises(requests.RequestException):
            retrying(sf.Account.create, {"Name": "Lost Answer"})
    found = sf.query("SELECT Id FROM Account WHERE Name = 'Lost Answer'")
    assert created == found["totalSize"]
