"""What client libraries write around an error: exception templates and class names.

simple-salesforce's ``str()`` templates and exception class names, and
restforce's error classes, name the exception (and so the HTTP status) even
when only the text survived: a log line, a tracker, a re-raised Exception.
"""

from __future__ import annotations

import re


# simple-salesforce's str() templates name the exception class (and so the
# status) even when the exception was re-wrapped as a plain Exception.
_SS = "simple_salesforce.exceptions."
# Searched in the text's head: loggers and trackers put prefixes before them.
_TEMPLATES: tuple[tuple[re.Pattern[str], str, int | None], ...] = (
    (re.compile(r"Malformed request "), _SS + "SalesforceMalformedRequest", 400),
    (re.compile(r"Expired session for "), _SS + "SalesforceExpiredSession", 401),
    (re.compile(r"Request refused for "), _SS + "SalesforceRefusedRequest", 403),
    (
        re.compile(r"Resource .{0,200}? Not Found\. "),
        _SS + "SalesforceResourceNotFound",
        404,
    ),
    (
        re.compile(r"More than one record for "),
        _SS + "SalesforceMoreThanOneRecord",
        300,
    ),
    (re.compile(r"Error Code (\d{3})\. "), _SS + "SalesforceGeneralError", None),
    (
        re.compile(r"Authentication failed \(code: "),
        _SS + "SalesforceAuthenticationFailed",
        None,
    ),
)
# The class name a traceback line or a repr() starts with.
_CLASS_STATUSES = {
    "SalesforceMoreThanOneRecord": 300,
    "SalesforceMalformedRequest": 400,
    "SalesforceExpiredSession": 401,
    "SalesforceRefusedRequest": 403,
    "SalesforceResourceNotFound": 404,
    "SalesforceAuthenticationFailed": None,
}
_CLASS_IN_TEXT = re.compile(r"\b(" + "|".join(_CLASS_STATUSES) + r")\b")
# restforce raises these for statuses without an error code of their own.
_RESTFORCE_CLASSES = {
    "Restforce::UnauthorizedError": (_SS + "SalesforceExpiredSession", 401),
    "Restforce::AuthenticationError": (_SS + "SalesforceAuthenticationFailed", None),
    "Restforce::NotFoundError": (_SS + "SalesforceResourceNotFound", 404),
    "Restforce::ServerError": (_SS + "SalesforceGeneralError", 500),
}
_RESTFORCE_IN_TEXT = re.compile("|".join(re.escape(name) for name in _RESTFORCE_CLASSES))
_RETRY_STATUS = re.compile(r"too many (\d{3}) error responses")


def read_client_text(text: str) -> tuple[str | None, int | None]:
    """The client exception class and HTTP status that text names, each if any."""
    head = text[:400]
    found: list[tuple[str | None, int | None]] = []
    for pattern, exception, status in _TEMPLATES:
        match = pattern.search(head)
        if match is not None:
            found.append((exception, int(match.group(1)) if match.groups() else status))
            break
    named = _CLASS_IN_TEXT.search(head)
    if named is not None:
        found.append((_SS + named.group(1), _CLASS_STATUSES[named.group(1)]))
    ruby = _RESTFORCE_IN_TEXT.search(head)
    if ruby is not None:
        found.append(_RESTFORCE_CLASSES[ruby.group(0)])
    retry = _RETRY_STATUS.search(text, 0, 4096)
    if retry is not None:
        found.append((None, int(retry.group(1))))
    named_class = next((name for name, _ in found if name is not None), None)
    named_status = next((code for _, code in found if code is not None), None)
    return named_class, named_status
