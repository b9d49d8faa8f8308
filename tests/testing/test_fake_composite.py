"""Composite resources on FakeSalesforce through simple-salesforce's `restful`."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfresilience.testing import FakeSalesforce


ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was"
    " using AllOrNone header",
    "fields": [],
}
MISSING_NAME = {
    "statusCode": "REQUIRED_FIELD_MISSING",
    "message": "Required fields are missing: [Name]",
    "fields": ["Name"],
}
HALTED = "The transaction was rolled back since another operation in the same transaction failed."


def _accounts(*names: str) -> list[dict[str, Any]]:
    return [{"attributes": {"type": "Account"}, "Name": name} for name in names]


def _count(sf: Any, soql: str) -> int:
    return int(sf.query(soql)["totalSize"])


def _contact_ids(sf: Any, count: int) -> list[str]:
    records = sf.query(f"SELECT Id FROM Contact ORDER BY Id LIMIT {count}")["records"]  # noqa: S608
    return [record["Id"] for record in records]


# --- sObject Collections ---------------------------------------------------------------


def test_collection_create_reports_each_record(sf: Any) -> None:
    """Without allOrNone, valid records are created and the invalid one fails alone."""
    records = [*_accounts("Coll A"), {"attributes": {"type": "Account"}}, *_accounts("Coll B")]
    results = sf.restful("composite/sobjects", method="POST", json={"records": records})
    assert [True, False, True] == [r["success"] for r in results]
    assert {"success": False, "errors": [MISSING_NAME]} == results[1]
    assert 2 == _count(sf, "SELECT Id FROM Account WHERE Name LIKE 'Coll %'")


def test_collection_create_all_or_none_rolls_back(sf: Any) -> None:
    """allOrNone: nothing is created; the good records report ALL_OR_NONE_OPERATION_ROLLED_BACK."""
    records = [*_accounts("Atomic A"), {"attributes": {"type": "Account"}}]
    results = sf.restful(
        "composite/sobjects", method="POST", json={"allOrNone": True, "records": records}
    )
    assert [
        {"success": False, "errors": [ROLLED_BACK]},
        {"success": False, "errors": [MISSING_NAME]},
    ] == results
    assert 0 == _count(sf, "SELECT Id FROM Account WHERE Name = 'Atomic A'")


def test_collection_update_all_or_none_restores_values(sf: Any) -> None:
    """A failed all-or-none update leaves every record as it was."""
    first, second = _contact_ids(sf, 2)
    before = sf.Contact.get(first)["Title"]
    records = [
        {"attributes": {"type": "Contact"}, "id": first, "Title": "Changed"},
        {"attributes": {"type": "Contact"}, "id": second, "LastName": None},
    ]
    results = sf.restful(
        "composite/sobjects", method="PATCH", json={"allOrNone": True, "records": records}
    )
    assert [(first, ROLLED_BACK["statusCode"]), (second, "REQUIRED_FIELD_MISSING")] == [
        (r["id"], r["errors"][0]["statusCode"]) for r in results
    ]
    assert before == sf.Contact.get(first)["Title"]
    partial = sf.restful("composite/sobjects", method="PATCH", json={"records": records})
    assert [True, False] == [r["success"] for r in partial]
    assert "Changed" == sf.Contact.get(first)["Title"]


def test_collection_upsert_by_external_id(sf: Any) -> None:
    """PATCH /composite/sobjects/Contact/External_Id__c reports created per record."""
    sf.Contact.create({"LastName": "Was", "External_Id__c": "COL-1"})
    records = [
        {"attributes": {"type": "Contact"}, "External_Id__c": "COL-1", "LastName": "Now"},
        {"attributes": {"type": "Contact"}, "External_Id__c": "COL-2", "LastName": "New"},
    ]
    results = sf.restful(
        "composite/sobjects/Contact/External_Id__c", method="PATCH", json={"records": records}
    )
    assert [(True, False), (True, True)] == [(r["success"], r["created"]) for r in results]
    assert "Now" == sf.Contact.get_by_custom_id("External_Id__c", "COL-1")["LastName"]


def test_collection_delete_and_retrieve(sf: Any) -> None:
    """DELETE ?ids= deletes per record (allOrNone rolls back); GET ?ids=&fields= reads."""
    first, second = _contact_ids(sf, 2)
    missing = "003000000000000AAA"
    ids = f"{first},{missing}"
    atomic = sf.restful("composite/sobjects", {"ids": ids, "allOrNone": "true"}, method="DELETE")
    assert [ROLLED_BACK["statusCode"], "INVALID_CROSS_REFERENCE_KEY"] == [
        r["errors"][0]["statusCode"] for r in atomic
    ]
    assert first == sf.Contact.get(first)["Id"]
    partial = sf.restful("composite/sobjects", {"ids": ids}, method="DELETE")
    assert [(first, True), (missing, False)] == [(r["id"], r["success"]) for r in partial]
    read = sf.restful(
        "composite/sobjects/Contact", {"ids": f"{second},{first}", "fields": "Id,LastName"}
    )
    assert [second, None] == [r["Id"] if r else None for r in read]


def test_locked_record_fails_in_a_collection(sf: Any, fake: FakeSalesforce) -> None:
    """A record held by another transaction fails UNABLE_TO_LOCK_ROW inside HTTP 200."""
    [contact_id] = _contact_ids(sf, 1)
    records = [{"attributes": {"type": "Contact"}, "id": contact_id, "Title": "Locked"}]
    with fake.locked(contact_id):
        [result] = sf.restful("composite/sobjects", method="PATCH", json={"records": records})
    assert (False, "UNABLE_TO_LOCK_ROW") == (result["success"], result["errors"][0]["statusCode"])


def test_more_than_200_records_is_refused(sf: Any) -> None:
    """sObject Collections take at most 200 records."""
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful(
            "composite/sobjects",
            method="POST",
            json={"records": _accounts(*(f"N{i}" for i in range(201)))},
        )
    assert "EXCEEDED_ID_LIMIT" == caught.value.content[0]["errorCode"]  # type: ignore[index]


# --- /composite --------------------------------------------------------------------------


def _chain(version: str, account_name: str | None) -> list[dict[str, Any]]:
    base = f"/services/data/v{version}"
    account = {} if account_name is None else {"Name": account_name}
    return [
        {
            "method": "POST",
            "url": f"{base}/sobjects/Account",
            "referenceId": "refAccount",
            "body": account,
        },
        {
            "method": "POST",
            "url": f"{base}/sobjects/Contact",
            "referenceId": "refContact",
            "body": {"LastName": "Composite", "AccountId": "@{refAccount.id}"},
        },
        {
            "method": "GET",
            "url": f"{base}/query?q=SELECT+Id,AccountId+FROM+Contact+WHERE+Id='@{{refContact.id}}'",
            "referenceId": "refQuery",
        },
    ]


def test_composite_with_references(sf: Any) -> None:
    """Subrequests see earlier results through @{ref.field}; one API call in all."""
    before = sf.limits()["DailyApiRequests"]["Remaining"]
    answer = sf.restful(
        "composite", method="POST", json={"compositeRequest": _chain(sf.sf_version, "Parent Co")}
    )
    after = sf.limits()["DailyApiRequests"]["Remaining"]
    account, contact, query = answer["compositeResponse"]
    assert [201, 201, 200] == [r["httpStatusCode"] for r in answer["compositeResponse"]]
    assert account["httpHeaders"]["Location"].endswith(f"/sobjects/Account/{account['body']['id']}")
    assert account["body"]["id"] == query["body"]["records"][0]["AccountId"]
    assert contact["body"]["id"] == query["body"]["records"][0]["Id"]
    assert 2 == before - after  # the composite call and the second limits()


def test_composite_failure_halts_dependents(sf: Any) -> None:
    """Without allOrNone, a failed subrequest's dependents fail PROCESSING_HALTED."""
    answer = sf.restful(
        "composite", method="POST", json={"compositeRequest": _chain(sf.sf_version, None)}
    )
    account, contact, _query = answer["compositeResponse"]
    assert (400, "REQUIRED_FIELD_MISSING") == (
        account["httpStatusCode"],
        account["body"][0]["errorCode"],
    )
    assert {
        "body": [
            {
                "errorCode": "PROCESSING_HALTED",
                "message": "Invalid reference specified. No value for refAccount.id found in"
                " refAccount.",
            }
        ],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": "refContact",
    } == contact


