"""Codes of missing things, permissions, Salesforce-side failures, outages and maintenance."""

from __future__ import annotations

from typing import Final

from sfresilience._classify._model import ErrorCategory
from sfresilience._classify._rules import CodeEntry, _e


C = ErrorCategory

_READ_ONLY = (
    "The instance is read-only for maintenance: queue writes until the window "
    "ends (see Trust), keep serving reads (Bulk API reads fail too); retrying "
    "now cannot help."
)

PLATFORM_CODES: Final[tuple[CodeEntry, ...]] = (
    # --- missing --------------------------------------------------------------
    _e("NOT_FOUND", C.NOT_FOUND),
    # --- permissions ----------------------------------------------------------
    _e(
        "INSUFFICIENT_ACCESS_OR_READONLY",
        C.PERMISSION_DENIED,
        "The integration user lacks permission for this action (object, field "
        "or sharing; not maintenance read-only): grant it; do not retry.",
    ),
    _e(
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
        C.PERMISSION_DENIED,
        "The user cannot see a record this one references (sharing on the lookup "
        "target or owner): share it; do not retry.",
        severity="P3",
    ),
    _e("INSUFFICIENT_ACCESS", C.PERMISSION_DENIED),
    _e(
        "FORBIDDEN",
        C.PERMISSION_DENIED,
        "The user may not use this resource (often an Apex REST class the profile does "
        "not grant): grant access to it; do not retry.",
    ),
    _e(
        "TXN_SECURITY_NO_ACCESS",
        C.PERMISSION_DENIED,
        "A transaction security policy blocked the call: ask the admin about the "
        "policy, or exempt the integration user; do not retry.",
    ),
    _e(
        "API_DISABLED_FOR_ORG",
        C.PERMISSION_DENIED,
        "API access is off for the org's edition or the user lacks 'API "
        "Enabled': enable it; nothing works until then.",
        severity="P1",
    ),
    _e(
        "FUNCTIONALITY_NOT_ENABLED",
        C.INVALID_REQUEST,
        "Bulk queries cannot select compound fields (addresses, geolocations) or "
        "this object: select the component fields or use the REST API; do not retry.",
        when="not supported in Bulk",
    ),
    _e(
        "FUNCTIONALITY_NOT_ENABLED",
        C.PERMISSION_DENIED,
        "The feature is not enabled in this org: enable it or stop calling it.",
    ),
    _e(
        "FeatureNotEnabled",
        C.PERMISSION_DENIED,
        "Bulk API is not enabled for the org or the user: enable it (API "
        "Enabled, Bulk API Hard Delete...).",
    ),
    _e(
        "InvalidUser",
        C.PERMISSION_DENIED,
        "The user lacks the permission for this Bulk job, or another user owns "
        "the job: fix the permission or the job id.",
    ),
    # --- Salesforce-side failures ---------------------------------------------
    _e(
        "UNKNOWN_EXCEPTION",
        C.SERVER_ERROR,
        "Salesforce hit an internal error: retry with backoff; if it persists, "
        "note the error id in the message and open a Support case.",
    ),
    _e(
        "QUERY_TIMEOUT",
        C.SERVER_ERROR,
        "The query timed out: retry once; if it times out again, make it "
        "selective (indexed filters, narrower ranges).",
    ),
    _e(
        "TEMPORARY_QUERY_MORE_FAILURE",
        C.SERVER_ERROR,
        "A transient cursor failure: retry the query_more call after a short wait.",
    ),
    _e(
        "Timeout",
        C.SERVER_ERROR,
        "A Bulk batch timed out: resubmit it in smaller batches.",
    ),
    _e(
        "Unknown",
        C.SERVER_ERROR,
        "A Bulk job failed for an unknown internal reason: resubmit; open a "
        "Support case if it repeats.",
    ),
    # --- outages and maintenance ----------------------------------------------
    _e(
        "SERVER_UNAVAILABLE",
        C.UNAVAILABLE,
        "A server needed for this call is unavailable (other calls may work): "
        "check https://status.salesforce.com; retry with backoff.",
    ),
    _e(
        "API_CURRENTLY_DISABLED",
        C.UNAVAILABLE,
        "Salesforce switched the API off for a system problem: check "
        "https://status.salesforce.com; serve cached reads; retry with backoff.",
    ),
    _e(
        "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
        C.MAINTENANCE,
        _READ_ONLY,
        retryable=False,
        severity="P2",
    ),
    _e(
        "INVALID_READ_ONLY_USER_DML",
        C.MAINTENANCE,
        _READ_ONLY,
        retryable=False,
        severity="P2",
    ),
)
