"""The five quick-triage checks; each says ok / warn / fail / unknown / skipped, and why.

Each check returns a :class:`Check` whose ``finding`` is what the decision tree
reads (a verdict it points at, or None). Checks never raise: whatever goes
wrong is what they report.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Literal

from simple_salesforce.api import Salesforce

from .._budget import Budget
from .._classify import Classification, ErrorCategory, classify
from .._redact import redact
from .._store import StoreUnavailable
from .._timeline import Timeline
from ..exceptions import BudgetExhausted, SFResilienceError
from ._status import InstanceHealth, StatusSource, StatusUnavailable


__all__ = [
    "STORM",
    "Check",
    "OrgProbe",
    "check_auth",
    "check_instance_status",
    "check_limits",
    "check_recent_errors",
    "check_trust_incidents",
]

Status = Literal["ok", "warn", "fail", "unknown", "skipped"]

STORM = 10
"""Errors of one category in the recent window that make it the verdict."""
RECENT = 15 * 60.0
"""Seconds of the timeline the recent-errors check reads."""


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One line of the triage: ``name``, ``status``, ``detail`` (and what it points at)."""

    name: str
    status: Status
    detail: str
    finding: str | None = None
    """The verdict this check points at, if any (``"row_lock"``, ``"maintenance"`` ...)."""

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


# The org: auth and the instance key ----------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class OrgProbe:
    """What asking the org for its instance found."""

    check: Check
    instance: str | None
    """``InstanceName`` when the org answered."""
    client: Salesforce | None
    """A client that works, for the limits check (None: none does)."""
    refused: Classification | None = None
    """Why the org refused the question, when it did."""


_ORG_QUERY = "SELECT InstanceName, IsSandbox FROM Organization LIMIT 1"

_AUTH_FINDINGS: Mapping[ErrorCategory, tuple[Status, str | None]] = {
    ErrorCategory.AUTH_FAILED: ("fail", "auth_failed"),
    ErrorCategory.PERMISSION_DENIED: ("fail", "auth_failed"),
    ErrorCategory.MAINTENANCE: ("unknown", "maintenance"),
    ErrorCategory.SERVER_ERROR: ("unknown", "server_error"),
    ErrorCategory.UNAVAILABLE: ("unknown", "unreachable"),
}


def check_auth(
    connect: Callable[[], Salesforce],
    relogin: Callable[[], Salesforce] | None,
) -> OrgProbe:
    """Log in (or use the token) and read ``InstanceName``; an expired session tries *relogin*."""
    try:
        client = connect()
        return _instance_of(client, "session accepted")
    except Exception as error:  # noqa: BLE001  (every failure is a finding)
        first = _classified(error)
    if first.category is not ErrorCategory.SESSION_EXPIRED:
        return _refused(first)
    if relogin is None:
        detail = (
            f"the access token was refused ({first.error_code or 'INVALID_SESSION_ID'}): it "
            "expired or was revoked, and no refresh token is configured to log in again"
        )
        return OrgProbe(Check("auth", "fail", detail, "session_expired"), None, None, first)
    try:
        client = relogin()
        probe = _instance_of(client, "the session had expired; logging in again worked")
    except Exception as error:  # noqa: BLE001
        second = _classified(error)
        detail = (
            f"the session had expired and logging in again was refused "
            f"({second.error_code or second.category.value}: {second.message})"
        )
        return OrgProbe(Check("auth", "fail", detail, "auth_failed"), None, None, second)
    check = dataclasses.replace(probe.check, status="warn", finding="session_expired")
    return dataclasses.replace(probe, check=check)


