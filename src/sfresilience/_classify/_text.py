"""Free text -> codes: what clients, loggers and trackers leave of an error.

Every function here reads at most ``MAX_SCAN`` characters, and every pattern
is anchored or made of bounded pieces, so each is linear in its input.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import urllib.parse
from collections.abc import Iterator

from sfresilience._classify._table import CODES
from sfresilience._classify._wording import NETWORK_PHRASES, PHRASES


MAX_SCAN = 16 * 1024  # free text is searched this far
MAX_ROWS = 200  # CSV result rows read
MAX_CSV = 64 * 1024  # CSV result text read
_MAX_PREFIXES = 4  # "null:", "Error:", "[ERROR]:"... stripped before a code

_SNAKE_CAPS = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+){1,16}")
_PREFIXED = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]{2,79})\s*:(\s*)")
_NOISE_PREFIX = re.compile(
    r"\s*(?:\[[^\[\]]{0,40}\]\s*:?|[\w.$\-]{1,80}(?:::[\w.$\-]{1,80}){0,3}\s*:)"
)
_KEY_VALUE = re.compile(
    r"""["'\[]?(?:errorCode|statusCode|exceptionCode|errorStatusCode)["'\]]?"""
    r"""[ \t]{0,8}(?:=>|[:=])[ \t]{0,8}(["']?)([A-Za-z][A-Za-z0-9_]{0,79})\1"""
)
_COMETD = re.compile(
    r"(?<![\w:])([1-5]\d\d):([\w\-]{0,40}):((?:[^\n\"{}\[\],']|'(?=[A-Za-z])){1,160})"
)
_COMETD_ARGS = re.compile(r"\d\d\d:[\w\-]{1,40}:")  # "403:denied_by_security_policy:..."
_OAUTH_QUERY = re.compile(
    r"[?#&]error=([A-Za-z][\w.\-]{0,79})(?:&error_description=([^&#\s]{0,400}))?"
)
_STATUS_TEXT = re.compile(
    r"(?:\bHTTP(?:/\d(?:\.\d)?)?|\b[Ss]tatus(?:[ _]?[Cc]ode)?|\bErrorDomain|\bBad Message"
    r"|\bUnexpected response|\bresponse code)[\"': =]{0,4}([1-5]\d\d)\b"
    r"|\b([1-5]\d\d) (?:Client Error|Server Error|Bad Request|Unauthorized|Forbidden"
    r"|Not Found|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out"
    r"|URI Too Long)\b"
)
_CSV_ERROR_COLUMNS = ("sf__Error", "Error", "errorMessage")
_RESTFORCE = re.compile(r"Restforce::ErrorCode::([A-Z][A-Za-z0-9]{2,79})")
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


def _scannable(code: str) -> bool:
    """Whether a code is distinctive enough to be recognised inside free text."""
    humps = sum(1 for char in code if char.isupper())
    return "_" in code or (humps >= 3 and code[:1].isupper())  # noqa: PLR2004


_CAMEL_CODES = tuple(code for code in CODES if code[:1].isupper() and "_" not in code)
_CAMEL_IN_TEXT = tuple(code for code in _CAMEL_CODES if _scannable(code))
_KNOWN_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9_])(?:"
    + "|".join(re.escape(code) for code in sorted(CODES, key=len, reverse=True) if _scannable(code))
    + r")(?![A-Za-z0-9_])"
)
# Bulk API codes read "InvalidBatch : message" wherever a client puts them.
_BULK_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9_])("
    + "|".join(re.escape(code) for code in sorted(_CAMEL_CODES, key=len, reverse=True))
    + r")[ \t]{1,8}:[ \t]"
)
# Lower-cased once; "phrase in text" is a linear C-speed search, and a few
# dozen of them beat one case-insensitive alternation by an order of magnitude.
_PHRASES = tuple((phrase.lower(), code) for phrase, code in PHRASES)
_NETWORK = tuple(
    (signal, tuple(phrase.lower() for phrase in phrases)) for signal, phrases in NETWORK_PHRASES
)


def is_code_like(code: str) -> bool:
    """A table code, or SALESFORCE_STYLE_SNAKE_CAPS."""
    return code in CODES or _SNAKE_CAPS.fullmatch(code) is not None


def prefixed_error(text: str) -> tuple[str, str] | None:
    """``CODE: message`` / ``Code : message`` / ``CODE:message``, after client prefixes.

    Prefixes that are not codes (``Error:``, ``null:``, ``[ERROR]``,
    ``Restforce::UnauthorizedError:``) are skipped, a few at most.
    """
    rest = text
    for _ in range(_MAX_PREFIXES):
        match = _PREFIXED.match(rest)
        if match is not None and is_code_like(match.group(1)):
            spaced = bool(match.group(2)) or match.group(1) in CODES
            if spaced or _SNAKE_CAPS.fullmatch(match.group(1)):
                return match.group(1), rest[match.end() :].strip()
        noise = _NOISE_PREFIX.match(rest)
        if noise is None or noise.end() == 0:
            return None
        rest = rest[noise.end() :]
    return None


