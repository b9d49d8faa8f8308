"""Bulk API 2.0 on FakeSalesforce, through the unmodified simple-salesforce `bulk2`."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceOperationError

from sfresilience.testing import FakeSalesforce, Fault


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _jobs_url(sf: Any, path: str = "") -> str:
    return f"{sf.bulk2_url}{path}"


def _headers(sf: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {sf.session_id}", "Content-Type": "application/json"}


def _contact_ids(sf: Any, count: int) -> list[str]:
    records = sf.query(f"SELECT Id FROM Contact ORDER BY Id LIMIT {count}")["records"]  # noqa: S608
    return [record["Id"] for record in records]


def _open_job(sf: Any, csv_text: str, operation: str = "insert", **extra: str) -> str:
    """Create a job, upload `csv_text` and close it with plain HTTP; return its id."""
    session = sf.session
    body = {"object": "Contact", "operation": operation, "contentType": "CSV", **extra}
    job = session.post(_jobs_url(sf, "ingest"), json=body, headers=_headers(sf)).json()
    upload = session.put(
        _jobs_url(sf, f"ingest/{job['id']}/batches"),
        data=csv_text.encode(),
        headers={**_headers(sf), "Content-Type": "text/csv"},
    )
    assert upload.status_code == 201
    closed = session.patch(
        _jobs_url(sf, f"ingest/{job['id']}"), json={"state": "UploadComplete"}, headers=_headers(sf)
    )
    assert closed.json()["state"] == "UploadComplete"
    return str(job["id"])


def _job_state(sf: Any, job_id: str, kind: str = "ingest") -> dict[str, Any]:
    answer = sf.session.get(_jobs_url(sf, f"{kind}/{job_id}"), headers=_headers(sf))
    assert answer.status_code == 200
    return dict(answer.json())


def test_insert_round_trip_with_failed_records(sf: Any, fake: FakeSalesforce) -> None:
    """Good rows are created through the org; a row missing LastName fails on its own."""
    records = [
        {"FirstName": "Ada", "LastName": "Bulk", "Email": "ada@example.com"},
        {"FirstName": "NoLast", "LastName": "", "Email": "x@example.com"},
        {"FirstName": "Grace", "LastName": "Bulk", "Email": "grace@example.com"},
    ]
    [result] = sf.bulk2.Contact.insert(records=records, wait=0)
    job_id = result["job_id"]
    successful = _rows(sf.bulk2.Contact.get_successful_records(job_id))
    failed = _rows(sf.bulk2.Contact.get_failed_records(job_id))
    assert (3, 1, 3) == (
        result["numberRecordsProcessed"],
        result["numberRecordsFailed"],
        result["numberRecordsTotal"],
    )
    assert [("true", "Ada"), ("true", "Grace")] == [
        (row["sf__Created"], row["FirstName"]) for row in successful
    ]
    assert [("", "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --")] == [
        (row["sf__Id"], row["sf__Error"]) for row in failed
    ]
    stored = sf.query(
        "SELECT Id, FirstName FROM Contact WHERE LastName = 'Bulk' ORDER BY FirstName"
    )
    assert [row["sf__Id"] for row in successful] == [r["Id"] for r in stored["records"]]


def test_update_round_trip_with_type_and_id_errors(sf: Any) -> None:
    """Updates land in the org; an unknown id and a value of the wrong type fail per row."""
    first, second = _contact_ids(sf, 2)
    missing = "003000000000000AAA"
    [result] = sf.bulk2.Contact.update(
        records=[
            {"Id": first, "Title": "Updated by bulk"},
            {"Id": missing, "Title": "Ghost"},
            {"Id": second, "Title": "Also updated"},
        ],
        wait=0,
    )
    failed = _rows(sf.bulk2.Contact.get_failed_records(result["job_id"]))
    titles = [sf.Contact.get(record_id)["Title"] for record_id in (first, second)]
    assert ["Updated by bulk", "Also updated"] == titles
    assert [(missing, "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--")] == [
        (row["sf__Id"], row["sf__Error"]) for row in failed
    ]
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    [typed] = sf.bulk2.Account.update(
        records=[{"Id": account, "NumberOfEmployees": "many"}], wait=0
    )
    [bad] = _rows(sf.bulk2.Account.get_failed_records(typed["job_id"]))
    assert (
        "INVALID_TYPE_ON_FIELD_IN_RECORD:Employees: value not of required type: many:"
        "NumberOfEmployees --"
    ) == bad["sf__Error"]


def test_upsert_by_external_id_reports_created_and_updated(sf: Any) -> None:
    """Upsert matches External_Id__c: an existing key updates, a new key creates."""
    existing = sf.Contact.create({"LastName": "Existing", "External_Id__c": "EXT-1"})["id"]
    [result] = sf.bulk2.Contact.upsert(
        records=[
            {"External_Id__c": "EXT-1", "LastName": "Renamed"},
            {"External_Id__c": "EXT-2", "LastName": "Brand New"},
        ],
        external_id_field="External_Id__c",
        wait=0,
    )
    successful = _rows(sf.bulk2.Contact.get_successful_records(result["job_id"]))
    assert [(existing, "false"), (successful[1]["sf__Id"], "true")] == [
        (row["sf__Id"], row["sf__Created"]) for row in successful
    ]
    assert "Renamed" == sf.Contact.get(existing)["LastName"]
    assert "Brand New" == sf.Contact.get_by_custom_id("External_Id__c", "EXT-2")["LastName"]


def test_delete_and_hard_delete(sf: Any) -> None:
    """Deleted rows vanish from query (hard-deleted ones from queryAll too); again fails."""
    first, second = _contact_ids(sf, 2)
    [deleted] = sf.bulk2.Contact.delete(records=[{"Id": first}], wait=0)
    [hard] = sf.bulk2.Contact.hard_delete(records=[{"Id": second}], wait=0)
    [again] = sf.bulk2.Contact.delete(records=[{"Id": first}], wait=0)
    soql = f"SELECT Id FROM Contact WHERE Id IN ('{first}', '{second}')"  # noqa: S608
    assert 0 == sf.query(soql)["totalSize"]
    assert [first] == [r["Id"] for r in sf.query_all(soql, include_deleted=True)["records"]]
    assert (0, 0, 1) == (
        deleted["numberRecordsFailed"],
        hard["numberRecordsFailed"],
        again["numberRecordsFailed"],
    )
    [row] = _rows(sf.bulk2.Contact.get_failed_records(again["job_id"]))
    assert "ENTITY_IS_DELETED:entity is deleted:--" == row["sf__Error"]


def test_locked_record_fails_its_row_with_unable_to_lock_row(sf: Any, fake: FakeSalesforce) -> None:
    """A row whose record another transaction holds fails UNABLE_TO_LOCK_ROW; others pass."""
    locked, free = _contact_ids(sf, 2)
    title_before = sf.Contact.get(locked)["Title"]
    with fake.locked(locked):
        [result] = sf.bulk2.Contact.update(
            records=[{"Id": locked, "Title": "Blocked"}, {"Id": free, "Title": "Fine"}], wait=0
        )
    [row] = _rows(sf.bulk2.Contact.get_failed_records(result["job_id"]))
    assert (locked, "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--") == (
        row["sf__Id"],
        row["sf__Error"],
    )
    assert [title_before, "Fine"] == [sf.Contact.get(i)["Title"] for i in (locked, free)]


def test_job_states_and_job_info_fields(sf: Any, fake: FakeSalesforce) -> None:
    """Open -> UploadComplete -> InProgress (for in_progress_polls) -> JobComplete."""
    fake.bulk.in_progress_polls = 2
    job_id = _open_job(sf, "LastName,Email\nStates,s@example.com\n")
    states = [_job_state(sf, job_id)["state"] for _ in range(3)]
    info = _job_state(sf, job_id)
    assert ["InProgress", "InProgress", "JobComplete"] == states
    assert {
        "id",
        "operation",
        "object",
        "createdById",
        "createdDate",
        "systemModstamp",
        "state",
        "concurrencyMode",
        "contentType",
        "apiVersion",
        "jobType",
        "lineEnding",
        "columnDelimiter",
        "numberRecordsProcessed",
        "numberRecordsFailed",
        "retries",
        "totalProcessingTime",
        "apiActiveProcessingTime",
        "apexProcessingTime",
    } <= info.keys()
    assert ("V2Ingest", "Contact", 1, 0) == (
        info["jobType"],
        info["object"],
        info["numberRecordsProcessed"],
        info["numberRecordsFailed"],
    )


def test_stuck_job_stays_in_progress_until_released(sf: Any, fake: FakeSalesforce) -> None:
    """A stuck job never completes on its own; release() lets the next poll finish it."""
    fake.faults.stuck_bulk_jobs()
    job_id = _open_job(sf, "LastName\nStuck\n")
    states = {_job_state(sf, job_id)["state"] for _ in range(5)}
    written_while_stuck = sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Stuck'")
    fake.bulk.release()
    final = _job_state(sf, job_id)["state"]
    assert ({"InProgress"}, 0, "JobComplete") == (
        states,
        written_while_stuck["totalSize"],
        final,
    )
    assert 1 == sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Stuck'")["totalSize"]


def test_failed_job_raises_and_leaves_rows_unprocessed(sf: Any, fake: FakeSalesforce) -> None:
    """A job that fails as a whole: simple-salesforce raises, nothing is written."""
    fake.faults.failed_bulk_jobs("InvalidBatch : Failed by the test", count=1)
    with pytest.raises(SalesforceOperationError, match="InvalidBatch : Failed by the test"):
        sf.bulk2.Contact.insert(records=[{"LastName": "Doomed"}], wait=0)
    jobs = sf.session.get(_jobs_url(sf, "ingest"), headers=_headers(sf)).json()["records"]
    job_id = jobs[-1]["id"]
    assert ("V2Ingest", "Failed") == (jobs[-1]["jobType"], jobs[-1]["state"])
    unprocessed = _rows(sf.bulk2.Contact.get_unprocessed_records(job_id))
    assert [{"LastName": "Doomed"}] == unprocessed
    assert 0 == sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Doomed'")["totalSize"]
    [after] = sf.bulk2.Contact.insert(records=[{"LastName": "Fine"}], wait=0)
    assert 0 == after["numberRecordsFailed"]


def test_unknown_column_fails_the_job_with_salesforces_message(sf: Any) -> None:
    """A CSV column the object lacks fails the job: InvalidBatch : Field name not found."""
    job_id = _open_job(sf, "LastName,Bogus__c\nX,1\n")
    info = _job_state(sf, job_id)
    assert ("Failed", "InvalidBatch : Field name not found : Bogus__c") == (
        info["state"],
        info["errorMessage"],
    )


def test_crlf_data_in_an_lf_job_fails_with_the_line_ending_error(sf: Any) -> None:
    """Data with CRLF line endings in a job declared LF fails as Salesforce's does."""
    job_id = _open_job(sf, "LastName\r\nCrlf\r\n")
    info = _job_state(sf, job_id)
    assert info["errorMessage"] == (
        "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF"
    )


