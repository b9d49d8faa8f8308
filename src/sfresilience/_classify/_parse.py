"""Any error body form -> the errors it carries (code, message) and a short hint.

Forms: parsed JSON (list or dict, nested anywhere: REST error arrays, sObject
collection SaveResults, composite and tree results, Bulk job/batch info, OAuth
errors, Streaming API messages, Metadata API deploy results, sf CLI errors),
the same as JSON text, as a Python repr (what ``str()`` of a simple-salesforce
exception shows), XML (Bulk API 1.0 errors, SOAP faults, batch info), HTML
(maintenance, CDN and edge pages, cut off or wrapped in other text), Bulk
results CSV, text a client already formatted (``CODE: message``, Java and PHP
renderings, OAuth redirect URLs, log lines) and bytes of any of these.

Work is bounded: a body is cut at ``MAX_TEXT`` characters before anything is
parsed, all the text parsed for one body (nested bodies included) shares a
budget of ``MAX_BUDGET`` characters, and JSON walks stop after ``MAX_NODES``
nodes. Every scan is linear in what it reads.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
from dataclasses import dataclass, field

from sfresilience._classify import _clients, _markup, _text
from sfresilience._classify._table import (
    CDN_UNAVAILABLE,
    CODES,
    DEPLOY_FAILED,
    GATEWAY_PAGE,
    MAINTENANCE_PAGE,
)


MAX_TEXT = 64 * 1024  # one body's text is parsed this far
MAX_BUDGET = 128 * 1024  # all text parsed for one classification, nested bodies included
MAX_SCAN = _text.MAX_SCAN  # free text (plain, HTML) is searched this far
MAX_NODES = 4096
MAX_ERRORS = 64
MAX_HINTS = 16
_MAX_DEPTH = 4  # text inside text (repr of bytes holding JSON...) nests this deep

_CODE_KEYS = (
    "errorCode",
    "statusCode",
    "exceptionCode",
    "errorStatusCode",
    "error",
    "faultcode",
)
_LOOSE_CODE_KEYS = ("code", "name")  # only a table code or SNAKE_CAPS counts here
_MESSAGE_KEYS = (
    "message",
    "error_description",
    "exceptionMessage",
    "errorMessage",
    "faultstring",
    "problem",
    "details",
)
_STATE_KEYS = ("stateMessage", "errorMessage", "stack", "failureReason")
_STATUS_KEYS = ("statusCode", "httpStatusCode")
_ENVELOPE_PREFIXES = frozenset({"soapenv", "soap", "soap-env", "env", "s", "s11", "s12"})
_XML_CODES = frozenset({"exceptioncode", "faultcode", "errorcode", "statuscode", "errorstatuscode"})
_XML_STATES = frozenset({"statemessage", "errormessage"})
_XML_NAMES = _XML_CODES | _XML_STATES | {"exceptionmessage", "faultstring", "message", "problem"}

_CODE_SHAPE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
_AUTH_TEXT = re.compile(r"Authentication failed \(code: ([^)]{0,80})\):\s*", re.DOTALL)
_HTML = re.compile(r"<(?:!doctype\s{1,8}html|html|head|body|title|h1)\b", re.IGNORECASE)
# Matched against lower-cased text: a case-sensitive alternation is several
# times faster than the same one with re.IGNORECASE.
_SIGNALS = re.compile(
    rf"(?P<{MAINTENANCE_PAGE}>down for maintenance|under(?:going)? maintenance"
    r"|maintenance (?:is )?(?:in progress|underway)|maintenance downtime"
    r"|unavailable (?:for|due to) (?:scheduled )?maintenance)"
    rf"|(?P<{CDN_UNAVAILABLE}>cdn partner"
    r"|originated from\W{1,20}(?:\w{1,40}\W{1,20}){0,4}cdn)"
    rf"|(?P<{GATEWAY_PAGE}>\b(?:bad gateway|gateway time-?out|service unavailable"
    r"|service not available|temporarily (?:interrupted|unavailable))\b)"
)
_CONTENT_MARK = "Response content: "


known_codes_in = _text.known_codes_in


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
    signal: str | None = None  # a page or result shape (maintenance, CDN, deploy failure)
    network: str | None = None  # a transport failure named in text
    network_line: str = ""  # the line of text that names it
    status: int | None = None
    text_status: int | None = None  # a status written into text: decides, is not reported
    exception: str | None = None
    budget: int = MAX_BUDGET
    nodes: int = 0
    texts: list[str] = field(default_factory=list)  # free text to read for wording

    def add(self, code: str, message: str) -> None:
        """Record one error; a repeat of a code only fills in a missing message."""
        message = _strip_code_prefix(code, message)
        if not any(char.isalpha() for char in message[:80]):
            message = ""  # only the punctuation around a code: no message at all
        for index, known in enumerate(self.errors):
            if known.code == code:
                if not known.message and message:
                    self.errors[index] = Found(code, message)
                return
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(Found(code, message))

    def add_hint(self, text: str) -> None:
        """Keep the first non-empty human text seen; remember all for wording."""
        stripped = text.strip()
        if not stripped:
            return
        if not self.hint:
            self.hint = stripped[:MAX_SCAN]
        if len(self.texts) < MAX_HINTS:
            self.texts.append(stripped[:MAX_SCAN])

    def take(self, text: str) -> str:
        """The part of ``text`` the remaining budget allows parsing."""
        allowed = text[: min(MAX_TEXT, max(self.budget, 0))]
        self.budget -= len(allowed)
        return allowed


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
    found = _text.prefixed_error(text)
    return Found(*found) if found is not None else None


def parse_body(body: object, *, html_hint: bool = False) -> Parsed:
    """Extract the errors, a hint and any page signal from a body of any form."""
    parsed = Parsed()
    _parse_any(body, parsed, html_hint=html_hint, depth=0)
    if not parsed.errors:
        _read_wording(parsed)
    return parsed


def _parse_any(body: object, out: Parsed, *, html_hint: bool, depth: int) -> None:
    if body is None or depth > _MAX_DEPTH or out.budget <= 0:
        return
    if isinstance(body, bytes | bytearray | memoryview):
        raw = bytes(body[: min(MAX_TEXT, out.budget) * 4])
        text = out.take(raw.decode("utf-8", errors="replace"))
        _parse_text(text, out, html_hint=html_hint, depth=depth)
    elif isinstance(body, str):
        _parse_text(out.take(body), out, html_hint=html_hint, depth=depth)
    elif isinstance(body, dict | list | tuple):
        _walk(body, out, depth=depth)
    else:
        _parse_text(out.take(str(body)), out, html_hint=html_hint, depth=depth)


def _walk(root: object, out: Parsed, *, depth: int) -> None:
    """Depth-first, document-order walk of parsed JSON (or a Python literal)."""
    stack: list[object] = [root]
    while stack and out.nodes < MAX_NODES:
        node = stack.pop()
        out.nodes += 1
        room = max(MAX_NODES - out.nodes - len(stack), 0)
        if isinstance(node, dict):
            _visit_dict(node, out, depth=depth)
            children = list(itertools.islice(node.values(), room))
        elif isinstance(node, list | tuple):
            children = list(node[:room])
        else:
            continue
        nested = [child for child in children if isinstance(child, dict | list | tuple)]
        stack.extend(reversed(nested))


def _visit_dict(node: dict[object, object], out: Parsed, *, depth: int) -> None:
    message = next(
        (value for key in _MESSAGE_KEYS if isinstance(value := node.get(key), str) and value),
        "",
    )
    code = _code_of(node)
    jsforce_status = _jsforce_status(code)
    if jsforce_status is not None:
        out.status = out.status or jsforce_status
        code = None  # no Salesforce code: jsforce names the status of a bare body
    if code is None and message.lstrip().startswith("<") and depth < _MAX_DEPTH:
        _parse_any(message, out, html_hint=False, depth=depth + 1)  # a page in a message
    if code is not None:
        out.add(code, message)
    else:
        out.add_hint(message)
    _visit_streaming(node, out)
    _visit_states(node, out)
    for key in _STATUS_KEYS:
        status = http_status(node.get(key))
        if status is not None and status >= 400 and out.text_status is None:  # noqa: PLR2004
            out.text_status = status
    failures = node.get("componentFailures")
    if failures and isinstance(failures, dict | list) and out.signal is None:
        out.signal = DEPLOY_FAILED
    body = node.get("body")
    if isinstance(body, str | bytes) and depth < _MAX_DEPTH:
        _parse_any(body, out, html_hint=False, depth=depth + 1)


_JSFORCE_STATUS = re.compile(r"ERROR_HTTP_([1-5]\d\d)")


def _jsforce_status(code: str | None) -> int | None:
    """jsforce's ``ERROR_HTTP_503``: the status of an answer that carried no error code."""
    match = _JSFORCE_STATUS.fullmatch(code) if code else None
    return int(match.group(1)) if match else None


