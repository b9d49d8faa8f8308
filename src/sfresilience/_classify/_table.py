"""THE DATA: Salesforce's codes, HTTP statuses and transport signals -> runbook rules.

Everything classification decides is written down here (codes in ``_codes``,
the rule shape and category defaults in ``_rules``); ``_resolve`` only looks
things up. ``docs/errors.md`` is rendered from these tables (see ``_render``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from sfresilience._classify._codes import CODE_TABLE, CODES
from sfresilience._classify._model import ErrorCategory
from sfresilience._classify._rules import (
    CATEGORY_DEFAULTS,
    NEVER_RETRYABLE,
    PRECEDENCE,
    SEVERITY_RATIONALE,
    CodeEntry,
    Rule,
    _e,
    _rule,
)


__all__ = [
    "CATEGORY_DEFAULTS",
    "CDN_UNAVAILABLE",
    "CODES",
    "CODE_TABLE",
    "CONNECTION_LOST",
    "CONNECT_FAILED",
    "DEPLOY_FAILED",
    "EXCEPTION_TABLE",
    "GATEWAY_PAGE",
    "MAINTENANCE_PAGE",
    "NEVER_RETRYABLE",
    "OTHER_4XX",
    "OTHER_5XX",
    "OWN_ERROR_TABLE",
    "PRECEDENCE",
    "READ_TIMEOUT",
    "REQUEST_NOT_SENDABLE",
    "SEVERITY_RATIONALE",
    "SIGNAL_TABLE",
    "STATUS_TABLE",
    "TLS_FAILED",
    "CodeEntry",
    "Rule",
    "_e",
    "_rule",
    "own_error_key",
    "status_rule",
]

C = ErrorCategory

# HTTP statuses, used when the response carries no code this table knows.
STATUS_TABLE: Final[Mapping[int, Rule]] = MappingProxyType(
    {
        300: _rule(
            C.DATA_REJECTED,
            "The external id matches several records: make it unique, or address "
            "the record by its Salesforce id.",
        ),
        400: _rule(C.INVALID_REQUEST),
        401: _rule(C.SESSION_EXPIRED),
        403: _rule(C.PERMISSION_DENIED),
        404: _rule(C.NOT_FOUND),
        405: _rule(
            C.INVALID_REQUEST,
            "Use an HTTP method the resource supports: code bug; do not retry.",
        ),
        409: _rule(
            C.INVALID_REQUEST,
            "The request conflicts with the resource's state (often an "
            "incompatible API version): check the version; do not retry as is.",
        ),
        410: _rule(
            C.INVALID_REQUEST,
            "The resource or API version is retired: move to a supported version.",
            severity="P1",
        ),
        412: _rule(
            C.DATA_REJECTED,
            "A precondition failed (the record changed since it was read): "
            "re-read it and reapply the change.",
        ),
        414: _rule(
            C.INVALID_REQUEST,
            "The URI is longer than 16,384 bytes: send fewer ids or fields per call.",
        ),
        415: _rule(
            C.INVALID_REQUEST,
            "Send a supported Content-Type (JSON or XML): code bug; do not retry.",
        ),
        420: _rule(
            C.INVALID_REQUEST,
            "Salesforce Edge has no route for this host: use the instance_url "
            "OAuth returns (never a hard-coded instance); then call Support.",
            severity="P1",
        ),
        428: _rule(
            C.INVALID_REQUEST,
            "The resource needs a conditional request (If-Match...): code bug.",
        ),
        429: _rule(
            C.CONCURRENCY_LIMIT,
            "Too many requests: back off with jitter and reduce parallelism.",
        ),
        431: _rule(
            C.INVALID_REQUEST,
            "URI and headers exceed 16,384 bytes: shrink them; do not retry.",
        ),
        500: _rule(C.SERVER_ERROR),
        502: _rule(
            C.UNAVAILABLE,
            "Salesforce Edge could not reach the instance: check "
            "https://status.salesforce.com; serve cached reads; retry with "
            "backoff.",
        ),
        503: _rule(
            C.UNAVAILABLE,
            "Salesforce is down, overloaded or in maintenance: check "
            "https://status.salesforce.com; serve cached reads; retry with "
            "backoff.",
        ),
        504: _rule(
            C.UNAVAILABLE,
            "Salesforce Edge timed out waiting for the instance: retry with "
            "backoff; check a write was not applied before resending it.",
        ),
    }
)
OTHER_4XX: Final = _rule(C.INVALID_REQUEST)
OTHER_5XX: Final = _rule(C.SERVER_ERROR)

# Signals without a Salesforce code: body shapes and transport failures.
MAINTENANCE_PAGE: Final = "MAINTENANCE_PAGE"
CDN_UNAVAILABLE: Final = "CDN_UNAVAILABLE"
GATEWAY_PAGE: Final = "GATEWAY_PAGE"
CONNECT_FAILED: Final = "CONNECT_FAILED"
TLS_FAILED: Final = "TLS_FAILED"
READ_TIMEOUT: Final = "READ_TIMEOUT"
CONNECTION_LOST: Final = "CONNECTION_LOST"
REQUEST_NOT_SENDABLE: Final = "REQUEST_NOT_SENDABLE"
DEPLOY_FAILED: Final = "DEPLOY_FAILED"

SIGNAL_TABLE: Final[Mapping[str, tuple[str, Rule]]] = MappingProxyType(
    {
        MAINTENANCE_PAGE: (
            'HTML or text page "down for maintenance"',
            _rule(C.MAINTENANCE),
        ),
        CDN_UNAVAILABLE: (
            'CDN page "Service Not Available ... Salesforce CDN partner"',
            _rule(
                C.UNAVAILABLE,
                "Salesforce's CDN could not reach the instance: check "
                "https://status.salesforce.com; serve cached reads; retry with "
                "backoff.",
            ),
        ),
        GATEWAY_PAGE: (
            (
                'Edge error page or text ("Bad Gateway", "Gateway Timeout", "Service '
                'Unavailable", "temporarily unavailable")'
            ),
            STATUS_TABLE[502],
        ),
        CONNECT_FAILED: (
            "Connection refused, DNS failure, connect timeout, proxy refusal",
            _rule(
                C.UNAVAILABLE,
                "Salesforce is unreachable from here: check DNS, proxy and "
                "https://status.salesforce.com; serve cached reads; retry with "
                "backoff.",
            ),
        ),
        TLS_FAILED: (
            "TLS handshake or certificate failure",
            _rule(
                C.UNAVAILABLE,
                "TLS failed: on CERTIFICATE_VERIFY_FAILED fix the CA bundle or "
                "proxy (retries will not help); otherwise retry with backoff.",
            ),
        ),
        READ_TIMEOUT: (
            "Read timeout (the request was sent, no answer came)",
            _rule(
                C.UNAVAILABLE,
                "Salesforce did not answer in time: retry with backoff; check a "
                "write was not applied before resending it.",
                severity="P2",
            ),
        ),
        CONNECTION_LOST: (
            "Connection reset, aborted or cut mid-response",
            _rule(
                C.UNAVAILABLE,
                "The connection dropped mid-request: retry reads; check a write "
                "was not applied before resending it.",
                severity="P2",
            ),
        ),
        DEPLOY_FAILED: (
            "Metadata API deploy result with componentFailures",
            _rule(
                C.INVALID_REQUEST,
                "The deployment's components failed to compile or validate: fix each "
                "component failure's problem, then deploy again; do not retry as is.",
            ),
        ),
        REQUEST_NOT_SENDABLE: (
            "Request could not be built (bad URL, scheme or header)",
            _rule(
                C.INVALID_REQUEST,
                "The client is misconfigured (instance URL, proxy URL, header): "
                "fix the configuration; do not retry.",
                severity="P2",
            ),
        ),
    }
)

# simple-salesforce's exception classes -> the category used when the body holds
# no code. ``None`` means "decide by the HTTP status" (SalesforceGeneralError
# covers every status without a class of its own).
_SS = "simple_salesforce.exceptions."
EXCEPTION_TABLE: Final[Mapping[str, ErrorCategory | None]] = MappingProxyType(
    {
        _SS + "SalesforceError": None,
        _SS + "SalesforceGeneralError": None,
        _SS + "SalesforceMoreThanOneRecord": C.DATA_REJECTED,
        _SS + "SalesforceMalformedRequest": C.INVALID_REQUEST,
        _SS + "SalesforceExpiredSession": C.SESSION_EXPIRED,
        _SS + "SalesforceRefusedRequest": C.PERMISSION_DENIED,
        _SS + "SalesforceResourceNotFound": C.NOT_FOUND,
        _SS + "SalesforceAuthenticationFailed": C.AUTH_FAILED,
        # Bulk 2.0: a failed or timed-out job says nothing more about why.
        _SS + "SalesforceOperationError": C.UNKNOWN,
        # Raised mostly for bad input to the bulk2 helpers (paths, empty data).
        _SS + "SalesforceBulkV2LoadError": C.INVALID_REQUEST,
        _SS + "SalesforceBulkV2ExtractError": C.INVALID_REQUEST,
    }
)


# sfresilience's own fail-fast errors: decisions not to call Salesforce, never
# retried (another try meets the same decision). WriteRefused by its ``mode``.
_OWN = "sfresilience.exceptions."
OWN_ERROR_TABLE: Final[Mapping[str, Rule]] = MappingProxyType(
    {
        _OWN + "CircuitOpen": _rule(
            C.UNAVAILABLE,
            "Not sent: the breaker is open after recent outage failures. Wait for "
            "its probe; check the Trust status.",
            retryable=False,
        ),
        _OWN + "WriteRefused:breaker": _rule(
            C.UNAVAILABLE,
            "Not sent: the breaker is open. Queue the write and replay it once "
            "Salesforce answers again.",
            retryable=False,
        ),
        _OWN + "WriteRefused:maintenance": _rule(
            C.MAINTENANCE,
            "Not sent: the instance is in maintenance. Queue the write and replay "
            "it after the window.",
            retryable=False,
        ),
        _OWN + "WriteRefused:fallback": _rule(
            C.UNAVAILABLE,
            "Not sent: fallback mode is on (SF_FALLBACK_MODE or the fleet switch). "
            "Queue the write; replay it when the mode is turned off.",
            retryable=False,
        ),
        _OWN + "FallbackUnavailable": _rule(
            C.UNAVAILABLE,
            "Not sent: fallback mode is on and nothing usable is cached. Serve a "
            "degraded answer, or turn the mode off.",
            retryable=False,
        ),
        _OWN + "CriticalOnlyBlocked": _rule(
            C.API_LIMIT_EXCEEDED,
            "Not sent: critical-only mode holds back non-critical work to save "
            "the API allocation. Defer it.",
        ),
        _OWN + "BudgetExhausted": _rule(
            C.API_LIMIT_EXCEEDED,
            "Not sent: the daily API allocation is (nearly) spent. Defer until it "
            "resets, or raise the allocation.",
        ),
    }
)


def own_error_key(error: BaseException) -> str | None:
    """*error*'s row in OWN_ERROR_TABLE, or None for errors not of that table."""
    for cls in type(error).__mro__:
        name = f"{cls.__module__}.{cls.__qualname__}"
        for key in (f"{name}:{getattr(error, 'mode', '')}", name):
            if key in OWN_ERROR_TABLE:
                return key
    return None


def status_rule(status: int) -> Rule | None:
    """The rule for an HTTP status alone, or None when it says nothing."""
    rule = STATUS_TABLE.get(status)
    if rule is not None:
        return rule
    if 400 <= status <= 499:  # noqa: PLR2004 - the 4xx class
        return OTHER_4XX
    if 500 <= status <= 599:  # noqa: PLR2004 - the 5xx class
        return OTHER_5XX
    return None
