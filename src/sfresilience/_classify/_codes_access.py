"""Codes of sessions, logins, API allocation and concurrency, Streaming and record locks."""

from __future__ import annotations

from typing import Final

from sfresilience._classify._model import ErrorCategory
from sfresilience._classify._rules import CodeEntry, _e


C = ErrorCategory

_OAUTH_CLIENT = (
    "The connected app's consumer key or secret was refused: check both and the "
    "app's OAuth policies; do not retry."
)
_LOCK_BULK = (
    "A Bulk batch failed on record locks: resubmit the failed records in Bulk "
    "API 1.0 serial mode or in batches sorted by parent id."
)

ACCESS_CODES: Final[tuple[CodeEntry, ...]] = (
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
)
