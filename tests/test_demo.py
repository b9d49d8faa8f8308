"""`sfresilience demo` as a user runs it: a real subprocess, its steps read from its output."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


STEPS = (
    "1. Normal traffic",
    "2. Record-lock contention",
    "3. Session expiry",
    "4. Code bug",
    "5. API budget pressure",
    "6. 503 burst",
    "7. Outage",
    "8. Recovery",
    "9. Postmortem",
)


def demo(**env: str) -> subprocess.CompletedProcess[str]:
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SF_", "SFRESILIENCE_"))  # embedded defaults only
    }
    return subprocess.run(
        [sys.executable, "-m", "sfresilience.cli", "demo", "--contacts", "300"],
        env={**base, "COLUMNS": "120", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def flat(output: str) -> str:
    """The output with panel borders and line wrapping taken out."""
    return re.sub(r"[\s│]+", " ", output)


def summary_rows(output: str) -> dict[str, str]:
    """The summary table's result column, per step."""
    summary = output[output.index("Summary: ") :]
    rows = {}
    for step in STEPS:
        match = re.search(rf"│ {re.escape(step)}\s*│ ([^│]+)│", summary)
        assert match is not None, step
        rows[step] = match.group(1).strip()
    return rows


@pytest.fixture(scope="module")
def done() -> subprocess.CompletedProcess[str]:
    return demo()


def test_every_step_passes_and_the_demo_exits_zero(done: subprocess.CompletedProcess[str]) -> None:
    assert 0 == done.returncode, done.stdout + done.stderr
    assert dict.fromkeys(STEPS, "✔ passed") == summary_rows(done.stdout)
    assert "✘" not in done.stdout
    assert "Every step behaved as the runbook says." in done.stdout


@pytest.mark.parametrize(
    "claim",
    [
        "the Account's lock was contended (UNABLE_TO_LOCK_ROW seen)",
        "all 8 updates applied",
        "one login, however many calls noticed",
        "sent once, never retried",
        "warned once at 80 %",
        "critical-only mode on at 95 %",
        "non-critical work refused, not sent",
        "critical work still sent",
        "at 100 % even critical calls stop unsent",
        "back to normal an hour later",
        "3 503s retried",
        "5 workers' dashboards read live (and kept in the cache)",
        "all 5 dashboards served from the cache, marked stale",
        "within the 2 s deadline",
        "the breaker opened: fallback mode",
        "the breaker's opening reported once",
        "with the breaker open, a read is served without trying Salesforce",
        "writes refused while the breaker is open, not sent",
        "a read never cached raises CircuitOpen",
        "triage says unknown (no Redis to remember the instance)",
        "while the breaker cools down, reads are still served from the cache",
        "after the cooldown one probe goes through and is answered live",
        "the breaker closed: normal mode",
        "half-open, then closed, reported",
        "triage says healthy",
        "the timeline counted ROW_LOCK",
        "the timeline counted SESSION_EXPIRED",
        "the timeline counted UNAVAILABLE",
        "the reads served from the cache counted",
        "the refused write counted",
    ],
)
def test_each_claim_is_checked_and_holds(
    done: subprocess.CompletedProcess[str], claim: str
) -> None:
    assert f"✔ {claim}" in flat(done.stdout)


def test_the_end_shows_the_triage_verdict_and_the_postmortem(
    done: subprocess.CompletedProcess[str],
) -> None:
    end = done.stdout[done.stdout.index("The triage at the end:") :]
    assert "verdict: healthy" in end
    assert "instance_status" in end
    postmortem = flat(end[end.index("The postmortem it drafted:") :])
    assert "Postmortem draft" in postmortem
    assert "served from cache 7" in postmortem  # 5 dashboards, 1 more, 1 in the cooldown
    assert "Action items" in postmortem
    assert "lock-contention" in postmortem  # the spend of each step's caller label


def test_a_library_that_does_not_do_what_it_claims_fails_the_demo() -> None:
    """With every worker held to critical-only, normal traffic is refused: the drill says so."""
    failed = demo(SF_CRITICAL_ONLY="true")
    assert 1 == failed.returncode
    rows = summary_rows(failed.stdout)
    assert "✘ FAILED" == rows["1. Normal traffic"]
    assert "Steps that did not behave: 1. Normal traffic" in failed.stdout


@pytest.mark.redis
def test_with_redis_triage_names_the_salesforce_incident(redis_url: str) -> None:
    """The instance remembered while healthy lets triage blame the incident on it."""
    with_redis = demo(SFRESILIENCE_REDIS_URL=redis_url)
    assert 0 == with_redis.returncode, with_redis.stdout + with_redis.stderr
    assert "✔ triage says salesforce_incident" in flat(with_redis.stdout)
    assert "triage verdict: salesforce_incident" in flat(with_redis.stdout)
