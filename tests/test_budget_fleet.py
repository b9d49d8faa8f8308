"""The budget shared through a real Redis: one view for many clients, and Redis dying mid-run."""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from sfresilience import ResilientClient, Settings, caller, critical
from sfresilience._modes import set_fleet_switch
from sfresilience._store import FailoverStore, RedisStore
from sfresilience.exceptions import BudgetExhausted, CriticalOnlyBlocked
from sfresilience.testing import FakeSalesforce


pytestmark = pytest.mark.redis

SOQL = "SELECT Id FROM Account LIMIT 1"


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(api_limit=400, accounts=2, contacts=2, opportunities=0) as fake:
        yield fake


def _client(org: FakeSalesforce, redis_url: str) -> ResilientClient:
    store = FailoverStore(RedisStore.from_url(redis_url))
    return ResilientClient(org.client(), settings=Settings(), store=store)


def _hammer(client: ResilientClient, stop: type[Exception], *, as_critical: bool) -> int:
    sent = 0
    with critical() if as_critical else contextlib.nullcontext():
        while True:
            try:
                # A new query each time: a repeated one is answered from the
                # fallback cache in critical-only mode instead of being refused.
                client.query(f"{SOQL} OFFSET {sent}")
            except stop:
                return sent
            sent += 1


def test_many_clients_share_one_view_and_never_pass_the_cap(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    """Six clients hammering together stop at the critical mark, then the allocation,
    with not one request Salesforce had to refuse, and next to nothing left unused."""
    assert redis_client.ping()
    clients = [_client(org, redis_url) for _ in range(6)]
    org.set_api_usage(100)
    for phase, stop in ((False, CriticalOnlyBlocked), (True, BudgetExhausted)):
        threads = [
            threading.Thread(target=_hammer, args=(c, stop), kwargs={"as_critical": phase})
            for c in clients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if not phase:
            plain_usage = org.api_usage
    refused = [r for r in org.request_log if r.status == 403]
    assert [] == refused
    # A client stops at its first refusal; one refused while another's finished call
    # was still counted twice (in a reading and in that client's reservations)
    # leaves a call or two unused: at most 2 % is the target.
    assert 0.98 * 380 <= plain_usage <= 380
    assert 0.98 * 400 <= org.api_usage <= 400


def test_per_caller_spend_is_shared(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    """What one client spent under a label shows in another's budget."""
    assert redis_client.ping()
    first, second = _client(org, redis_url), _client(org, redis_url)
    with caller("nightly-sync"):
        for _ in range(3):
            first.query(SOQL)
    with caller("web"):
        second.query(SOQL)
    first.budget  # noqa: B018  (reading it reports what this client spent)
    assert {"nightly-sync": 3, "web": 1} == dict(second.budget.by_caller)


def test_the_fleet_switch_reaches_clients_through_redis(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    """`sfresilience mode critical-only on` (the switch in Redis) blocks plain work."""
    assert redis_client.ping()
    client = _client(org, redis_url)
    set_fleet_switch(RedisStore.from_url(redis_url), "critical-only", on=True, reason="drill")
    with pytest.raises(CriticalOnlyBlocked, match="fleet switch: drill"):
        client.query(SOQL)
    assert 0 < redis_client.pttl("sfr:mode:critical-only")


# Redis dying mid-run --------------------------------------------------------


@pytest.fixture
def doomed_redis(
    start_redis: Callable[..., contextlib.AbstractContextManager[Any]],
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A private redis-server this test may kill (never the session's one)."""
    with start_redis() as server:
        yield server.url, server.process


def test_redis_killed_mid_run_degrades_to_the_local_view_with_one_warning(
    org: FakeSalesforce,
    doomed_redis: tuple[str, subprocess.Popen[bytes]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No call fails when Redis dies; the guard keeps counting locally and says so once."""
    url, server = doomed_redis
    client = ResilientClient(org.client(), settings=Settings(redis_url=url))
    for _ in range(20):
        client.query(SOQL)
    server.kill()
    server.wait(timeout=10)
    org.set_api_usage(375)
    with caplog.at_level(logging.WARNING, logger="sfresilience"):
        for _ in range(4):
            client.query(SOQL)
        refused_after = _hammer(client, CriticalOnlyBlocked, as_critical=False)
    assert 1 == refused_after
    warnings = [r for r in caplog.records if "local view" in r.getMessage()]
    assert (1, 380) == (len(warnings), org.api_usage)
    assert "127.0.0.1" in warnings[0].getMessage()
    assert "header" == client.budget.source


def test_a_plain_redis_store_passed_in_still_never_fails_a_call(org: FakeSalesforce) -> None:
    """`store=RedisStore(...)` at a dead address: calls go on, on the local view."""
    client = ResilientClient(
        org.client(), settings=Settings(), store=RedisStore.from_url("redis://127.0.0.1:1/0")
    )
    client.query(SOQL)
    assert "header" == client.budget.source
