"""The traffic both metrics hooks are tested with: real calls to the fake org."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from sfresilience import ResilientClient, Settings
from sfresilience._fallback import fallback_of
from sfresilience._store import MemoryStore
from sfresilience.exceptions import WriteRefused
from sfresilience.testing import FakeSalesforce


READS = tuple(
    f"SELECT Id FROM Account ORDER BY Name LIMIT {n}"  # noqa: S608  (a literal number)
    for n in range(1, 6)
)
COOLDOWN = 130.0
"""Longer than the breaker stays open (120 s after a core incident)."""


class Clock:
    """The client's monotonic clock, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client_for(
    org: FakeSalesforce, hook: Callable[..., None], clock: Callable[[], float] = time.monotonic
) -> ResilientClient:
    """A client of its own store (so its budget and breaker are its own), never sleeping."""
    return ResilientClient(
        org.client(),
        settings=Settings(retry_attempts=6),
        on_event=hook,
        sleep=lambda _seconds: None,
        store=MemoryStore(),
        clock=clock,
    )


def an_incident(org: FakeSalesforce, client: ResilientClient) -> None:
    """An expired session, a 503 burst, a code bug."""
    org.faults.expire_sessions()
    client.query("SELECT Id FROM Account")
    org.faults.server_errors(2, status=503)
    client.query("SELECT Id FROM Account")
    with pytest.raises(Exception, match="INVALID_FIELD"):
        client.query("SELECT Nmae FROM Contact")


def an_outage(org: FakeSalesforce, client: ResilientClient) -> None:
    """Five reads kept, then refused connections: served stale, the breaker opens, a write is
    refused and a sixth read is served without trying."""
    for query in READS:
        client.query(query)
    fallback_of(client).flush(timeout=5)
    org.faults.outage()
    for query in READS:
        client.query(query)
    client.query(READS[0])
    account = str(org.org.records("Account")[0]["Id"])
    with pytest.raises(WriteRefused):
        client.Account.update(account, {"Name": "Refused"})


def a_recovery(org: FakeSalesforce, client: ResilientClient, clock: Clock) -> None:
    """Salesforce is back; past the cooldown a probe closes the breaker."""
    org.faults.restore()
    clock.now += COOLDOWN
    client.query(READS[1])
