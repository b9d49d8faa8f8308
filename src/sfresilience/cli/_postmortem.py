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

from .._settings import Settings, load_settings
from .._store import Store
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
)
from ._incident import Refusal, read_incident, timeline_of
from ._status import _read


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
    by_caller = _spend(settings, timeline.store, notes)
    if output == "json":
        document = {**postmortem_json(incident, by_caller), "notes": notes}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    elif output == "markdown":
        sys.stdout.write(postmortem_markdown(incident, by_caller))
    else:
        _render(incident, by_caller, notes, Console())
    return 1 if incident.state == "ongoing" else 0


def _spend(settings: Settings, store: Store, notes: list[str]) -> dict[str, int]:
    """API calls per caller over the last 24 hours, from the budget ledger of the SF_* org."""
    _, budget = _read(settings, store, notes)
    return dict(budget.by_caller) if budget is not None else {}


def _render(
    incident: Incident, by_caller: Mapping[str, int], notes: list[str], console: Console
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
    chart = chart_of(incident)
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
