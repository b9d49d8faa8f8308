"""Properties of classify() and redact(): total over any input, leaking no secret."""

from __future__ import annotations

import json
from typing import Any

import requests
import simple_salesforce.exceptions as sf_exceptions
from hypothesis import given, settings
from hypothesis import strategies as st

from sfresilience._classify import Classification, classify, may_have_been_applied
from sfresilience._classify._table import NEVER_RETRYABLE
from sfresilience._redact import redact


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(
        ["UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "TotalRequests", "errorCode"]
    ),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(
                [
                    "errorCode",
                    "statusCode",
                    "exceptionCode",
                    "error",
                    "message",
                    "errors",
                    "body",
                    "stateMessage",
                    "compositeResponse",
                    "results",
                ]
            )
            | st.text(max_size=10),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)
STATUSES = st.none() | st.integers() | st.sampled_from([10**5000, -(10**5000), 0])
TEXTS = st.text(max_size=300) | st.sampled_from(
    [
        "<html><title>",
        "Response content: [{'",
        'b\'[{"errorCode"',
        '[{"errorCode": "UNABLE_TO_LOCK_ROW"',
        "<faultcode>sf:",
        "Authentication failed (code: ",
        "Error Code 503. Response content: ",
        "[" * 500,
        "403::Unknown client",
        "400:",
        "https://x/cb?error=access_denied&error_description=",
        '"sf__Id","sf__Error",Name\n"","UNABLE_TO_LOCK_ROW:',
        "Restforce::ErrorCode::",
        "exceptionCode='INVALID_",
        "<componentFailures><problem>",
        "<title>",
        "<message ",
        "null:InvalidBatch : ",
        "INVALID_NEW_THING: ",
        "Read timed out",
        "SalesforceMalformedRequest: ",
    ]
)
BODIES = (
    JSON
    | TEXTS
    | st.binary(max_size=300)
    | JSON.map(json.dumps)
    | JSON.map(repr)
    | JSON.map(lambda value: json.dumps(value).encode())
    | st.tuples(TEXTS, TEXTS).map("".join)
)
HEADERS = st.none() | st.dictionaries(
    st.sampled_from(["Content-Type", "Sforce-Limit-Info"]) | st.text(max_size=10),
    st.text(max_size=40),
    max_size=3,
)
SF_CLASSES = [
    cls
    for cls in vars(sf_exceptions).values()
    if isinstance(cls, type)
    and issubclass(cls, sf_exceptions.SalesforceError)
    and cls is not sf_exceptions.SalesforceAuthenticationFailed
]


@st.composite
def salesforce_errors(draw: st.DrawFn) -> BaseException:
    """simple-salesforce exceptions of every class, with arbitrary contents."""
    kind = draw(st.sampled_from(["rest", "auth", "bulk2"]))
    if kind == "auth":
        code = draw(st.none() | st.integers() | st.text(max_size=30))
        message = draw(st.none() | TEXTS)
        return sf_exceptions.SalesforceAuthenticationFailed(code, message)
    if kind == "bulk2":
        bulk2 = draw(
            st.sampled_from(
                [
                    sf_exceptions.SalesforceOperationError,
                    sf_exceptions.SalesforceBulkV2LoadError,
                    sf_exceptions.SalesforceBulkV2ExtractError,
                ]
            )
        )
        return bulk2(draw(TEXTS))
    cls = draw(st.sampled_from(SF_CLASSES))
    status: Any = draw(STATUSES | st.text(max_size=8))
    content: Any = draw(BODIES)
    return cls(draw(st.text(max_size=30)), status, draw(st.text(max_size=10)), content)


OTHER_ERRORS = st.builds(
    lambda cls, args: cls(*args),
    st.sampled_from(
        [
            Exception,
            ValueError,
            OSError,
            ConnectionError,
            TimeoutError,
            requests.ConnectionError,
            requests.ReadTimeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.RetryError,
            requests.HTTPError,
        ]
    ),
    st.lists(JSON | BODIES, max_size=3),
)
ERRORS = st.none() | salesforce_errors() | OTHER_ERRORS | BODIES


