"""Test doubles for Salesforce integrations: an embedded org and the Trust status API.

`FakeSalesforce` serves a Salesforce org over real HTTP on loopback, with API
accounting, record locking and switchable faults (`fake.faults`); `FakeTrust` serves
the Trust status API. Both are for this project's tests and for users' own suites.

Inside: `org/` is the org itself (schema, records, SOQL, locks; no I/O), `wire/` the
HTTP server and the `requests` routing adapter, `api/` the handlers for each
Salesforce API, `faults` the switchable failures, `trust` the Trust API.
"""

from .api.apex import ApexRequest
from .faults import ArmedFault, Fault, FaultHit, Faults, FaultSettings
from .options import Identity, Limits, Locking, ServerOptions
from .org import CustomObject, Field, Org, ValidationRule
from .salesforce import FakeSalesforce, LoggedRequest
from .trust import FakeTrust


__all__ = [
    "ApexRequest",
    "ArmedFault",
    "CustomObject",
    "FakeSalesforce",
    "FakeTrust",
    "Fault",
    "FaultHit",
    "FaultSettings",
    "Faults",
    "Field",
    "Identity",
    "Limits",
    "Locking",
    "LoggedRequest",
    "Org",
    "ServerOptions",
    "ValidationRule",
]
