"""Any error body form -> the errors it carries (code, message) and a short hint.

Forms: parsed JSON (list or dict, nested anywhere: REST error arrays, sObject
collection SaveResults, composite and tree results, Bulk job/batch info, OAuth
errors), the same as JSON text, as a Python repr (what ``str()`` of a
simple-salesforce exception shows), XML (Bulk API 1.0 errors, SOAP faults,
batch info), HTML (maintenance, CDN and edge pages), text a client already
formatted (``CODE: message``, ``Code : message``) and bytes of any of these.
Work is bounded: text is cut at ``MAX_TEXT`` characters and JSON walks stop
after ``MAX_NODES`` nodes.
"""

from __future__ import annotations

import ast
import html
import itertools
import json
import re
from dataclasses import dataclass, field

from sfresilience._classify._table import (
    CDN_UNAVAILABLE,
    CODES,
    GATEWAY_PAGE,
    MAINTENANCE_PAGE,
)


MAX_TEXT = 64 * 1024  # structured forms (JSON, repr, XML) are parsed this far
MAX_SCAN = 16 * 1024  # free text (plain, HTML) is searched this far
MAX_NODES = 4096
MAX_ERRORS = 64
_MAX_DEPTH = 4  # text inside text (repr of bytes holding JSON...) nests this deep

_CODE_KEYS = ("errorCode", "statusCode", "exceptionCode", "error", "faultcode")
_MESSAGE_KEYS = ("message", "error_description", "exceptionMessage", "faultstring")
_STATE_KEYS = ("stateMessage", "errorMessage")
_ENVELOPE_PREFIXES = frozenset({"soapenv", "soap", "soap-env", "env", "s", "s11", "s12"})

_CODE_SHAPE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
_SNAKE_CAPS = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_PREFIXED = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]{2,79})\s*:\s+(.*)", re.DOTALL)
_AUTH_TEXT = re.compile(r"Authentication failed \(code: ([^)]*)\):\s*(.*)", re.DOTALL)
_KEY_VALUE = re.compile(
    r"""["']?(?:errorCode|statusCode|exceptionCode)["']?\s*[:=]\s*["']"""
    r"""([A-Za-z][A-Za-z0-9_]{0,79})["']"""
)
_XML_FIELD = re.compile(
    r"<(?:[\w.\-]+:)?(exceptionCode|faultcode|errorCode|statusCode|exceptionMessage"
    r"|faultstring|message|stateMessage|errorMessage)(?:\s[^>]*)?>([^<]*)</",
    re.IGNORECASE,
)
_HTML = re.compile(r"<(?:!doctype\s+html|html|head|body|title)\b", re.IGNORECASE)
_HTML_DROP = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_SIGNALS = re.compile(
    rf"(?P<{MAINTENANCE_PAGE}>down for maintenance|under(?:going)? maintenance"
    r"|maintenance (?:is )?(?:in progress|underway))"
    rf"|(?P<{CDN_UNAVAILABLE}>cdn partner|originated from\W+(?:\w+\W+){{0,4}}cdn)"
    rf"|(?P<{GATEWAY_PAGE}>\b(?:bad gateway|gateway time-?out|service unavailable"
    r"|service not available)\b)",
    re.IGNORECASE,
)
_CONTENT_MARK = "Response content: "

# simple-salesforce's str() templates name the exception class (and so the
# status) even when the exception was re-wrapped as a plain Exception.
_SS = "simple_salesforce.exceptions."
_TEMPLATES: tuple[tuple[re.Pattern[str], str, int | None], ...] = (
    (re.compile(r"Malformed request "), _SS + "SalesforceMalformedRequest", 400),
    (re.compile(r"Expired session for "), _SS + "SalesforceExpiredSession", 401),
    (re.compile(r"Request refused for "), _SS + "SalesforceRefusedRequest", 403),
    (
        re.compile(r"Resource .{0,200}? Not Found\. "),
        _SS + "SalesforceResourceNotFound",
        404,
    ),
    (
        re.compile(r"More than one record for "),
        _SS + "SalesforceMoreThanOneRecord",
        300,
    ),
    (re.compile(r"Error Code (\d{3})\. "), _SS + "SalesforceGeneralError", None),
    (
        re.compile(r"Authentication failed\b"),
        _SS + "SalesforceAuthenticationFailed",
        None,
    ),
)
_RETRY_STATUS = re.compile(r"too many (\d{3}) error responses")


def _scannable(code: str) -> bool:
    """Whether a code is distinctive enough to be recognised inside free text."""
    humps = sum(1 for char in code if char.isupper())
    return "_" in code or (humps >= 3 and code[:1].isupper())  # noqa: PLR2004