def test_async_api_disabled(sf: Any, fake: FakeSalesforce) -> None:
    """With the Async API off, bulk2 fails with FeatureNotEnabled: Async API not enabled."""
    fake.faults.async_api_disabled()
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.bulk2.Contact.insert(records=[{"LastName": "Nope"}], wait=0)
    assert "FeatureNotEnabled" in str(caught.value)
    assert "Async API not enabled" in str(caught.value)
    fake.faults.disarm(Fault.ASYNC_API_DISABLED)
    [result] = sf.bulk2.Contact.insert(records=[{"LastName": "Back"}], wait=0)
    assert 0 == result["numberRecordsFailed"]


def test_query_pages_with_locator_and_record_count_headers() -> None:
    """maxRecords splits results; Sforce-Locator chains pages and is 'null' at the end."""
    with FakeSalesforce(contacts=250) as fake:
        sf: Any = fake.client()
        pages = list(
            sf.bulk2.Contact.query("SELECT Id, LastName FROM Contact", max_records=100, wait=0)
        )
        job = sf.session.post(
            _jobs_url(sf, "query"),
            json={"operation": "query", "query": "SELECT Id FROM Contact"},
            headers=_headers(sf),
        ).json()
        assert _job_state(sf, job["id"], "query")["state"] == "JobComplete"
        first = sf.session.get(
            _jobs_url(sf, f"query/{job['id']}/results"),
            params={"maxRecords": "200"},
            headers=_headers(sf),
        )
        last = sf.session.get(
            _jobs_url(sf, f"query/{job['id']}/results"),
            params={"maxRecords": "200", "locator": first.headers["Sforce-Locator"]},
            headers=_headers(sf),
        )
    assert [100, 100, 50] == [len(_rows(page)) for page in pages]
    assert 250 == len({row["Id"] for page in pages for row in _rows(page)})
    assert ("200", "50", "null") == (
        first.headers["Sforce-NumberOfRecords"],
        last.headers["Sforce-NumberOfRecords"],
        last.headers["Sforce-Locator"],
    )