def _classified(error: Exception) -> Classification:
    if isinstance(error, BudgetExhausted):
        return classify(
            status=403,
            body=[
                {"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}
            ],
        )
    return classify(error)


def _instance_of(client: Salesforce, how: str) -> OrgProbe:
    records = client.query(_ORG_QUERY).get("records") or [{}]
    instance = str(records[0].get("InstanceName") or "") or None
    detail = f"{how}; the org runs on instance {instance or '(not reported)'}"
    return OrgProbe(Check("auth", "ok", detail), instance, client)


def _refused(classification: Classification) -> OrgProbe:
    what = f"{classification.error_code or classification.category.value}: {classification.message}"
    status, finding = _AUTH_FINDINGS.get(classification.category, ("ok", None))
    if status == "ok":
        # The org knew the session and refused the call for another reason (limits).
        detail = f"session accepted; the org refused the call ({what})"
    elif finding == "unreachable":
        detail = f"Salesforce did not answer ({what})"
    else:
        detail = f"the org refused the login or the call ({what})"
    return OrgProbe(Check("auth", status, detail, finding), None, None, classification)


# Trust: incidents and instance status -----------------------------------------


def read_instance(source: StatusSource, key: str | None, *, timeout: float) -> InstanceHealth | str:
    """The instance's health, or why it is not known."""
    if key is None:
        return (
            "the org's instance is not known: Salesforce did not say, and no instance "
            "was remembered from a healthy run (it is kept in Redis)"
        )
    try:
        return source.instance(key, timeout=timeout)
    except StatusUnavailable as unavailable:
        return f"status API unreachable, so unknown (not healthy): {unavailable}"


def check_trust_incidents(health: InstanceHealth | str) -> Check:
    if isinstance(health, str):
        return Check("trust_incidents", "unknown", health)
    core = [i for i in health.incidents if i.is_core]
    if core:
        listed = "; ".join(f"#{i.id} {i.severity}: {i.summary}" for i in core)
        detail = f"{len(core)} active core incident(s) on {health.key}: {listed}"
        return Check("trust_incidents", "fail", detail, "salesforce_incident")
    if health.incidents:
        listed = "; ".join(f"#{i.id} {i.summary}" for i in health.incidents)
        return Check("trust_incidents", "warn", f"non-core incident(s) on {health.key}: {listed}")
    return Check("trust_incidents", "ok", f"no active incident on {health.key}")


def check_instance_status(health: InstanceHealth | str) -> Check:
    if isinstance(health, str):
        return Check("instance_status", "unknown", health)
    ongoing = [m for m in health.maintenances if m.is_core]
    if ongoing or health.status == "MAINTENANCE_CORE":
        listed = "; ".join(f"#{m.id} {m.summary}" for m in ongoing) or "core maintenance"
        detail = f"{health.key} is {health.status}: {listed}"
        return Check("instance_status", "fail", detail, "maintenance")
    if health.status == "OK":
        return Check("instance_status", "ok", f"{health.key} is OK")
    if health.status.endswith("_CORE") and "INCIDENT" in health.status:
        return Check(
            "instance_status", "fail", f"{health.key} is {health.status}", "salesforce_incident"
        )
    return Check("instance_status", "warn", f"{health.key} is {health.status}")


# Limits ----------------------------------------------------------------------


def check_limits(
    probe: OrgProbe, read: Callable[[Salesforce], Mapping[str, Any]], budget: Budget | None
) -> Check:
    """``DailyApiRequests`` from ``/limits``, beside the budget guard's fleet view."""
    fleet = _fleet_view(budget)
    refused = probe.refused
    if refused is not None and refused.category is ErrorCategory.API_LIMIT_EXCEEDED:
        detail = f"the org refused calls: {refused.message}{fleet}"
        return Check("api_limits", "fail", detail, "api_limit_exceeded")
    if refused is not None and refused.category is ErrorCategory.CONCURRENCY_LIMIT:
        detail = f"too many long-running requests at once: {refused.message}{fleet}"
        return Check("api_limits", "fail", detail, "concurrency_limit")
    if probe.client is None:
        return Check("api_limits", "unknown", f"not read: no working session{fleet}")
    try:
        limits = read(probe.client)
    except Exception as error:  # noqa: BLE001
        classification = _classified(error)
        if classification.category is ErrorCategory.API_LIMIT_EXCEEDED:
            detail = f"{classification.message}{fleet}"
            return Check("api_limits", "fail", detail, "api_limit_exceeded")
        return Check("api_limits", "unknown", f"/limits failed: {classification.message}{fleet}")
    return _daily(limits.get("DailyApiRequests"), fleet)


def _daily(daily: object, fleet: str) -> Check:
    if not isinstance(daily, dict):
        return Check("api_limits", "unknown", f"/limits has no DailyApiRequests{fleet}")
    limit, remaining = int(daily.get("Max", 0)), int(daily.get("Remaining", 0))
    used = limit - remaining
    detail = f"{used:,} of {limit:,} daily API calls used, {remaining:,} left{fleet}"
    if remaining <= 0:
        return Check("api_limits", "fail", detail, "api_limit_exceeded")
    if limit and used / limit >= 0.8:  # noqa: PLR2004  (the runbook's warning line)
        return Check("api_limits", "warn", detail)
    return Check("api_limits", "ok", detail)


def _fleet_view(budget: Budget | None) -> str:
    if budget is None or budget.used is None or budget.limit is None:
        return ""
    heaviest = sorted(budget.by_caller.items(), key=lambda item: -item[1])[:3]
    callers = ", ".join(f"{name} {count:,}" for name, count in heaviest)
    text = f"; budget guard: {budget.used:,}/{budget.limit:,} ({budget.level})"
    return text + (f", by caller: {callers}" if callers else "")


# Recent errors -----------------------------------------------------------------

_STORM_FINDINGS: Mapping[str, str] = {
    ErrorCategory.ROW_LOCK: "row_lock",
    ErrorCategory.CONCURRENCY_LIMIT: "concurrency_limit",
    ErrorCategory.INVALID_REQUEST: "code_bug",
    ErrorCategory.SERVER_ERROR: "server_error",
    ErrorCategory.UNAVAILABLE: "server_error",
    ErrorCategory.API_LIMIT_EXCEEDED: "api_limit_exceeded",
    ErrorCategory.AUTH_FAILED: "auth_failed",
    ErrorCategory.MAINTENANCE: "maintenance",
}


def check_recent_errors(timeline: Timeline | None, *, now: float) -> Check:
    """Classified errors the fleet saw in the last 15 minutes, by category."""
    if timeline is None:
        return Check(
            "recent_errors",
            "skipped",
            "no fleet history: SFRESILIENCE_REDIS_URL is unset, so each process keeps its own",
        )
    try:
        entries = timeline.entries(since=now - RECENT)
    except (SFResilienceError, StoreUnavailable) as error:
        return Check(
            "recent_errors", "unknown", f"the timeline could not be read: {redact(str(error))}"
        )
    errors: Counter[str] = Counter()
    codes: dict[str, Counter[str]] = {}
    for entry in entries:
        if entry.kind == "errors" and entry.category:
            errors[entry.category] += entry.count
            codes.setdefault(entry.category, Counter())[entry.code or "-"] += entry.count
    if not errors:
        return Check("recent_errors", "ok", "no classified errors in the last 15 minutes")
    listed = ", ".join(
        f"{category} {count}" + _top_code(codes[category])
        for category, count in errors.most_common()
    )
    detail = f"last 15 minutes: {listed}"
    storms = [(c, n) for c, n in errors.most_common() if n >= STORM and c in _STORM_FINDINGS]
    if storms:
        return Check("recent_errors", "fail", detail, _STORM_FINDINGS[storms[0][0]])
    return Check("recent_errors", "warn", detail)


def _top_code(codes: Counter[str]) -> str:
    code, _ = codes.most_common(1)[0]
    return "" if code == "-" else f" ({code})"
