"""Classification against a corpus of real Salesforce payload shapes, and its tables."""

from __future__ import annotations

import http.client
import inspect
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import simple_salesforce.exceptions as sf_exceptions
import urllib3.exceptions as u3
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceBulkV2ExtractError,
    SalesforceBulkV2LoadError,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceOperationError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sfresilience._classify import (
    Classification,
    ErrorCategory,
    classify,
    may_have_been_applied,
    render_markdown_table,
)
from sfresilience._classify._table import (
    CATEGORY_DEFAULTS,
    CODE_TABLE,
    EXCEPTION_TABLE,
    NEVER_RETRYABLE,
    PRECEDENCE,
    SIGNAL_TABLE,
    STATUS_TABLE,
)
from sfresilience._redact import redact


C = ErrorCategory
URL = "https://acme.my.salesforce.com/services/data/v59.0/"
ERRORS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "errors.md"

# --- real payload shapes -----------------------------------------------------

SESSION_EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
TOTAL_REQUESTS = [
    {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
]
ROW_LOCK = [
    {
        "message": "unable to obtain exclusive access to this record or 1 records: "
        "0035e00000AbCdEAAV",
        "errorCode": "UNABLE_TO_LOCK_ROW",
        "fields": [],
    }
]
MALFORMED_QUERY = [
    {
        "message": "\nSELECT Id FROM Account WHERE\n                            ^\n"
        "ERROR at Row:1:Column:29\nunexpected token: <EOF>",
        "errorCode": "MALFORMED_QUERY",
    }
]
NOT_FOUND = [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
COLLECTION_LOCK = [
    {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid "
                "and the request was using AllOrNone header",
                "fields": [],
            }
        ],
    },
    {
        "id": None,
        "success": False,
        "errors": [
            {
                "statusCode": "UNABLE_TO_LOCK_ROW",
                "message": "unable to obtain exclusive access to this record",
                "fields": [],
            }
        ],
    },
]
COMPOSITE = {
    "compositeResponse": [
        {
            "body": [
                {
                    "errorCode": "PROCESSING_HALTED",
                    "message": "The transaction was rolled back since another "
                    "operation in the same transaction failed.",
                }
            ],
            "httpHeaders": {},
            "httpStatusCode": 400,
            "referenceId": "refAccount",
        },
        {
            "body": [
                {
                    "message": "Required fields are missing: [LastName]",
                    "errorCode": "REQUIRED_FIELD_MISSING",
                    "fields": ["LastName"],
                }
            ],
            "httpHeaders": {},
            "httpStatusCode": 400,
            "referenceId": "refContact",
        },
    ]
}
COMPOSITE_BATCH = {
    "hasErrors": True,
    "results": [
        {
            "statusCode": 400,
            "result": [
                {
                    "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    "message": "Close date must be in the future",
                }
            ],
        },
        {
            "statusCode": 412,
            "result": [
                {
                    "errorCode": "BATCH_PROCESSING_HALTED",
                    "message": "Batch processing halted per request",
                }
            ],
        },
    ],
}
TREE = {
    "hasErrors": True,
    "results": [
        {
            "referenceId": "ref2",
            "errors": [
                {
                    "statusCode": "INVALID_EMAIL_ADDRESS",
                    "message": "Email: invalid email address: 123",
                    "fields": ["Email"],
                }
            ],
        }
    ],
}
FLOW_LOCK = [
    {
        "message": 'We can\'t save this record because the "Update Contacts" process '
        "failed. Give your Salesforce admin these details. UNABLE_TO_LOCK_ROW: "
        "unable to obtain exclusive access to this record or 1 records: "
        "0015e00000XyZaBAAV Error ID: 1234567890-12345 (-1234567890)",
        "errorCode": "CANNOT_EXECUTE_FLOW_TRIGGER",
        "fields": [],
    }
]
TRIGGER_LOCK = [
    {
        "message": "ContactTrigger: execution of AfterUpdate\n\ncaused by: "
        "System.DmlException: Update failed. First exception on row 0 with id "
        "0015e00000XyZaBAAV; first error: UNABLE_TO_LOCK_ROW, unable to obtain "
        "exclusive access to this record: []",
        "errorCode": "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        "fields": [],
    }
]
BULK_XML_SESSION = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<error xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
    b"<exceptionCode>InvalidSessionId</exceptionCode>"
    b"<exceptionMessage>Invalid session id</exceptionMessage></error>"
)
BULK_XML_QUOTA = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<error xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
    "<exceptionCode>ExceededQuota</exceptionCode>"
    "<exceptionMessage>ApiBatchItems Limit exceeded.</exceptionMessage></error>"
)
BULK_BATCH_LOCK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<batchInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
    "<id>751D00000004YGZIA2</id><jobId>750D00000004SkVIAU</jobId>"
    "<state>Failed</state><stateMessage>TooManyLockFailure : Too many lock "
    "failures while processing the current batch</stateMessage></batchInfo>"
)
BULK_BATCH_JSON = {
    "id": "751D00000004YGZIA2",
    "jobId": "750D00000004SkVIAU",
    "state": "Failed",
    "stateMessage": "InvalidBatch : Failed to process query",
}
SOAP_INVALID_LOGIN = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:sf="urn:fault.partner.soap.sforce.com"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault>
<faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username,
 password, security token; or user locked out.</faultstring><detail>
<sf:LoginFault xsi:type="sf:LoginFault">
<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>
<sf:exceptionMessage>Invalid username, password, security token; or user locked
 out.</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body>
</soapenv:Envelope>"""
SOAP_SESSION = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>
<faultcode>sf:INVALID_SESSION_ID</faultcode><faultstring>INVALID_SESSION_ID: Invalid
 Session ID found in SessionHeader: Illegal Session</faultstring><detail>
<sf:UnexpectedErrorFault><sf:exceptionCode>INVALID_SESSION_ID</sf:exceptionCode>
<sf:exceptionMessage>Invalid Session ID found in SessionHeader: Illegal
 Session</sf:exceptionMessage></sf:UnexpectedErrorFault></detail></soapenv:Fault>
</soapenv:Body></soapenv:Envelope>"""
MAINTENANCE_PAGE = """<!DOCTYPE html><html><head><title>Salesforce - Maintenance</title>
<style>body { font-family: Arial }</style></head><body><div class="content">
<h1>We are down for maintenance.</h1><p>Sorry for the inconvenience. We'll be back
shortly.</p></div></body></html>"""
CDN_PAGE = """<HTML><HEAD><TITLE>Service Not Available</TITLE></HEAD><BODY>
<H1>Service Not Available</H1>The service is temporarily unavailable. This error
originated from Salesforce CDN partner.<P>Reference&#32;&#35;97&#46;4c1e3e17
</BODY></HTML>"""
EDGE_502 = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
    "Gateway</h1></center></body></html>"
)