def _code_of(node: dict[object, object]) -> str | None:
    for key in _CODE_KEYS:
        value = node.get(key)
        if key == "error" and isinstance(value, str) and _text.cometd_error(value):
            continue  # a Streaming API error: read by _visit_streaming
        code = normalize_code(value)
        if code is not None:
            return code
    loose = node.get("code")
    if isinstance(loose, str) and loose.strip() in CODES:  # jsforce's Bulk errors
        return loose.strip()
    # jsforce and the sf CLI name the error in "name" (or "code") beside a message.
    if not any(key in node for key in ("message", "exitCode", "stack")):
        return None
    for key in _LOOSE_CODE_KEYS:
        value = node.get(key)
        if isinstance(value, str) and _text.is_code_like(value.strip()):
            return value.strip()
    return None


def _visit_streaming(node: dict[object, object], out: Parsed) -> None:
    """A Bayeux ``error`` string; an ``error`` that is neither that nor a code is text."""
    error = node.get("error")
    if isinstance(error, str):
        found = _text.cometd_error(error)
        if found is not None:
            out.add(*found)
        elif normalize_code(error) is None:
            out.add_hint(error)


def _visit_states(node: dict[object, object], out: Parsed) -> None:
    for key in _STATE_KEYS:
        state = node.get(key)
        if not isinstance(state, str):
            continue
        found = _text.cometd_error(state) if key == "failureReason" else None
        found = found or _text.prefixed_error(state)
        if found is not None:
            out.add(*found)
        elif key != "stack":
            out.add_hint(state)