def known_codes_in(text: str) -> list[str]:
    """Table codes named anywhere in free text, in order, without repeats."""
    window = text[:MAX_SCAN]
    seen: list[str] = []
    if "_" in window or any(code in window for code in _CAMEL_IN_TEXT):
        for match in _KNOWN_IN_TEXT.finditer(window):
            if match.group(0) not in seen:
                seen.append(match.group(0))
    if " :" in window or "\t:" in window:
        seen.extend(code for code in _bulk_codes(window) if code not in seen)
    return seen


def _bulk_codes(window: str) -> Iterator[str]:
    for match in _BULK_IN_TEXT.finditer(window):
        yield match.group(1)


def key_value_codes(text: str) -> list[str]:
    """Codes in ``errorCode: 'X'``, ``exceptionCode='X'``, ``[statusCode] => X`` forms."""
    codes: list[str] = []
    window = text[:MAX_SCAN]
    if "Code" not in window:
        return codes
    for match in _KEY_VALUE.finditer(window):
        quoted, code = bool(match.group(1)), match.group(2)
        if (quoted or is_code_like(code)) and code not in codes:
            codes.append(code)
    return codes


def restforce_codes(text: str) -> list[str]:
    """``Restforce::ErrorCode::UnableToLockRow`` -> ``UNABLE_TO_LOCK_ROW``."""
    window = text[:MAX_SCAN]
    if "Restforce::ErrorCode::" not in window:
        return []
    return [_CAMEL_HUMP.sub("_", match.group(1)).upper() for match in _RESTFORCE.finditer(window)]


def cometd_error(value: str) -> tuple[str, str] | None:
    """A Bayeux error string ``"403::Unknown client"`` -> (code, message).

    The code keeps the status and the message's fixed part: arguments in
    braces and everything after the first sentence are dropped.
    """
    match = _COMETD.match(value.strip())
    if match is None:
        return None
    status, message = match.group(1), match.group(3).strip()
    fixed = re.split(r" \{|\. | \(", message, maxsplit=1)[0].rstrip(". ")[:80]
    return f"{status}::{fixed}", message


def cometd_errors_in(text: str) -> list[tuple[str, str]]:
    """Bayeux error strings anywhere in text (a client's log line, a repr)."""
    window = text[:MAX_SCAN]
    if "::" not in window and not _COMETD_ARGS.search(window, 0, 4096):
        return []
    found: list[tuple[str, str]] = []
    for match in _COMETD.finditer(window):
        parsed = cometd_error(match.group(0))
        if parsed is not None and parsed not in found:
            found.append(parsed)
    return found


def oauth_redirect_error(text: str) -> tuple[str, str] | None:
    """``...callback?error=access_denied&error_description=...`` -> (code, description)."""
    window = text[:MAX_SCAN]
    if "error=" not in window:
        return None
    match = _OAUTH_QUERY.search(window)
    if match is None:
        return None
    description = urllib.parse.unquote_plus(match.group(2) or "")
    return match.group(1), description


def status_in_text(text: str) -> int | None:
    """An HTTP status a client wrote into its message (``400 Bad Request``, ``status code 503``)."""
    match = _STATUS_TEXT.search(text, 0, 4096)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def csv_result_errors(text: str) -> list[tuple[str, str]] | None:
    """Bulk results CSV (``sf__Error`` or ``Error`` column) -> (code, message) per failed row.

    None when the text is not such a CSV.
    """
    head, _, _ = text[:4096].partition("\n")
    if "," not in head:
        return None
    fields = next(csv.reader([head]), [])
    column = next((name for name in _CSV_ERROR_COLUMNS if name in fields), None)
    if column is None:
        return None
    errors: list[tuple[str, str]] = []
    rows = csv.DictReader(io.StringIO(text[:MAX_CSV]))
    try:
        for row in itertools.islice(rows, MAX_ROWS):
            found = prefixed_error(row.get(column) or "")
            if found is not None and found not in errors:
                errors.append(found)
    except csv.Error:
        pass  # a cut-off last row: keep what was read
    return errors


def phrase_codes(text: str) -> list[str]:
    """Codes whose Salesforce wording appears in text without the code itself."""
    window = text[:MAX_SCAN].lower()
    codes: list[str] = []
    for phrase, code in _PHRASES:
        if phrase in window and code not in codes:
            codes.append(code)
    return codes


def network_signal(text: str) -> tuple[str, str] | None:
    """The transport failure a network error's text names, and the line naming it."""
    window = text[:MAX_SCAN]
    lowered = window.lower()
    for signal, phrases in _NETWORK:
        for phrase in phrases:
            at = lowered.find(phrase)
            if at >= 0:
                return signal, _line_at(window, at)
    return None


def _line_at(text: str, index: int) -> str:
    """The line of ``text`` holding ``index`` (lower() keeps ASCII offsets)."""
    index = min(index, len(text))
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    return text[start : end if end >= 0 else len(text)].strip()
