"""Bulk API 1.0 on FakeSalesforce, through the unmodified simple-salesforce `bulk`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest

from sfresilience.testing import FakeSalesforce


def _headers(sf: Any) -> dict[str, str]:
    return {"X-SFDC-Session": sf.session_id, "Content-Type": "application/json"}


def _contact_ids(sf: Any, count: int) -> list[str]:
    records = sf.query(f"SELECT Id FROM Contact ORDER BY Id LIMIT {count}")["records"]  # noqa: S608
    return [record["Id"] for record in records]


def _job_with_batch(sf: Any, records: list[dict[str, Any]]) -> tuple[str, str]:
    """A v1 insert job with one batch, over plain HTTP: (job id, batch id)."""
    session = sf.session
    job = session.post(
        f"{sf.bulk_url}job",
        json={"operation": "insert", "object": "Contact", "contentType": "JSON"},
        headers=_headers(sf),
    ).json()
    batch = session.post(
        f"{sf.bulk_url}job/{job['id']}/batch", json=records, headers=_headers(sf)
    ).json()
    assert "Queued" == batch["state"]
    return job["id"], batch["id"]


def _batch_state(sf: Any, job_id: str, batch_id: str) -> dict[str, Any]:
    answer = sf.session.get(f"{sf.bulk_url}job/{job_id}/batch/{batch_id}", headers=_headers(sf))
    return dict(answer.json())


def test_insert_returns_save_results_with_failed_records(sf: Any) -> None:
    """Created rows get ids; a row missing LastName comes back with its errors, not raised."""
    results = sf.bulk.Contact.insert(
        [{"LastName": "Classic", "Email": "c@example.com"}, {"FirstName": "Nameless"}]
    )
    created, failed = results
    assert (True, True, []) == (created["success"], created["created"], created["errors"])
    assert {
        "success": False,
        "created": False,
        "id": None,
        "errors": [
            {
                "message": "Required fields are missing: [LastName]",
                "fields": ["LastName"],
                "statusCode": "REQUIRED_FIELD_MISSING",
            }
        ],
    } == failed
    assert "Classic" == sf.Contact.get(created["id"])["LastName"]


def test_update_upsert_delete_round_trip(sf: Any, fake: FakeSalesforce) -> None:
    """update, upsert (External_Id__c) and delete go through the org, failures per row."""
    first, second = _contact_ids(sf, 2)
    updated = sf.bulk.Contact.update(
        [{"Id": first, "Title": "v1 title"}, {"Id": "003000000000000AAA", "Title": "x"}]
    )
    upserted = sf.bulk.Contact.upsert(
        [{"External_Id__c": "V1-1", "LastName": "Upserted"}], "External_Id__c"
    )
    with fake.locked(second):
        blocked = sf.bulk.Contact.delete([{"Id": second}])
    deleted = sf.bulk.Contact.delete([{"Id": first}])
    assert [True, False] == [row["success"] for row in updated]
    assert "INVALID_CROSS_REFERENCE_KEY" == updated[1]["errors"][0]["statusCode"]
    assert (True, True) == (upserted[0]["success"], upserted[0]["created"])
    assert "UNABLE_TO_LOCK_ROW" == blocked[0]["errors"][0]["statusCode"]
    assert [True] == [row["success"] for row in deleted]
    soql = f"SELECT Id FROM Contact WHERE Id IN ('{first}', '{second}')"  # noqa: S608
    assert [second] == [r["Id"] for r in sf.query(soql)["records"]]


def test_query_and_query_all_with_epoch_datetimes(sf: Any) -> None:
    """Query results are JSON records; datetimes are epoch milliseconds as in real Bulk 1.0."""
    [contact_id] = _contact_ids(sf, 1)
    soql = f"SELECT Id, CreatedDate FROM Contact WHERE Id = '{contact_id}'"  # noqa: S608
    [record] = sf.bulk.Contact.query(soql, wait=0)
    created = sf.Contact.get(contact_id)["CreatedDate"]
    expected = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert int(expected.timestamp() * 1000) == record["CreatedDate"]
    sf.Contact.delete(contact_id)
    assert [] == sf.bulk.Contact.query(soql, wait=0)
    assert [contact_id] == [r["Id"] for r in sf.bulk.Contact.query_all(soql, wait=0)]


def test_bad_query_fails_the_batch(sf: Any) -> None:
    """A query Salesforce can't run fails its batch; simple-salesforce raises."""
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.bulk.Contact.query("SELECT Nope__c FROM Contact", wait=0)
    assert "InvalidBatch : Failed to process query: INVALID_FIELD" in str(caught.value)


def test_stuck_batch_until_release(sf: Any, fake: FakeSalesforce) -> None:
    """A stuck batch reads InProgress on every poll until release()."""
    fake.faults.stuck_bulk_jobs()
    job_id, batch_id = _job_with_batch(sf, [{"LastName": "Held"}])
    states = {_batch_state(sf, job_id, batch_id)["state"] for _ in range(4)}
    fake.bulk.release()
    done = _batch_state(sf, job_id, batch_id)
    assert ({"InProgress"}, "Completed", 1) == (
        states,
        done["state"],
        done["numberRecordsProcessed"],
    )


def test_failing_batch_has_a_state_message(sf: Any, fake: FakeSalesforce) -> None:
    """fail_jobs() fails batches as a whole with the given stateMessage; nothing written."""
    fake.faults.failed_bulk_jobs("InvalidBatch : Failed to process query", count=1)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.bulk.Contact.query("SELECT Id FROM Contact", wait=0)
    job_id, batch_id = _job_with_batch(sf, [{"LastName": "After"}])
    assert "InvalidBatch : Failed to process query" in str(caught.value)
    assert "Completed" == _batch_state(sf, job_id, batch_id)["state"]


