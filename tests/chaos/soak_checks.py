"""What the soak promises, checked against the fake's records and request log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfresilience.testing import FakeSalesforce


if TYPE_CHECKING:
    from tests.chaos.soak import Phase


def check(phase: Phase, fake: FakeSalesforce, *, checked_fleet: bool) -> list[str]:
    """Every broken promise of *phase*, one line each (empty: all kept).

    Bulk jobs reported failed whose records landed anyway go to `phase.findings`.
    """
    contacts = fake.org.records("Contact")
    broken = [f"unclassified error: {line}" for r in phase.reports for line in r.unclassified]
    copies = _copies_by_external_id(contacts)
    broken += _copies(phase, copies)
    phase.findings = _bulk_applied_after_error(phase, copies)
    broken += _updates(phase, contacts)
    refused = sum(1 for r in fake.request_log if r.status == 403)
    if refused:
        broken.append(f"budget overrun: Salesforce refused {refused} calls with 403")
    if checked_fleet:
        views = {tuple(sorted(r.by_caller.items())) for r in phase.reports}
        if len(views) != 1:
            broken.append(f"the fleet's per-caller counters disagree: {sorted(views)}")
    return broken


def _copies_by_external_id(contacts: list[dict[str, Any]]) -> dict[str, int]:
    copies: dict[str, int] = {}
    for record in contacts:
        external = record.get("External_Id__c")
        if isinstance(external, str) and not record.get("IsDeleted"):
            copies[external] = copies.get(external, 0) + 1
    return copies


def _bulk_applied_after_error(phase: Phase, copies: dict[str, int]) -> list[str]:
    """Bulk rows whose job the caller was told failed (not "may have been applied"), but ran."""
    landed = [
        external
        for report in phase.reports
        for external, verdict in report.created.items()
        if verdict == "bulk-failed" and copies.get(external)
    ]
    if not landed:
        return []
    return [f"{len(landed)} Bulk rows landed although their job was reported failed: {landed[:5]}"]


def _copies(phase: Phase, copies: dict[str, int]) -> list[str]:
    """Each created record: once if reported done, never if refused, never twice."""
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