def _response(status: int, content: bytes, content_type: str = "application/json") -> Any:
    response = requests.Response()
    response.status_code = status
    response._content = content
    response.headers["Content-Type"] = content_type
    response.url = URL + "sobjects/Account/"
    return response


# urllib3 passes its pool or connection first; the tests have neither.
NO_POOL: Any = None


def _refused() -> requests.ConnectionError:
    reason = u3.NewConnectionError(
        NO_POOL, "Failed to establish a new connection: [Errno 111] Connection refused"
    )
    return requests.ConnectionError(u3.MaxRetryError(NO_POOL, "/", reason))


def _dns() -> requests.ConnectionError:
    reason = u3.NameResolutionError(
        "acme.my.salesforce.com",
        NO_POOL,
        socket.gaierror(-2, "Name or service not known"),
    )
    return requests.ConnectionError(u3.MaxRetryError(NO_POOL, "/", reason))


def _connect_timeout() -> requests.ConnectTimeout:
    reason = u3.ConnectTimeoutError(NO_POOL, "Connection timed out. (connect timeout=10)")
    return requests.ConnectTimeout(u3.MaxRetryError(NO_POOL, "/", reason))


def _read_timeout() -> requests.ReadTimeout:
    return requests.ReadTimeout(
        u3.ReadTimeoutError(NO_POOL, "/", "Read timed out. (read timeout=30)")
    )


def _reset() -> requests.ConnectionError:
    return requests.ConnectionError(
        u3.ProtocolError(
            "Connection aborted.", ConnectionResetError(104, "Connection reset by peer")
        )
    )


def _remote_disconnected() -> requests.ConnectionError:
    return requests.ConnectionError(
        u3.ProtocolError(
            "Connection aborted.",
            http.client.RemoteDisconnected("Remote end closed connection without response"),
        )
    )


def _chunked() -> requests.exceptions.ChunkedEncodingError:
    return requests.exceptions.ChunkedEncodingError(
        u3.ProtocolError(
            "Connection broken: IncompleteRead(0 bytes read, 512 more expected)",
            u3.IncompleteRead(0, 512),
        )
    )


def _ssl() -> requests.exceptions.SSLError:
    reason = u3.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get "
        "local issuer certificate (_ssl.c:1006)"
    )
    return requests.exceptions.SSLError(u3.MaxRetryError(NO_POOL, "/", reason))


def _proxy() -> requests.exceptions.ProxyError:
    reason = u3.ProxyError(
        "Unable to connect to proxy", OSError("Tunnel connection failed: 403 Forbidden")
    )
    return requests.exceptions.ProxyError(u3.MaxRetryError(NO_POOL, "/", reason))


def _retry_error() -> requests.exceptions.RetryError:
    reason = u3.ResponseError("too many 503 error responses")
    return requests.exceptions.RetryError(u3.MaxRetryError(NO_POOL, "/", reason))


def _http_error(status: int, content: bytes, content_type: str) -> requests.HTTPError:
    return requests.HTTPError("boom", response=_response(status, content, content_type))


def _wrapped(error: BaseException) -> Exception:
    """What a caller gets when a library re-raises with only the text."""
    return Exception(str(error))