def test_query_all_sees_deleted_rows_and_parent_fields(sf: Any) -> None:
    """queryAll includes deleted rows; relationship columns are flattened (Account.Name)."""
    [contact_id] = _contact_ids(sf, 1)
    sf.Contact.delete(contact_id)
    soql = f"SELECT Id, IsDeleted, Account.Name FROM Contact WHERE Id = '{contact_id}'"  # noqa: S608
    hidden = list(sf.bulk2.Contact.query(soql, wait=0))
    [shown] = [_rows(page) for page in sf.bulk2.Contact.query_all(soql, wait=0)]
    assert [[]] == [_rows(page) for page in hidden]
    assert ["Id", "IsDeleted", "Account.Name"] == list(shown[0])
    assert (contact_id, "true") == (shown[0]["Id"], shown[0]["IsDeleted"])


def test_query_results_of_an_unfinished_job_are_refused(sf: Any, fake: FakeSalesforce) -> None:
    """Results before JobComplete answer 412 JOB_NOT_COMPLETE."""
    fake.faults.stuck_bulk_jobs()
    job = sf.session.post(
        _jobs_url(sf, "query"),
        json={"operation": "query", "query": "SELECT Id FROM Contact"},
        headers=_headers(sf),
    ).json()
    answer = sf.session.get(_jobs_url(sf, f"query/{job['id']}/results"), headers=_headers(sf))
    assert (412, "JOB_NOT_COMPLETE") == (answer.status_code, answer.json()[0]["errorCode"])


