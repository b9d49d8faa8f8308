"""Apex REST routes of FakeSalesforce, through simple-salesforce's apexecute and requests."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import SalesforceError, SalesforceGeneralError

from sfresilience.testing import ApexRequest, FakeSalesforce


def _content(error: SalesforceError) -> Any:
    """The parsed error body (simple-salesforce annotates it as bytes)."""
    return error.content


def _path(request: ApexRequest) -> str:
    return request.path


def _apex(fake: FakeSalesforce, method: str, path: str, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {fake.issue_session()}"}
    url = f"{fake.instance_url}/services/apexrest/{path}"
    return fake.session().request(method, url, headers=headers, timeout=5, **kwargs)


def test_wildcard_mapping_matches(sf: Any, fake: FakeSalesforce) -> None:
    """A `Things/*` mapping answers `Things/123` and `Things/123/parts`."""
    fake.apex_route("GET", "Things/*", _path)
    assert ["/Things/123", "/Things/123/parts"] == [
        sf.apexecute("Things/123"),
        sf.apexecute("Things/123/parts"),
    ]


def test_exact_and_longer_mappings_win(sf: Any, fake: FakeSalesforce) -> None:
    """An exact mapping beats a wildcard, and a longer wildcard beats a shorter one."""
    fake.apex_route("GET", "/Things/*", lambda _request: "any")
    fake.apex_route("GET", "/Things/special/*", lambda _request: "special")
    fake.apex_route("GET", "/Things/exact", lambda _request: "exact")
    answers = [sf.apexecute(path) for path in ("Things/1", "Things/special/2", "Things/exact")]
    assert ["any", "special", "exact"] == answers


def test_mappings_are_case_sensitive(fake: FakeSalesforce) -> None:
    """`Things/*` does not answer `things/1`, like an Apex urlMapping."""
    fake.apex_route("GET", "Things/*", _path)
    response = _apex(fake, "GET", "things/1")
    assert (404, "NOT_FOUND") == (response.status_code, response.json()[0]["errorCode"])


def test_handler_exception_is_apex_error(sf: Any, fake: FakeSalesforce) -> None:
    """A handler that raises answers 500 APEX_ERROR JSON naming the exception."""

    def failing(_request: ApexRequest) -> None:
        raise ValueError("boom")

    fake.apex_route("GET", "fail", failing)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.apexecute("fail")
    expected = [{"errorCode": "APEX_ERROR", "message": "ValueError: boom"}]
    assert (500, expected) == (caught.value.status, _content(caught.value))


def test_non_json_body_is_a_parser_error(fake: FakeSalesforce) -> None:
    """A request body that is not JSON answers 400 JSON_PARSER_ERROR, handler not called."""
    seen: list[ApexRequest] = []
    fake.apex_route("POST", "echo", seen.append)
    response = _apex(fake, "POST", "echo", data=b"not json")
    assert (400, "application/json;charset=UTF-8") == (
        response.status_code,
        response.headers["Content-Type"],
    )
    assert "JSON_PARSER_ERROR" == response.json()[0]["errorCode"]
    assert [] == seen


def test_handler_chooses_its_status(fake: FakeSalesforce) -> None:
    """A handler returning (status, body) answers with that status."""
    fake.apex_route("POST", "things", lambda request: (201, {"created": request.body}))
    response = _apex(fake, "POST", "things", json={"n": 1})
    assert (201, {"created": {"n": 1}}) == (response.status_code, response.json())


def test_handler_no_content(fake: FakeSalesforce) -> None:
    """A handler returning (204, None) answers 204 with no body."""
    fake.apex_route("DELETE", "things/*", lambda _request: (204, None))
    response = _apex(fake, "DELETE", "things/1")
    assert (204, b"") == (response.status_code, response.content)


def test_plain_return_is_200_json(sf: Any, fake: FakeSalesforce) -> None:
    """A plain return value, a list included, is sent as 200 JSON."""
    fake.apex_route("GET", "list", lambda _request: [1, 2])
    response = _apex(fake, "GET", "list")
    assert (200, [1, 2]) == (response.status_code, response.json())
    assert [1, 2] == sf.apexecute("list")


def test_bad_status_is_apex_error(fake: FakeSalesforce) -> None:
    """A handler returning an impossible status answers 500 APEX_ERROR."""
    fake.apex_route("GET", "odd", lambda _request: (42, None))
    response = _apex(fake, "GET", "odd")
    assert (500, "APEX_ERROR") == (response.status_code, response.json()[0]["errorCode"])
