"""Test doubles for Salesforce integrations: an embedded org and the Trust status API.

`FakeSalesforce` serves a Salesforce org over real HTTP on loopback, with API
accounting, record locking and switchable faults (`fake.faults`); `FakeTrust` serves
the Trust status API. Both are for this project's tests and for users' own suites.
"""

from ._faults import Faults
from ._salesforce import ApexRequest, FakeSalesforce, LoggedRequest
from ._trust import FakeTrust


__all__ = ["ApexRequest", "FakeSalesforce", "FakeTrust", "Faults", "LoggedRequest"]