_CAMEL_IN_TEXT = tuple(code for code in CODES if _scannable(code) and "_" not in code)
_KNOWN_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9_])(?:"
    + "|".join(re.escape(code) for code in sorted(CODES, key=len, reverse=True) if _scannable(code))
    + r")(?![A-Za-z0-9_])"
)


@dataclass(frozen=True, slots=True)
class Found:
    """One error a body carries: Salesforce's code and its message (may be empty)."""

    code: str
    message: str


@dataclass(slots=True)
class Parsed:
    """Everything a body says about what went wrong."""

    errors: list[Found] = field(default_factory=list)
    hint: str = ""
    signal: str | None = None
    status: int | None = None
    exception: str | None = None

    def add(self, code: str, message: str) -> None:
        """Record one error; a repeat of a code only fills in a missing message."""
        message = _strip_code_prefix(code, message)
        for index, known in enumerate(self.errors):
            if known.code == code:
                if not known.message and message:
                    self.errors[index] = Found(code, message)
                return
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(Found(code, message))

    def add_hint(self, text: str) -> None:
        """Keep the first non-empty human text seen."""
        if not self.hint and text.strip():
            self.hint = text.strip()


def _strip_code_prefix(code: str, message: str) -> str:
    message = message.strip()
    for separator in (":", " :", ","):
        prefix = code + separator
        if message.startswith(prefix):
            return message[len(prefix) :].strip()
    return message


def normalize_code(raw: object) -> str | None:
    """A Salesforce code from a field value, or None when the value is not a code."""
    if not isinstance(raw, str):
        return None
    code = raw.strip()
    if code in CODES:
        return code
    if ":" in code:  # SOAP faultcode "sf:INVALID_LOGIN"; "soapenv:Client" is no code
        prefix, _, code = code.rpartition(":")
        if prefix.casefold() in _ENVELOPE_PREFIXES:
            return None
    return code if _CODE_SHAPE.fullmatch(code) else None


def prefixed_error(text: str) -> Found | None:
    """``CODE: message`` / ``Code : message`` when CODE is one of Salesforce's codes."""
    match = _PREFIXED.match(text)
    if match is None:
        return None
    code, rest = match.group(1), match.group(2)
    if code in CODES or _SNAKE_CAPS.fullmatch(code):
        return Found(code, rest.strip())
    return None


def known_codes_in(text: str) -> list[str]:
    """Table codes named anywhere in free text, in order, without repeats."""
    seen: list[str] = []
    window = text[:MAX_SCAN]
    if "_" not in window and not any(code in window for code in _CAMEL_IN_TEXT):
        return seen  # a C-speed substring test spares the regex most prose
    for match in _KNOWN_IN_TEXT.finditer(window):
        if match.group(0) not in seen:
            seen.append(match.group(0))
            if len(seen) >= MAX_ERRORS:
                break
    return seen


def parse_body(body: object, *, html_hint: bool = False) -> Parsed:
    """Extract the errors, a hint and any page signal from a body of any form."""
    parsed = Parsed()
    _parse_any(body, parsed, html_hint=html_hint, depth=0)
    return parsed


def _parse_any(body: object, out: Parsed, *, html_hint: bool, depth: int) -> None:
    if body is None or depth > _MAX_DEPTH:
        return
    if isinstance(body, bytes | bytearray | memoryview):
        text = bytes(body[:MAX_TEXT]).decode("utf-8", errors="replace")
        _parse_text(text, out, html_hint=html_hint, depth=depth)
    elif isinstance(body, str):
        _parse_text(body[:MAX_TEXT], out, html_hint=html_hint, depth=depth)
    elif isinstance(body, dict | list | tuple):
        _walk(body, out, depth=depth)
    else:
        _parse_text(str(body)[:MAX_TEXT], out, html_hint=html_hint, depth=depth)


def _walk(root: object, out: Parsed, *, depth: int) -> None:
    """Depth-first, document-order walk of parsed JSON (or a Python literal)."""
    stack: list[object] = [root]
    nodes = 0
    while stack and nodes < MAX_NODES:
        node = stack.pop()
        nodes += 1
        if isinstance(node, dict):
            _visit_dict(node, out, depth=depth)
            children = list(itertools.islice(node.values(), MAX_NODES))
        elif isinstance(node, list | tuple):
            children = list(node[:MAX_NODES])
        else:
            continue
        stack.extend(
            child for child in reversed(children) if isinstance(child, dict | list | tuple)
        )


def _visit_dict(node: dict[object, object], out: Parsed, *, depth: int) -> None:
    message = next(
        (value for key in _MESSAGE_KEYS if isinstance(value := node.get(key), str)),
        "",
    )
    code = next(
        (code for key in _CODE_KEYS if (code := normalize_code(node.get(key)))),
        None,
    )
    if code is not None:
        out.add(code, message)
    else:
        out.add_hint(message)
    for key in _STATE_KEYS:
        state = node.get(key)
        if isinstance(state, str):
            found = prefixed_error(state)
            if found is not None:
                out.add(found.code, found.message)
            else:
                out.add_hint(state)
    body = node.get("body")
    if isinstance(body, str | bytes) and depth < _MAX_DEPTH:
        _parse_any(body, out, html_hint=False, depth=depth + 1)


