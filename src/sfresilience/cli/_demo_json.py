"""``sfresilience demo --json``: the drill's outcome as one JSON document."""

from __future__ import annotations

from typing import Any

from ..incident import postmortem_json
from ._demo_drill import Drill, Step


def demo_json(steps: list[Step], drill: Drill, seconds: float) -> dict[str, Any]:
    """Every step with its checks, the last triage's verdict and the postmortem's draft."""
    incident = drill.incidents[-1] if drill.incidents else None
    return {
        "passed": all(step.passed for step in steps),
        "seconds": round(seconds, 3),
        "steps": [_step(step) for step in steps],
        "triage": drill.triages[-1].verdict if drill.triages else None,
        "postmortem": (
            postmortem_json(incident, drill.client.budget.by_caller) if incident else None
        ),
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "title": step.title,
        "passed": step.passed,
        "seconds": round(step.seconds, 3),
        "requests": step.requests,
        "claims": [{"what": what, "held": held} for what, held in step.claims],
        "outcome": step.outcome,
        "error": step.error,
    }
