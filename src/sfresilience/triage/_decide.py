"""The runbook's decision tree: the checks in, one verdict and the next commands out.

Pure: no I/O. The order is the runbook's: is it Salesforce (an incident, then
maintenance), then us (auth, the daily limit, concurrency), then what the
fleet saw (lock storms, code bugs, server errors). Anything not known keeps the
verdict from being ``healthy``.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Callable, Sequence
from typing import Literal

from ._checks import Check


__all__ = ["VERDICTS", "Context", "Verdict", "decide", "next_steps"]

Verdict = Literal[
    "salesforce_incident",
    "maintenance",
    "session_expired",
    "auth_failed",
    "api_limit_exceeded",
    "concurrency_limit",
    "row_lock",
    "code_bug",
    "server_error",
    "healthy",
    "unknown",
]
VERDICTS: tuple[Verdict, ...] = (
    "salesforce_incident",
    "maintenance",
    "session_expired",
    "auth_failed",
    "api_limit_exceeded",
    "concurrency_limit",
    "row_lock",
    "code_bug",
    "server_error",
    "healthy",
    "unknown",
)

# (check, finding) pairs in the runbook's order; the first present decides.
_TREE: tuple[tuple[str, str], ...] = (
    ("trust_incidents", "salesforce_incident"),
    ("instance_status", "salesforce_incident"),
    ("instance_status", "maintenance"),
    ("auth", "maintenance"),
    ("auth", "auth_failed"),
    ("auth", "session_expired"),
    ("api_limits", "api_limit_exceeded"),
    ("api_limits", "concurrency_limit"),
    ("auth", "server_error"),
    ("recent_errors", "api_limit_exceeded"),
    ("recent_errors", "auth_failed"),
    ("recent_errors", "maintenance"),
    ("recent_errors", "concurrency_limit"),
    ("recent_errors", "row_lock"),
    ("recent_errors", "code_bug"),
    ("recent_errors", "server_error"),
)


def decide(checks: Sequence[Check]) -> Verdict:
    """The verdict the checks point at."""
    found = {(check.name, check.finding) for check in checks if check.finding}
    for step in _TREE:
        if step in found:
            return step[1]  # type: ignore[return-value]  # every finding in _TREE is a verdict
    if all(check.status in {"ok", "warn", "skipped"} for check in checks):
        return "healthy"
    return "unknown"


@dataclasses.dataclass(frozen=True, slots=True)
class Context:
    """What the next commands need to name."""

    status_url: str
    instance: str | None
    redis: bool
    """Whether a fleet switch is possible (``SFRESILIENCE_REDIS_URL`` is set)."""
    target_org: str | None = None


def _fleet_mode(ctx: Context, mode: str, reason: str, duration: str, note: str = "") -> str:
    if ctx.redis:
        command = f"sfresilience mode {mode} on --reason {shlex.quote(reason)} --for {duration}"
        notes = [note]
    else:
        variable = "SF_CRITICAL_ONLY" if mode == "critical-only" else "SF_FALLBACK_MODE"
        command = f"export {variable}=true"
        notes = [note, "in each worker: no Redis for a fleet switch"]
    comment = "; ".join(text for text in notes if text)
    return f"{command}  # {comment}" if comment else command


def _critical_only(ctx: Context, reason: str, duration: str) -> str:
    return _fleet_mode(ctx, "critical-only", reason, duration)


def _serve_stale(ctx: Context, reason: str, duration: str) -> list[str]:
    """Fallback first (reads from the cache, writes refused), critical-only as the other way."""
    instead = "instead of fallback, if critical work must still reach Salesforce"
    return [
        _fleet_mode(ctx, "fallback", reason, duration),
        _fleet_mode(ctx, "critical-only", reason, duration, note=instead),
    ]


def _trust(ctx: Context) -> str:
    key = ctx.instance or "INSTANCE"
    fields = "'.status, .Incidents, .Maintenances'"
    return f"curl -s {ctx.status_url}/v1/instances/{key}/status | jq {fields}"


def _login(ctx: Context) -> str:
    if ctx.target_org:
        return f"sf org login web --alias {shlex.quote(ctx.target_org)}"
    return "sf org login web --alias ORG  # then: sfresilience triage --target-org ORG"


_RERUN = "sfresilience triage"
_STATUS = "sfresilience status"


_STEPS: dict[str, Callable[[Context], list[str]]] = {
    "salesforce_incident": lambda ctx: [
        _trust(ctx),
        *_serve_stale(ctx, "Salesforce incident on the instance", "2h"),
        _STATUS,
    ],
    "maintenance": lambda ctx: [
        _trust(ctx),
        *_serve_stale(ctx, "Salesforce maintenance", "1h"),
        _RERUN,
    ],
    "session_expired": lambda ctx: [_login(ctx), _RERUN],
    "auth_failed": lambda ctx: [
        _login(ctx),
        "check the integration user (active, not frozen) and the connected app's OAuth policies",
        _RERUN,
    ],
    "api_limit_exceeded": lambda ctx: [
        _critical_only(ctx, "daily API limit exhausted", "4h"),
        f"{_STATUS}  # the budget by caller: move the heaviest to Bulk API 2.0",
        _RERUN,
    ],
    "concurrency_limit": lambda _: [
        "reduce the workers' parallelism (requests over 20 s are capped at 25)",
        _STATUS,
    ],
    "row_lock": lambda _: [
        "sequence writes by parent record (Bulk API 1.0 Serial for loads)",
        _STATUS,
        _RERUN,
    ],
    "code_bug": lambda _: [
        "fix the failing query or field named in recent_errors, then deploy",
        _RERUN,
    ],
    "server_error": lambda ctx: [
        _trust(ctx),
        f"{_RERUN}  # again in 5 minutes; open a Salesforce case if it persists",
    ],
    "unknown": lambda ctx: [
        f"curl -s {ctx.status_url}/v1/incidents/active",
        "check this host's network path to Salesforce (proxy, DNS, firewall)",
        _RERUN,
    ],
    "healthy": lambda _: [],
}


def next_steps(verdict: Verdict, ctx: Context) -> list[str]:
    """The exact next commands for *verdict*."""
    return _STEPS[verdict](ctx)
