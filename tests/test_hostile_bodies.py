"""Hostile answers through ResilientClient over real HTTP: only documented errors, never a hang.

A raw loopback server (conftest's ``canned_http``) answers every request with the
same bytes: garbage, cut off, huge, not UTF-8, nested past the JSON decoder's
depth, HTML where JSON was expected, or JSON of the wrong shape. Each call must
end with a documented error carrying a ``.classification`` (simple-salesforce's
exceptions, ``requests``' or ``sfresilience.exceptions``), or, for ``query``, which
hands back Salesforce's JSON as simple-salesforce does, with that JSON.
Sleeps are injected, so retries do not wait; ``benchmarks`` holds no bound for these.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from sfresilience import ErrorCategory, ResilientClient, Settings
from sfresilience._pages import PageWalk
from sfresilience._store import MemoryStore
from sfresilience.exceptions import SFResilienceError
from sfresilience.testing.wire.routing import mount


DOCUMENTED = (SalesforceError, requests.RequestException, SFResilienceError)
QUERY = "SELECT Id FROM Account"
PAGE_URL = "/services/data/v59.0/query/01gD0000002HU6KIAW-2000"


def response(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def records_json(count: int) -> bytes:
    return b",".join([b'{"attributes": {"type": "Account"}, "Id": "001000000000001AAA"}'] * count)


# Answers no caller can use: every call raises.
UNUSABLE: dict[str, bytes] = {
    "garbage": response(200, b"\x00\xff garbage {"),
    "empty": response(200, b""),
    "html instead of json": response(200, b"<html><body>Hi</body></html>", "text/html"),
    "html 503": response(503, b"<html>Down for maintenance</html>", "text/html"),
    "not utf-8": response(200, b'{"records": [\xff\xfe\xfd], "done": true}'),
    "truncated": (
        b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
        b"Connection: close\r\n\r\n" + b'{"records": ['
    ),
    "no headers end": b"HTTP/1.1 200 X\r\nContent-Type: application/json\r\n",
    "not http": b"SSH-2.0-OpenSSH_9.6\r\n",
    "deeply nested": response(200, b"[" * 100_000 + b"]" * 100_000),
    "deeply nested record": response(
        200, b'{"done": true, "records": [' + b"[" * 5_000 + b"]" * 5_000 + b"]}"
    ),
    "huge garbage": response(200, b"x" * 5_000_000),
    "huge html": response(200, b"<html>" + b"<p>down</p>" * 500_000 + b"</html>", "text/html"),
}

# Well-formed JSON that is no query page: `query` hands it back, `query_all` refuses it.
WRONG_SHAPE: dict[str, bytes] = {
    "records is a number": response(200, b'{"records": 5}'),
    "records of numbers": response(200, b'{"records": [1, 2], "done": true}'),
    "records of numbers, no done": response(200, b'{"records": [1, 2]}'),
    "no done": response(200, b'{"records": [], "totalSize": 0}'),
    "done is a string": response(200, b'{"records": [], "done": "yes"}'),
    "not done, no next page": response(200, b'{"records": [], "done": false}'),
    "next page is a number": response(200, b'{"records": [], "done": false, "nextRecordsUrl": 7}'),
    "a list": response(200, b"[1, 2, 3]"),
    "a string": response(200, b'"records"'),
    "null": response(200, b"null"),
    "records is text, not utf-8 escaped": response(200, b'{"records": "\\udcff", "done": true}'),
}


@pytest.fixture(autouse=True)
def default_recursion_limit() -> Iterator[None]:
    """Python's default limit: whether a 5,000-deep body decodes depends on it, and other
    tests' tools (hypothesis) may leave it raised."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def client_of(canned_http: Any) -> ResilientClient:
    session = mount(requests.Session(), canned_http.url)
    sf = Salesforce(instance="na1.salesforce.com", session_id="00Dxx0000000001!AQ", session=session)
    settings = Settings(retry_deadline=10, read_timeout=5, connect_timeout=5)
    # A store of its own: an earlier test's good answer, kept in a shared fallback
    # cache, would be served in place of the unusable one.
    return ResilientClient(sf, settings=settings, sleep=lambda _: None, store=MemoryStore())


