"""What the timeline says happened: the incident's span, impact, severity and state (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal

from .._timeline import Entry


State = Literal["ongoing", "resolved", "quiet"]
"""``ongoing``: trouble within the last ``QUIET`` seconds; ``resolved``: trouble
before that and none since; ``quiet``: nothing went wrong in the span read."""

QUIET: Final = 600.0
"""Seconds without trouble after which an incident counts as resolved."""

_SEVERITIES: Final = ("P1", "P2", "P3", "P4")


def group_of(kind: str) -> str:  # noqa: PLR0911  (one line per family of kinds)
    """The family an entry's kind belongs to, by name, so that kinds added later
    (``breaker_open``, ``served_stale``, ``write_refused`` ...) land where they mean."""
    if kind in {"errors", "retry", "give_up", "recovered", "refresh", "mode"}:
        return kind
    if kind.startswith("budget_"):
        return "budget"
    if "breaker" in kind:
        return "breaker"
    if "refused" in kind:
        return "refused"
    if "blocked" in kind:
        return "blocked"
    if "cache" in kind or "stale" in kind or "served" in kind:
        return "cache"
    if kind.startswith("trust"):
        return "trust"
    return "other"


_TROUBLE: Final = frozenset({"errors", "give_up", "blocked", "refused", "cache", "budget"})
"""Families that mean something is wrong (a recovery or a switch alone is not)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Impact:
    """What the incident did to the calls, counted over the span."""

    failed_attempts: int = 0
    retried: int = 0
    recovered: int = 0
    failed: int = 0
    """Calls that gave up and raised."""
    session_refreshes: int = 0
    blocked: int = 0
    """Calls refused by critical-only mode."""
    served_from_cache: int = 0
    writes_refused: int = 0

    def to_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class Incident:
    """The incident the timeline tells of between ``since`` and ``now``."""

    since: float
    now: float
    entries: tuple[Entry, ...]
    state: State
    severity: str | None
    start: float | None
    end: float | None
    impact: Impact
    errors: tuple[tuple[str, str | None, int], ...]
    """``(category, code, failed attempts)``, most first."""
    operations: tuple[tuple[str, int], ...]
    """Operations that failed, with their failed attempts, most first."""

    @property
    def duration(self) -> float:
        """Seconds from the first to the last trouble (to now while it goes on)."""
        if self.start is None or self.end is None:
            return 0.0
        return max(0.0, (self.now if self.state == "ongoing" else self.end) - self.start)

    def of(self, *groups: str) -> list[Entry]:
        """The entries of the given families, oldest first."""
        return [entry for entry in self.entries if group_of(entry.kind) in groups]

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "severity": self.severity,
            "since": self.since,
            "start": self.start,
            "end": self.end,
            "duration_seconds": round(self.duration, 1),
            "impact": self.impact.to_json(),
            "errors": [
                {"category": category, "code": code, "count": count}
                for category, code, count in self.errors
            ],
            "operations": [{"operation": op, "failed_attempts": n} for op, n in self.operations],
        }


def summarize(entries: Iterable[Entry], *, since: float, now: float) -> Incident:
    """The incident in *entries* (the timeline since *since*), as of *now*."""
    ordered = tuple(sorted(entries, key=lambda e: (e.at, e.kind)))
    trouble = [e for e in ordered if group_of(e.kind) in _TROUBLE]
    start = min((e.at for e in trouble), default=None)
    end = max((e.until for e in trouble), default=None)
    state: State = "quiet"
    if end is not None:
        state = "ongoing" if now - min(end, now) < QUIET else "resolved"
    return Incident(
        since=since,
        now=now,
        entries=ordered,
        state=state,
        severity=_severity(ordered),
        start=start,
        end=end,
        impact=_impact(ordered),
        errors=_errors(ordered),
        operations=_operations(ordered),
    )


def _impact(entries: Sequence[Entry]) -> Impact:
    totals: Counter[str] = Counter()
    for entry in entries:
        totals[group_of(entry.kind)] += entry.count
    return Impact(
        failed_attempts=totals["errors"],
        retried=totals["retry"],
        recovered=totals["recovered"],
        failed=totals["give_up"],
        session_refreshes=totals["refresh"],
        blocked=totals["blocked"],
        served_from_cache=totals["cache"],
        writes_refused=totals["refused"],
    )


def _errors(entries: Sequence[Entry]) -> tuple[tuple[str, str | None, int], ...]:
    counts: Counter[tuple[str, str | None]] = Counter()
    for entry in entries:
        if entry.kind == "errors":
            counts[(entry.category or "UNKNOWN", entry.code)] += entry.count
    return tuple((cat, code, n) for (cat, code), n in counts.most_common())


def _operations(entries: Sequence[Entry]) -> tuple[tuple[str, int], ...]:
    counts: Counter[str] = Counter()
    for entry in entries:
        if entry.kind == "errors" and entry.operation:
            counts[entry.operation] += entry.count
    return tuple(counts.most_common())


def _severity(entries: Sequence[Entry]) -> str | None:
    """The worst severity seen, raised to at least P3 once calls failed, P2 when
    work was refused or the budget went critical, P1 when it was spent."""
    found = {e.severity for e in entries if e.kind == "errors" and e.severity in _SEVERITIES}
    kinds = {e.kind for e in entries}
    groups = {group_of(kind) for kind in kinds}
    if "budget_exhausted" in kinds:
        found.add("P1")
    if "budget_critical" in kinds or groups & {"blocked", "refused", "cache"}:
        found.add("P2")
    if "give_up" in groups:
        found.add("P3")
    return min(found) if found else None


def clock_time(at: float) -> str:
    """``2026-12-02 04:12 UTC``: a moment as the update and postmortem show it."""
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def lasting(seconds: float) -> str:
    """``38 min``, ``2 h 5 min``, ``45 s``."""
    if seconds < 60:  # noqa: PLR2004
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
