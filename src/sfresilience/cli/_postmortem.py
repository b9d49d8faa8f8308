"""``sfresilience postmortem``: the runbook's postmortem draft, filled from the timeline."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Final

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._budget import install as install_budget
from .._redact import redact
from .._settings import Settings, load_settings
from .._store import Store, StoreUnavailable
from ..incident import (
    Incident,
    action_items,
    chart_of,
    clock_time,
    lasting,
    postmortem_json,
    postmortem_markdown,
    summary_line,
    terminal,
    timeline_rows,
    usage_chart,
)
from ._incident import Refusal, read_incident, timeline_of
from ._status import _client


_HOUR: Final = 3600.0
_LEDGER_HOURS: Final = 25
"""Hours the budget ledger keeps per-caller spend for."""
_SHOWN_ROWS: Final = 20
"""Timeline rows in the terminal view (the newest); the Markdown has more."""


def run(*, since: str, output: str) -> int:
    """Print the draft as *output* (``terminal``, ``markdown``, ``json``); 1 while it goes on."""
    settings = load_settings()
    try:
        timeline = timeline_of(settings)
        incident = read_incident(timeline, since)
    except Refusal as refusal:
        typer.echo(f"sfresilience postmortem: {refusal}", err=True)
        return 1
    notes: list[str] = []
    by_caller, hourly = _ledger(settings, timeline.store, notes, incident)
    if output == "json":
        document = {**postmortem_json(incident, by_caller, hourly), "notes": notes}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    elif output == "markdown":
        sys.stdout.write(postmortem_markdown(incident, by_caller, hourly))
    else:
        _render(incident, by_caller, hourly, notes, Console())
    return 1 if incident.state == "ongoing" else 0


def _ledger(
    settings: Settings, store: Store, notes: list[str], incident: Incident
) -> tuple[dict[str, int], dict[float, dict[str, int]]]:
    """API calls per caller over 24 hours, and per hour of the incident, from the budget
    ledger of the SF_* org (it keeps a counter per caller per hour)."""
    sf = _client(notes)
    if sf is None:
        return {}, {}
    budget = install_budget(sf, settings, store=store).budget
    first = int((incident.start or incident.since) // _HOUR)
    last = int(incident.now // _HOUR)
    hours = range(max(first, last - _LEDGER_HOURS + 1), last + 1)
    try:
        by_caller = dict(budget.snapshot().by_caller)
        # The ledger's own key for an hour: one counter hash per caller label.
        keys = {hour: budget._spent_key(hour) for hour in hours}  # noqa: SLF001
        hourly = {hour * _HOUR: budget.store.totals([key]) for hour, key in keys.items()}
    except StoreUnavailable as error:
        notes.append(f"Redis failed while reading the budget ledger: {redact(str(error))}")
        return {}, {}
    return by_caller, hourly


def _render(
    incident: Incident,
    by_caller: Mapping[str, int],
    hourly: Mapping[float, Mapping[str, int]],
    notes: list[str],
    console: Console,
) -> None:
    console.print(Text("Postmortem draft", style="bold"))
    console.print(Text(summary_line(incident)))
    facts = Table(box=None, show_header=False, pad_edge=False)
    facts.add_row("severity", incident.severity or "none")
    facts.add_row("state", incident.state)
    facts.add_row("started", clock_time(incident.start) if incident.start else "n/a")
    facts.add_row("duration", lasting(incident.duration))
    for name, count in incident.impact.to_json().items():
        facts.add_row(name.replace("_", " "), f"{count:,}")
    console.print(facts)
    for chart in (chart_of(incident), usage_chart(hourly)):
        if chart is not None:
            console.print(terminal(chart))
    rows = timeline_rows(incident)[-_SHOWN_ROWS:]
    if rows:
        table = Table("UTC", "what the library saw", title="Timeline", title_justify="left")
        for at, text in rows:
            table.add_row(clock_time(at), Text(text))
        console.print(table)
    _callers(by_caller, console)
    items = action_items(incident, by_caller)
    console.print(Text("Action items", style="bold"))
    for item in items or ["None derived: review the timeline."]:
        console.print(Text(f"  [ ] {item}"))
    for note in notes:
        console.print(Text(f"note: {note}", style="dim"))
    console.print(Text("`--format markdown` prints the draft with its Mermaid chart.", style="dim"))


def _callers(by_caller: Mapping[str, int], console: Console) -> None:
    if not by_caller:
        return
    table = Table("caller", "calls", title="API calls by caller (24 h)", title_justify="left")
    for name, calls in sorted(by_caller.items(), key=lambda item: -item[1]):
        table.add_row(Text(name), f"{calls:,}")
    console.print(table)