def assert_documented(error: BaseException) -> None:
    assert isinstance(error, DOCUMENTED), type(error)
    classification = getattr(error, "classification")  # noqa: B009
    assert isinstance(classification.category, ErrorCategory)


@pytest.mark.parametrize("name", UNUSABLE)
@pytest.mark.parametrize("method", ["query", "query_all", "describe"])
def test_an_unusable_answer_is_a_documented_error(canned_http: Any, name: str, method: str) -> None:
    canned_http.answer(UNUSABLE[name])
    client = client_of(canned_http)
    call = getattr(client, method)
    with pytest.raises(DOCUMENTED) as caught:
        call(QUERY) if method != "describe" else call()
    assert_documented(caught.value)


@pytest.mark.parametrize("name", UNUSABLE)
def test_an_unusable_answer_to_a_record_read_is_a_documented_error(
    canned_http: Any, name: str
) -> None:
    canned_http.answer(UNUSABLE[name])
    with pytest.raises(DOCUMENTED) as caught:
        client_of(canned_http).Account.get("001000000000001AAA")
    assert_documented(caught.value)


def test_an_unusable_answer_to_a_write_is_not_sent_again(canned_http: Any) -> None:
    """A create answered with garbage may have been applied: one request, a classified error."""
    canned_http.answer(UNUSABLE["truncated"])
    with pytest.raises(DOCUMENTED) as caught:
        client_of(canned_http).Account.create({"Name": "Acme"})
    assert_documented(caught.value)
    assert 1 == len(canned_http.requests)


@pytest.mark.parametrize("name", WRONG_SHAPE)
def test_query_hands_back_json_of_any_shape_as_simple_salesforce_does(
    canned_http: Any, name: str
) -> None:
    canned_http.answer(WRONG_SHAPE[name])
    raw = WRONG_SHAPE[name]
    expected = json.loads(raw.partition(b"\r\n\r\n")[2])
    assert expected == client_of(canned_http).query(QUERY)


@pytest.mark.parametrize("name", WRONG_SHAPE)
def test_query_all_refuses_a_page_of_the_wrong_shape(canned_http: Any, name: str) -> None:
    canned_http.answer(WRONG_SHAPE[name])
    with pytest.raises(SalesforceError) as caught:
        client_of(canned_http).query_all(QUERY)
    assert ErrorCategory.UNKNOWN is caught.value.classification.category  # type: ignore[attr-defined]
    assert 1 == len(canned_http.requests)


LOOPING_PAGE = response(
    200,
    b'{"totalSize": 4, "done": false, "nextRecordsUrl": "' + PAGE_URL.encode() + b'", '
    b'"records": [' + records_json(2) + b"]}",
)


def test_query_all_stops_at_a_page_that_points_back_to_itself(canned_http: Any) -> None:
    """The answer that paged forever: every page says "not done, next is this page"."""
    canned_http.answer(LOOPING_PAGE)
    client = client_of(canned_http)
    with pytest.raises(SalesforceError) as caught:
        list(itertools.islice(client.query_all_iter(QUERY), 100))  # islice: a regression fails
    assert "already read" in str(caught.value)
    assert 2 == len(canned_http.requests)


def test_a_query_all_deadline_bounds_a_looping_answer(canned_http: Any) -> None:
    """With SFRESILIENCE_QUERY_ALL_DEADLINE set too, the loop ends in a classified error."""
    canned_http.answer(LOOPING_PAGE)
    now = [0.0]

    def clock() -> float:
        now[0] += 0.5  # each look at the clock is half a second of paging
        return now[0]

    session = mount(requests.Session(), canned_http.url)
    sf = Salesforce(instance="na1.salesforce.com", session_id="00Dxx0000000001!AQ", session=session)
    client = ResilientClient(
        sf, settings=Settings(query_all_deadline=20), clock=clock, sleep=lambda _: None
    )
    with pytest.raises(DOCUMENTED) as caught:
        client.query_all(QUERY)
    assert_documented(caught.value)
    assert len(canned_http.requests) < 40


