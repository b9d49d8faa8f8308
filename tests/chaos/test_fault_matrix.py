"""The fault matrix against FakeSalesforce: one row per fault, over real HTTP.

Each row asserts what the caller saw (a value, or a classified error) and what
reached Salesforce (the fake's request log and records), and that no credential
shows in what the caller saw. Rows marked `chaos` run under `nox -s chaos` only.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import SalesforceError, SalesforceMalformedRequest
from tests.chaos.matrix import Harness, Row, ambiguous, failed, ok, run_row

from sfresilience import ErrorCategory


SOQL = "SELECT Id, Name FROM Account"
CONTACTS = "SELECT Id FROM Contact"
QUERY = "/query"


def _query(h: Harness) -> Any:
    return h.client.query(SOQL)


def _update(h: Harness) -> Any:
    return h.client.Contact.update(h.contact(), {"Title": "matrix"})


def _restore_on_first_sleep(h: Harness) -> None:
    h.fake.faults.outage()
    h.on_sleep.append(h.fake.faults.restore)


def _lock_until_first_sleep(h: Harness) -> None:
    h.exits.enter_context(h.fake.locked(h.contact()))
    h.on_sleep.append(h.exits.close)


def _all_pages_one_new_login(h: Harness) -> Any:
    """Page 1, then every session expires, then the remaining pages."""
    before = h.fake.login_count
    records = h.client.query_all_iter(CONTACTS)
    first = next(records)
    h.fake.faults.expire_sessions()
    h.marks["ids"] = [first["Id"], *(record["Id"] for record in records)]
    h.marks["logins"] = h.fake.login_count - before


def _every_record_once_one_login(h: Harness) -> bool:
    every = sorted(str(r["Id"]) for r in h.fake.org.records("Contact"))
    return sorted(h.marks["ids"]) == every and h.marks["logins"] == 1


# --- applied, then the answer lost: every write kind -------------------------------


def _create(h: Harness) -> Any:
    return h.client.Contact.create({"LastName": "Zz-Matrix-Create"})


def _upsert(h: Harness) -> Any:
    return h.client.Contact.upsert("External_Id__c/MATRIX-1", {"LastName": "Zz-Upsert"})


def _delete(h: Harness) -> Any:
    h.marks["deleted"] = h.contact(1)
    return h.client.Contact.delete(h.marks["deleted"])


def _composite(h: Harness) -> Any:
    records = [
        {"attributes": {"type": "Contact"}, "LastName": "Zz-Composite", "External_Id__c": f"C{i}"}
        for i in range(3)
    ]
    return h.client.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )


def _deleted(h: Harness) -> bool:
    return len(h.records("Contact", Id=h.marks["deleted"], IsDeleted=True)) == 1


ROWS = [
    Row(
        "outage: connection refused",
        lambda h: h.fake.faults.outage(),
        _query,
        failed(requests.ConnectionError, ErrorCategory.UNAVAILABLE),
        lambda h: h.statuses("GET", QUERY) == [],
    ),
    Row(
        "outage: refused, back before the retry",
        _restore_on_first_sleep,
        _query,
        ok,
        lambda h: h.statuses("GET", QUERY) == [200],
    ),
    Row(
        "outage: HTML 503 maintenance page twice",
        lambda h: h.fake.faults.maintenance(count=2),
        _query,
        ok,
        lambda h: h.statuses("GET", QUERY) == [503, 503, 200],
    ),
    Row(
        "outage: HTML 503 maintenance page throughout",
        lambda h: h.fake.faults.maintenance(),
        _query,
        failed(SalesforceError, ErrorCategory.MAINTENANCE),
        lambda h: h.statuses("GET", QUERY) == [503, 503, 503],
    ),
    Row(
        "outage: a request hangs past the read timeout",
        lambda h: h.fake.faults.hang(count=1),
        _query,
        ok,
        lambda h: h.statuses("GET", QUERY).count(200) == 1,
    ),
    Row(
        "500 storm that ends",
        lambda h: h.fake.faults.server_errors(count=2, status=500),
        _query,
        ok,
        lambda h: h.statuses("GET", QUERY) == [500, 500, 200],
    ),
    Row(
        "502 storm throughout",
        lambda h: h.fake.faults.server_errors(status=502),
        _query,
        failed(SalesforceError, ErrorCategory.UNAVAILABLE),
        lambda h: h.statuses("GET", QUERY) == [502, 502, 502],
    ),
    Row(
        "500 storm on an update",
        lambda h: h.fake.faults.server_errors(count=1, status=500),
        _update,
        ok,
        lambda h: h.statuses("PATCH", "/Contact/") == [500, 204],
    ),
    Row(
        "read-only maintenance: a write",
        lambda h: h.fake.faults.read_only(),
        _update,
        failed(SalesforceMalformedRequest, ErrorCategory.MAINTENANCE),
        lambda h: h.records("Contact", Title="matrix") == [],
    ),
    Row(
        "read-only maintenance: a read",
        lambda h: h.fake.faults.read_only(),
        _query,
        ok,
        lambda h: h.statuses("GET", QUERY) == [200],
    ),
    Row(
        "session expiry mid-paging",
        lambda _h: None,
        _all_pages_one_new_login,
        ok,
        _every_record_once_one_login,
    ),
    Row(
        "lock held by another transaction until the first backoff",
        _lock_until_first_sleep,
        _update,
        ok,
        lambda h: h.statuses("PATCH", "/Contact/")[-1] == 204,
    ),
    Row(
        "applied, answer lost: create",
        lambda h: h.fake.faults.lose_responses(count=1),
        _create,
        ambiguous(requests.ConnectionError),
        lambda h: len(h.records("Contact", LastName="Zz-Matrix-Create")) == 1,
    ),
    Row(
        "applied, answer lost: update",
        lambda h: h.fake.faults.lose_responses(count=1),
        _update,
        ambiguous(requests.ConnectionError),
        lambda h: (
            h.statuses("PATCH", "/Contact/") == [0]
            and len(h.records("Contact", Title="matrix")) == 1
        ),
    ),
    Row(
        "applied, answer lost: upsert by external id",
        lambda h: h.fake.faults.lose_responses(count=1),
        _upsert,
        ambiguous(requests.ConnectionError),
        lambda h: len(h.records("Contact", External_Id__c="MATRIX-1")) == 1,
    ),
    Row(
        "applied, answer lost: delete",
        lambda h: h.fake.faults.lose_responses(count=1),
        _delete,
        ambiguous(requests.ConnectionError),
        lambda h: h.statuses("DELETE", "/Contact/") == [0] and _deleted(h),
    ),
    Row(
        "applied, answer lost: composite sObject collection",
        lambda h: h.fake.faults.lose_responses(count=1),
        _composite,
        ambiguous(requests.ConnectionError),
        lambda h: len(h.records("Contact", LastName="Zz-Composite")) == 3,
    ),
    Row(
        "delayed write: create lands once, after the caller was told",
        lambda h: h.fake.faults.delay_writes(count=1),
        _create,
        ambiguous(requests.ConnectionError),
        lambda h: (
            h.fake.faults.release_delayed() == 1
            and len(h.records("Contact", LastName="Zz-Matrix-Create")) == 1
        ),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_fault_matrix(row: Row) -> None:
    run_row(row)
