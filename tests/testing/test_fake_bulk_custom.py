"""Bulk and composite writes to a test's own custom object: the org's rules apply per row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from sfresilience.testing import CustomObject, FakeSalesforce, Field, Org, ValidationRule


def _negative_amount(record: Any) -> bool:
    amount = record["Amount__c"]
    return amount is not None and amount < 0


THING = CustomObject(
    "Thing__c",
    [
        Field("Code__c", length=20, required=True, unique=True, external_id=True),
        Field("Amount__c", "currency", precision=16, scale=2),
        Field("Account__c", "reference", reference_to="Account", child_relationship="Things__r"),
    ],
    label="Thing",
    validation_rules=[
        ValidationRule(
            "Positive_Amount", _negative_amount, "Amount must not be negative", field="Amount__c"
        )
    ],
)


@pytest.fixture
def sf() -> Iterator[Any]:
    org = Org(accounts=2, contacts=0, opportunities=0, objects=[THING])
    with FakeSalesforce(org=org) as running:
        yield running.client()


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_bulk2_insert_upsert_and_query_a_custom_object(sf: Any) -> None:
    """Validation rules, unique fields and required fields fail their own rows only."""
    [job] = sf.bulk2.Thing__c.insert(
        records=[
            {"Name": "Good", "Code__c": "B-1", "Amount__c": "10"},
            {"Name": "Negative", "Code__c": "B-2", "Amount__c": "-5"},
            {"Name": "Duplicate", "Code__c": "B-1", "Amount__c": "1"},
            {"Name": "No code", "Code__c": "", "Amount__c": "1"},
        ],
        wait=0,
    )
    failed = {
        row["Name"]: row["sf__Error"]
        for row in _rows(sf.bulk2.Thing__c.get_failed_records(job["job_id"]))
    }
    assert 3 == job["numberRecordsFailed"]
    assert failed["Negative"].startswith(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION:Amount must not be negative"
    )
    assert failed["Duplicate"].startswith("DUPLICATE_VALUE:")
    assert failed["No code"].startswith("REQUIRED_FIELD_MISSING:")
    [upsert] = sf.bulk2.Thing__c.upsert(
        records=[{"Code__c": "B-1", "Amount__c": "20"}, {"Code__c": "B-3", "Name": "Third"}],
        external_id_field="Code__c",
        wait=0,
    )
    created = [
        row["sf__Created"]
        for row in _rows(sf.bulk2.Thing__c.get_successful_records(upsert["job_id"]))
    ]
    [page] = list(
        sf.bulk2.Thing__c.query("SELECT Code__c, Amount__c FROM Thing__c ORDER BY Code__c", wait=0)
    )
    assert ["false", "true"] == created
    assert [("B-1", "20.0"), ("B-3", "")] == [(r["Code__c"], r["Amount__c"]) for r in _rows(page)]


def test_composite_tree_and_collections_on_a_custom_object(sf: Any) -> None:
    """A tree nests Things__r under an Account; a collection reports the rule's error."""
    tree = sf.restful(
        "composite/tree/Account",
        method="POST",
        json={
            "records": [
                {
                    "attributes": {"type": "Account", "referenceId": "acct"},
                    "Name": "Custom Parent",
                    "Things__r": {
                        "records": [
                            {
                                "attributes": {"type": "Thing__c", "referenceId": "thing"},
                                "Name": "Child",
                                "Code__c": "T-1",
                            }
                        ]
                    },
                }
            ]
        },
    )
    ids = {r["referenceId"]: r["id"] for r in tree["results"]}
    assert ids["acct"] == sf.Thing__c.get(ids["thing"])["Account__c"]
    results = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {
                    "attributes": {"type": "Thing__c"},
                    "Name": "Bad",
                    "Code__c": "T-2",
                    "Amount__c": -1,
                }
            ]
        },
    )
    assert [
        {
            "success": False,
            "errors": [
                {
                    "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    "message": "Amount must not be negative",
                    "fields": ["Amount__c"],
                }
            ],
        }
    ] == results
