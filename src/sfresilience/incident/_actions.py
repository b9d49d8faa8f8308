"""What is being done now, and what to do after: derived from what happened (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Final

from ._summary import Incident


LOCK_STORM: Final = 10
"""Row-lock failures in one incident that make it a lock storm worth fixing at the source."""
HEAVY_SHARE: Final = 0.5
"""Share of the org's calls one caller must spend to be named the heaviest."""
BUSY: Final = 1000
"""Calls by caller in a day past which the heaviest is worth moving even without budget
pressure."""


def _count(incident: Incident, category: str) -> int:
    return sum(n for cat, _, n in incident.errors if cat == category)


def _ops(incident: Incident, category: str, limit: int = 3) -> str:
    """The operations that failed with *category*, most first."""
    counts: Counter[str] = Counter()
    for entry in incident.of("errors"):
        if entry.category == category and entry.operation:
            counts[entry.operation] += entry.count
    return ", ".join(op for op, _ in counts.most_common(limit)) or "the integration"


def current_action(incident: Incident) -> str:
    """One line for the update: what the library and the on-call are doing now."""
    if incident.state == "quiet":
        return "Nothing to do: the library recorded no trouble."
    if incident.state == "resolved":
        return "Monitoring: no trouble recorded for 10 minutes; the postmortem draft is ready."
    doing: list[str] = []
    modes = incident.of("mode")
    if modes and " on " in f" {modes[-1].detail or ''} ":
        doing.append(f"fleet switch on ({modes[-1].detail})")
    if incident.of("blocked") or "budget_critical" in {e.kind for e in incident.entries}:
        doing.append("critical-only mode holds back non-critical work")
    breaker = incident.of("breaker")
    if breaker and not breaker[-1].kind.endswith("closed"):
        doing.append("circuit breaker open: calls to Salesforce stopped, writes refused")
    if incident.impact.served_from_cache:
        doing.append("reads served from the fallback cache")
    if _count(incident, "ROW_LOCK"):
        doing.append("writes to locked records queued and retried")
    if incident.impact.session_refreshes:
        doing.append("expired sessions refreshed automatically")
    doing.append("on-call: run `sfresilience triage` for the verdict and next steps")
    text = "; ".join(doing)
    return text[0].upper() + text[1:] + "."


def action_items(incident: Incident, by_caller: Mapping[str, int]) -> list[str]:
    """The postmortem's action items, each tied to something the timeline shows."""
    items: list[str] = []
    kinds = {entry.kind for entry in incident.entries}
    budget_events = sorted(kind for kind in kinds if kind.startswith("budget_"))
    heaviest = max(by_caller.items(), key=lambda item: item[1], default=None)
    total = sum(by_caller.values())
    pressed = bool(budget_events) or total >= BUSY
    if heaviest is not None and pressed and heaviest[1] / total >= HEAVY_SHARE:
        items.append(
            f"Move `{heaviest[0]}` to Bulk API 2.0 or batch its calls: it spent "
            f"{heaviest[1]:,} of the {total:,} API calls recorded by caller."
        )
    if budget_events:
        items.append(
            "Review the budget guard (SFRESILIENCE_BUDGET_WARN / SFRESILIENCE_BUDGET_CRITICAL) "
            f"and the org's allocation: the budget crossed {', '.join(budget_events)}."
        )
    locks = _count(incident, "ROW_LOCK")
    if locks >= LOCK_STORM:
        where = _ops(incident, "ROW_LOCK")
        items.append(
            f"Lock storm ({locks:,} UNABLE_TO_LOCK_ROW on {where}): serialize writes "
            "to the same parent records (group by parent id, one writer per parent)."
        )
    items.extend(_error_items(incident))
    if incident.impact.failed:
        items.append(
            f"Replay or reconcile the {incident.impact.failed:,} call(s) that gave up; "
            "the application's logs name them."
        )
    if incident.impact.blocked:
        items.append(
            f"{incident.impact.blocked:,} call(s) were held back by critical-only mode: check "
            "that the work that must run is marked critical (`critical()`)."
        )
    if incident.of("trust"):
        items.append("Subscribe the on-call channel to Trust notifications for the instance.")
    return items


def _error_items(incident: Incident) -> list[str]:
    items: list[str] = []
    refreshes = incident.impact.session_refreshes
    if refreshes:
        items.append(
            f"{refreshes:,} session refresh(es): check the session timeout and whether "
            "someone revokes the integration user's sessions."
        )
    if _count(incident, "AUTH_FAILED"):
        items.append("Credentials were refused: rotate or re-authorize the integration user.")
    bugs = [
        f"{code or cat} x{n}"
        for cat, code, n in incident.errors
        if cat in {"INVALID_REQUEST", "DATA_REJECTED", "NOT_FOUND", "PERMISSION_DENIED"}
    ]
    if bugs:
        items.append(f"Fix the code or data bugs behind {', '.join(bugs)} (retries cannot).")
    outage = _count(incident, "SERVER_ERROR") + _count(incident, "UNAVAILABLE")
    if outage:
        items.append(
            f"{outage:,} server error(s) or unreachable answers: compare with Trust for the "
            "window and make sure reads have a fallback."
        )
    return items
