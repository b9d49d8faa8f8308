"""THE DATA for codes the code table does not list: families, and Streaming API errors.

Salesforce names its codes systematically (``MALFORMED_*``, ``INVALID_*``,
``*_LIMIT_EXCEEDED``...), so an unlisted code still says what kind of problem
it is. A classification made this way says so in its message.

Streaming API (CometD/Bayeux) errors are ``"<status>:<args>:<message>"``
strings (``403::Unknown client``); a few messages are listed, the rest are
read by their status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sfresilience._classify._model import ErrorCategory, Severity
from sfresilience._classify._rules import CodeEntry, _e


C = ErrorCategory


@dataclass(frozen=True, slots=True)
class Family:
    """Codes starting with ``prefix`` and ending with ``suffix`` (either may be empty)."""

    prefix: str
    suffix: str
    entry: CodeEntry

    @property
    def pattern(self) -> str:
        """How the family is written in messages and docs: ``MALFORMED_*``."""
        return f"{self.prefix}*{self.suffix}"

    def matches(self, code: str) -> bool:
        """Whether ``code`` belongs to this family."""
        long_enough = len(code) > len(self.prefix) + len(self.suffix)
        return long_enough and code.startswith(self.prefix) and code.endswith(self.suffix)


def _family(
    prefix: str,
    suffix: str,
    category: ErrorCategory,
    action: str,
    *,
    severity: Severity | None = None,
) -> Family:
    return Family(prefix, suffix, _e(f"{prefix}*{suffix}", category, action, severity=severity))


# Tried in order: the more specific families first.
FAMILIES: Final[tuple[Family, ...]] = (
    _family(
        "INSUFFICIENT_ACCESS",
        "",
        C.PERMISSION_DENIED,
        "The integration user lacks a permission or sharing this call needs: grant it; "
        "do not retry.",
    ),
    _family(
        "LOGIN_",
        "",
        C.AUTH_FAILED,
        "The login was refused: fix what the message names (credentials, IP ranges, "
        "login hours); do not retry.",
    ),
    _family(
        "OAUTH_",
        "",
        C.AUTH_FAILED,
        "The OAuth authorization was refused (app blocked, not found or not approved): "
        "fix the connected app or its policies; do not retry.",
    ),
    _family(
        "",
        "_LIMIT_EXCEEDED",
        C.API_LIMIT_EXCEEDED,
        "A Salesforce limit named in the code is spent: check /limits and the message; "
        "do not retry until it resets.",
        severity="P2",
    ),
    _family(
        "",
        "_NOT_FOUND",
        C.NOT_FOUND,
        "What the code names does not exist (or is not visible to this user): fix the "
        "reference; do not retry.",
    ),
    _family(
        "",
        "_NOT_ENABLED",
        C.PERMISSION_DENIED,
        "The feature the code names is not enabled for the org or the user: enable it "
        "or stop calling it.",
    ),
    _family(
        "DUPLICATE",
        "",
        C.DATA_REJECTED,
        "The record duplicates another: dedupe or match the existing record; do not "
        "retry unchanged.",
    ),
    _family(
        "FIELD_",
        "",
        C.DATA_REJECTED,
        "A field value was rejected: fix the data the message names; do not retry unchanged.",
    ),
    _family(
        "CANNOT_",
        "",
        C.DATA_REJECTED,
        "The record's state forbids this change: fix the data or the operation; do not "
        "retry unchanged.",
    ),
    _family(
        "MALFORMED_",
        "",
        C.INVALID_REQUEST,
        "The request is malformed: fix it (a code bug); do not retry.",
    ),
    _family(
        "INVALID",
        "",
        C.INVALID_REQUEST,
        "Something in the request is invalid: fix what the message names (a code bug); "
        "do not retry.",
    ),
)


def family_of(code: str) -> Family | None:
    """The family an unlisted Salesforce code belongs to, if any."""
    if not code.isupper():
        return None
    return next((family for family in FAMILIES if family.matches(code)), None)


# Streaming API statuses: the rule when the message is not one the code table lists.
STREAMING_BY_STATUS: Final = {
    "400": _e(
        "400::",
        C.INVALID_REQUEST,
        "The subscription request is wrong (channel, API version in the URI, replay "
        "id, connection type): fix it; do not retry.",
    ),
    "401": _e(
        "401::",
        C.SESSION_EXPIRED,
        "The streaming client's OAuth token or session is no longer valid: log in "
        "again, then handshake and resubscribe.",
    ),
    "403": _e(
        "403::",
        C.PERMISSION_DENIED,
        "The user may not use this channel or the Streaming API: grant the permission; "
        "do not retry.",
    ),
    "500": _e(
        "500::",
        C.SERVER_ERROR,
        "The streaming server failed: handshake again with backoff; open a Support "
        "case if it repeats.",
    ),
    "503": _e(
        "503::",
        C.UNAVAILABLE,
        "The streaming server is overloaded or down: back off, then handshake again; "
        "check https://status.salesforce.com.",
    ),
}
