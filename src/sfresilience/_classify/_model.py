"""The values classification produces: what went wrong, in the runbook's terms."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal


Severity = Literal["P1", "P2", "P3", "P4"]


class ErrorCategory(enum.StrEnum):
    """What went wrong, in the incident runbook's terms; each value equals its name."""

    SESSION_EXPIRED = "SESSION_EXPIRED"
    AUTH_FAILED = "AUTH_FAILED"
    API_LIMIT_EXCEEDED = "API_LIMIT_EXCEEDED"
    CONCURRENCY_LIMIT = "CONCURRENCY_LIMIT"
    ROW_LOCK = "ROW_LOCK"
    INVALID_REQUEST = "INVALID_REQUEST"
    DATA_REJECTED = "DATA_REJECTED"
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    SERVER_ERROR = "SERVER_ERROR"
    UNAVAILABLE = "UNAVAILABLE"
    MAINTENANCE = "MAINTENANCE"
    UNKNOWN = "UNKNOWN"

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self.name}"


@dataclass(frozen=True, slots=True)
class Classification:
    """One error, classified: the category, Salesforce's code and the runbook's remedy.

    ``retryable`` says whether trying again (after a session refresh, for
    ``SESSION_EXPIRED``) can succeed within seconds. ``message`` is Salesforce's
    own message, redacted and trimmed to one short line.
    """

    category: ErrorCategory
    error_code: str | None
    message: str
    http_status: int | None
    retryable: bool
    action: str
    severity: Severity