def _parse_text(text: str, out: Parsed, *, html_hint: bool, depth: int) -> None:
    text = text.lstrip("\ufeff")
    exception, status = _clients.read_client_text(text)
    out.exception = out.exception or exception
    out.status = out.status or http_status(status)
    mark = text.find(_CONTENT_MARK)
    if mark >= 0:
        text = text[mark + len(_CONTENT_MARK) :]
    stripped = text.strip()
    if not stripped:
        return
    auth = _AUTH_TEXT.match(stripped)
    if auth is not None:
        code, stripped = auth.group(1).strip(), stripped[auth.end() :].strip()
        if code.isdigit():
            out.status = out.status or http_status(int(code))
        elif normalize_code(code):
            out.add(code, "" if stripped.startswith("<") else stripped)
    if _parse_literal(stripped, out, depth=depth) or _parse_csv(stripped, out):
        return
    if "<" in stripped[:1024] and (html_hint or _HTML.search(stripped, 0, 4096)):
        _parse_html(stripped, out)
    elif stripped.startswith("<"):
        _parse_xml(stripped, out)
    else:
        _parse_plain(stripped, out)


def _parse_csv(text: str, out: Parsed) -> bool:
    """Bulk results CSV with failed rows; False if the text is no such CSV."""
    errors = _text.csv_result_errors(text)
    for found in errors or ():
        out.add(*found)
    return bool(errors)


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
    _read_elements(text, out)
    if "<componentFailures" in text[:MAX_TEXT] and out.signal is None:
        out.signal = DEPLOY_FAILED
    if not out.errors:  # its elements were just read: the rest is plain text
        _parse_plain(_markup.strip_tags(text[:MAX_SCAN]), out, elements=False)


