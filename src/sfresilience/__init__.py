"""Runbook-grade resilience for Salesforce integrations built on simple-salesforce."""

from importlib.metadata import version as _version

from ._classify import Classification, ErrorCategory, classify
from ._client import ResilientClient
from ._events import Event, EventKind
from ._settings import Settings
from ._sobject import SObject
from ._testing_mode import set_testing


__version__ = _version("sfresilience")

__all__ = [
    "Classification",
    "ErrorCategory",
    "Event",
    "EventKind",
    "ResilientClient",
    "SObject",
    "Settings",
    "classify",
    "set_testing",
]