def test_composite_all_or_none_rolls_back(sf: Any) -> None:
    """allOrNone: the failing subrequest keeps its error, every other one is rolled back."""
    requests = _chain(sf.sf_version, "Rolled Back Co")
    requests[1]["body"] = {"FirstName": "No last name", "AccountId": "@{refAccount.id}"}
    answer = sf.restful(
        "composite", method="POST", json={"allOrNone": True, "compositeRequest": requests}
    )
    account, contact, query = answer["compositeResponse"]
    assert "REQUIRED_FIELD_MISSING" == contact["body"][0]["errorCode"]
    assert [HALTED, HALTED] == [account["body"][0]["message"], query["body"][0]["message"]]
    assert [400, 400, 400] == [r["httpStatusCode"] for r in answer["compositeResponse"]]
    assert 0 == _count(sf, "SELECT Id FROM Account WHERE Name = 'Rolled Back Co'")


# --- sObject Tree ---------------------------------------------------------------------------


def _tree(contact_last_name: str | None) -> dict[str, Any]:
    contact: dict[str, Any] = {"attributes": {"type": "Contact", "referenceId": "ref2"}}
    if contact_last_name is not None:
        contact["LastName"] = contact_last_name
    return {
        "records": [
            {
                "attributes": {"type": "Account", "referenceId": "ref1"},
                "Name": "Tree Co",
                "Contacts": {"records": [contact]},
            }
        ]
    }


