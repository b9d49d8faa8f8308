"""`sfresilience triage` as a real subprocess against the fake org and Trust over TLS.

Table-driven: each case sets the world up (Trust, the org, the fleet's timeline
in a real Redis) and names the verdict the runbook's decision tree reaches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import jsonschema
import pytest
import redis

from sfresilience import classify
from sfresilience._events import Event, EventKind
from sfresilience._store import RedisStore
from sfresilience._timeline import Timeline
from sfresilience.testing import FakeSalesforce, FakeTrust


SCHEMA = json.loads(
    resources.files("sfresilience.triage").joinpath("triage.schema.json").read_text()
)


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(tls=True, trust=FakeTrust(), contacts=5) as fake:
        yield fake


def trust(org: FakeSalesforce) -> FakeTrust:
    assert org.trust is not None
    return org.trust


def triage(
    env: dict[str, str], *arguments: str, as_json: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sfresilience.cli", "triage", *arguments]
    if as_json:
        command.append("--json")
    return subprocess.run(  # noqa: S603  (our own command)
        command,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.stderr == ""
    document: dict[str, Any] = json.loads(done.stdout)  # one JSON document, nothing else
    jsonschema.validate(document, SCHEMA)
    return document


def statuses(document: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in document["checks"]}


# The world of each case ----------------------------------------------------------

Setup = Callable[[FakeSalesforce, dict[str, str]], None]


def _nothing(org: FakeSalesforce, env: dict[str, str]) -> None:
    pass


def _trust_unreachable(org: FakeSalesforce, env: dict[str, str]) -> None:
    trust(org).unreachable()


def _core_incident(org: FakeSalesforce, env: dict[str, str]) -> None:
    trust(org).open_incident("NA137", severity="major", message="Login failures")


def _incident_elsewhere(org: FakeSalesforce, env: dict[str, str]) -> None:
    trust(org).add_instance("EU25")
    trust(org).open_incident("EU25", severity="major")


def _maintenance(org: FakeSalesforce, env: dict[str, str]) -> None:
    now = datetime.now(UTC)
    trust(org).schedule_maintenance(
        "NA137", start=now - timedelta(minutes=10), end=now + timedelta(hours=1)
    )


def _maintenance_page(org: FakeSalesforce, env: dict[str, str]) -> None:
    org.faults.maintenance()


def _limits_at_zero(org: FakeSalesforce, env: dict[str, str]) -> None:
    org.set_api_usage(15_000)


def _expired_session(org: FakeSalesforce, env: dict[str, str]) -> None:
    env["SF_REFRESH_TOKEN"] = org.issue_refresh_token()
    env["SF_CONSUMER_KEY"] = org.consumer_key
    org.faults.expire_sessions()


def _expired_without_refresh(org: FakeSalesforce, env: dict[str, str]) -> None:
    org.faults.expire_sessions()


def _revoked_refresh_token(org: FakeSalesforce, env: dict[str, str]) -> None:
    env["SF_REFRESH_TOKEN"] = org.issue_refresh_token()
    env["SF_CONSUMER_KEY"] = org.consumer_key
    org.faults.revoke_sessions()
    org.faults.revoke_refresh_tokens()


def _errors(category_body: list[dict[str, str]], status: int, count: int) -> Setup:
    def setup(org: FakeSalesforce, env: dict[str, str]) -> None:
        timeline = Timeline(RedisStore.from_url(env["SFRESILIENCE_REDIS_URL"]))
        failure = classify(status=status, body=category_body)
        for _ in range(count):
            timeline.hook(Event(EventKind.CLASSIFIED, "Contact.update", 1, failure))
        timeline.flush()

    return setup


_LOCK = [{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"}]
_BUG = [{"errorCode": "MALFORMED_QUERY", "message": "unexpected token: FORM"}]
_SERVER = [{"errorCode": "UNKNOWN_EXCEPTION", "message": "An unexpected error occurred"}]
_CONCURRENT = [
    {
        "errorCode": "REQUEST_LIMIT_EXCEEDED",
        "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
    }
]

CASES: list[tuple[str, Setup, str, dict[str, str]]] = [
    ("healthy", _nothing, "healthy", {"auth": "ok", "recent_errors": "ok"}),
    ("trust unreachable", _trust_unreachable, "unknown", {"trust_incidents": "unknown"}),
    ("core incident", _core_incident, "salesforce_incident", {"trust_incidents": "fail"}),
    ("incident elsewhere", _incident_elsewhere, "healthy", {"trust_incidents": "ok"}),
    ("maintenance", _maintenance, "maintenance", {"instance_status": "fail"}),
    ("maintenance page", _maintenance_page, "maintenance", {"auth": "unknown"}),
    ("limits at zero", _limits_at_zero, "api_limit_exceeded", {"api_limits": "fail"}),
    ("expired session", _expired_session, "session_expired", {"auth": "warn"}),
    ("expired, no refresh", _expired_without_refresh, "session_expired", {"auth": "fail"}),
    ("revoked refresh token", _revoked_refresh_token, "auth_failed", {"auth": "fail"}),
    ("lock storm", _errors(_LOCK, 500, 40), "row_lock", {"recent_errors": "fail"}),
    ("a few locks", _errors(_LOCK, 500, 3), "healthy", {"recent_errors": "warn"}),
    ("code bug", _errors(_BUG, 400, 12), "code_bug", {"recent_errors": "fail"}),
    ("server errors", _errors(_SERVER, 500, 25), "server_error", {"recent_errors": "fail"}),
    (
        "concurrency",
        _errors(_CONCURRENT, 403, 15),
        "concurrency_limit",
        {"recent_errors": "fail"},
    ),
]


@pytest.mark.parametrize(
    ("setup", "verdict", "expected"),
    [pytest.param(setup, verdict, expected, id=name) for name, setup, verdict, expected in CASES],
)
def test_verdicts(
    *,
    org: FakeSalesforce,
    redis_url: str,
    redis_client: redis.Redis,
    setup: Setup,
    verdict: str,
    expected: dict[str, str],
) -> None:
    env = {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}
    setup(org, env)
    done = triage(env)
    document = report(done)
    assert document["verdict"] == verdict, document
    assert expected.items() <= statuses(document).items(), document
    assert done.returncode == (0 if verdict == "healthy" else 1)
    if verdict == "healthy":
        assert document["next"] == []
    else:
        assert document["next"], "an unhealthy verdict names the next commands"


def test_the_instance_is_remembered_for_when_salesforce_is_down(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    env = {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}
    assert report(triage(env))["verdict"] == "healthy"
    trust(org).open_incident("NA137", severity="major")
    org.faults.outage()
    document = report(triage(env))
    assert document["verdict"] == "salesforce_incident"
    assert statuses(document)["auth"] == "unknown"
    assert "NA137" in document["checks"][0]["detail"]
    assert document["next"][1].startswith("sfresilience mode fallback on")
    assert any("critical-only on" in step for step in document["next"])


def test_everything_down_answers_unknown_never_healthy(org: FakeSalesforce) -> None:
    env = org.env()
    trust(org).unreachable()
    org.faults.hang()
    document = report(triage(env, "--timeout", "1"))
    assert document["verdict"] == "unknown"
    assert statuses(document)["auth"] == "unknown"
    assert "within 1 s" in document["checks"][3]["detail"]


def test_without_redis_the_history_is_skipped_and_the_switch_is_per_worker(
    org: FakeSalesforce,
) -> None:
    org.set_api_usage(15_000)
    document = report(triage(org.env()))
    assert statuses(document)["recent_errors"] == "skipped"
    assert document["verdict"] == "api_limit_exceeded"
    assert any("SF_CRITICAL_ONLY=true" in step for step in document["next"])


def test_the_table(org: FakeSalesforce) -> None:
    trust(org).open_incident("NA137", severity="minor")
    done = triage(org.env(), as_json=False)
    assert done.returncode == 1
    for word in ("trust_incidents", "api_limits", "salesforce_incident", "sfresilience status"):
        assert word in done.stdout


def test_no_credentials_is_one_line(tmp_path: object) -> None:
    done = triage({})
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "no Salesforce credentials" in done.stderr


def test_target_org_without_the_sf_cli_is_one_line(org: FakeSalesforce) -> None:
    env = {**org.env(), "PATH": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, "-m", "sfresilience.cli", "triage", "--target-org", "prod"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "sfresilience: --target-org needs the sf CLI on PATH "
        "(npm install --global @salesforce/cli)\n"
    )