def _well_formed(result: Classification) -> bool:
    return (
        len(result.message) <= 240
        and "\n" not in result.message
        and result.severity in {"P1", "P2", "P3", "P4"}
        and not (result.category in NEVER_RETRYABLE and result.retryable)
        and (result.http_status is None or 100 <= result.http_status <= 999)
    )


@settings(max_examples=300, deadline=None)
@given(status=STATUSES, body=BODIES, headers=HEADERS)
def test_raw_inputs_never_raise(
    status: int | None, body: object, headers: dict[str, str] | None
) -> None:
    """Any status, body and headers give a well-formed classification."""
    result = classify(status=status, body=body, headers=headers)

    assert _well_formed(result)


@settings(max_examples=300, deadline=None)
@given(error=ERRORS, status=STATUSES)
def test_any_error_never_raises(error: object, status: int | None) -> None:
    """Any exception or object, with any status, gives a well-formed classification."""
    result = classify(error, status=status)

    assert _well_formed(result)


@settings(max_examples=200, deadline=None)
@given(error=salesforce_errors() | OTHER_ERRORS)
def test_may_have_been_applied_never_raises(error: BaseException) -> None:
    """may_have_been_applied answers a bool for any exception."""
    actual = may_have_been_applied(error)

    assert isinstance(actual, bool)


_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SESSION_IDS = st.builds(
    lambda org, secret: f"00D{org}!{secret}",
    st.text(_ALNUM, min_size=15, max_size=15),
    st.text(_ALNUM + "._", min_size=20, max_size=100),
)
WRAPPERS = st.sampled_from(
    [
        "{token}",
        "Session {token} expired",
        "Authorization: Bearer {token}",
        '{{"message": "bad {token}", "errorCode": "INVALID_SESSION_ID"}}',
        '[{{"message": "{token}", "errorCode": "UNABLE_TO_LOCK_ROW"}}]',
        "[{{'message': 'sid {token}', 'errorCode': 'MALFORMED_QUERY'}}]",
        "<html><title>{token}</title></html>",
        "<sessionId>{token}</sessionId>",
        "REQUEST_LIMIT_EXCEEDED: {token}",
        "Response content: {{'access_token': '{token}'}}",
    ]
)


SURROUNDINGS = st.tuples(st.text(max_size=50), st.text(max_size=50))


@settings(max_examples=300, deadline=None)
@given(
    token=SESSION_IDS,
    wrapper=WRAPPERS,
    surround=SURROUNDINGS,
    as_bytes=st.booleans(),
    status=st.sampled_from([None, 200, 400, 401, 500, 503]),
)
def test_message_never_leaks_a_session_id(
    token: str,
    wrapper: str,
    surround: tuple[str, str],
    as_bytes: bool,
    status: int | None,
) -> None:
    """A session id anywhere in the input never appears in the message."""
    text = surround[0] + wrapper.format(token=token) + surround[1]
    body: Any = text.encode() if as_bytes else text
    login_failure = sf_exceptions.SalesforceAuthenticationFailed("INVALID_LOGIN", text)

    messages = [
        classify(status=status, body=body).message,
        classify(Exception(text)).message,
        classify(sf_exceptions.SalesforceGeneralError("u", 500, "", body)).message,
        classify(login_failure).message,
    ]

    assert [] == [message for message in messages if token in message]


@settings(max_examples=300, deadline=None)
@given(token=SESSION_IDS, surround=SURROUNDINGS)
def test_redact_removes_session_ids(token: str, surround: tuple[str, str]) -> None:
    """redact() removes a session id wherever it sits in the text."""
    actual = redact(surround[0] + token + surround[1])

    assert token not in actual


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | JSON.map(json.dumps) | JSON.map(repr))
def test_redact_is_idempotent(text: str) -> None:
    """Redacting twice gives the same text as redacting once."""
    once = redact(text)

    assert once == redact(once)


def test_an_unlisted_code_with_line_breaks_keeps_the_message_on_one_line() -> None:
    """Found by hypothesis: a code with a newline must not break the message."""
    result = classify(sf_exceptions.SalesforceAuthenticationFailed("0\n0", "x"))

    assert _well_formed(result)