def test_a_huge_valid_answer_is_read_whole(canned_http: Any) -> None:
    """5 MB of records in one page: every record comes back."""
    count = 80_000
    body = b'{"totalSize": 80000, "done": true, "records": [' + records_json(count) + b"]}"
    canned_http.answer(response(200, body))
    assert count == len(client_of(canned_http).query_all(QUERY)["records"])


class TestPageWalk:
    """The page reader on its own: what it accepts and what it refuses."""

    def test_a_last_page_has_no_next_url(self) -> None:
        records = [{"Id": "001"}]
        assert (records, None) == PageWalk("q").read({"records": records, "done": True})

    def test_a_page_with_more_gives_its_next_url(self) -> None:
        page = {"records": [], "done": False, "nextRecordsUrl": PAGE_URL}
        assert ([], PAGE_URL) == PageWalk("q").read(page)

    def test_a_next_url_already_read_is_refused(self) -> None:
        walk = PageWalk("q")
        walk.read({"records": [], "done": False, "nextRecordsUrl": "/a"})
        walk.read({"records": [], "done": False, "nextRecordsUrl": "/b"})
        with pytest.raises(SalesforceError, match="already read"):
            walk.read({"records": [], "done": False, "nextRecordsUrl": "/a"})

    @pytest.mark.parametrize(
        ("page", "problem"),
        [
            ([], "not a JSON object"),
            ({"records": 5, "done": True}, "no list of records"),
            ({"records": [1], "done": True}, "no list of records"),
            ({"records": []}, "whether it is the last page"),
            ({"records": [], "done": 0}, "whether it is the last page"),
            ({"records": [], "done": False}, "no nextRecordsUrl"),
            ({"records": [], "done": False, "nextRecordsUrl": ""}, "no nextRecordsUrl"),
        ],
    )
    def test_a_malformed_page_is_a_classified_error(self, page: object, problem: str) -> None:
        with pytest.raises(SalesforceError, match=problem) as caught:
            PageWalk("https://na1.salesforce.com/services/data/v59.0/query/").read(page)
        classification = caught.value.classification  # type: ignore[attr-defined]
        assert ErrorCategory.UNKNOWN is classification.category
        assert not classification.retryable

    def test_a_secret_in_a_malformed_page_is_not_quoted(self) -> None:
        sid = "00D5e000000XYZa!AQ4AQFwtVv1H6pLh2NOlS4bTw1zO0Wy9k3qHsoP"
        with pytest.raises(SalesforceError) as caught:
            PageWalk("q").read({"sessionId": sid})
        assert sid not in str(caught.value)
        assert sid not in repr(caught.value.classification)  # type: ignore[attr-defined]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=16), children, max_size=4)
    ),
    max_leaves=30,
)
page_like = st.fixed_dictionaries(
    {},
    optional={
        "records": json_values | st.lists(st.dictionaries(st.text(max_size=8), json_values)),
        "done": json_values,
        "nextRecordsUrl": json_values,
        "totalSize": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(pages=st.lists(json_values | page_like, min_size=1, max_size=5))
def test_any_sequence_of_pages_is_read_or_refused_as_documented(pages: list[object]) -> None:
    """Whatever the JSON, the page reader returns records or raises a classified error."""
    walk = PageWalk("https://na1.salesforce.com/services/data/v59.0/query/")
    refused: SalesforceError | None = None
    try:
        for page in pages:
            records, next_url = walk.read(page)
            assert all(isinstance(record, dict) for record in records)
            if next_url is None:
                break
            assert isinstance(next_url, str)
    except SalesforceError as error:
        refused = error
    if refused is not None:
        assert isinstance(getattr(refused, "classification").category, ErrorCategory)  # noqa: B009
