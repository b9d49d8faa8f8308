"""THE DATA: Salesforce's codes -> runbook rules (``docs/errors.md`` renders them)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from sfresilience._classify._model import ErrorCategory
from sfresilience._classify._rules import CodeEntry, _e


C = ErrorCategory

_READ_ONLY = (
    "The instance is read-only for maintenance: queue writes until the window "
    "ends (see Trust), keep serving reads (Bulk API reads fail too); retrying "
    "now cannot help."
)
_OAUTH_CLIENT = (
    "The connected app's consumer key or secret was refused: check both and the "
    "app's OAuth policies; do not retry."
)
_LOCK_BULK = (
    "A Bulk batch failed on record locks: resubmit the failed records in Bulk "
    "API 1.0 serial mode or in batches sorted by parent id."
)
_ROLLED_BACK = (
    "Rolled back because another record or subrequest failed: fix that error, "
    "then resend the whole request."
)
_BULK_INPUT = "The Bulk job or batch content is invalid: fix it; do not retry."

# Salesforce's own codes, as they arrive in REST errorCode, collection
# statusCode, Bulk exceptionCode, SOAP sf:exceptionCode/faultcode and the
# OAuth "error" field. Grouped by category; the order of rows of one code
# matters (``when`` rows first).
CODE_TABLE: Final[tuple[CodeEntry, ...]] = (
    # --- sessions -----------------------------------------------------------
    # Whatever its message ("not valid for use with the REST API" too): the
    # client's one refresh decides, and a refusal right after a fresh login
    # already becomes AUTH_FAILED.
    _e("INVALID_SESSION_ID", C.SESSION_EXPIRED),
    _e(
        "InvalidSessionId",
        C.SESSION_EXPIRED,
        "Bulk API session expired (simple-salesforce does not refresh Bulk "
        "sessions): log in again, rebuild sf.bulk, and retry.",
    ),
    # --- authentication -----------------------------------------------------
    _e(
        "INVALID_AUTH_HEADER",
        C.AUTH_FAILED,
        "The Authorization header is missing or malformed: send the access token "
        "as 'Authorization: Bearer ...'; this is a code bug.",
    ),
    _e(
        "invalid_grant",
        C.AUTH_FAILED,
        "The grant was refused (wrong credentials, revoked or expired refresh "
        "token, JWT audience or subject, IP or login hours, missing consent): "
        "fix what error_description names; do not retry.",
    ),
    _e(
        "invalid_client_id",
        C.AUTH_FAILED,
        "The consumer key is unknown here: check it and that the connected app "
        "is installed in this org.",
    ),
    _e("invalid_client", C.AUTH_FAILED, _OAUTH_CLIENT),
    _e("invalid_client_credentials", C.AUTH_FAILED, _OAUTH_CLIENT),
    _e(
        "unauthorized_client",
        C.AUTH_FAILED,
        "The connected app may not use this OAuth flow: enable the flow in the app's settings.",
    ),
    _e(
        "unsupported_grant_type",
        C.AUTH_FAILED,
        "This OAuth flow is disabled for the org or the app (e.g. username-"
        "password or client-credentials): enable it or use the JWT flow.",
    ),
    _e(
        "invalid_scope",
        C.AUTH_FAILED,
        "Request only scopes the connected app grants (api, refresh_token...).",
    ),
    _e(
        "invalid_request",
        C.AUTH_FAILED,
        "The token request is malformed (missing parameter, wrong endpoint): fix the login code.",
    ),
    _e(
        "access_denied",
        C.AUTH_FAILED,
        "The user denied the connected app access, or an admin blocked it: have the "
        "user approve it or pre-authorize the app; do not retry.",
    ),
    _e(
        "redirect_uri_mismatch",
        C.AUTH_FAILED,
        "The callback URL is not one the connected app lists: add it to the app or "
        "fix the redirect_uri parameter.",
    ),
    _e(
        "unsupported_response_type",
        C.AUTH_FAILED,
        "The authorization request asks for a response_type the flow does not "
        "support: fix the login code.",
    ),
    _e(
        "immediate_unsuccessful",
        C.AUTH_FAILED,
        "Authorization with immediate=true needs the user to log in or approve: "
        "run the interactive flow once.",
    ),
    _e(
        "server_error",
        C.SERVER_ERROR,
        "The authorization server failed: retry the login with backoff.",
    ),
    _e(
        "temporarily_unavailable",
        C.UNAVAILABLE,
        "The authorization server is overloaded or in maintenance: retry the login "
        "with backoff; check https://status.salesforce.com.",
    ),
    _e(
        "invalid_app_access",
        C.AUTH_FAILED,
        "The user is not approved for this connected app (admin-approved users only): "
        "assign the user a profile or permission set the app allows.",
    ),
    _e(
        "inactive_user",
        C.AUTH_FAILED,
        "The integration user is deactivated or frozen: reactivate it or switch "
        "the integration to an active user.",
    ),
    _e(
        "inactive_org",
        C.AUTH_FAILED,
        "The org is inactive, locked or expired: contact its admin or Salesforce.",
    ),
    _e(
        "INVALID_LOGIN",
        C.AUTH_FAILED,
        "Username, password or security token is wrong, or the user is locked "
        "out: fix the credentials; repeated attempts lock the user.",
    ),
    _e(
        "LOGIN_MUST_USE_SECURITY_TOKEN",
        C.AUTH_FAILED,
        "Append the user's security token to the password, or add the caller's "
        "IP to the trusted ranges.",
    ),
    _e(
        "PASSWORD_LOCKOUT",
        C.AUTH_FAILED,
        "The user is locked out after failed logins: stop retrying, have an admin "
        "unlock it, then fix the credentials.",
    ),
    _e(
        "INVALID_OPERATION_WITH_EXPIRED_PASSWORD",
        C.AUTH_FAILED,
        "The user's password has expired: reset it (give integration users a "
        "'password never expires' profile); refreshing cannot help.",
    ),
    _e(
        "LOGIN_CHALLENGE_ISSUED",
        C.AUTH_FAILED,
        "Login needs identity verification (new IP): add the IP to trusted "
        "ranges or use the OAuth JWT flow.",
    ),
    _e(
        "LOGIN_DURING_RESTRICTED_DOMAIN",
        C.AUTH_FAILED,
        "The profile's login IP ranges block this caller: allow its IP.",
    ),
    _e(
        "LOGIN_DURING_RESTRICTED_TIME",
        C.AUTH_FAILED,
        "Login is outside the profile's login hours: change the hours or the schedule.",
    ),
    _e(
        "ORG_LOCKED",
        C.AUTH_FAILED,
        "The org is locked (billing or administrative hold): contact the org's "
        "Salesforce account owner.",
    ),
    _e(
        "TRIAL_EXPIRED",
        C.AUTH_FAILED,
        "The org's trial has expired: nothing can log in until it is converted.",
    ),
    _e(
        "ORG_NOT_OWNED_BY_INSTANCE",
        C.AUTH_FAILED,
        "Logging in to the wrong instance: use the org's My Domain login URL.",
    ),
    _e(
        "SSO_SERVICE_DOWN",
        C.AUTH_FAILED,
        "The org's delegated SSO service is unreachable: logins fail until that "
        "service is back; check it, not Salesforce.",
    ),
    _e(
        "INVALID AUTH",
        C.AUTH_FAILED,
        "simple-salesforce was given too few credentials (no security token or "
        "organizationId): fix how the client is built.",
    ),
    # --- API allocation and concurrency ---------------------------------------
    _e("REQUEST_LIMIT_EXCEEDED", C.API_LIMIT_EXCEEDED, when="TotalRequests"),
    _e(
        "REQUEST_LIMIT_EXCEEDED",
        C.CONCURRENCY_LIMIT,
        "Back off a few seconds with jitter and reduce parallelism: the org "
        "already runs its cap of requests longer than 20 s (25, or 5 on "
        "Developer Edition).",
        when="ConcurrentRequests",
    ),
    _e(
        "REQUEST_LIMIT_EXCEEDED",
        C.CONCURRENCY_LIMIT,
        "Too many long-running Apex transactions (over 5 s) at once: back off "
        "with jitter and make the Apex behind this call faster.",
        when="ConcurrentPerOrgLongTxn",
    ),
    _e(
        "REQUEST_LIMIT_EXCEEDED",
        C.API_LIMIT_EXCEEDED,
        "Unrecognised limit message: treat the daily allocation as spent until "
        "/limits says otherwise; stop non-critical traffic.",
    ),
    _e(
        "ExceededQuota",
        C.API_LIMIT_EXCEEDED,
        "The org's 24-hour Bulk API allocation (jobs or batches) is spent: stop "
        "submitting bulk work until the window rolls; check /limits.",
        severity="P2",
    ),
    _e(
        "rate_limit_exceeded",
        C.API_LIMIT_EXCEEDED,
        "Too many logins for this user in the last hour: reuse sessions instead "
        "of logging in per call; wait for the hour to roll.",
    ),
    _e(
        "TOO_MANY_APEX_REQUESTS",
        C.CONCURRENCY_LIMIT,
        "Too many concurrent Apex requests: resend after a short jittered wait "
        "and reduce parallelism.",
    ),
    # --- Streaming API (CometD) -------------------------------------------------
    _e(
        "401::Authentication invalid",
        C.SESSION_EXPIRED,
        "The streaming client's OAuth token or session was revoked or expired: log "
        "in again, then handshake and resubscribe.",
    ),
    _e(
        "401::Request requires authentication",
        C.INVALID_REQUEST,
        "The streaming request carried no OAuth token or session: send it in the "
        "Authorization header; this is a code bug.",
    ),
    _e(
        "403::Unknown client",
        C.SESSION_EXPIRED,
        "The server dropped this CometD client (idle past its timeout): handshake "
        "again and resubscribe; no new login is needed.",
    ),
    _e(
        "403::Handshake denied",
        C.AUTH_FAILED,
        "The streaming handshake was refused; the reason is in ext.sfdc.failureReason.",
        carrier=True,
    ),
    _e(
        "403::Organization concurrent user limit exceeded",
        C.CONCURRENCY_LIMIT,
        "The org's concurrent streaming clients are all in use: close idle clients, "
        "back off and handshake again; raise the limit with Salesforce if it persists.",
    ),
    _e(
        "403::Organization total events daily limit exceeded",
        C.API_LIMIT_EXCEEDED,
        "The org's daily streaming event delivery allocation is spent: stop "
        "subscribing until the 24-hour window rolls.",
    ),
    # --- record locks ---------------------------------------------------------
    _e("UNABLE_TO_LOCK_ROW", C.ROW_LOCK),
    _e("TooManyLockFailure", C.ROW_LOCK, _LOCK_BULK),
    # --- code bugs ------------------------------------------------------------
    _e(
        "MALFORMED_QUERY",
        C.INVALID_REQUEST,
        "Fix the SOQL: this is a code bug; do not retry.",
    ),
    _e(
        "INVALID_FIELD",
        C.INVALID_REQUEST,
        "Fix the query or field name (or grant field-level access): this is a "
        "code bug; do not retry.",
    ),
    _e(
        "INVALID_TYPE",
        C.INVALID_REQUEST,
        "Fix the sObject name (or grant the integration user the object): this "
        "is a code bug; do not retry.",
    ),
    _e(
        "MALFORMED_ID",
        C.INVALID_REQUEST,
        "Send a valid 15- or 18-character id of the right object; do not retry.",
    ),
    _e(
        "INVALID_ID_FIELD",
        C.INVALID_REQUEST,
        "The id or external-id field does not fit this object or operation: fix "
        "the call; do not retry.",
    ),
    _e(
        "INVALID_QUERY_FILTER_OPERATOR",
        C.INVALID_REQUEST,
        "Use a filter operator valid for the field's type: code bug; do not retry.",
    ),
    _e(
        "INVALID_SEARCH",
        C.INVALID_REQUEST,
        "Fix the SOSL search: code bug; do not retry.",
    ),
    _e(
        "EXCEEDED_ID_LIMIT",
        C.INVALID_REQUEST,
        "Send fewer ids per call (chunk them, at most 2,000); do not retry as is.",
    ),
    _e(
        "INVALID_QUERY_LOCATOR",
        C.INVALID_REQUEST,
        "The query cursor expired or was used up: re-run the query from the "
        "start instead of calling query_more again.",
    ),
    _e(
        "JSON_PARSER_ERROR",
        C.INVALID_REQUEST,
        "Fix the request body's JSON: code bug; do not retry.",
    ),
    _e(
        "METHOD_NOT_ALLOWED",
        C.INVALID_REQUEST,
        "Use an HTTP method the resource supports: code bug; do not retry.",
    ),
    _e(
        "INVALID_OPERATION",
        C.INVALID_REQUEST,
        "The operation is not valid for this object or state: fix the call; do not retry.",
    ),
    _e(
        "REQUEST_RUNNING_TOO_LONG",
        C.INVALID_REQUEST,
        "The request ran past Salesforce's time limit: make it smaller (fewer "
        "records, selective filters) instead of retrying it.",
    ),
    _e(
        "UNSUPPORTED_API_VERSION",
        C.INVALID_REQUEST,
        "The API version is retired or unknown here: move to a supported version.",
        severity="P1",
    ),
    _e(
        "APEX_ERROR",
        C.INVALID_REQUEST,
        "An unhandled exception in the org's Apex REST code: fix that Apex; do not retry.",
        carrier=True,
    ),
    _e(
        "QUERY_TOO_COMPLICATED",
        C.INVALID_REQUEST,
        "The query selects too many fields or its filter is too complex: select fewer "
        "fields (no formula-heavy ones) or split it; do not retry as is.",
    ),
    _e(
        "OPERATION_TOO_LARGE",
        C.INVALID_REQUEST,
        "The operation touches too many records for a synchronous call: narrow it or "
        "use the Bulk API; do not retry as is.",
    ),
    _e(
        "LIMIT_EXCEEDED",
        C.INVALID_REQUEST,
        "A per-request limit was exceeded (too many items in one call): send fewer per "
        "request; do not retry as is.",
    ),
    _e(
        "EXCEEDED_MAX_SEMIJOIN_SUBSELECTS",
        C.INVALID_REQUEST,
        "The query has too many semi-join subselects: restructure it; do not retry.",
    ),
    _e("InvalidEntity", C.INVALID_REQUEST, _BULK_INPUT),
    _e("InvalidBatch", C.INVALID_REQUEST, _BULK_INPUT),
    _e("ClientInputError", C.INVALID_REQUEST, _BULK_INPUT),
    _e("InvalidJob", C.INVALID_REQUEST, _BULK_INPUT),
    _e(
        "InvalidJobState",
        C.INVALID_REQUEST,
        "The Bulk job is closed, aborted or not open for this call: create a new "
        "job; do not retry.",
    ),
    _e("InvalidOperation", C.INVALID_REQUEST, _BULK_INPUT),
    _e("InvalidUrl", C.INVALID_REQUEST, _BULK_INPUT),
    _e("InvalidXML", C.INVALID_REQUEST, _BULK_INPUT),
    # --- rejected data --------------------------------------------------------
    _e(
        "REQUIRED_FIELD_MISSING",
        C.DATA_REJECTED,
        "Fill the required field the message names; do not retry unchanged.",
    ),
    _e(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        C.DATA_REJECTED,
        "A validation rule rejected the record: fix the data, or ask the admin "
        "about the rule quoted in the message; do not retry unchanged.",
    ),
    _e(
        "FIELD_FILTER_VALIDATION_EXCEPTION",
        C.DATA_REJECTED,
        "A lookup filter rejected the referenced record: point at a record the filter allows.",
    ),
    _e(
        "FIELD_INTEGRITY_EXCEPTION",
        C.DATA_REJECTED,
        "A field value breaks an integrity rule (wrong record type, bad reference): fix the value.",
    ),
    _e(
        "DUPLICATE_VALUE",
        C.DATA_REJECTED,
        "A unique field already holds this value: upsert on that field or dedupe "
        "first; do not retry unchanged.",
    ),
    _e(
        "DUPLICATE_EXTERNAL_ID",
        C.DATA_REJECTED,
        "The external id matches several records, or repeats in one request: dedupe it.",
    ),
    _e(
        "DUPLICATES_DETECTED",
        C.DATA_REJECTED,
        "A duplicate rule blocked the save: match the existing record or send "
        "the duplicate-rule header; do not retry unchanged.",
    ),
    _e(
        "INVALID_CROSS_REFERENCE_KEY",
        C.DATA_REJECTED,
        "A lookup id points at a record that does not exist or has the wrong "
        "type: fix the reference.",
    ),
    _e(
        "STRING_TOO_LONG",
        C.DATA_REJECTED,
        "Truncate the value to the field's length; do not retry unchanged.",
    ),
    _e(
        "NUMBER_OUTSIDE_VALID_RANGE",
        C.DATA_REJECTED,
        "The number does not fit the field's precision: fix the value.",
    ),
    _e(
        "INVALID_EMAIL_ADDRESS",
        C.DATA_REJECTED,
        "Fix the e-mail address; do not retry unchanged.",
    ),
    _e(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        C.DATA_REJECTED,
        "Send a value the restricted picklist allows; do not retry unchanged.",
    ),
    _e(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        C.DATA_REJECTED,
        "The field cannot be written by this operation (formula, system or "
        "read-only field): drop it from the payload.",
    ),
    _e(
        "ENTITY_IS_LOCKED",
        C.DATA_REJECTED,
        "The record is locked by an approval process (not a row lock): finish "
        "or recall the approval; retrying cannot help.",
    ),
    _e(
        "ENTITY_IS_DELETED",
        C.DATA_REJECTED,
        "The record is in the recycle bin: undelete it or stop referencing it.",
    ),
    _e(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        C.DATA_REJECTED,
        "A field value has the wrong type for the field: fix the value; do not retry unchanged.",
    ),
    _e(
        "ENTITY_FAILED_IFLASTMODIFIED_ON_UPDATE",
        C.DATA_REJECTED,
        "The record changed since it was read (If-Unmodified-Since failed): re-read it "
        "and reapply the change.",
    ),
    _e(
        "INACTIVE_OWNER_OR_USER",
        C.DATA_REJECTED,
        "The record's owner or a referenced user is inactive: assign an active user.",
    ),
    _e(
        "CANNOT_UPDATE_CONVERTED_LEAD",
        C.DATA_REJECTED,
        "The lead is converted and read-only: update the contact, account or "
        "opportunity it became instead.",
    ),
    _e(
        "DELETE_FAILED",
        C.DATA_REJECTED,
        "The record cannot be deleted (it is referenced or protected): remove "
        "the references first.",
    ),
    _e(
        "STORAGE_LIMIT_EXCEEDED",
        C.DATA_REJECTED,
        "The org's data or file storage is full: free or buy storage; every "
        "insert fails until then.",
        severity="P1",
    ),
    _e(
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        C.DATA_REJECTED,
        "A trigger or process on the record failed: read the nested error in "
        "the message; fix the automation or the data.",
        carrier=True,
    ),
    _e(
        "CANNOT_EXECUTE_FLOW_TRIGGER",
        C.DATA_REJECTED,
        "A record-triggered flow failed: read the nested error in the message; "
        "fix the flow or the data.",
        carrier=True,
    ),
    _e("ALL_OR_NONE_OPERATION_ROLLED_BACK", C.DATA_REJECTED, _ROLLED_BACK, carrier=True),
    _e("PROCESSING_HALTED", C.DATA_REJECTED, _ROLLED_BACK, carrier=True),
    _e("BATCH_PROCESSING_HALTED", C.DATA_REJECTED, _ROLLED_BACK, carrier=True),
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


def _index(
    table: tuple[CodeEntry, ...],
) -> Mapping[str, tuple[CodeEntry, ...]]:
    by_code: dict[str, list[CodeEntry]] = {}
    for entry in table:
        by_code.setdefault(entry.code, []).append(entry)
    return MappingProxyType({code: tuple(rows) for code, rows in by_code.items()})


CODES: Final = _index(CODE_TABLE)