def test_bad_soql_in_a_query_job_answers_salesforces_error(sf: Any) -> None:
    """A query job with an unknown field is refused at creation with INVALID_FIELD."""
    answer = sf.session.post(
        _jobs_url(sf, "query"),
        json={"operation": "query", "query": "SELECT Nope__c FROM Contact"},
        headers=_headers(sf),
    )
    assert (400, "INVALID_FIELD") == (answer.status_code, answer.json()[0]["errorCode"])


def test_bulk_requests_count_as_api_calls_and_bulk_limits_move(
    sf: Any, fake: FakeSalesforce
) -> None:
    """Every Bulk 2.0 request is an API call; /limits shows batches and query jobs used."""
    before = sf.limits()
    usage_before = fake.api_usage
    sf.bulk2.Contact.insert(records=[{"LastName": f"L{i}"} for i in range(3)], wait=0)
    list(sf.bulk2.Contact.query("SELECT Id FROM Contact", wait=0))
    after = sf.limits()
    bulk_requests = [r for r in fake.request_log if "/jobs/" in r.path]
    assert all(r.counted for r in bulk_requests)
    assert fake.api_usage - usage_before == len(bulk_requests) + 1  # + the second limits()
    assert (
        1 == before["DailyBulkApiBatches"]["Remaining"] - after["DailyBulkApiBatches"]["Remaining"]
    )
    assert (
        1
        == before["DailyBulkV2QueryJobs"]["Remaining"] - after["DailyBulkV2QueryJobs"]["Remaining"]
    )
    assert after["DailyBulkV2QueryFileStorageMB"]["Max"] == 976_562


