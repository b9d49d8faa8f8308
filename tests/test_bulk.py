"""Bulk API 2.0 and 1.0 through the guard, over real HTTP to the fake org."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce.bulk import SFBulkHandler, SFBulkType
from simple_salesforce.bulk2 import SFBulk2Handler, SFBulk2Type
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceOperationError

from sfresilience import ErrorCategory, Event, EventKind, ResilientClient, Settings, caller
from sfresilience._store import MemoryStore
from sfresilience._timeline import timeline_for
from sfresilience.testing import FakeSalesforce
from sfresilience.triage._checks import check_recent_errors


class Clock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(lock_wait=0.001) as org:
        yield org


def client(fake: FakeSalesforce, clock: Clock, events: list[Event], **settings: Any) -> Any:
    return ResilientClient(
        fake.client(),
        settings=Settings(**settings),
        on_event=events.append,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.0,
    )


def account_id(fake: FakeSalesforce) -> str:
    return str(fake.client().query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"])


def count(fake: FakeSalesforce, where: str) -> int:
    soql = f"SELECT COUNT() FROM Contact WHERE {where}"  # noqa: S608
    return int(fake.client().query(soql)["totalSize"])


def test_lock_failed_rows_are_applied_once_and_data_failures_reported(
    fake: FakeSalesforce,
) -> None:
    """10,000 rows: 5 % fail on a locked parent, 1 % on validation; only the locked are resent."""
    parent = account_id(fake)
    records = _rows_with_failures(parent, 10_000, "bulk")
    holder = contextlib.ExitStack()
    holder.enter_context(fake.locked(parent))
    events: list[Event] = []
    rc = _releasing_client(fake, holder, events)
    [result] = rc.bulk2.Contact.insert(records=records, wait=0)

    outcome = result.resilient
    assert result["numberRecordsTotal"] == 10_000
    assert result["numberRecordsFailed"] == 100
    assert outcome.succeeded == 9_900
    assert len(outcome.retried) == 500
    assert {row["AccountId"] for row in outcome.retried} == {parent}
    assert len(outcome.job_ids) == 2
    codes = {failure.classification.error_code for failure in outcome.failed}
    assert codes == {"REQUIRED_FIELD_MISSING"}
    assert {failure.classification.category for failure in outcome.failed} == {
        ErrorCategory.DATA_REJECTED
    }
    assert all(failure.attempts == 1 for failure in outcome.failed)
    # Every lock-failed row landed, and exactly once.
    assert count(fake, f"AccountId = '{parent}' AND LastName LIKE 'bulk%'") == 500
    assert count(fake, "LastName LIKE 'bulk%'") == 9_900
    assert [e.kind for e in events].count(EventKind.RETRY) == 1


def test_rows_still_locked_after_every_attempt_fail_as_row_locks(fake: FakeSalesforce) -> None:
    parent = account_id(fake)
    events: list[Event] = []
    clock = Clock()
    rc = client(fake, clock, events, retry_attempts=3)
    rows = [{"LastName": f"locked{i}", "AccountId": parent} for i in range(3)]
    with fake.locked(parent):
        [result] = rc.bulk2.Contact.insert(records=rows, wait=0)
    failed = result.resilient.failed
    assert [f.attempts for f in failed] == [3, 3, 3]
    assert {f.classification.category for f in failed} == {ErrorCategory.ROW_LOCK}
    assert len(result.resilient.job_ids) == 3
    assert clock.sleeps  # the follow-ups backed off under the retry policy
    assert count(fake, "LastName LIKE 'locked%'") == 0


def test_stuck_job_is_aborted_and_resubmitted_once(fake: FakeSalesforce) -> None:
    events: list[Event] = []
    clock = Clock()
    store = MemoryStore()
    rc = ResilientClient(
        fake.client(),
        settings=Settings(bulk_job_deadline=60),
        on_event=events.append,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.0,
        store=store,
    )
    fake.faults.stuck_bulk_jobs(count=1)
    rows = [{"LastName": f"stuck{i}"} for i in range(25)]
    [result] = rc.bulk2.Contact.insert(records=rows, wait=1)

    outcome = result.resilient
    first, _ = outcome.job_ids
    assert outcome.aborted_job_ids == (first,)
    assert rc.bulk2.Contact._client.get_job(first, False)["state"] == "Aborted"
    assert outcome.succeeded == 25
    assert len(outcome.retried) == 25
    assert count(fake, "LastName LIKE 'stuck%'") == 25
    assert clock.now >= 60
    aborted = [e for e in events if "aborted stuck job" in (e.reason or "")]
    assert len(aborted) == 1
    assert aborted[0].kind is EventKind.RETRY
    [stuck] = [e for e in events if e.kind is EventKind.BULK_JOB_STUCK]
    assert stuck.reason == (
        f"job {first} still InProgress after its 60 s deadline:"
        " aborted; resubmitting its 25 unprocessed records once"
    )
    # The incident timeline keeps the stuck job, and triage counts it.
    timeline = timeline_for(store)
    [entry] = [e for e in timeline.entries() if e.kind == "bulk_job_stuck"]
    assert (entry.category, entry.operation, entry.detail) == (
        "SERVER_ERROR",
        "bulk2 Contact.insert",
        stuck.reason,
    )
    check = check_recent_errors(timeline, now=time.time())
    assert check.status == "warn"
    assert "SERVER_ERROR 1" in check.detail


def test_a_job_stuck_again_after_its_resubmission_raises_classified(fake: FakeSalesforce) -> None:
    events: list[Event] = []
    clock = Clock()
    rc = client(fake, clock, events, bulk_job_deadline=30)
    fake.faults.stuck_bulk_jobs()
    with pytest.raises(SalesforceOperationError, match="Job timeout") as raised:
        rc.bulk2.Contact.insert(records=[{"LastName": "never"}], wait=1)
    assert raised.value.classification.category is ErrorCategory.SERVER_ERROR  # type: ignore[attr-defined]
    assert [e.kind for e in events if "stuck" in (e.reason or "")] == [
        EventKind.RETRY,
        EventKind.GIVE_UP,
    ]
    fake.bulk.release()
    assert count(fake, "LastName = 'never'") == 0


def test_a_job_failing_as_a_whole_is_classified(fake: FakeSalesforce) -> None:
    rc = client(fake, Clock(), [])
    fake.faults.failed_bulk_jobs("InvalidBatch : Field name not found : Nope")
    with pytest.raises(SalesforceOperationError, match="Job failure") as raised:
        rc.bulk2.Contact.insert(records=[{"LastName": "x"}], wait=0)
    classification = raised.value.classification  # type: ignore[attr-defined]
    assert classification.category is ErrorCategory.INVALID_REQUEST
    assert classification.error_code == "InvalidBatch"


def test_session_expiring_mid_job_costs_one_login(fake: FakeSalesforce) -> None:
    clock = Clock()
    expired: list[bool] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if not expired:  # the session expires while the job runs
            expired.append(True)
            fake.faults.expire_sessions()

    rc = ResilientClient(fake.client(), settings=Settings(), clock=clock, sleep=sleep)
    logins = fake.login_count
    fake.bulk.in_progress_polls = 2
    [result] = rc.bulk2.Contact.insert(records=[{"LastName": f"mid{i}"} for i in range(5)], wait=1)
    assert expired
    assert result["numberRecordsFailed"] == 0
    assert fake.login_count - logins == 1
    assert rc.logins == 1
    assert count(fake, "LastName LIKE 'mid%'") == 5


def test_bulk2_query_keeps_simple_salesforce_shape(fake: FakeSalesforce) -> None:
    rc = client(fake, Clock(), [])
    fake.faults.expire_sessions()
    pages = list(rc.bulk2.Contact.query("SELECT Id, LastName FROM Contact", wait=0))
    assert pages
    assert pages[0].startswith('"Id","LastName"')
    assert rc.logins == 1


def test_bulk_v1_refreshes_an_expired_session(fake: FakeSalesforce) -> None:
    rc = client(fake, Clock(), [])
    fake.faults.expire_sessions()
    records = rc.bulk.Contact.query("SELECT Id FROM Contact LIMIT 3")
    assert len(records) == 3
    assert rc.logins == 1


def test_without_the_wrapper_the_bulk_session_stays_expired(fake: FakeSalesforce) -> None:
    """The failure the wrapper fixes (simple-salesforce #619)."""
    sf: Any = fake.client()
    fake.faults.expire_sessions()
    with pytest.raises(Exception, match=r"INVALID_SESSION_ID|InvalidSessionId"):
        sf.bulk2.Contact.insert(records=[{"LastName": "x"}], wait=0)


def test_bulk_requests_and_the_bulk_daily_limit_reach_the_budget(fake: FakeSalesforce) -> None:
    rc = client(fake, Clock(), [])
    rc.limits()  # the budget guard's reading of the daily allocations
    before = fake.api_usage
    with caller("nightly-load"):
        rc.bulk2.Contact.insert(records=[{"LastName": f"budget{i}"} for i in range(3)], wait=0)
    spent = fake.api_usage - before
    assert spent >= 5  # create, upload, close, poll, job info
    assert rc.budget.used == fake.api_usage  # every Bulk answer's Sforce-Limit-Info was read
    assert rc.budget.by_caller["nightly-load"] == spent
    maximum, remaining = rc.budget.daily_limits["DailyBulkApiBatches"]
    assert maximum - remaining == 1  # one Bulk 2.0 job of under 10,000 records, counted here
    rc.limits()
    assert rc.budget.daily_limits["DailyBulkApiBatches"] == (maximum, remaining)  # as Salesforce


def test_the_budget_guard_counts_bulk_batches_and_query_jobs_between_readings(
    fake: FakeSalesforce,
) -> None:
    rc = client(fake, Clock(), [])
    rc.limits()
    rc.bulk2.Contact.insert(records=[{"LastName": f"batches{i}"} for i in range(25_000)], wait=0)
    rc.bulk.Contact.insert([{"LastName": f"v1batches{i}"} for i in range(5)], batch_size=2)
    list(rc.bulk2.Contact.query("SELECT Id FROM Contact LIMIT 5", wait=0))
    counted = dict(rc.budget.daily_limits)
    rc.limits()
    told = dict(rc.budget.daily_limits)
    assert counted["DailyBulkApiBatches"] == told["DailyBulkApiBatches"]
    assert told["DailyBulkApiBatches"][0] - told["DailyBulkApiBatches"][1] == 3 + 3
    assert counted["DailyBulkV2QueryJobs"] == told["DailyBulkV2QueryJobs"]
    assert told["DailyBulkV2QueryJobs"][0] - told["DailyBulkV2QueryJobs"][1] == 1


QUERY = "SELECT Id, FirstName, Email, HasOptedOutOfEmail, CreatedDate, Account.Name FROM Contact"


def _without_parent_urls(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the Bulk path gives it: a parent's url needs its Id, which CSV lacks."""
    account = record.get("Account")
    if account:
        account = {**account, "attributes": {"type": account["attributes"]["type"]}}
    return {**record, "Account": account}


def test_query_all_above_the_threshold_switches_to_a_bulk_query_job() -> None:
    with FakeSalesforce(contacts=4_500) as fake:
        rest = ResilientClient(fake.client(), settings=Settings()).query_all(QUERY)
        before = fake.api_usage
        rc = client(fake, Clock(), [], bulk_query_threshold=3_000)
        records = list(rc.query_all_iter(QUERY))
        spent = fake.api_usage - before
        jobs = [r for r in fake.request_log if r.method == "POST" and "jobs/query" in r.path]
    assert len(jobs) == 1
    assert spent == 5  # first page, describe, create, one poll, one results page
    by_id = {record["Id"]: record for record in records}
    assert len(by_id) == 4_500
    expected = [_without_parent_urls(json_round_trip(r)) for r in rest["records"]]
    assert [json_round_trip(by_id[r["Id"]]) for r in rest["records"]] == expected


def test_query_all_below_the_threshold_stays_on_rest(fake: FakeSalesforce) -> None:
    rc = client(fake, Clock(), [], bulk_query_threshold=100_000)
    result = rc.query_all("SELECT Id FROM Contact")
    assert result["totalSize"] > 0
    assert not [r for r in fake.request_log if "jobs/query" in r.path]


def json_round_trip(record: dict[str, Any]) -> Any:
    return json.loads(json.dumps(record))


def test_a_result_download_is_retried_after_a_server_error(fake: FakeSalesforce) -> None:
    events: list[Event] = []
    rc = client(fake, Clock(), events)
    [job] = rc.bulk2.Contact.insert(records=[{"LastName": "ok"}, {"FirstName": "x"}], wait=0)
    fake.faults.server_errors(1, status=503)
    failed = rc.bulk2.Contact.get_failed_records(job["job_id"])
    assert "REQUIRED_FIELD_MISSING" in failed
    assert [e.kind for e in events] == [EventKind.CLASSIFIED, EventKind.RETRY, EventKind.RECOVERED]


def test_a_job_creation_whose_answer_was_lost_is_not_sent_again(fake: FakeSalesforce) -> None:
    rc = client(fake, Clock(), [])
    fake.faults.lose_responses(count=1)
    with pytest.raises(requests.ConnectionError) as raised:
        rc.bulk2.Contact.insert(records=[{"LastName": "once"}], wait=0)
    assert raised.value.classification.category is ErrorCategory.UNAVAILABLE  # type: ignore[attr-defined]
    creates = [r for r in fake.request_log if r.method == "POST" and "jobs/ingest" in r.path]
    assert len(creates) == 1


def test_a_stuck_query_job_is_aborted_and_raises_classified(fake: FakeSalesforce) -> None:
    clock = Clock()
    events: list[Event] = []
    rc = client(fake, clock, events, bulk_job_deadline=20)
    fake.faults.stuck_bulk_jobs()
    with pytest.raises(SalesforceOperationError, match="Job timeout") as raised:
        list(rc.bulk2.Contact.query("SELECT Id FROM Contact", wait=1))
    [stuck] = [e for e in events if e.kind is EventKind.BULK_JOB_STUCK]
    assert stuck.operation == "bulk2 Contact.query"
    assert (stuck.reason or "").endswith("aborted; raising a classified timeout")
    assert raised.value.classification.category is ErrorCategory.SERVER_ERROR  # type: ignore[attr-defined]
    assert clock.now >= 20
    fake.bulk.release()
    [job] = [r for r in fake.request_log if r.method == "PATCH" and "jobs/query" in r.path]
    assert job.status == 200  # the abort


def _rows_with_failures(parent: str, count: int, prefix: str) -> list[dict[str, str]]:
    """*count* Contacts: every 20th under *parent* (locked), every 100th (+1) missing LastName."""
    records = []
    for i in range(count):
        row = {"LastName": f"{prefix}{i}", "Email": f"{prefix}{i}@example.com"}
        if i % 20 == 0:
            row["AccountId"] = parent
        elif i % 100 == 1:
            row["LastName"] = ""
        records.append(row)
    return records


def _releasing_client(
    fake: FakeSalesforce, holder: contextlib.ExitStack, events: list[Event] | None = None
) -> Any:
    """A client whose first row resubmission finds the other transaction committed."""

    def release_when_resubmitted(event: Event) -> None:
        if events is not None:
            events.append(event)
        if event.kind is EventKind.RETRY and "resubmitting" in (event.reason or ""):
            holder.close()

    clock = Clock()
    return ResilientClient(
        fake.client(),
        settings=Settings(),
        on_event=release_when_resubmitted,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.0,
    )


def test_bulk_v1_resubmits_lock_failed_rows_once_and_reports_data_failures(
    fake: FakeSalesforce,
) -> None:
    parent = account_id(fake)
    records = _rows_with_failures(parent, 2_000, "v1bulk")  # Bulk 1.0 batches of 500
    holder = contextlib.ExitStack()
    holder.enter_context(fake.locked(parent))
    rc = _releasing_client(fake, holder)

    results = rc.bulk.Contact.insert(records, batch_size=500)

    assert len(results) == 2_000  # simple-salesforce's list: one entry per row, in order
    assert all(results[i]["success"] for i in range(0, 2_000, 20))  # the locked, resubmitted
    assert [i for i, r in enumerate(results) if not r["success"]] == list(range(1, 2_000, 100))
    assert {r["errors"][0]["statusCode"] for r in results if not r["success"]} == {
        "REQUIRED_FIELD_MISSING"
    }
    outcome = results.resilient
    assert (outcome.total, outcome.succeeded, len(outcome.retried)) == (2_000, 1_980, 100)
    assert len(outcome.job_ids) == 2
    assert {f.classification.category for f in outcome.failed} == {ErrorCategory.DATA_REJECTED}
    assert {f.job_id for f in outcome.failed} == {outcome.job_ids[0]}
    assert count(fake, f"AccountId = '{parent}' AND LastName LIKE 'v1bulk%'") == 100
    assert count(fake, "LastName LIKE 'v1bulk%'") == 1_980


def test_bulk_v1_rows_still_locked_fail_after_every_attempt(fake: FakeSalesforce) -> None:
    parent = account_id(fake)
    rc = client(fake, Clock(), [], retry_attempts=2)
    rows = [{"LastName": f"v1locked{i}", "AccountId": parent} for i in range(3)]
    with fake.locked(parent):
        results = rc.bulk.submit_dml("Contact", "insert", rows)
    assert [r["errors"][0]["statusCode"] for r in results] == ["UNABLE_TO_LOCK_ROW"] * 3
    assert [f.attempts for f in results.resilient.failed] == [2, 2, 2]
    assert len(results.resilient.job_ids) == 2
    assert count(fake, "LastName LIKE 'v1locked%'") == 0


def test_a_simple_salesforce_whose_bulk_internals_moved_keeps_its_own_handler_guarded(
    fake: FakeSalesforce, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A future simple-salesforce renames a private parameter we override: no crash."""

    def renamed(self: Any, operation: Any, payload: Any, *args: Any) -> Any:
        raise AssertionError("not called by this test")

    original = SFBulkType._bulk_operation

    def moved(self: Any, operation: str, payload: Any = None, **kwargs: Any) -> Any:
        return original(self, operation, kwargs.pop("data", payload), **kwargs)

    monkeypatch.setattr(SFBulk2Type, "_upload_data", renamed)
    monkeypatch.setattr(SFBulkType, "_bulk_operation", moved)
    rc = client(fake, Clock(), [])
    with caplog.at_level(logging.WARNING, "sfresilience"):
        assert type(rc.bulk2) is SFBulk2Handler
        assert type(rc.bulk) is SFBulkHandler
    warned = " ".join(record.getMessage() for record in caplog.records)
    assert "SFBulk2Type._upload_data" in warned
    assert "SFBulkType._bulk_operation" in warned
    fake.faults.expire_sessions()
    handler: Any = rc.bulk
    assert len(handler.Contact.query("SELECT Id FROM Contact LIMIT 2")) == 2
    assert rc.logins == 1  # still over the guarded session


def test_bulk_v1_writes_are_refused_in_read_only_maintenance(fake: FakeSalesforce) -> None:
    rc = client(fake, Clock(), [])
    fake.faults.read_only()
    with pytest.raises(SalesforceMalformedRequest) as raised:
        rc.bulk.Contact.insert([{"LastName": "readonly"}])
    classification = raised.value.classification  # type: ignore[attr-defined]
    assert classification.category is ErrorCategory.MAINTENANCE
    assert classification.error_code == "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE"
    fake.faults.clear()
    assert count(fake, "LastName = 'readonly'") == 0
    [result] = rc.bulk.Contact.insert([{"LastName": "readonly"}])
    assert result["success"]