def _parse_text(text: str, out: Parsed, *, html_hint: bool, depth: int) -> None:
    text = text.lstrip("\ufeff")
    _read_templates(text, out)
    mark = text.find(_CONTENT_MARK)
    if mark >= 0:
        text = text[mark + len(_CONTENT_MARK) :]
    stripped = text.strip()
    if not stripped:
        return
    auth = _AUTH_TEXT.match(stripped)
    if auth is not None:
        code, stripped = auth.group(1).strip(), auth.group(2).strip()
        if code.isdigit():
            out.status = out.status or http_status(int(code))
        elif normalize_code(code):
            out.add(code, "" if stripped.startswith("<") else stripped)
    if _parse_literal(stripped, out, depth=depth):
        return
    if "<" in stripped[:1024] and (html_hint or _HTML.search(stripped, 0, 4096)):
        _parse_html(stripped, out)
    elif stripped.startswith("<"):
        _parse_xml(stripped, out)
    else:
        _parse_plain(stripped, out)


def _read_templates(text: str, out: Parsed) -> None:
    head = text[:300]
    for pattern, exception, status in _TEMPLATES:
        match = pattern.match(head)
        if match is not None:
            out.exception = out.exception or exception
            found = int(match.group(1)) if match.groups() else status
            out.status = out.status or http_status(found)
            break
    retry = _RETRY_STATUS.search(text, 0, 4096)
    if retry is not None:
        out.status = out.status or http_status(int(retry.group(1)))


def _parse_literal(text: str, out: Parsed, *, depth: int) -> bool:
    """JSON text, or the Python repr of parsed JSON / bytes; False if neither."""
    if text[:1] in "[{":
        try:
            value: object = json.loads(text)
        except (ValueError, RecursionError):
            try:
                value = ast.literal_eval(text)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return False
        _walk(value, out, depth=depth)
        return True
    if text[:2] in {"b'", 'b"'}:
        try:
            raw = ast.literal_eval(text)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
        _parse_any(raw, out, html_hint=False, depth=depth + 1)
        return True
    return False


def _parse_xml(text: str, out: Parsed) -> None:
    pending: str | None = None
    for match in _XML_FIELD.finditer(text):
        name = match.group(1).casefold()
        value = html.unescape(match.group(2)).strip()
        if name in {"exceptioncode", "faultcode", "errorcode", "statuscode"}:
            code = normalize_code(value)
            if code is not None:
                out.add(code, "")
                pending = code
        elif name in {"statemessage", "errormessage"} and (found := prefixed_error(value)):
            out.add(found.code, found.message)
        elif pending is not None:
            out.add(pending, value)
            pending = None
        else:
            out.add_hint(value)
    if not out.errors:
        _parse_plain(_SPACE.sub(" ", _TAG.sub(" ", text[:MAX_SCAN])), out)


def _parse_html(text: str, out: Parsed) -> None:
    cleaned = _HTML_DROP.sub(" ", text[:MAX_SCAN])
    title_match = _HTML_TITLE.search(cleaned)
    title = _squash(title_match.group(1)) if title_match else ""
    words = _squash(_TAG.sub(" ", cleaned))
    _read_signals(words, out)
    out.add_hint(title or words[:200])


def _parse_plain(text: str, out: Parsed) -> None:
    found = prefixed_error(text)
    if found is not None:
        out.add(found.code, found.message)
    if "Code" in text:
        for match in _KEY_VALUE.finditer(text, 0, MAX_SCAN):
            out.add(match.group(1), "")
    for code in known_codes_in(text):
        out.add(code, text)
    _read_signals(text, out)
    out.add_hint(text[:MAX_SCAN])


def _read_signals(text: str, out: Parsed) -> None:
    """The most telling page signal: maintenance over CDN over a gateway error."""
    if out.signal is not None:
        return
    found = {match.lastgroup for match in _SIGNALS.finditer(text, 0, MAX_SCAN)}
    for name in (MAINTENANCE_PAGE, CDN_UNAVAILABLE, GATEWAY_PAGE):
        if name in found:
            out.signal = name
            return


def _squash(text: str) -> str:
    return _SPACE.sub(" ", html.unescape(text)).strip()


_LOWEST_STATUS, _HIGHEST_STATUS = 100, 999


def http_status(value: object) -> int | None:
    """``value`` when it is a plausible HTTP status (an int in 100..999), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if _LOWEST_STATUS <= value <= _HIGHEST_STATUS else None
    return None
