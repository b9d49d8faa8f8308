"""Bulk's pure parts: which failed rows are resubmitted, row shapes, simple-salesforce."""

from __future__ import annotations

import pytest

from sfresilience._bulk._bulk1 import error_text
from sfresilience._bulk._compat import BULK1_NEEDS, BULK2_NEEDS, changed
from sfresilience._bulk._query import _Shape
from sfresilience._bulk._rows import RowPolicy
from sfresilience._core import RetryPolicy
from sfresilience._guard import Guard


@pytest.mark.parametrize(
    ("error", "resubmitted"),
    [
        ("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--", True),
        ("UNKNOWN_EXCEPTION:An unexpected error occurred. Please include this ErrorId:--", True),
        ("QUERY_TIMEOUT:Your query request was running for too long.:--", True),
        ("SERVER_UNAVAILABLE:Server is unavailable:--", True),
        ("REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --", False),
        ("FIELD_CUSTOM_VALIDATION_EXCEPTION:Email must be set:--", False),
        ("DUPLICATE_VALUE:duplicate value found: Email__c:--", False),
        # Not a Salesforce status code: unknown, so never sent again.
        ("SERVER_ERROR:something went wrong:--", False),
        ("", False),
    ],
)
def test_which_failed_rows_are_resubmitted(error: str, resubmitted: bool) -> None:
    policy = RowPolicy(Guard(policy=RetryPolicy()), "bulk2 Contact.insert")
    assert policy.classify(error).retryable is resubmitted


def test_a_bulk_v1_row_error_reads_like_a_bulk2_sf_error() -> None:
    row = {
        "success": False,
        "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "locked", "fields": []}],
    }
    assert error_text(row) == "UNABLE_TO_LOCK_ROW:locked: --"
    assert error_text({"success": True, "errors": []}) == ""


def test_the_simple_salesforce_installed_is_the_one_we_build_on() -> None:
    assert changed(BULK2_NEEDS) == []
    assert changed(BULK1_NEEDS) == []


def test_bulk_rows_are_typed_by_the_describe_like_rest_records() -> None:
    describe = {
        "fields": [
            {"name": "NumberOfEmployees", "type": "int"},
            {"name": "AnnualRevenue", "type": "currency"},
            {"name": "Active__c", "type": "boolean"},
            {"name": "CreatedDate", "type": "datetime"},
            {
                "name": "OwnerId",
                "type": "reference",
                "relationshipName": "Owner",
                "referenceTo": ["User"],
            },
        ]
    }
    shape = _Shape("Account", describe, lambda kind, rid: f"/sobjects/{kind}/{rid}")
    row = {
        "Id": "001A",
        "NumberOfEmployees": "12",
        "AnnualRevenue": "2.5",
        "Active__c": "true",
        "CreatedDate": "2024-01-02T03:04:05.000Z",
        "Owner.Id": "005B",
        "Owner.Name": "Ada",
        "Parent.Name": "",
        "Description": "",
    }
    assert shape.record(row) == {
        "attributes": {"type": "Account", "url": "/sobjects/Account/001A"},
        "Id": "001A",
        "NumberOfEmployees": 12,
        "AnnualRevenue": 2.5,
        "Active__c": True,
        "CreatedDate": "2024-01-02T03:04:05.000+0000",
        "Description": None,
        "Owner": {
            "attributes": {"type": "User", "url": "/sobjects/User/005B"},
            "Id": "005B",
            "Name": "Ada",
        },
        "Parent": None,
    }
