"""`sfresilience status` and `sfresilience mode` as real subprocesses, with a real Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from sfresilience import ResilientClient, Settings, caller
from sfresilience._fallback import fallback_of
from sfresilience._freshness import freshness
from sfresilience._store import RedisStore
from sfresilience._timeline import Timeline
from sfresilience.exceptions import CriticalOnlyBlocked
from sfresilience.testing import FakeSalesforce


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(tls=True, contacts=5) as fake:
        yield fake


def sfresilience(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own command)
        [sys.executable, "-m", "sfresilience.cli", *arguments],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def as_json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_a_fleet_switch_reaches_every_client_and_status_says_who_and_why(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    env = {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}
    now = [time.time()]
    client = ResilientClient(
        org.client(), settings=Settings(redis_url=redis_url), wall_clock=lambda: now[0]
    )
    client.query("SELECT Id FROM Contact")

    done = sfresilience(
        env, "mode", "critical-only", "on", "--reason", "Trust incident 5968", "--for", "2h"
    )
    assert done.returncode == 0, done.stderr
    assert "critical-only on fleet-wide for 2h" in done.stdout
    now[0] += 1  # a client re-reads the switch once a second (the command may take less)

    reasons = [str(reason) for reason in client.mode.reasons]
    assert client.mode.effective == "critical-only"
    assert any("Trust incident 5968 (set by " in reason for reason in reasons), reasons
    with pytest.raises(CriticalOnlyBlocked):
        client.query("SELECT Id FROM Account")  # nothing cached to serve instead
    assert fallback_of(client).flush(5)
    served = freshness(client.query("SELECT Id FROM Contact"))  # a non-critical read: cached
    assert served is not None
    assert "critical-only" in served.reason
    assert 0 < redis_client.ttl("sfr:mode:critical-only") <= 2 * 3600

    status = sfresilience(env, "status", "--json")
    assert status.returncode == 1  # a mode is on
    document = as_json(status)
    (reason,) = document["mode"]["reasons"]
    assert document["mode"]["effective"] == "critical-only"
    assert reason["source"] == "fleet switch"
    assert "Trust incident 5968" in reason["detail"]
    assert "set by " in reason["detail"]
    assert reason["since"] is not None

    assert sfresilience(env, "mode", "critical-only", "off").returncode == 0
    back = as_json(sfresilience(env, "status", "--json"))
    assert back["mode"] == {"effective": "normal", "reasons": []}

    timeline = Timeline(RedisStore.from_url(redis_url)).entries()
    switches = [entry.detail or "" for entry in timeline if entry.kind == "mode"]
    assert any("critical-only on fleet-wide: Trust incident 5968" in s for s in switches)
    assert any("critical-only off" in s for s in switches)


def test_status_shows_the_budget_by_caller(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    env = {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}
    org.set_api_usage(12_500)
    client = ResilientClient(org.client(), settings=Settings(redis_url=redis_url))
    with caller("nightly-sync"):
        for _ in range(3):
            client.query("SELECT Id FROM Contact")
    assert client.budget.by_caller["nightly-sync"] == 3  # a snapshot reports to the fleet
    done = sfresilience(env, "status", "--json")
    document = as_json(done)
    budget = document["budget"]
    assert budget["limit"] == 15_000
    assert budget["used"] >= 12_503
    assert budget["level"] == "warn"
    assert budget["by_caller"]["nightly-sync"] == 3
    assert done.returncode == 1  # past the warning line

    table = sfresilience(env, "status")
    assert "nightly-sync" in table.stdout
    assert "daily API calls" in table.stdout


def test_status_healthy_is_exit_0(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    env = {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}
    done = sfresilience(env, "status")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mode: normal" in done.stdout


def test_the_environment_toggle_is_shown_as_the_reason(org: FakeSalesforce) -> None:
    done = sfresilience({**org.env(), "SF_CRITICAL_ONLY": "true"}, "status", "--json")
    document = as_json(done)
    assert document["mode"]["effective"] == "critical-only"
    assert document["mode"]["reasons"][0]["source"] == "env"
    assert any("SFRESILIENCE_REDIS_URL is unset" in note for note in document["notes"])
    assert done.returncode == 1


def test_mode_without_redis_says_it_needs_redis(org: FakeSalesforce) -> None:
    done = sfresilience(org.env(), "mode", "critical-only", "on", "--for", "1h")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "needs Redis: set SFRESILIENCE_REDIS_URL" in done.stderr


def test_mode_with_redis_down_fails_loudly(org: FakeSalesforce) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**org.env(), "SFRESILIENCE_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    done = sfresilience(env, "mode", "critical-only", "on")
    assert done.returncode == 1
    assert "the switch was not set" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("duration", ["soon", "0m", "8d", "2h!"])
def test_a_bad_duration_is_one_line(redis_url: str, duration: str) -> None:
    done = sfresilience(
        {"SFRESILIENCE_REDIS_URL": redis_url}, "mode", "critical-only", "on", "--for", duration
    )
    assert done.returncode == 2
    assert done.stderr.startswith("sfresilience: Invalid value for '--for': ")
    assert done.stderr.count("\n") == 1


def test_a_fleet_fallback_switch_serves_every_client_from_the_cache(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    """`mode fallback on --reason --for`: clients send nothing and say why; off ends it."""
    env = {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}
    client = ResilientClient(org.client(), store=RedisStore.from_url(redis_url))
    live = client.query("SELECT Id FROM Contact")
    assert fallback_of(client).flush(5)
    done = sfresilience(env, "mode", "fallback", "on", "--reason", "Trust 5968", "--for", "1h")
    assert done.returncode == 0, done.stderr
    assert 0 < redis_client.ttl("sfr:mode:fallback") <= 3600
    client = ResilientClient(org.client(), store=RedisStore.from_url(redis_url))  # fresh read
    before = len(org.request_log)
    served = client.query("SELECT Id FROM Contact")
    assert served == live
    found = freshness(served)
    assert found is not None
    assert "Trust 5968" in found.reason
    assert len(org.request_log) == before
    assert client.mode.effective == "fallback"
    assert "fleet switch" in [reason.source for reason in client.mode.reasons]
    document = as_json(sfresilience(env, "status", "--json"))
    assert document["mode"]["effective"] == "fallback"
    assert (document["cache"]["backend"], document["cache"]["health"]) == ("redis", "reachable")
    assert document["breaker"]["state"] == "closed"
    assert sfresilience(env, "mode", "fallback", "off").returncode == 0
    assert redis_client.get("sfr:mode:fallback") is None
