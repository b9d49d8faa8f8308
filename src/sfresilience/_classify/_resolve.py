"""classify() and may_have_been_applied(): gather evidence, look it up in the tables.

Order of evidence (first that applies decides):

1. a Salesforce code the table knows (several: the one of the earliest
   ``PRECEDENCE`` category; carriers such as ALL_OR_NONE_OPERATION_ROLLED_BACK
   last; codes named inside a message count too);
2. a page signal in the body (maintenance page, CDN page, edge error page);
3. a transport failure (refused, DNS, timeouts, resets);
4. a server-side HTTP status (5xx, 429): whatever the exception class says;
5. the simple-salesforce exception class;
6. any other HTTP status;
7. UNKNOWN.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import requests

from sfresilience._classify import _network
from sfresilience._classify._families import STREAMING_BY_STATUS, family_of
from sfresilience._classify._model import Classification, ErrorCategory
from sfresilience._classify._parse import (
    Found,
    Parsed,
    http_status,
    known_codes_in,
    parse_body,
)
from sfresilience._classify._table import (
    CATEGORY_DEFAULTS,
    CODES,
    EXCEPTION_TABLE,
    OWN_ERROR_TABLE,
    PRECEDENCE,
    SIGNAL_TABLE,
    CodeEntry,
    Rule,
    own_error_key,
    status_rule,
)
from sfresilience._redact import redact


MAX_MESSAGE = 240
_MESSAGE_WINDOW = 8 * MAX_MESSAGE
_RANK = {category: index for index, category in enumerate(PRECEDENCE)}
_SPACE = re.compile(r"\s+")
_API_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_SS = "simple_salesforce.exceptions."
_AUTH_FAILED = _SS + "SalesforceAuthenticationFailed"
_SALESFORCE_ERROR = _SS + "SalesforceError"
_OPERATION_ERROR = _SS + "SalesforceOperationError"
_EDGE_STATUSES = frozenset({502, 504})
_STREAMING_CODE = re.compile(r"([1-5]\d\d)::")
# A bug in the caller's code, whatever its text says ("timed out waiting for
# the lock"): never read as a network failure, so never retried as one.
_CODE_BUGS: tuple[type[BaseException], ...] = (
    ArithmeticError,
    AssertionError,
    AttributeError,
    ImportError,
    LookupError,
    NameError,
    NotImplementedError,
    RecursionError,
    SyntaxError,
    TypeError,
    ValueError,
)


@dataclass(slots=True)
class _Evidence:
    status: int | None = None
    body: object = None
    headers: Mapping[str, str] | None = None
    exception: str | None = None  # qualified name of the mapped exception class
    transport: str | None = None  # a transport signal from _table
    text: str = ""  # the exception's own description
    source: BaseException | None = None  # described only if nothing better is found
    not_json: bool = False  # a 2xx body that was not the JSON the client expected
    code_bug: bool = False  # a Python programming error: its text names no outage
    errors: list[Found] = field(default_factory=list)


def classify(
    error: object = None,
    *,
    status: int | None = None,
    body: object = None,
    headers: Mapping[str, str] | None = None,
) -> Classification:
    """Classify an exception, a ``requests.Response`` or a raw status and body.

    Never raises: whatever it is given, the answer is at worst UNKNOWN.
    """
    try:
        return _classify(error, status=status, body=body, headers=headers)
    except Exception:  # noqa: BLE001 - the error path must never grow a new error
        return _build(
            CATEGORY_DEFAULTS[ErrorCategory.UNKNOWN],
            code=None,
            message="unclassifiable error (the classifier failed on this input)",
            status=http_status(status),
        )


def may_have_been_applied(error: BaseException) -> bool:
    """Whether Salesforce may have processed the request that failed with ``error``.

    False when the request certainly never arrived (refused, DNS, connect
    timeout, proxy, TLS handshake, unbuildable request) or when Salesforce
    answered with an error (its transactions roll back), except edge answers
    502/504 (the edge may have lost the instance mid-request). True for read
    timeouts, connections cut mid-request and anything unknown.
    """
    try:
        return _may_have_been_applied(error)
    except Exception:  # noqa: BLE001 - unknown means "maybe"
        return True


def _may_have_been_applied(error: BaseException) -> bool:
    sent = _network.never_sent(error)
    if sent is not None:
        return not sent
    names = _mro_names(error)
    if _SALESFORCE_ERROR in names:
        return _answered_may_have_applied(error, names)
    response = getattr(error, "response", None)
    if isinstance(response, requests.Response):
        return response.status_code in _EDGE_STATUSES
    if isinstance(error, requests.exceptions.RetryError):
        status = parse_body(str(error)).status
        return status is None or status in _EDGE_STATUSES
    return True


def _answered_may_have_applied(error: BaseException, names: list[str]) -> bool:
    """Salesforce (or its edge) answered with an error status."""
    if _AUTH_FAILED in names:
        return False
    status = http_status(getattr(error, "status", None))
    # No status: Bulk API 1.0 batch state "Failed", some records may be saved.
    return status is None or status in _EDGE_STATUSES


def _classify(
    error: object,
    *,
    status: int | None,
    body: object,
    headers: Mapping[str, str] | None,
) -> Classification:
    own = own_error_key(error) if isinstance(error, BaseException) else None
    if own is not None and isinstance(error, BaseException):
        # The library's own decision not to call Salesforce.
        return _build(OWN_ERROR_TABLE[own], code=None, message=_safe_str(error), status=None)
    evidence = _Evidence()
    if isinstance(error, requests.Response):
        _from_response(error, evidence)
    elif isinstance(error, BaseException):
        _from_exception(error, evidence)
    elif error is not None and body is None:
        body = error
    if status is not None:
        evidence.status = http_status(status)
    if body is not None:
        evidence.body = body
    if headers is not None:
        evidence.headers = headers

    parsed = parse_body(evidence.body, html_hint=_is_html(evidence.headers))
    if evidence.source is not None and evidence.body is None:
        evidence.text = _safe_str(evidence.source)
    if evidence.text and evidence.body is None and evidence.transport is None:
        parsed = parse_body(evidence.text)
    evidence.status = evidence.status or parsed.status
    evidence.exception = evidence.exception or parsed.exception
    errors = evidence.errors + parsed.errors
    return _decide(evidence, parsed, errors)


def _decide(evidence: _Evidence, parsed: Parsed, errors: list[Found]) -> Classification:
    status = evidence.status
    best = _best(errors, evidence.headers)
    code = best.found.code if best else (errors[0].code if errors else None)
    found_message = best.found.message if best else (errors[0].message if errors else "")
    message = _message(evidence, parsed, found_message)
    note = best.note if best else (_unlisted_note(code) if code else "")
    rule: Rule | None = best.entry.rule if best else None
    if rule is None and parsed.signal is not None:
        rule = SIGNAL_TABLE[parsed.signal][1]
    if rule is None and evidence.transport is not None:
        rule = SIGNAL_TABLE[evidence.transport][1]
        message = evidence.text
    if rule is None and status is not None and (status >= 500 or status == 429):  # noqa: PLR2004
        rule = status_rule(status)
    if rule is None and evidence.exception is not None:
        rule = _exception_rule(evidence.exception, status)
    if rule is None and status is not None:
        rule = status_rule(status)
    if rule is None and parsed.network is not None and not evidence.code_bug:
        rule = SIGNAL_TABLE[parsed.network][1]
        message = parsed.network_line or message
    if rule is None and parsed.text_status is not None:
        rule = status_rule(parsed.text_status)
    if rule is None:
        rule = CATEGORY_DEFAULTS[ErrorCategory.UNKNOWN]
    if not message:
        message = f"HTTP {status}" if status is not None else "no error details"
    return _build(rule, code=code, message=message, status=status, note=note)


def _exception_rule(exception: str, status: int | None) -> Rule | None:
    category = EXCEPTION_TABLE.get(exception)
    if category is None:
        return None
    by_status = status_rule(status) if status is not None else None
    same = by_status is not None and by_status.category is category
    return by_status if same else CATEGORY_DEFAULTS[category]


def _message(evidence: _Evidence, parsed: Parsed, found_message: str) -> str:
    message = found_message or parsed.hint or evidence.text
    if evidence.not_json and not found_message:
        return f"expected JSON, got: {message or 'an empty body'}"
    if not message and evidence.source is not None:
        return _safe_str(evidence.source)
    return message


@dataclass(frozen=True, slots=True)
class _Candidate:
    found: Found
    entry: CodeEntry
    note: str = ""  # set when the code is unlisted and read by its family


def _best(errors: list[Found], headers: Mapping[str, str] | None) -> _Candidate | None:
    """The most actionable error, including codes named inside messages.

    Listed codes come before unlisted ones read by their family.
    """
    candidates: list[_Candidate] = []
    scanned: set[str] = set()
    for found in errors:
        candidate = _candidate(found, headers)
        if candidate is not None:
            candidates.append(candidate)
        if found.message and found.message not in scanned:
            scanned.add(found.message)  # one text often carries several codes
            for nested in known_codes_in(found.message):
                if nested != found.code:
                    inner = _candidate(Found(nested, found.message), headers)
                    if inner is not None:
                        candidates.append(inner)
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda item: (item.entry.carrier, bool(item.note), _RANK[item.entry.rule.category]),
    )


def _candidate(found: Found, headers: Mapping[str, str] | None) -> _Candidate | None:
    entry = _lookup(found, headers)
    if entry is not None:
        return _Candidate(found, entry)
    streaming = _STREAMING_CODE.match(found.code)
    if streaming is not None:
        by_status = STREAMING_BY_STATUS.get(streaming.group(1))
        return _Candidate(found, by_status) if by_status is not None else None
    family = family_of(found.code)
    if family is None:
        return None
    return _Candidate(found, family.entry, f"unlisted code {found.code}, read as {family.pattern}")


def _unlisted_note(code: str) -> str:
    return f"unlisted code {code}"


def _lookup(found: Found, headers: Mapping[str, str] | None) -> CodeEntry | None:
    rows = CODES.get(found.code) or CODES.get(found.code.replace("-", "_"))
    if rows is None:
        return None
    message = found.message.casefold()
    default: CodeEntry | None = None
    for row in rows:
        if row.when is None:
            default = default or row
        elif row.when.casefold() in message:
            return row
    if found.code == "REQUEST_LIMIT_EXCEEDED" and default is not None and _allocation_left(headers):
        # An unrecognised limit message while Sforce-Limit-Info still shows
        # allocation left: it cannot be the daily total, so it is concurrency.
        return next((row for row in rows if row.when == "ConcurrentRequests"), default)
    return default


def _allocation_left(headers: Mapping[str, str] | None) -> bool:
    value = _header(headers, "sforce-limit-info")
    match = _API_USAGE.search(value) if value else None
    return match is not None and int(match.group(1)) < int(match.group(2))


def _from_response(response: requests.Response, evidence: _Evidence) -> None:
    evidence.status = http_status(response.status_code)
    evidence.headers = response.headers
    # Never read an unread stream: classification does no I/O.
    content = response.__dict__.get("_content")
    if isinstance(content, bytes):
        evidence.body = content


def _from_exception(error: BaseException, evidence: _Evidence) -> None:
    names = _mro_names(error)
    evidence.exception = next((name for name in names if name in EXCEPTION_TABLE), None)
    if _SALESFORCE_ERROR in names:
        evidence.status = http_status(getattr(error, "status", None))
        evidence.body = getattr(error, "content", None)
        evidence.source = error
        if _AUTH_FAILED in names:
            _from_auth_failure(error, evidence)
        return
    response = getattr(error, "response", None)
    if isinstance(response, requests.Response):
        _from_response(response, evidence)
        evidence.text = _safe_str(error)
        return
    if isinstance(error, json.JSONDecodeError):
        # A 2xx answer that is not JSON (a maintenance page, a proxy's login
        # page): simple-salesforce's json() failed, and the body is in .doc.
        evidence.body = error.doc
        evidence.not_json = True
        return
    evidence.transport = _network.signal(error)
    if evidence.transport is not None:
        evidence.text = _network.describe(error)
        return
    if isinstance(error, requests.exceptions.RequestException):
        evidence.text = _network.describe(error)
    else:
        evidence.text = _safe_str(error) or type(error).__name__
        evidence.code_bug = isinstance(error, _CODE_BUGS)
    if _OPERATION_ERROR in names:
        evidence.body = evidence.text


def _from_auth_failure(error: BaseException, evidence: _Evidence) -> None:
    # simple-salesforce stamps 401 on every login failure; the real status is
    # only known when it passes one as the code (non-JSON / non-XML answers).
    code = getattr(error, "code", None)
    auth_message = getattr(error, "auth_message", None)
    evidence.status = None
    evidence.body = auth_message if isinstance(auth_message, str) else None
    if isinstance(code, int) and not isinstance(code, bool):
        evidence.status = http_status(code)
    elif isinstance(code, str) and code.strip():
        message = auth_message if isinstance(auth_message, str) else ""
        if message.lstrip().startswith("<"):
            message = ""
        evidence.errors.append(Found(code.strip(), message))


def _build(
    rule: Rule, *, code: str | None, message: str, status: int | None, note: str = ""
) -> Classification:
    return Classification(
        category=rule.category,
        error_code=code,
        message=_clean(message, note),
        http_status=status,
        retryable=rule.retryable,
        action=rule.action,
        severity=rule.severity,
    )


def _clean(message: str, note: str = "") -> str:
    # Redact before trimming to length; a secret cut by the window's end is
    # still recognised (redact() masks a session id running into the end).
    text = redact(_SPACE.sub(" ", message[:_MESSAGE_WINDOW]).strip())
    # A code comes from the caller's data and may hold any character.
    suffix = f" ({redact(_SPACE.sub(' ', note[: MAX_MESSAGE // 2]).strip())})" if note else ""
    room = MAX_MESSAGE - len(suffix)
    if len(text) > room:
        text = text[: room - 1].rstrip() + "…"
    return text + suffix


def _mro_names(error: BaseException) -> list[str]:
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in type(error).__mro__]


def _header(headers: Mapping[str, str] | None, name: str) -> str:
    if not headers:
        return ""
    items: Iterable[tuple[object, object]] = list(headers.items())[:200]
    for key, value in items:
        if isinstance(key, str) and key.casefold() == name:
            return value if isinstance(value, str) else ""
    return ""


def _is_html(headers: Mapping[str, str] | None) -> bool:
    return "html" in _header(headers, "content-type").casefold()


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break classification
        return type(error).__name__
