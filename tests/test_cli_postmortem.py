"""`sfresilience postmortem` as a real subprocess, from a timeline a real fleet wrote."""

from __future__ import annotations

import json
import re
import time

import pytest
import redis

from sfresilience import ResilientClient, Settings, caller
from sfresilience._store import RedisStore, shared_store
from sfresilience._timeline import Timeline, timeline_for
from sfresilience.testing import FakeSalesforce

# pytest puts tests/ on the path (no __init__.py); mypy knows the module as tests.test_cli_incident.
from test_cli_incident import (  # type: ignore[import-not-found]
    lock_storm_and_expired_session,
    org,
    sfresilience,
)


__all__ = ["org"]  # the fixture, shared with the incident tests

SECRETS = re.compile(r"00D\w{12,}!|Bearer |access_token|password|webhookSecret", re.IGNORECASE)


@pytest.fixture
def env(org: FakeSalesforce, redis_url: str, redis_client: redis.Redis) -> dict[str, str]:
    lock_storm_and_expired_session(org, redis_url)
    org.set_api_usage(12_500)  # past SFRESILIENCE_BUDGET_WARN: a threshold crossing
    client = ResilientClient(org.client(), settings=Settings(redis_url=redis_url))
    with caller("nightly-sync"):
        for _ in range(5):
            client.query("SELECT Id FROM Contact")
    client.budget  # noqa: B018  (a snapshot reports this process's spend to the fleet)
    timeline_for(shared_store(redis_url)).flush()
    return {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}


def test_the_json_draft_holds_every_part(env: dict[str, str]) -> None:
    done = sfresilience(env, "postmortem", "--since", "1h", "--format", "json")
    assert done.returncode == 1, done.stderr  # still ongoing a moment after
    draft = json.loads(done.stdout)
    assert draft["severity"] == "P3"
    assert draft["duration_seconds"] >= 0
    assert draft["summary"].startswith("P3 incident that is ongoing: ROW_LOCK x12")
    impact = draft["impact"]
    assert (impact["failed"], impact["session_refreshes"]) == (4, 1)
    assert impact["retried"] >= 8
    assert impact["recovered"] >= 1
    assert draft["by_caller"]["nightly-sync"] >= 5
    items = "\n".join(draft["action_items"])
    assert "Move `nightly-sync` to Bulk API 2.0" in items
    assert "Lock storm (12 UNABLE_TO_LOCK_ROW on Contact.update): serialize writes" in items
    assert "1 session refresh(es)" in items
    assert "Replay or reconcile the 4 call(s) that gave up" in items
    kinds = {entry["kind"] for entry in draft["timeline"]}
    assert {"errors", "retry", "give_up", "refresh", "recovered", "budget_warning"} <= kinds
    assert "the budget crossed budget_warning" in items
    assert (
        draft["chart"]["series"]["ROW_LOCK"][-1] + sum(draft["chart"]["series"]["ROW_LOCK"][:-1])
        == 12
    )
    usage = draft["api_usage_chart"]
    assert usage["bucket_seconds"] == 3600
    assert sum(usage["series"]["nightly-sync"]) == draft["by_caller"]["nightly-sync"]
    assert not SECRETS.search(done.stdout)
    again = json.loads(sfresilience(env, "postmortem", "--since", "1h", "--json").stdout)
    moving = {"since", "duration_seconds"}  # measured from now
    assert {k: v for k, v in draft.items() if k not in moving} == {
        k: v for k, v in again.items() if k not in moving
    }


def test_the_markdown_draft_has_a_mermaid_chart(env: dict[str, str]) -> None:
    done = sfresilience(env, "postmortem", "--since", "1h", "--format", "markdown")
    text = done.stdout
    for heading in (
        "## Summary",
        "## Impact",
        "## Errors over the incident",
        "## Timeline",
        "## API calls by caller (last 24 h)",
        "## Action items",
    ):
        assert heading in text
    chart = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert chart.startswith("xychart-beta\n")
    assert re.search(r'x-axis \["\d\d:\d\d"', chart)
    assert re.search(r"bar \[[\d, ]+\]", chart)
    assert "| line 1 | ROW_LOCK | 12 |" in text
    usage = text.split("## API usage over the incident (budget ledger, per hour)", 1)[1]
    assert "```mermaid\nxychart-beta\n" in usage
    assert "| line 1 | nightly-sync |" in usage
    assert "| failed | 4 |" in text
    assert "- [ ] Lock storm" in text
    assert "| nightly-sync |" in text
    assert not SECRETS.search(text)


def test_the_terminal_view_has_a_compact_chart(env: dict[str, str]) -> None:
    done = sfresilience(env, "postmortem", "--since", "30m")
    assert "Failed attempts by category" in done.stdout
    assert "█" in done.stdout
    assert "ROW_LOCK (12)" in done.stdout
    assert "API calls by caller" in done.stdout
    assert "Action items" in done.stdout
    assert "nightly-sync" in done.stdout


def test_a_resolved_incident_is_exit_0(redis_url: str, redis_client: redis.Redis) -> None:
    long_ago = Timeline(RedisStore.from_url(redis_url), clock=lambda: time.time() - 7200)
    long_ago.record("errors", count=3, category="SERVER_ERROR", code=None, severity="P2")
    long_ago.flush()
    done = sfresilience({"SFRESILIENCE_REDIS_URL": redis_url}, "postmortem", "--json")
    assert done.returncode == 0, done.stderr
    draft = json.loads(done.stdout)
    assert draft["state"] == "resolved"
    assert draft["severity"] == "P2"
    assert any("no per-caller" in note or "SF_*" in note for note in draft["notes"])


def test_redis_down_is_one_line(redis_url: str) -> None:
    done = sfresilience({"SFRESILIENCE_REDIS_URL": "redis://127.0.0.1:1/0"}, "postmortem")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "Redis unreachable" in done.stderr
