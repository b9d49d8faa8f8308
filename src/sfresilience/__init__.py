"""Runbook-grade resilience for Salesforce integrations built on simple-salesforce."""

from importlib.metadata import version as _version

from ._budget import Budget
from ._bulk import BulkJobResult, BulkOutcome, FailedRecord
from ._classify import Classification, ErrorCategory, classify
from ._client import ResilientClient
from ._decorators import caller, critical
from ._events import Event, EventKind
from ._freshness import Freshness, freshness
from ._modes import Mode, ModeReason
from ._resilient_query import resilient_query
from ._settings import Settings
from ._sobject import SObject
from ._testing_mode import set_testing


__version__ = _version("sfresilience")

__all__ = [
    "Budget",
    "BulkJobResult",
    "BulkOutcome",
    "Classification",
    "ErrorCategory",
    "Event",
    "EventKind",
    "FailedRecord",
    "Freshness",
    "Mode",
    "ModeReason",
    "ResilientClient",
    "SObject",
    "Settings",
    "caller",
    "classify",
    "critical",
    "freshness",
    "resilient_query",
    "set_testing",
]
