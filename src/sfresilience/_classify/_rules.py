"""The shape of a runbook rule, the category defaults, severities and precedence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from sfresilience._classify._model import ErrorCategory, Severity


C = ErrorCategory


@dataclass(frozen=True, slots=True)
class Rule:
    """What a classified error means and what the on-call engineer does about it."""

    category: ErrorCategory
    retryable: bool
    severity: Severity
    action: str


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One row of the code table.

    ``when``: a case-insensitive substring of Salesforce's message that selects
    this row; rows of one code are tried in order and the row without ``when``
    is that code's default. ``carrier``: the code only reports that *another*
    error happened (a rolled-back batch, a failed trigger or flow); any other
    code in the same response, or named inside its message, is the real cause
    and wins.
    """

    code: str
    rule: Rule
    when: str | None = None
    carrier: bool = False


# Category defaults: retryable, severity and the generic runbook line.
# Severity rationale (rendered into docs/errors.md):
SEVERITY_RATIONALE: Final[Mapping[Severity, str]] = MappingProxyType(
    {
        "P1": "The integration as a whole is down or must stop: Salesforce "
        "unreachable or in maintenance, credentials refused, the org's API "
        "allocation spent. Page someone.",
        "P2": "Degraded: some calls fail but retries or a queue carry the load "
        "(server errors, concurrency caps, read-only maintenance, lost "
        "connections), or an org configuration change blocks a class of calls.",
        "P3": "A code or data bug that fails some calls and needs a fix, not a "
        "retry: malformed queries, rejected records, missing records, "
        "unrecognised errors.",
        "P4": "Expected noise the library handles by itself: a session refresh, "
        "a row lock retried away. Only its rate is worth watching.",
    }
)

CATEGORY_DEFAULTS: Final[Mapping[ErrorCategory, Rule]] = MappingProxyType(
    {
        C.SESSION_EXPIRED: Rule(
            C.SESSION_EXPIRED,
            retryable=True,
            severity="P4",
            action="Refresh the session (log in again) and retry once; if the new "
            "session is refused too, treat it as AUTH_FAILED.",
        ),
        C.AUTH_FAILED: Rule(
            C.AUTH_FAILED,
            retryable=False,
            severity="P1",
            action="Fix the credentials or the connected app (user active, consent, "
            "IP ranges, certificate); retrying cannot help.",
        ),
        C.API_LIMIT_EXCEEDED: Rule(
            C.API_LIMIT_EXCEEDED,
            retryable=False,
            severity="P1",
            action="Stop non-critical traffic: the org's daily API allocation is "
            "spent until the 24-hour window rolls; check /limits.",
        ),
        C.CONCURRENCY_LIMIT: Rule(
            C.CONCURRENCY_LIMIT,
            retryable=True,
            severity="P2",
            action="Back off a few seconds with jitter and reduce parallelism.",
        ),
        C.ROW_LOCK: Rule(
            C.ROW_LOCK,
            retryable=True,
            severity="P4",
            action="Back off and retry; if it persists, sequence writes by parent "
            "Account or use Bulk API serial mode.",
        ),
        C.INVALID_REQUEST: Rule(
            C.INVALID_REQUEST,
            retryable=False,
            severity="P3",
            action="Fix the request: this is a code bug; do not retry.",
        ),
        C.DATA_REJECTED: Rule(
            C.DATA_REJECTED,
            retryable=False,
            severity="P3",
            action="Fix the record data, or the validation rule or automation named "
            "in the message; do not retry unchanged.",
        ),
        C.NOT_FOUND: Rule(
            C.NOT_FOUND,
            retryable=False,
            severity="P3",
            action="The record or resource does not exist (deleted, merged, wrong id "
            "or URL); do not retry.",
        ),
        C.PERMISSION_DENIED: Rule(
            C.PERMISSION_DENIED,
            retryable=False,
            severity="P2",
            action="Grant the integration user access (profile, permission set, "
            "sharing); do not retry.",
        ),
        C.SERVER_ERROR: Rule(
            C.SERVER_ERROR,
            retryable=True,
            severity="P2",
            action="Retry with backoff; if it persists, note the error id in the "
            "message and open a Salesforce Support case.",
        ),
        C.UNAVAILABLE: Rule(
            C.UNAVAILABLE,
            retryable=True,
            severity="P1",
            action="Check https://status.salesforce.com for the instance; serve "
            "cached reads; retry with backoff.",
        ),
        C.MAINTENANCE: Rule(
            C.MAINTENANCE,
            retryable=True,
            severity="P1",
            action="Salesforce is in maintenance (upgrades last up to five minutes): "
            "check the Trust maintenance calendar; serve cached reads; retry with "
            "backoff.",
        ),
        C.UNKNOWN: Rule(
            C.UNKNOWN,
            retryable=False,
            severity="P3",
            action="Unrecognised error: read the message and the raw response, then "
            "add its code to the classification table.",
        ),
    }
)

# Categories whose errors can never be fixed by trying again; tests hold the
# tables to it.
NEVER_RETRYABLE: Final = frozenset(
    {
        C.INVALID_REQUEST,
        C.DATA_REJECTED,
        C.NOT_FOUND,
        C.PERMISSION_DENIED,
        C.AUTH_FAILED,
        C.API_LIMIT_EXCEEDED,
        C.UNKNOWN,
    }
)

# When one response carries several errors, the one of the earliest category
# here decides (carriers come last whatever their category). Org-wide conditions
# first (they explain everything else), then errors a retry cannot fix (retrying
# the whole request would fail again), then transient per-record ones.
PRECEDENCE: Final[tuple[ErrorCategory, ...]] = (
    C.MAINTENANCE,
    C.UNAVAILABLE,
    C.AUTH_FAILED,
    C.API_LIMIT_EXCEEDED,
    C.SESSION_EXPIRED,
    C.CONCURRENCY_LIMIT,
    C.PERMISSION_DENIED,
    C.INVALID_REQUEST,
    C.DATA_REJECTED,
    C.NOT_FOUND,
    C.ROW_LOCK,
    C.SERVER_ERROR,
    C.UNKNOWN,
)


def _rule(
    category: ErrorCategory,
    action: str | None = None,
    *,
    severity: Severity | None = None,
    retryable: bool | None = None,
) -> Rule:
    base = CATEGORY_DEFAULTS[category]
    return Rule(
        category,
        base.retryable if retryable is None else retryable,
        base.severity if severity is None else severity,
        base.action if action is None else action,
    )


def _e(
    code: str,
    category: ErrorCategory,
    action: str | None = None,
    *,
    severity: Severity | None = None,
    retryable: bool | None = None,
    when: str | None = None,
    carrier: bool = False,
) -> CodeEntry:
    rule = _rule(category, action, severity=severity, retryable=retryable)
    return CodeEntry(code, rule, when=when, carrier=carrier)
