"""THE DATA for text without a code: Salesforce's own wording, and network errors as text.

Logs and trackers often keep only the text of an error: the code was dropped
by a client's formatter, or the failure happened below HTTP and survives as a
``requests`` / Node / Java exception string. These tables let such text be read.
Phrases are matched case-insensitively as substrings; each is specific enough
to name one condition. They are consulted only when no code was found.
"""

from __future__ import annotations

from typing import Final

from sfresilience._classify._table import (
    CONNECT_FAILED,
    CONNECTION_LOST,
    READ_TIMEOUT,
    TLS_FAILED,
)


# Salesforce's message wording -> the code that carries it.
PHRASES: Final[tuple[tuple[str, str], ...]] = (
    ("unable to obtain exclusive access to this record", "UNABLE_TO_LOCK_ROW"),
    ("Too many lock failures", "TooManyLockFailure"),
    ("Session expired or invalid", "INVALID_SESSION_ID"),
    ("Invalid Session ID found in SessionHeader", "INVALID_SESSION_ID"),
    ("This session is not valid for use with the", "INVALID_SESSION_ID"),
    ("TotalRequests Limit exceeded", "REQUEST_LIMIT_EXCEEDED"),
    ("ConcurrentRequests (Concurrent API Requests) Limit exceeded", "REQUEST_LIMIT_EXCEEDED"),
    ("ConcurrentRequests Limit exceeded", "REQUEST_LIMIT_EXCEEDED"),
    ("ConcurrentPerOrgLongTxn Limit exceeded", "REQUEST_LIMIT_EXCEEDED"),
    ("Invalid username, password, security token", "INVALID_LOGIN"),
    ("expired access/refresh token", "invalid_grant"),
    ("user hasn't approved this consumer", "invalid_grant"),
    ("Audience validation failed", "invalid_grant"),
    ("IP restricted or invalid login hours", "invalid_grant"),
    ("grant type not supported", "unsupported_grant_type"),
    ("client identifier invalid", "invalid_client_id"),
    ("invalid client credentials", "invalid_client_credentials"),
    ("API is not enabled for this Organization", "API_DISABLED_FOR_ORG"),
    (
        "insufficient access rights on cross-reference id",
        "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
    ),
    ("insufficient access rights on object id", "INSUFFICIENT_ACCESS_OR_READONLY"),
    ("invalid cross reference id", "INVALID_CROSS_REFERENCE_KEY"),
    ("duplicate value found", "DUPLICATE_VALUE"),
    ("Required fields are missing", "REQUIRED_FIELD_MISSING"),
    ("data value too large", "STRING_TOO_LONG"),
    ("cannot reference converted lead", "CANNOT_UPDATE_CONVERTED_LEAD"),
    ("Please include this ErrorId if you contact support", "UNKNOWN_EXCEPTION"),
    ("Salesforce System Error", "UNKNOWN_EXCEPTION"),
    ("Your query request was running for too long", "QUERY_TIMEOUT"),
    ("invalid query locator", "INVALID_QUERY_LOCATOR"),
    ("If you are attempting to use a custom field", "INVALID_FIELD"),
    ("If you are attempting to use a custom object", "INVALID_TYPE"),
    ("The requested resource does not exist", "NOT_FOUND"),
    (
        "Updates can't be made during maintenance",
        "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
    ),
    ("exceeds the allowed number for the past 24-hour period", "ExceededQuota"),
    ("per 24 hrs has been reached", "ExceededQuota"),
)

# Network failures as text (requests/urllib3, Node, Java, .NET, Go, curl, Ruby).
# The first signal with a matching phrase wins: TLS and connect failures are
# named most precisely, read timeouts and dropped connections more loosely.
NETWORK_PHRASES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    (
        TLS_FAILED,
        (
            "CERTIFICATE_VERIFY_FAILED",
            "certificate verify failed",
            "unable to get local issuer certificate",
            "self signed certificate",
            "self-signed certificate",
            "certificate not trusted",
            "certificate has expired",
            "SELF_SIGNED_CERT_IN_CHAIN",
            "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
            "CERT_HAS_EXPIRED",
            "PKIX path building failed",
            "SSLHandshakeException",
            "bad handshake",
            "SSL_connect returned",
            "wrong version number",
        ),
    ),
    (
        CONNECT_FAILED,
        (
            "NewConnectionError",
            "Failed to establish a new connection",
            "NameResolutionError",
            "Name or service not known",
            "nodename nor servname provided",
            "Temporary failure in name resolution",
            "getaddrinfo",
            "ENOTFOUND",
            "EAI_AGAIN",
            "UnknownHostException",
            "No such host is known",
            "Couldn't resolve host",
            "Could not resolve host",
            "server IP address could not be found",
            "DNS_PROBE_FINISHED",
            "dial tcp",
            "Connection refused",
            "ECONNREFUSED",
            "ConnectTimeoutError",
            "ConnectTimeout",
            "connect timeout",
            "connect ETIMEDOUT",
            "Network is unreachable",
            "No route to host",
            "EHOSTUNREACH",
            "ENETUNREACH",
            "tunneling socket could not be established",
            "Unable to connect to proxy",
            "Failed to send request to",
        ),
    ),
    (
        READ_TIMEOUT,
        (
            "Read timed out",
            "ReadTimeoutError",
            "ReadTimeout",
            "SocketTimeoutException",
            "ESOCKETTIMEDOUT",
            "ETIMEDOUT",
            "The operation timed out",
            "timed out",
        ),
    ),
    (
        CONNECTION_LOST,
        (
            "Connection aborted",
            "Connection reset",
            "ECONNRESET",
            "socket hang up",
            "RemoteDisconnected",
            "Remote end closed connection",
            "Connection broken",
            "IncompleteRead",
            "ChunkedEncodingError",
            "Broken pipe",
            "EPIPE",
            "EOF occurred in violation of protocol",
            "Connection closed by the server",
        ),
    ),
)
