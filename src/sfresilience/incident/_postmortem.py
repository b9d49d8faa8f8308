"""The postmortem draft: the runbook's template filled from the timeline (pure)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Final

from .._timeline import Entry
from ._actions import action_items
from ._chart import Chart, chart_of, mermaid, usage_chart
from ._summary import Incident, clock_time, group_of, lasting


_MOST_ROWS: Final = 60
"""Timeline rows in the draft; the rest are counted in one closing line."""
_SAID: Final = {
    "retry": "retried",
    "give_up": "gave up",
    "recovered": "recovered",
    "refresh": "session refreshed",
    "blocked": "blocked by critical-only",
    "cache": "served from cache",
    "refused": "write refused",
}


def _said(entry: Entry) -> str:
    """One entry as a phrase: ``ROW_LOCK (UNABLE_TO_LOCK_ROW) x40 on Contact.update``."""
    group = group_of(entry.kind)
    if group == "errors":
        what = (entry.category or "UNKNOWN") + (
            f" ({entry.code})" if entry.code and entry.code != entry.category else ""
        )
    else:
        what = _SAID.get(group, entry.kind.replace("_", " "))
    text = f"{what} x{entry.count:,}" if entry.count != 1 or group == "errors" else what
    if entry.operation:
        text += f" on {entry.operation}"
    return text + (f": {entry.detail}" if entry.detail else "")


def timeline_rows(incident: Incident) -> list[tuple[float, str]]:
    """One row per window: when, and everything counted in it."""
    by_window: dict[float, list[str]] = defaultdict(list)
    for entry in incident.entries:
        by_window[entry.at].append(_said(entry))
    return [(at, "; ".join(parts)) for at, parts in sorted(by_window.items())]


def summary_line(incident: Incident) -> str:
    if incident.state == "quiet":
        return f"No incident: the library recorded no trouble since {clock_time(incident.since)}."
    top = ", ".join(f"{cat} x{n:,}" for cat, _, n in incident.errors[:3]) or "no classified errors"
    i = incident.impact
    state = "is ongoing" if incident.state == "ongoing" else "was resolved"
    return (
        f"{incident.severity or 'P4'} incident that {state}: {top}. "
        f"{i.failed:,} call(s) failed, {i.recovered:,} recovered after retries, "
        f"{i.blocked:,} blocked, {i.served_from_cache:,} served from cache."
    )


Hourly = Mapping[float, Mapping[str, int]]
"""API calls per caller in each hour (its start, seconds since the epoch) of the incident."""


def _charted(chart: Chart | None) -> dict[str, Any] | None:
    if chart is None:
        return None
    return {
        "bucket_seconds": chart.size,
        "starts": list(chart.starts),
        "series": {s.name: list(s.counts) for s in chart.series},
    }


def postmortem_json(
    incident: Incident, by_caller: Mapping[str, int], hourly: Hourly | None = None
) -> dict[str, Any]:
    """The draft as one JSON document."""
    return {
        "summary": summary_line(incident),
        **incident.to_json(),
        "timeline": [entry.to_json() for entry in incident.entries],
        "by_caller": dict(sorted(by_caller.items(), key=lambda item: -item[1])),
        "action_items": action_items(incident, by_caller),
        "chart": _charted(chart_of(incident)),
        "api_usage_chart": _charted(usage_chart(hourly or {})),
    }


def postmortem_markdown(
    incident: Incident, by_caller: Mapping[str, int], hourly: Hourly | None = None
) -> str:
    """The draft in Markdown, with a Mermaid chart of the errors over the incident."""
    i = incident.impact
    out = [
        "# Postmortem: Salesforce integration incident (draft)",
        "",
        f"*Drafted by sfresilience from the timeline since {clock_time(incident.since)}.*",
        "",
        "## Summary",
        "",
        summary_line(incident),
        "",
        f"- **Severity:** {incident.severity or 'none'}",
        f"- **State:** {incident.state}",
        f"- **Started:** {clock_time(incident.start) if incident.start else 'n/a'}",
        f"- **Ended:** {_ended(incident)}",
        f"- **Duration:** {lasting(incident.duration)}",
        "",
        "## Impact",
        "",
        "| calls | count |",
        "|---|---:|",
        *(f"| {name.replace('_', ' ')} | {n:,} |" for name, n in i.to_json().items()),
        "",
    ]
    chart = chart_of(incident)
    if chart is not None:
        out += ["## Errors over the incident", "", mermaid(chart), ""]
    usage = usage_chart(hourly or {})
    if usage is not None:
        out += ["## API usage over the incident (budget ledger, per hour)", "", mermaid(usage), ""]
    out += _timeline_section(incident)
    out += _callers_section(by_caller)
    items = action_items(incident, by_caller)
    out += ["## Action items", ""]
    out += [f"- [ ] {item}" for item in items] or ["- [ ] None derived: review the timeline."]
    return "\n".join(out) + "\n"


def _ended(incident: Incident) -> str:
    if incident.end is None:
        return "n/a"
    return "ongoing" if incident.state == "ongoing" else clock_time(incident.end)


def _timeline_section(incident: Incident) -> list[str]:
    rows = timeline_rows(incident)
    out = ["## Timeline", "", "| when (window start) | what the library saw |", "|---|---|"]
    out += [f"| {clock_time(at)} | {text.replace('|', '/')} |" for at, text in rows[:_MOST_ROWS]]
    if len(rows) > _MOST_ROWS:
        out.append(f"| … | {len(rows) - _MOST_ROWS} more window(s); `--format json` has all |")
    if not rows:
        out.append("| — | nothing recorded |")
    return [*out, ""]


def _callers_section(by_caller: Mapping[str, int]) -> list[str]:
    out = ["## API calls by caller (last 24 h)", ""]
    if not by_caller:
        return [*out, "No per-caller spend recorded (it needs Redis and the SF_* org).", ""]
    total = sum(by_caller.values())
    out += ["| caller | calls | share |", "|---|---:|---:|"]
    for name, calls in sorted(by_caller.items(), key=lambda item: -item[1]):
        out.append(f"| {name.replace('|', '/')} | {calls:,} | {calls / total:.0%} |")
    return [*out, ""]