CORPUS = [
    # REST error arrays, with their statuses
    pytest.param(
        {"status": 401, "body": SESSION_EXPIRED},
        (C.SESSION_EXPIRED, "INVALID_SESSION_ID", 401, True),
        id="rest-401-invalid-session",
    ),
    pytest.param(
        {
            "status": 401,
            "body": [
                {
                    "message": "This session is not valid for use with the REST API",
                    "errorCode": "INVALID_SESSION_ID",
                }
            ],
        },
        (C.SESSION_EXPIRED, "INVALID_SESSION_ID", 401, True),
        id="rest-401-session-not-valid-for-rest-is-still-a-refresh",
    ),
    pytest.param(
        {"status": 403, "body": json.dumps(TOTAL_REQUESTS)},
        (C.API_LIMIT_EXCEEDED, "REQUEST_LIMIT_EXCEEDED", 403, False),
        id="rest-403-total-requests-json-text",
    ),
    pytest.param(
        {
            "status": 403,
            "body": [
                {
                    "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
                    "errorCode": "REQUEST_LIMIT_EXCEEDED",
                }
            ],
        },
        (C.CONCURRENCY_LIMIT, "REQUEST_LIMIT_EXCEEDED", 403, True),
        id="rest-403-concurrent-requests",
    ),
    pytest.param(
        {
            "status": 403,
            "body": [
                {
                    "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                    "errorCode": "REQUEST_LIMIT_EXCEEDED",
                }
            ],
        },
        (C.CONCURRENCY_LIMIT, "REQUEST_LIMIT_EXCEEDED", 403, True),
        id="rest-403-concurrent-long-apex",
    ),
    pytest.param(
        {
            "status": 403,
            "body": [{"message": "Limite dépassée.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
        },
        (C.API_LIMIT_EXCEEDED, "REQUEST_LIMIT_EXCEEDED", 403, False),
        id="rest-403-limit-unknown-message",
    ),
    pytest.param(
        {
            "status": 403,
            "body": [{"message": "Limite dépassée.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
            "headers": {"Sforce-Limit-Info": "api-usage=1018/15000"},
        },
        (C.CONCURRENCY_LIMIT, "REQUEST_LIMIT_EXCEEDED", 403, True),
        id="rest-403-limit-unknown-message-allocation-left",
    ),
    pytest.param(
        {"status": 500, "body": ROW_LOCK},
        (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW", 500, True),
        id="rest-500-row-lock",
    ),
    pytest.param(
        {"status": 400, "body": json.dumps(ROW_LOCK).encode()},
        (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW", 400, True),
        id="rest-400-row-lock-bytes",
    ),
    pytest.param(
        {"status": 400, "body": MALFORMED_QUERY},
        (C.INVALID_REQUEST, "MALFORMED_QUERY", 400, False),
        id="rest-400-malformed-query",
    ),
    pytest.param(
        {
            "status": 400,
            "body": [
                {
                    "fields": ["Id"],
                    "message": "Account ID: id value of incorrect type: 001900K0001pPuOAAU",
                    "errorCode": "MALFORMED_ID",
                }
            ],
        },
        (C.INVALID_REQUEST, "MALFORMED_ID", 400, False),
        id="rest-400-malformed-id",
    ),
    pytest.param(
        {
            "status": 400,
            "body": [
                {
                    "message": "\nSELECT Nmae FROM Account\n       ^\nERROR at Row:1:"
                    "Column:8\nNo such column 'Nmae' on entity 'Account'.",
                    "errorCode": "INVALID_FIELD",
                }
            ],
        },
        (C.INVALID_REQUEST, "INVALID_FIELD", 400, False),
        id="rest-400-invalid-field",
    ),
    pytest.param(
        {"status": 404, "body": NOT_FOUND},
        (C.NOT_FOUND, "NOT_FOUND", 404, False),
        id="rest-404-not-found",
    ),
    pytest.param(
        {
            "status": 400,
            "body": [
                {
                    "message": "insufficient access rights on object id",
                    "errorCode": "INSUFFICIENT_ACCESS_OR_READONLY",
                }
            ],
        },
        (C.PERMISSION_DENIED, "INSUFFICIENT_ACCESS_OR_READONLY", 400, False),
        id="rest-400-insufficient-access",
    ),
    pytest.param(
        {
            "status": 403,
            "body": [
                {
                    "message": "The REST API is not enabled for this Organization.",
                    "errorCode": "API_DISABLED_FOR_ORG",
                }
            ],
        },
        (C.PERMISSION_DENIED, "API_DISABLED_FOR_ORG", 403, False),
        id="rest-403-api-disabled",
    ),
    pytest.param(
        {
            "status": 400,
            "body": [
                {
                    "message": "This record is locked. If you need to edit it, contact your admin.",
                    "errorCode": "ENTITY_IS_LOCKED",
                }
            ],
        },
        (C.DATA_REJECTED, "ENTITY_IS_LOCKED", 400, False),
        id="rest-400-approval-lock-is-not-row-lock",
    ),
    pytest.param(
        {
            "status": 500,
            "body": [
                {
                    "errorCode": "UNKNOWN_EXCEPTION",
                    "message": "An unexpected error occurred. Please include this "
                    "ErrorId if you contact support: 1952418153-12345 (-1016338811)",
                }
            ],
        },
        (C.SERVER_ERROR, "UNKNOWN_EXCEPTION", 500, True),
        id="rest-500-unknown-exception",
    ),
    pytest.param(
        {
            "status": 400,
            "body": [
                {
                    "errorCode": "QUERY_TIMEOUT",
                    "message": "Your query request was running for too long.",
                }
            ],
        },
        (C.SERVER_ERROR, "QUERY_TIMEOUT", 400, True),
        id="rest-query-timeout",
    ),
    pytest.param(
        {"body": [{"errorCode": "TOO_MANY_APEX_REQUESTS", "message": "Too many requests"}]},
        (C.CONCURRENCY_LIMIT, "TOO_MANY_APEX_REQUESTS", None, True),
        id="rest-too-many-apex-requests",
    ),
    pytest.param(
        {
            "status": 503,
            "body": [
                {
                    "errorCode": "SERVER_UNAVAILABLE",
                    "message": "Server temporarily unavailable.",
                }
            ],
        },
        (C.UNAVAILABLE, "SERVER_UNAVAILABLE", 503, True),
        id="rest-503-server-unavailable",
    ),
    pytest.param(
        {
            "status": 400,
            "body": [
                {
                    "errorCode": "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
                    "message": "Updates can't be made during maintenance. Try again "
                    "when maintenance is complete.",
                }
            ],
        },
        (
            C.MAINTENANCE,
            "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
            400,
            False,
        ),
        id="rest-read-only-maintenance",
    ),
    pytest.param(
        {"body": [{"errorCode": "INVALID_READ_ONLY_USER_DML", "message": "read only"}]},
        (C.MAINTENANCE, "INVALID_READ_ONLY_USER_DML", None, False),
        id="rest-read-only-before-v32",
    ),
    pytest.param(
        {"status": 400, "body": [{"errorCode": "BRAND_NEW_CODE", "message": "New."}]},
        (C.INVALID_REQUEST, "BRAND_NEW_CODE", 400, False),
        id="rest-unknown-code-falls-back-to-status",
    ),
    # HTTP 200 results carrying errors
    pytest.param(
        {"status": 200, "body": COLLECTION_LOCK},
        (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW", 200, True),
        id="collection-200-lock-over-rolled-back",
    ),
    pytest.param(
        {"status": 200, "body": COMPOSITE},
        (C.DATA_REJECTED, "REQUIRED_FIELD_MISSING", 200, False),
        id="composite-200-cause-over-processing-halted",
    ),
    pytest.param(
        {"status": 200, "body": COMPOSITE_BATCH},
        (C.DATA_REJECTED, "FIELD_CUSTOM_VALIDATION_EXCEPTION", 200, False),
        id="composite-batch-cause-over-halted",
    ),
    pytest.param(
        {"status": 400, "body": TREE},
        (C.DATA_REJECTED, "INVALID_EMAIL_ADDRESS", 400, False),
        id="tree-400-has-errors",
    ),
    pytest.param(
        {"status": 400, "body": FLOW_LOCK},
        (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW", 400, True),
        id="flow-trigger-with-nested-row-lock",
    ),
    pytest.param(
        {"status": 400, "body": TRIGGER_LOCK},
        (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW", 400, True),
        id="apex-trigger-with-nested-row-lock",
    ),
    pytest.param(
        {
            "status": 400,
            "body": [
                {
                    "message": "The flow failed: Division by zero",
                    "errorCode": "CANNOT_EXECUTE_FLOW_TRIGGER",
                }
            ],
        },
        (C.DATA_REJECTED, "CANNOT_EXECUTE_FLOW_TRIGGER", 400, False),
        id="flow-trigger-alone",
    ),
    # Bulk API
    pytest.param(
        {"status": 400, "body": BULK_XML_SESSION},
        (C.SESSION_EXPIRED, "InvalidSessionId", 400, True),
        id="bulk-v1-xml-invalid-session",
    ),
    pytest.param(
        {
            "status": 400,
            "body": {
                "exceptionCode": "InvalidSessionId",
                "exceptionMessage": "Invalid session id",
            },
        },
        (C.SESSION_EXPIRED, "InvalidSessionId", 400, True),
        id="bulk-v1-json-invalid-session",
    ),
    pytest.param(
        {"status": 400, "body": BULK_XML_QUOTA},
        (C.API_LIMIT_EXCEEDED, "ExceededQuota", 400, False),
        id="bulk-v1-xml-exceeded-quota",
    ),
    pytest.param(
        {"status": 200, "body": BULK_BATCH_LOCK},
        (C.ROW_LOCK, "TooManyLockFailure", 200, True),
        id="bulk-v1-batch-info-lock-failure",
    ),
    pytest.param(
        {"status": 200, "body": BULK_BATCH_JSON},
        (C.INVALID_REQUEST, "InvalidBatch", 200, False),
        id="bulk-v1-batch-info-json-invalid-batch",
    ),
    # SOAP and OAuth
    pytest.param(
        {"status": 500, "body": SOAP_INVALID_LOGIN},
        (C.AUTH_FAILED, "INVALID_LOGIN", 500, False),
        id="soap-500-invalid-login-fault",
    ),
    pytest.param(
        {"status": 500, "body": SOAP_SESSION.encode()},
        (C.SESSION_EXPIRED, "INVALID_SESSION_ID", 500, True),
        id="soap-500-invalid-session-fault",
    ),
    pytest.param(
        {
            "status": 400,
            "body": '{"error":"invalid_grant","error_description":"authentication failure"}',
        },
        (C.AUTH_FAILED, "invalid_grant", 400, False),
        id="oauth-invalid-grant",
    ),
    pytest.param(
        {
            "status": 400,
            "body": {
                "error": "invalid_grant",
                "error_description": "expired access/refresh token",
            },
        },
        (C.AUTH_FAILED, "invalid_grant", 400, False),
        id="oauth-expired-refresh-token",
    ),
    pytest.param(
        {
            "status": 400,
            "body": {
                "error": "invalid_client_id",
                "error_description": "client identifier invalid",
            },
        },
        (C.AUTH_FAILED, "invalid_client_id", 400, False),
        id="oauth-invalid-client-id",
    ),
    pytest.param(
        {
            "status": 400,
            "body": {"error": "inactive_user", "error_description": "inactive user"},
        },
        (C.AUTH_FAILED, "inactive_user", 400, False),
        id="oauth-inactive-user",
    ),
    # HTML and text pages
    pytest.param(
        {"status": 503, "body": MAINTENANCE_PAGE},
        (C.MAINTENANCE, None, 503, True),
        id="html-503-maintenance-page",
    ),
    pytest.param(
        {"body": "We are down for maintenance. Sorry for the inconvenience."},
        (C.MAINTENANCE, None, None, True),
        id="text-maintenance-without-status",
    ),
    pytest.param(
        {"status": 503, "body": CDN_PAGE.encode()},
        (C.UNAVAILABLE, None, 503, True),
        id="html-503-cdn-partner",
    ),
    pytest.param(
        {"body": CDN_PAGE},
        (C.UNAVAILABLE, None, None, True),
        id="html-cdn-partner-without-status",
    ),
    pytest.param(
        {"status": 502, "body": EDGE_502},
        (C.UNAVAILABLE, None, 502, True),
        id="html-502-edge",
    ),
    pytest.param(
        {"body": EDGE_502},
        (C.UNAVAILABLE, None, None, True),
        id="html-edge-page-without-status",
    ),
    pytest.param(
        {"status": 504, "body": ""},
        (C.UNAVAILABLE, None, 504, True),
        id="empty-504",
    ),
    pytest.param(
        {"status": 403, "body": "<html><body>Forbidden</body></html>"},
        (C.PERMISSION_DENIED, None, 403, False),
        id="html-403-without-code",
    ),
    pytest.param(
        {
            "body": "REQUEST_LIMIT_EXCEEDED: ConcurrentRequests (Concurrent API "
            "Requests) Limit exceeded."
        },
        (C.CONCURRENCY_LIMIT, "REQUEST_LIMIT_EXCEEDED", None, True),
        id="formatted-text-concurrent",
    ),
    pytest.param(
        {"body": b"REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."},
        (C.API_LIMIT_EXCEEDED, "REQUEST_LIMIT_EXCEEDED", None, False),
        id="formatted-bytes-total",
    ),
    pytest.param(
        {"body": "[{'message': 'Session expired or invalid', 'errorCode': 'INVALID_SESSION_ID'}]"},
        (C.SESSION_EXPIRED, "INVALID_SESSION_ID", None, True),
        id="python-repr-list",
    ),
    pytest.param(
        {"body": repr(json.dumps(ROW_LOCK).encode())},
        (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW", None, True),
        id="python-repr-of-bytes",
    ),
    pytest.param(
        {
            "status": 300,
            "body": [
                "/services/data/v59.0/sobjects/Account/001A",
                "/services/data/v59.0/sobjects/Account/001B",
            ],
        },
        (C.DATA_REJECTED, None, 300, False),
        id="rest-300-multiple-choices",
    ),
    pytest.param(
        {"status": 418, "body": "I'm a teapot"},
        (C.INVALID_REQUEST, None, 418, False),
        id="other-4xx",
    ),
    pytest.param(
        {"status": 200, "body": {}},
        (C.UNKNOWN, None, 200, False),
        id="nothing-wrong-is-unknown",
    ),
    pytest.param(
        {"body": "something odd happened"},
        (C.UNKNOWN, None, None, False),
        id="unparseable-text",
    ),
]


def _sf(cls: type[SalesforceError], status: object, content: object) -> SalesforceError:
    return cls(URL + "query/", status, "query", content)  # type: ignore[arg-type]


EXCEPTIONS = [
    pytest.param(
        _sf(SalesforceMalformedRequest, 400, MALFORMED_QUERY),
        (C.INVALID_REQUEST, "MALFORMED_QUERY", 400, False),
        id="malformed-request",
    ),
    pytest.param(
        _sf(SalesforceMalformedRequest, 400, ROW_LOCK),
        (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW", 400, True),
        id="malformed-request-row-lock",
    ),
    pytest.param(
        _sf(SalesforceExpiredSession, 401, SESSION_EXPIRED),
        (C.SESSION_EXPIRED, "INVALID_SESSION_ID", 401, True),
        id="expired-session",
    ),
    pytest.param(
        _sf(SalesforceExpiredSession, 401, "<html><body>Unauthorized</body></html>"),
        (C.SESSION_EXPIRED, None, 401, True),
        id="expired-session-html",
    ),
    pytest.param(
        _sf(SalesforceRefusedRequest, 403, TOTAL_REQUESTS),
        (C.API_LIMIT_EXCEEDED, "REQUEST_LIMIT_EXCEEDED", 403, False),
        id="refused-request-total-requests",
    ),
    pytest.param(
        _sf(SalesforceRefusedRequest, 403, []),
        (C.PERMISSION_DENIED, None, 403, False),
        id="refused-request-empty",
    ),
    pytest.param(
        _sf(SalesforceResourceNotFound, 404, NOT_FOUND),
        (C.NOT_FOUND, "NOT_FOUND", 404, False),
        id="resource-not-found",
    ),
    pytest.param(
        _sf(
            SalesforceMoreThanOneRecord,
            300,
            ["/services/data/v59.0/sobjects/Account/001A"],
        ),
        (C.DATA_REJECTED, None, 300, False),
        id="more-than-one-record",
    ),
    pytest.param(
        _sf(SalesforceGeneralError, 500, ROW_LOCK),
        (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW", 500, True),
        id="general-error-500-row-lock",
    ),
    pytest.param(
        _sf(SalesforceGeneralError, 503, MAINTENANCE_PAGE),
        (C.MAINTENANCE, None, 503, True),
        id="general-error-503-maintenance",
    ),
    pytest.param(
        _sf(SalesforceGeneralError, 502, EDGE_502),
        (C.UNAVAILABLE, None, 502, True),
        id="general-error-502-edge",
    ),
    pytest.param(
        _sf(
            SalesforceGeneralError,
            405,
            [
                {
                    "errorCode": "METHOD_NOT_ALLOWED",
                    "message": "HTTP Method 'PUT' not allowed. Allowed are HEAD,GET,POST",
                }
            ],
        ),
        (C.INVALID_REQUEST, "METHOD_NOT_ALLOWED", 405, False),
        id="general-error-405",
    ),
    pytest.param(
        SalesforceGeneralError(
            "",
            "Failed",  # type: ignore[arg-type]  # Bulk API 1.0 passes the batch state
            "750D00000004SkVIAU",
            "TooManyLockFailure : Too many lock failures while processing the "  # type: ignore[arg-type]
            "current batch",
        ),
        (C.ROW_LOCK, "TooManyLockFailure", None, True),
        id="bulk-v1-batch-failed",
    ),
    pytest.param(
        _sf(SalesforceGeneralError, 500, b"Internal Server Error"),
        (C.SERVER_ERROR, None, 500, True),
        id="general-error-500-bytes",
    ),
    pytest.param(
        SalesforceAuthenticationFailed(
            "INVALID_LOGIN",
            "Invalid username, password, security token; or user locked out.",
        ),
        (C.AUTH_FAILED, "INVALID_LOGIN", None, False),
        id="auth-failed-soap",
    ),
    pytest.param(
        SalesforceAuthenticationFailed("invalid_grant", "expired access/refresh token"),
        (C.AUTH_FAILED, "invalid_grant", None, False),
        id="auth-failed-oauth",
    ),
    pytest.param(
        SalesforceAuthenticationFailed(
            "INVALID_OPERATION_WITH_EXPIRED_PASSWORD", "The users password has expired"
        ),
        (C.AUTH_FAILED, "INVALID_OPERATION_WITH_EXPIRED_PASSWORD", None, False),
        id="auth-failed-expired-password",
    ),
    pytest.param(
        SalesforceAuthenticationFailed(503, MAINTENANCE_PAGE),
        (C.MAINTENANCE, None, 503, True),
        id="auth-failed-non-json-maintenance",
    ),
    pytest.param(
        SalesforceAuthenticationFailed(
            "INVALID AUTH",
            "You must submit either a security token or organizationId for authentication",
        ),
        (C.AUTH_FAILED, "INVALID AUTH", None, False),
        id="auth-failed-client-side",
    ),
    pytest.param(
        SalesforceOperationError(
            "Job failure. Response content: InvalidBatch : Failed to parse CSV header"
        ),
        (C.INVALID_REQUEST, "InvalidBatch", None, False),
        id="bulk2-job-failure",
    ),
    pytest.param(
        SalesforceOperationError("Job timeout. Job status: InProgress"),
        (C.UNKNOWN, None, None, False),
        id="bulk2-job-timeout",
    ),
    pytest.param(
        SalesforceBulkV2LoadError("Data is required for ingest jobs"),
        (C.INVALID_REQUEST, None, None, False),
        id="bulk2-load-error",
    ),
    pytest.param(
        SalesforceBulkV2ExtractError("Query is required for query jobs"),
        (C.INVALID_REQUEST, None, None, False),
        id="bulk2-extract-error",
    ),
    # str(exc) of each class, re-raised as a plain Exception
    pytest.param(
        _wrapped(_sf(SalesforceMalformedRequest, 400, MALFORMED_QUERY)),
        (C.INVALID_REQUEST, "MALFORMED_QUERY", 400, False),
        id="str-malformed-request",
    ),
    pytest.param(
        _wrapped(_sf(SalesforceExpiredSession, 401, SESSION_EXPIRED)),
        (C.SESSION_EXPIRED, "INVALID_SESSION_ID", 401, True),
        id="str-expired-session",
    ),
    pytest.param(
        _wrapped(_sf(SalesforceRefusedRequest, 403, TOTAL_REQUESTS)),
        (C.API_LIMIT_EXCEEDED, "REQUEST_LIMIT_EXCEEDED", 403, False),
        id="str-refused-request",
    ),
    pytest.param(
        _wrapped(_sf(SalesforceResourceNotFound, 404, NOT_FOUND)),
        (C.NOT_FOUND, "NOT_FOUND", 404, False),
        id="str-resource-not-found",
    ),
    pytest.param(
        _wrapped(
            _sf(
                SalesforceMoreThanOneRecord,
                300,
                ["/services/data/v59.0/sobjects/Account/001A"],
            )
        ),
        (C.DATA_REJECTED, None, 300, False),
        id="str-more-than-one-record",
    ),
    pytest.param(
        _wrapped(_sf(SalesforceGeneralError, 500, ROW_LOCK)),
        (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW", 500, True),
        id="str-general-error",
    ),
    pytest.param(
        _wrapped(_sf(SalesforceGeneralError, 503, "Service Unavailable")),
        (C.UNAVAILABLE, None, 503, True),
        id="str-general-error-503-text",
    ),
    pytest.param(
        _wrapped(
            SalesforceAuthenticationFailed(
                "INVALID_LOGIN",
                "Invalid username, password, security token; or user locked out.",
            )
        ),
        (C.AUTH_FAILED, "INVALID_LOGIN", None, False),
        id="str-authentication-failed",
    ),
    pytest.param(
        _wrapped(SalesforceAuthenticationFailed("SOME_FUTURE_CODE", "nope")),
        (C.AUTH_FAILED, "SOME_FUTURE_CODE", None, False),
        id="str-authentication-failed-unknown-code",
    ),
    # requests: responses and network failures
    pytest.param(
        _response(400, json.dumps(MALFORMED_QUERY).encode()),
        (C.INVALID_REQUEST, "MALFORMED_QUERY", 400, False),
        id="response-400",
    ),
    pytest.param(
        _response(503, MAINTENANCE_PAGE.encode(), "text/html"),
        (C.MAINTENANCE, None, 503, True),
        id="response-503-maintenance",
    ),
    pytest.param(
        _http_error(503, CDN_PAGE.encode(), "text/html"),
        (C.UNAVAILABLE, None, 503, True),
        id="http-error-503-cdn",
    ),
    pytest.param(_refused(), (C.UNAVAILABLE, None, None, True), id="connection-refused"),
    pytest.param(_dns(), (C.UNAVAILABLE, None, None, True), id="dns-failure"),
    pytest.param(_connect_timeout(), (C.UNAVAILABLE, None, None, True), id="connect-timeout"),
    pytest.param(_read_timeout(), (C.UNAVAILABLE, None, None, True), id="read-timeout"),
    pytest.param(_reset(), (C.UNAVAILABLE, None, None, True), id="connection-reset"),
    pytest.param(
        _remote_disconnected(),
        (C.UNAVAILABLE, None, None, True),
        id="remote-disconnected",
    ),
    pytest.param(_chunked(), (C.UNAVAILABLE, None, None, True), id="chunked-encoding"),
    pytest.param(_ssl(), (C.UNAVAILABLE, None, None, True), id="ssl-certificate"),
    pytest.param(_proxy(), (C.UNAVAILABLE, None, None, True), id="proxy-refused"),
    pytest.param(_retry_error(), (C.UNAVAILABLE, None, 503, True), id="urllib3-retries-503"),
    pytest.param(
        ConnectionRefusedError(111, "Connection refused"),
        (C.UNAVAILABLE, None, None, True),
        id="socket-refused",
    ),
    pytest.param(
        TimeoutError("timed out"),
        (C.UNAVAILABLE, None, None, True),
        id="socket-timeout",
    ),
    pytest.param(
        requests.exceptions.MissingSchema(
            "Invalid URL 'acme.my.salesforce.com': No scheme supplied"
        ),
        (C.INVALID_REQUEST, None, None, False),
        id="missing-schema",
    ),
    # anything else
    pytest.param(ValueError("boom"), (C.UNKNOWN, None, None, False), id="value-error"),
    pytest.param(KeyboardInterrupt(), (C.UNKNOWN, None, None, False), id="keyboard-interrupt"),
]


def _summary(
    result: Classification,
) -> tuple[ErrorCategory, str | None, int | None, bool]:
    return (result.category, result.error_code, result.http_status, result.retryable)


@pytest.mark.parametrize(("kwargs", "expected"), CORPUS)
def test_raw_status_and_body(
    kwargs: dict[str, Any], expected: tuple[ErrorCategory, str | None, int | None, bool]
) -> None:
    """A raw status and body classify by Salesforce's code, then shape, then status."""
    actual = _summary(classify(**kwargs))

    assert expected == actual


@pytest.mark.parametrize(("error", "expected"), EXCEPTIONS)
def test_exceptions_and_responses(
    error: object, expected: tuple[ErrorCategory, str | None, int | None, bool]
) -> None:
    """Exceptions, their str() and responses classify like the bodies they carry."""
    actual = _summary(classify(error))

    assert expected == actual


def test_row_lock_classification_in_full() -> None:
    """A row lock carries its code, message, status, remedy and severity."""
    expected = Classification(
        category=C.ROW_LOCK,
        error_code="UNABLE_TO_LOCK_ROW",
        message="unable to obtain exclusive access to this record or 1 records: 0035e00000AbCdEAAV",
        http_status=500,
        retryable=True,
        action="Back off and retry; if it persists, sequence writes by parent "
        "Account or use Bulk API serial mode.",
        severity="P4",
    )

    actual = classify(status=500, body=ROW_LOCK)

    assert expected == actual


def test_html_message_is_the_title() -> None:
    """An HTML page is summarised by its title, not its markup."""
    actual = classify(status=503, body=MAINTENANCE_PAGE).message

    assert actual == "Salesforce - Maintenance"


def test_network_message_names_the_innermost_reason() -> None:
    """A wrapped transport error reads as outer type plus the socket's own reason."""
    actual = classify(_refused()).message

    assert actual == (
        "ConnectionError: Failed to establish a new connection: [Errno 111] Connection refused"
    )


def test_unknown_still_reports_status_and_a_message() -> None:
    """An unrecognised answer keeps its status and a short message."""
    actual = classify(status=299, body="odd <b>reply</b>")

    assert (C.UNKNOWN, 299, "odd <b>reply</b>") == (
        actual.category,
        actual.http_status,
        actual.message,
    )


def test_message_is_trimmed_and_one_line() -> None:
    """Long multi-line messages become one line of at most 240 characters."""
    body = [{"errorCode": "MALFORMED_QUERY", "message": "word\n" * 500}]

    actual = classify(status=400, body=body).message

    assert (True, False) == (len(actual) <= 240, "\n" in actual)


def test_message_is_redacted() -> None:
    """Secrets in Salesforce's message never reach the classification."""
    token = "00D5g000004XXXXEAA!AQ0AQFc5n4Zp0qI7gMiqJxAbCdEfGhIjKlMnOpQrStUv"
    body = [{"errorCode": "INVALID_SESSION_ID", "message": f"Session {token} expired"}]

    actual = classify(status=401, body=body).message

    assert actual == "Session [REDACTED] expired"


def test_explicit_status_overrides_the_exception() -> None:
    """A status given next to an exception wins over the one it carries."""
    error = _sf(SalesforceGeneralError, 500, "Service Unavailable")

    actual = classify(error, status=503).http_status

    assert actual == 503


def test_unread_stream_is_not_read() -> None:
    """A streamed response whose body was never read is classified without I/O."""

    class _Exploding:
        def read(self, *_: object, **__: object) -> bytes:
            raise AssertionError("classify read the stream")

    response = requests.Response()
    response.status_code = 503
    response.raw = _Exploding()

    actual = _summary(classify(response))

    assert (C.UNAVAILABLE, None, 503, True) == actual


def test_broken_str_does_not_break_classification() -> None:
    """An exception whose __str__ raises still classifies."""

    class _BrokenError(Exception):
        def __str__(self) -> str:
            raise RuntimeError

    actual = classify(_BrokenError()).category

    assert actual is C.UNKNOWN


def test_huge_body_is_cheap() -> None:
    """Only the first 64 KB of a body is read, so a huge body costs little."""
    body = b"<html><body>" + b"x" * 20_000_000 + b"UNABLE_TO_LOCK_ROW</body></html>"

    started = time.perf_counter()
    actual = classify(status=500, body=body)
    elapsed = time.perf_counter() - started

    assert (C.SERVER_ERROR, True) == (actual.category, elapsed < 2)


# --- may_have_been_applied --------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(_refused(), False, id="connection-refused"),
        pytest.param(_dns(), False, id="dns-failure"),
        pytest.param(_connect_timeout(), False, id="connect-timeout"),
        pytest.param(_proxy(), False, id="proxy-refused"),
        pytest.param(_ssl(), False, id="ssl-handshake"),
        pytest.param(ConnectionRefusedError(111, "refused"), False, id="socket-refused"),
        pytest.param(requests.exceptions.InvalidURL("bad url"), False, id="never-built"),
        pytest.param(_read_timeout(), True, id="read-timeout"),
        pytest.param(_reset(), True, id="connection-reset"),
        pytest.param(_remote_disconnected(), True, id="remote-disconnected"),
        pytest.param(_chunked(), True, id="chunked-encoding"),
        pytest.param(_sf(SalesforceMalformedRequest, 400, ROW_LOCK), False, id="sf-400"),
        pytest.param(_sf(SalesforceGeneralError, 500, ROW_LOCK), False, id="sf-500"),
        pytest.param(_sf(SalesforceGeneralError, 503, CDN_PAGE), False, id="sf-503"),
        pytest.param(_sf(SalesforceGeneralError, 502, EDGE_502), True, id="sf-502"),
        pytest.param(_sf(SalesforceGeneralError, 504, ""), True, id="sf-504"),
        pytest.param(
            SalesforceGeneralError("", "Failed", "750", "Unknown : x"),  # type: ignore[arg-type]
            True,
            id="bulk-v1-batch-failed",
        ),
        pytest.param(
            SalesforceAuthenticationFailed("INVALID_LOGIN", "no"),
            False,
            id="auth-failed",
        ),
        pytest.param(_http_error(400, b"[]", "application/json"), False, id="http-error-400"),
        pytest.param(_http_error(504, b"", "text/html"), True, id="http-error-504"),
        pytest.param(_retry_error(), False, id="retries-exhausted-on-503"),
        pytest.param(SalesforceOperationError("Job failure."), True, id="bulk2-job-failure"),
        pytest.param(ValueError("boom"), True, id="unknown"),
    ],
)
def test_may_have_been_applied(error: BaseException, expected: bool) -> None:
    """Only errors certain to have stopped the request before Salesforce say False."""
    actual = may_have_been_applied(error)

    assert expected == actual


# --- the tables ------------------------------------------------------------


def _all_rules() -> list[Any]:
    rules: list[Any] = [entry.rule for entry in CODE_TABLE]
    rules += list(STATUS_TABLE.values())
    rules += [rule for _, rule in SIGNAL_TABLE.values()]
    rules += list(CATEGORY_DEFAULTS.values())
    return rules


def test_never_retryable_categories_are_never_retryable() -> None:
    """No row makes a code bug, bad data, a refusal or a spent limit retryable."""
    actual = [
        (rule.category, rule.action)
        for rule in _all_rules()
        if rule.category in NEVER_RETRYABLE and rule.retryable
    ]

    assert [] == actual


def test_every_category_has_a_default_and_a_rank() -> None:
    """Every category has a default rule and a place in the precedence order."""
    expected = set(ErrorCategory)

    assert (expected, expected) == (set(CATEGORY_DEFAULTS), set(PRECEDENCE))


def test_each_code_has_one_default_row() -> None:
    """Each code has exactly one row without a message condition, and no duplicates."""
    defaults: dict[str, int] = {}
    for entry in CODE_TABLE:
        if entry.when is None:
            defaults[entry.code] = defaults.get(entry.code, 0) + 1
    pairs = [(entry.code, entry.when) for entry in CODE_TABLE]

    actual = (
        {code for code, count in defaults.items() if count != 1},
        {entry.code for entry in CODE_TABLE} - set(defaults),
        len(pairs) - len(set(pairs)),
    )

    assert (set(), set(), 0) == actual


def test_every_row_is_written_for_the_runbook() -> None:
    """Every action is one line that ends a sentence, and every severity is P1..P4."""
    actual = [
        rule.action
        for rule in _all_rules()
        if "\n" in rule.action
        or not rule.action.endswith(".")
        or rule.severity not in {"P1", "P2", "P3", "P4"}
    ]

    assert [] == actual


def _simple_salesforce_exception_classes() -> set[str]:
    return {
        f"{cls.__module__}.{cls.__qualname__}"
        for _, cls in inspect.getmembers(sf_exceptions, inspect.isclass)
        if issubclass(cls, SalesforceError | SalesforceOperationError)
    }


def test_every_simple_salesforce_exception_is_mapped() -> None:
    """Each simple-salesforce exception class has an explicit default in the table."""
    actual = _simple_salesforce_exception_classes() - set(EXCEPTION_TABLE)

    assert set() == actual


def test_exception_table_names_real_classes() -> None:
    """The exception table names only classes simple-salesforce defines."""
    actual = set(EXCEPTION_TABLE) - _simple_salesforce_exception_classes()

    assert set() == actual


def test_error_category_members() -> None:
    """ErrorCategory has exactly the product's members, each a str equal to its name."""
    expected = [
        "SESSION_EXPIRED",
        "AUTH_FAILED",
        "API_LIMIT_EXCEEDED",
        "CONCURRENCY_LIMIT",
        "ROW_LOCK",
        "INVALID_REQUEST",
        "DATA_REJECTED",
        "NOT_FOUND",
        "PERMISSION_DENIED",
        "SERVER_ERROR",
        "UNAVAILABLE",
        "MAINTENANCE",
        "UNKNOWN",
    ]

    actual = [member.value for member in ErrorCategory if member.name == member.value]

    assert (expected, True) == (actual, isinstance(C.ROW_LOCK, str))


def test_classification_is_frozen() -> None:
    """A Classification cannot be changed after it is made."""
    result = classify(status=500)

    with pytest.raises(AttributeError):
        result.retryable = False  # type: ignore[misc]


def test_errors_page_is_current() -> None:
    """docs/errors.md is exactly what the tables render."""
    expected = render_markdown_table()

    actual = ERRORS_PAGE.read_text(encoding="utf-8")

    assert expected == actual, (
        "docs/errors.md is stale; regenerate it with "
        "`python -m sfresilience._classify > docs/errors.md`"
    )


# --- redaction --------------------------------------------------------------

SID = "00D5g000004XXXXEAA!AQ0AQFc5n4Zp0.qI7gMiqJxAbCdEfGhIjKlMnOpQrStUvWxYz"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(f"token {SID} end", "token [REDACTED] end", id="session-id"),
        pytest.param(
            f"Authorization: Bearer {SID}",
            "Authorization: Bearer [REDACTED]",
            id="bearer",
        ),
        pytest.param(
            "{'Authorization': 'OAuth abc123def456'}",
            "{'Authorization': 'OAuth [REDACTED]'}",
            id="oauth-header",
        ),
        pytest.param(
            "Basic authentication failed",
            "Basic authentication failed",
            id="basic-prose",
        ),
        pytest.param(
            "<sf:sessionId>abc</sf:sessionId>",
            "<sf:sessionId>[REDACTED]</sf:sessionId>",
            id="soap-session-id",
        ),
        pytest.param(
            "<n1:password>hunter2</n1:password>",
            "<n1:password>[REDACTED]</n1:password>",
            id="soap-password",
        ),
        pytest.param(
            '{"access_token": "abc", "instance_url": "https://x"}',
            '{"access_token": "[REDACTED]", "instance_url": "https://x"}',
            id="json-access-token",
        ),
        pytest.param(
            "{'refresh_token': 'r1', 'id': 'x'}",
            "{'refresh_token': '[REDACTED]', 'id': 'x'}",
            id="repr-refresh-token",
        ),
        pytest.param(
            "grant_type=password&username=u&password=p%40ss&client_secret=s",
            "grant_type=password&username=u&password=[REDACTED]&client_secret=[REDACTED]",
            id="form-body",
        ),
        pytest.param(
            "grant_type=urn%3Aietf&assertion=eyJhbGciOi.eyJpc3Mi.sig",
            "grant_type=urn%3Aietf&assertion=[REDACTED]",
            id="jwt-assertion",
        ),
        pytest.param(
            "partial(login, username='u', password='p', security_token='t')",
            "partial(login, username='u', password='[REDACTED]', security_token='[REDACTED]')",
            id="kwargs-repr",
        ),
        pytest.param("Cookie: sid=abc123; oid=1", "Cookie: sid=[REDACTED]; oid=1", id="cookie"),
        pytest.param('{"password": 1234}', '{"password": "[REDACTED]"}', id="unquoted-json"),
        pytest.param(
            "force://id:secret:token@acme.my.salesforce.com",
            "force://[REDACTED]",
            id="sfdx-auth-url",
        ),
        pytest.param("nothing secret here", "nothing secret here", id="untouched"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    """Secrets of every form are replaced by [REDACTED], and nothing else is."""
    actual = redact(text)

    assert expected == actual


def _redact_twice(text: str) -> tuple[str, str]:
    once = redact(text)
    return once, redact(once)


@pytest.mark.parametrize("text", [f"a {SID} b", '{"password": 12}', "sid=x; password='y'"])
def test_redact_is_idempotent(text: str) -> None:
    """Redacting redacted text changes nothing."""
    once, twice = _redact_twice(text)

    assert once == twice


@pytest.mark.parametrize(
    ("doc", "category", "message"),
    [
        pytest.param(
            "<html><head><title>Login | Salesforce</title></head><body>x</body></html>",
            C.UNKNOWN,
            "expected JSON, got: Login | Salesforce",
            id="login-page",
        ),
        pytest.param(
            "<html><body>We are down for maintenance. Sorry for the inconvenience.</body></html>",
            C.MAINTENANCE,
            "expected JSON, got: We are down for maintenance.",
            id="maintenance-page",
        ),
        pytest.param("", C.UNKNOWN, "expected JSON, got: an empty body", id="empty"),
    ],
)
def test_html_where_json_was_expected(doc: str, category: C, message: str) -> None:
    """A 2xx body that is not JSON is read from the decode error, not reported as a parse bug."""
    try:
        json.loads(doc)
    except json.JSONDecodeError as decode_error:
        error = requests.exceptions.JSONDecodeError(
            decode_error.msg, decode_error.doc, decode_error.pos
        )
    classification = classify(error)
    assert category is classification.category
    assert classification.message.startswith(message)


# --- forms beyond the code table ---------------------------------------------


def test_unlisted_code_is_read_by_its_family_and_says_so() -> None:
    """An unlisted MALFORMED_* code is a code bug, and the message names the family."""
    body = [{"errorCode": "MALFORMED_SEARCH", "message": "line 1:10 mismatched character"}]

    actual = classify(status=400, body=body)

    assert (actual.category, actual.message) == (
        C.INVALID_REQUEST,
        "line 1:10 mismatched character (unlisted code MALFORMED_SEARCH, read as MALFORMED_*)",
    )


def test_family_note_survives_a_long_message() -> None:
    """The family note is kept whole when Salesforce's message is trimmed."""
    body = [{"errorCode": "FIELD_NEW_RULE_EXCEPTION", "message": "word " * 200}]

    actual = classify(status=400, body=body).message

    assert (
        len(actual) <= 240,
        actual.endswith("(unlisted code FIELD_NEW_RULE_EXCEPTION, read as FIELD_*)"),
    ) == (True, True)


def test_unlisted_code_without_family_falls_back_and_says_so() -> None:
    """A code of no family is decided by the status; the message says it is unlisted."""
    actual = classify(status=400, body=[{"errorCode": "BRAND_NEW_CODE", "message": "New."}])

    assert (actual.category, actual.message) == (
        C.INVALID_REQUEST,
        "New. (unlisted code BRAND_NEW_CODE)",
    )


def test_unknown_streaming_message_is_read_by_its_status() -> None:
    """A Streaming API error the table does not list is read by its Bayeux status."""
    message = {
        "channel": "/meta/subscribe",
        "error": "503::Server is too busy",
        "successful": False,
    }

    actual = classify(body=message)

    assert (actual.category, actual.error_code) == (C.UNAVAILABLE, "503::Server is too busy")


def test_restforce_error_class_names_the_code() -> None:
    """restforce's exception class name carries the code in CamelCase.

    Form from GitLab's handbook (Zendesk-Salesforce sync troubleshooting):
    https://handbook.gitlab.com/handbook/support/readiness/operations/docs/zendesk/zendesk_salesforce_sync/
    """
    actual = classify(Exception("Pipeline error '3: Restforce::ErrorCode::UnableToLockRow'"))

    assert (actual.category, actual.error_code) == (C.ROW_LOCK, "UNABLE_TO_LOCK_ROW")


def test_oauth_redirect_description_is_the_message() -> None:
    """An OAuth error in a redirect's query string keeps its decoded description."""
    url = (
        "https://app.example.com/callback?error=access_denied"
        "&error_description=end-user+denied+authorization"
    )

    actual = classify(url)

    assert (actual.category, actual.error_code, actual.message) == (
        C.AUTH_FAILED,
        "access_denied",
        "end-user denied authorization",
    )


def test_a_programming_error_is_not_read_as_an_outage() -> None:
    """A ValueError whose text mentions a timeout stays UNKNOWN (never retried)."""
    actual = classify(ValueError("timed out waiting for the worker")).category

    assert actual is C.UNKNOWN


def test_a_re_raised_network_error_is_read_from_its_text() -> None:
    """The same words in a plain Exception (a re-raised network error) are an outage."""
    error = Exception(
        "HTTPSConnectionPool(host='acme.my.salesforce.com', port=443): Read timed out. "
        "(read timeout=30)"
    )

    actual = classify(error)

    assert (actual.category, actual.retryable) == (C.UNAVAILABLE, True)


def test_jsforce_http_status_error_reads_the_page_it_wraps() -> None:
    """jsforce wraps a body without a code as ``ERROR_HTTP_<status>`` with the body as message.

    Shape from jsforce's http-api (https://github.com/jsforce/jsforce/pull/1376); the
    page is the maintenance page the sf CLI printed for a 503
    (https://github.com/forcedotcom/cli/issues/2487).
    """
    error = {
        "errorCode": "ERROR_HTTP_503",
        "message": '<html>\n<body>\n<center>\n\t<table bgcolor="white" cellpadding="0" '
        'cellspacing="0" width="758"><tr><td><span style="font-family: Verdana; '
        'font-weight: bold;">We are down for maintenance.</span></td></tr></table>',
    }

    actual = classify(body=error)

    assert (actual.category, actual.http_status, actual.error_code) == (C.MAINTENANCE, 503, None)