def _read_elements(text: str, out: Parsed) -> None:
    pending: str | None = None
    for name, value in _markup.elements(text, _XML_NAMES):
        if name in _XML_CODES:
            code = normalize_code(value)
            if code is not None:
                out.add(code, "")
                pending = code
        elif name in _XML_STATES and (found := _text.prefixed_error(value)):
            out.add(*found)
        elif pending is not None:
            out.add(pending, value)
            pending = None
        else:
            out.add_hint(value)


def _parse_html(text: str, out: Parsed) -> None:
    cleaned = _markup.drop_scripts(text[:MAX_SCAN])
    title = _markup.title(cleaned)
    words = _markup.strip_tags(cleaned)
    _read_signals(words, out)
    out.text_status = out.text_status or _text.status_in_text(words)
    out.add_hint(title or words[:200])


def _parse_plain(text: str, out: Parsed, *, elements: bool = True) -> None:
    _read_embedded_json(text, out)
    found = _text.prefixed_error(text)
    jsforce_status = _jsforce_status(found[0] if found else None)
    if jsforce_status is not None:
        out.status = out.status or jsforce_status
    elif found is not None:
        out.add(*found)
    for code in _text.key_value_codes(text) + _text.restforce_codes(text):
        out.add(code, "")
    for code, message in _text.cometd_errors_in(text):
        out.add(code, message)
    redirect = _text.oauth_redirect_error(text)
    if redirect is not None:
        out.add(*redirect)
    if elements and "<" in text[:MAX_SCAN]:
        _read_elements(text[:MAX_SCAN], out)
    for code in known_codes_in(text):
        out.add(code, text[text.find(code) :])  # the message starts at its code
    _read_signals(text, out)
    out.text_status = out.text_status or _text.status_in_text(text)
    out.add_hint(text[:MAX_SCAN])


_DECODER = json.JSONDecoder()


def _read_embedded_json(text: str, out: Parsed) -> None:
    """The first JSON value in a log line (``DESCRIBE ERROR , {...}``, ``Response: [...]``)."""
    starts = [at for at in (text.find("{", 0, MAX_SCAN), text.find("[", 0, MAX_SCAN)) if at > 0]
    if not starts:
        return
    try:
        value, _ = _DECODER.raw_decode(text, min(starts))
    except (ValueError, RecursionError):
        return
    if isinstance(value, dict | list):
        _walk(value, out, depth=_MAX_DEPTH)


def _read_wording(out: Parsed) -> None:
    """No code anywhere: Salesforce's wording, then a network failure, in the text seen."""
    texts = _within(out.texts, MAX_SCAN)
    for text in texts:
        for code in _text.phrase_codes(text):
            out.add(code, text)
    if not out.errors:
        found = next((hit for text in texts if (hit := _text.network_signal(text))), None)
        if found is not None:
            out.network, out.network_line = found


def _within(texts: list[str], limit: int) -> list[str]:
    """The texts, cut so that together they hold at most ``limit`` characters."""
    kept: list[str] = []
    for text in texts:
        if limit <= 0:
            break
        kept.append(text[:limit])
        limit -= len(kept[-1])
    return kept


def _read_signals(text: str, out: Parsed) -> None:
    """The most telling page signal: maintenance over CDN over a gateway error."""
    if out.signal is not None:
        return
    found = {match.lastgroup for match in _SIGNALS.finditer(text[:MAX_SCAN].lower())}
    for name in (MAINTENANCE_PAGE, CDN_UNAVAILABLE, GATEWAY_PAGE):
        if name in found:
            out.signal = name
            return


_LOWEST_STATUS, _HIGHEST_STATUS = 100, 999


def http_status(value: object) -> int | None:
    """``value`` when it is a plausible HTTP status (an int in 100..999), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if _LOWEST_STATUS <= value <= _HIGHEST_STATUS else None
    return None