def test_tree_creates_parents_and_children(sf: Any) -> None:
    """A tree creates the account and its contact, linked, and returns both ids."""
    answer = sf.restful("composite/tree/Account", method="POST", json=_tree("Leaf"))
    refs = {r["referenceId"]: r["id"] for r in answer["results"]}
    assert (False, {"ref1", "ref2"}) == (answer["hasErrors"], set(refs))
    assert refs["ref1"] == sf.Contact.get(refs["ref2"])["AccountId"]


def test_tree_errors_roll_everything_back(sf: Any) -> None:
    """One bad record fails the whole tree with 400 hasErrors and creates nothing."""
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/tree/Account", method="POST", json=_tree(None))
    body: Any = caught.value.content
    assert {
        "hasErrors": True,
        "results": [
            {
                "referenceId": "ref2",
                "errors": [
                    {
                        "statusCode": "REQUIRED_FIELD_MISSING",
                        "message": "Required fields are missing: [LastName]",
                        "fields": ["LastName"],
                    }
                ],
            }
        ],
    } == body
    assert 0 == _count(sf, "SELECT Id FROM Account WHERE Name = 'Tree Co'")


# --- composite batch ------------------------------------------------------------------------


def _batch(sf: Any, *, halt: bool) -> dict[str, Any]:
    version = f"v{sf.sf_version}"
    [contact_id] = _contact_ids(sf, 1)
    return {
        "haltOnError": halt,
        "batchRequests": [
            {
                "method": "PATCH",
                "url": f"{version}/sobjects/Contact/{contact_id}",
                "richInput": {"Title": "Batched"},
            },
            {"method": "POST", "url": f"{version}/sobjects/Account", "richInput": {}},
            {"method": "GET", "url": f"{version}/sobjects/Contact/{contact_id}?fields=Title"},
        ],
    }


def test_batch_runs_independent_subrequests(sf: Any) -> None:
    """Each subrequest answers on its own; a failure sets hasErrors but doesn't stop the rest."""
    answer = sf.restful("composite/batch", method="POST", json=_batch(sf, halt=False))
    assert (True, [204, 400, 200]) == (
        answer["hasErrors"],
        [r["statusCode"] for r in answer["results"]],
    )
    assert "Batched" == answer["results"][2]["result"]["Title"]
    assert "REQUIRED_FIELD_MISSING" == answer["results"][1]["result"][0]["errorCode"]


def test_batch_halt_on_error(sf: Any) -> None:
    """haltOnError: after the first failure every subrequest answers 412 BATCH_PROCESSING_HALTED."""
    answer = sf.restful("composite/batch", method="POST", json=_batch(sf, halt=True))
    results = answer["results"]
    assert [204, 400, 412] == [r["statusCode"] for r in results]
    assert "BATCH_PROCESSING_HALTED" == results[2]["result"][0]["errorCode"]


def test_collection_retrieve_by_post(sf: Any) -> None:
    """POST composite/sobjects/<Object> with ids and fields reads like GET."""
    first, second = _contact_ids(sf, 2)
    read = sf.restful(
        "composite/sobjects/Contact",
        method="POST",
        json={"ids": [first, "003000000000000AAA", second], "fields": ["LastName"]},
    )
    assert [first, None, second] == [
        r["attributes"]["url"].rsplit("/", 1)[-1] if r else None for r in read
    ]


def test_composite_limits_and_resource_list(sf: Any) -> None:
    """More than 25 subrequests, or a tree over 200 records, is refused; GET lists forms."""
    listing = sf.restful("composite")
    version = sf.sf_version
    assert {"tree", "batch", "sobjects"} == set(listing)
    get = {"method": "GET", "url": f"/services/data/v{version}/limits", "referenceId": "r"}
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite", method="POST", json={"compositeRequest": [get] * 26})
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/batch", method="POST", json={"batchRequests": [get] * 26})
    wide = {
        "records": [
            {"attributes": {"type": "Account", "referenceId": f"a{i}"}, "Name": "W"}
            for i in range(201)
        ]
    }
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.restful("composite/tree/Account", method="POST", json=wide)
    assert "EXCEEDED_ID_LIMIT" == caught.value.content[0]["errorCode"]  # type: ignore[index]