def test_async_disabled_answers_feature_not_enabled(sf: Any, fake: FakeSalesforce) -> None:
    """The check real integrations make: FeatureNotEnabled + 'Async API not enabled'."""
    fake.faults.async_api_disabled()
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.bulk.Contact.query("SELECT Id FROM Contact", lazy_operation=True, wait=0)
    assert "FeatureNotEnabled" in str(caught.value)
    assert "Async API not enabled" in str(caught.value)


def test_invalid_session_uses_the_async_error_shape(sf: Any) -> None:
    """A bad X-SFDC-Session answers 400 InvalidSessionId, as the async API does."""
    answer = sf.session.post(
        f"{sf.bulk_url}job",
        json={"operation": "insert", "object": "Contact"},
        headers={"X-SFDC-Session": "not-a-session", "Content-Type": "application/json"},
    )
    assert (400, "InvalidSessionId") == (answer.status_code, answer.json()["exceptionCode"])


def test_job_info_and_batch_accounting(sf: Any, fake: FakeSalesforce) -> None:
    """Every v1 request counts as an API call; each batch counts toward DailyBulkApiBatches."""
    before = sf.limits()["DailyBulkApiBatches"]["Remaining"]
    usage = fake.api_usage
    sf.bulk.Contact.insert([{"LastName": f"B{i}"} for i in range(5)], batch_size=2)
    after = sf.limits()["DailyBulkApiBatches"]["Remaining"]
    v1_requests = [r for r in fake.request_log if r.path.startswith("/services/async/")]
    assert 3 == before - after
    assert all(r.counted for r in v1_requests)
    assert fake.api_usage - usage == len(v1_requests) + 1  # + the second limits() call
    job_id, batch_id = _job_with_batch(sf, [{"LastName": "Info"}, {"FirstName": "No"}])
    _batch_state(sf, job_id, batch_id)
    closed = sf.session.post(
        f"{sf.bulk_url}job/{job_id}", json={"state": "Closed"}, headers=_headers(sf)
    ).json()
    assert ("Closed", 1, 1, 2, 1) == (
        closed["state"],
        closed["numberBatchesTotal"],
        closed["numberBatchesCompleted"],
        closed["numberRecordsProcessed"],
        closed["numberRecordsFailed"],
    )


def test_exhausted_batch_allocation_refuses_new_batches(sf: Any, fake: FakeSalesforce) -> None:
    """With DailyBulkApiBatches used up, adding a batch answers ExceededQuota."""
    fake.bulk.set_usage(batches=15_000)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.bulk.Contact.insert([{"LastName": "Over"}])
    assert "ExceededQuota" in str(caught.value)
    assert 0 == sf.limits()["DailyBulkApiBatches"]["Remaining"]


JOB_XML = """<?xml version="1.0" encoding="UTF-8"?>
<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">
 <operation>{operation}</operation>
 <object>Contact</object>
 <contentType>CSV</contentType>
</jobInfo>"""
NS = "{http://www.force.com/2009/06/asyncapi/dataload}"


def _parse(content: bytes) -> Any:
    return ET.fromstring(content)  # noqa: S314 - our own fake's answer


def _xml(sf: Any, path: str, body: str, content_type: str = "application/xml") -> Any:
    answer = sf.session.post(
        f"{sf.bulk_url}{path}",
        data=body.encode(),
        headers={"X-SFDC-Session": sf.session_id, "Content-Type": content_type},
    )
    assert answer.status_code in {200, 201}, answer.text
    return _parse(answer.content)


def _get(sf: Any, path: str) -> Any:
    return sf.session.get(f"{sf.bulk_url}{path}", headers={"X-SFDC-Session": sf.session_id})


def test_xml_job_with_csv_batches(sf: Any) -> None:
    """jobInfo XML and CSV batches, as Data Loader and jsforce send them; CSV results."""
    job = _xml(sf, "job", JOB_XML.format(operation="insert"))
    job_id = job.find(f"{NS}id").text
    batch = _xml(
        sf,
        f"job/{job_id}/batch",
        "LastName,Email\nXml-Csv,xml@example.com\n,nolast@example.com\n",
        "text/csv",
    )
    batch_id = batch.find(f"{NS}id").text
    info = _parse(_get(sf, f"job/{job_id}/batch/{batch_id}").content)
    results = _get(sf, f"job/{job_id}/batch/{batch_id}/result")
    lines = results.text.splitlines()
    assert ("Open", "CSV", "Completed", "2") == (
        job.find(f"{NS}state").text,
        job.find(f"{NS}contentType").text,
        info.find(f"{NS}state").text,
        info.find(f"{NS}numberRecordsProcessed").text,
    )
    assert job.find(f"{NS}createdDate").text.endswith("Z")
    assert '"Id","Success","Created","Error"' == lines[0]
    assert lines[1].endswith('"true","true",""')
    missing = "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --"
    assert f'"","false","false","{missing}"' == lines[2]


def test_xml_query_job_serves_csv_results(sf: Any) -> None:
    """A CSV query job lists its results in a result-list and serves them as CSV."""
    job = _xml(sf, "job", JOB_XML.format(operation="query"))
    job_id = job.find(f"{NS}id").text
    batch = _xml(
        sf, f"job/{job_id}/batch", "SELECT Id, Account.Name FROM Contact LIMIT 2", "text/csv"
    )
    batch_id = batch.find(f"{NS}id").text
    listing = _parse(_get(sf, f"job/{job_id}/batch/{batch_id}/result").content)
    [result_id] = [element.text for element in listing]
    rows = _get(sf, f"job/{job_id}/batch/{batch_id}/result/{result_id}").text.splitlines()
    assert ['"Id","Account.Name"', 3] == [rows[0], len(rows)]
