"""What the soak promises, checked against the fake's records and request log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfresilience.testing import FakeSalesforce


if TYPE_CHECKING:
    from tests.chaos.soak import Phase


def check(phase: Phase, fake: FakeSalesforce, *, checked_fleet: bool) -> list[str]:
    """Every broken promise of *phase*, one line each (empty: all kept)."""
    contacts = fake.org.records("Contact")
    broken = [f"unclassified error: {line}" for r in phase.reports for line in r.unclassified]
    broken += _copies(phase, contacts)
    broken += _updates(phase, contacts)
    refused = sum(1 for r in fake.request_log if r.status == 403)
    if refused:
        broken.append(f"budget overrun: Salesforce refused {refused} calls with 403")
    if checked_fleet:
        views = {tuple(sorted(r.by_caller.items())) for r in phase.reports}
        if len(views) != 1:
            broken.append(f"the fleet's per-caller counters disagree: {sorted(views)}")
    return broken


def _copies(phase: Phase, contacts: list[dict[str, Any]]) -> list[str]:
    """Each created record: once if reported done, never if refused, never twice."""
    copies: dict[str, int] = {}
    for record in contacts:
        external = record.get("External_Id__c")
        if isinstance(external, str) and not record.get("IsDeleted"):
            copies[external] = copies.get(external, 0) + 1
    broken = []
    for report in phase.reports:
        for external, verdict in report.created.items():
            count = copies.get(external, 0)
            if count > 1:
                broken.append(f"duplicate write: {external} exists {count} times")
            elif verdict == "ok" and count != 1:
                broken.append(f"lost write: {external} was reported created but is missing")
            elif verdict == "refused" and count:
                broken.append(f"phantom write: {external} was reported refused but exists")
    return broken


def _updates(phase: Phase, contacts: list[dict[str, Any]]) -> list[str]:
    """A record's Title is its last update reported done, or a later one that may have been."""
    titles = {str(record["Id"]): record.get("Title") for record in contacts}
    broken = []
    for report in phase.reports:
        for record, history in report.updates.items():
            allowed: set[str | None] = {None}
            for title, verdict in history:
                if verdict == "ok":
                    allowed = {title}
                elif verdict == "ambiguous":
                    allowed.add(title)
            if titles.get(record) not in allowed:
                broken.append(f"lost update: {record} has {titles.get(record)!r}, not {allowed}")
    return broken