def test_abort_and_unknown_job(sf: Any) -> None:
    """An open job can be aborted; an unknown job id is 404 NOT_FOUND."""
    session = sf.session
    job = session.post(
        _jobs_url(sf, "ingest"),
        json={"object": "Contact", "operation": "insert"},
        headers=_headers(sf),
    ).json()
    aborted = session.patch(
        _jobs_url(sf, f"ingest/{job['id']}"), json={"state": "Aborted"}, headers=_headers(sf)
    )
    unknown = session.get(_jobs_url(sf, "ingest/750000000000000AAA"), headers=_headers(sf))
    assert ("Open", "Aborted") == (job["state"], aborted.json()["state"])
    assert (404, "NOT_FOUND") == (unknown.status_code, unknown.json()[0]["errorCode"])
    assert job["contentUrl"] == f"services/data/v59.0/jobs/ingest/{job['id']}/batches"


def test_pipe_delimited_crlf_job(sf: Any) -> None:
    """columnDelimiter and lineEnding are honoured for uploads and result files."""
    job_id = _open_job(
        sf, "LastName|Title\r\nPiped|A, with comma\r\n", columnDelimiter="PIPE", lineEnding="CRLF"
    )
    assert "JobComplete" == _job_state(sf, job_id)["state"]
    results = sf.session.get(
        _jobs_url(sf, f"ingest/{job_id}/successfulResults"), headers=_headers(sf)
    ).text
    header, row = results.split("\r\n")[:2]
    assert '"sf__Id"|"sf__Created"|"LastName"|"Title"' == header
    assert row.endswith('|"true"|"Piped"|"A, with comma"')


def test_stuck_count_sticks_only_that_many_jobs(sf: Any, fake: FakeSalesforce) -> None:
    """stuck_bulk_jobs(count=1): the first job stays stuck, later ones complete."""
    fake.faults.stuck_bulk_jobs(count=1)
    stuck = _open_job(sf, "LastName\nFirst\n")
    assert "InProgress" == _job_state(sf, stuck)["state"]
    [later] = sf.bulk2.Contact.insert(records=[{"LastName": "Second"}], wait=0)
    assert ("InProgress", 0) == (_job_state(sf, stuck)["state"], later["numberRecordsFailed"])
    fake.bulk.release()
    assert "JobComplete" == _job_state(sf, stuck)["state"]


def test_aborted_job_leaves_its_rows_unprocessed(sf: Any) -> None:
    """Aborting an uploaded job processes nothing; its rows are in unprocessedrecords/."""
    session = sf.session
    job = session.post(
        _jobs_url(sf, "ingest"),
        json={"object": "Contact", "operation": "insert"},
        headers=_headers(sf),
    ).json()
    session.put(
        _jobs_url(sf, f"ingest/{job['id']}/batches"),
        data=b"LastName\nAborted-Row\n",
        headers={**_headers(sf), "Content-Type": "text/csv"},
    )
    session.patch(
        _jobs_url(sf, f"ingest/{job['id']}"), json={"state": "Aborted"}, headers=_headers(sf)
    )
    assert "Aborted" == _job_state(sf, job["id"])["state"]
    assert [{"LastName": "Aborted-Row"}] == _rows(
        sf.bulk2.Contact.get_unprocessed_records(job["id"])
    )
    assert 0 == sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Aborted-Row'")["totalSize"]


@pytest.mark.parametrize(
    ("soql", "feature"),
    [
        ("SELECT COUNT() FROM Contact", "aggregate functions"),
        ("SELECT LastName, COUNT(Id) FROM Contact GROUP BY LastName", "aggregate functions"),
        ("SELECT Id FROM Contact LIMIT 5 OFFSET 2", "OFFSET"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "parent-to-child"),
    ],
)
def test_query_features_bulk2_does_not_support(sf: Any, soql: str, feature: str) -> None:
    """What the Bulk 2.0 query docs list as unsupported is refused when the job is created."""
    answer = sf.session.post(
        _jobs_url(sf, "query"), json={"operation": "query", "query": soql}, headers=_headers(sf)
    )
    assert (400, "INVALIDJOB") == (answer.status_code, answer.json()[0]["errorCode"])
    assert feature in answer.json()[0]["message"]
