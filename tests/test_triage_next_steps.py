"""The next commands triage names per verdict: the runbook's plays, Redis or not."""

from __future__ import annotations

import pytest

from sfresilience.triage._decide import Context, Verdict, next_steps


FLEET = Context("https://api.status.salesforce.com", "NA137", redis=True)
WORKER = Context("https://api.status.salesforce.com", "NA137", redis=False)

# verdict, context, the step that must be named first among the mode switches
CASES = [
    ("salesforce_incident", FLEET, "sfresilience mode fallback on --reason"),
    ("salesforce_incident", WORKER, "export SF_FALLBACK_MODE=true"),
    ("maintenance", FLEET, "sfresilience mode fallback on --reason"),
    ("maintenance", WORKER, "export SF_FALLBACK_MODE=true"),
    ("api_limit_exceeded", FLEET, "sfresilience mode critical-only on --reason"),
    ("api_limit_exceeded", WORKER, "export SF_CRITICAL_ONLY=true"),
]


def mode_steps(steps: list[str]) -> list[str]:
    return [step for step in steps if " mode " in step or step.startswith("export ")]


@pytest.mark.parametrize(("verdict", "ctx", "first"), CASES)
def test_the_first_mode_switch_follows_the_runbook(
    verdict: Verdict, ctx: Context, first: str
) -> None:
    switches = mode_steps(next_steps(verdict, ctx))
    assert switches, verdict
    assert switches[0].startswith(first), switches


@pytest.mark.parametrize("verdict", ["salesforce_incident", "maintenance"])
def test_an_outage_names_critical_only_as_the_other_way(verdict: Verdict) -> None:
    switches = mode_steps(next_steps(verdict, FLEET))
    assert len(switches) == 2
    assert switches[1].startswith("sfresilience mode critical-only on")
    assert "instead of fallback" in switches[1]


def test_an_outage_switch_has_a_reason_and_a_duration() -> None:
    fallback = mode_steps(next_steps("salesforce_incident", FLEET))[0]
    assert "--reason 'Salesforce incident on the instance' --for 2h" in fallback
    assert "--for 1h" in mode_steps(next_steps("maintenance", FLEET))[0]


def test_without_redis_each_worker_line_says_why() -> None:
    for step in mode_steps(next_steps("maintenance", WORKER)):
        assert step.endswith("in each worker: no Redis for a fleet switch"), step
