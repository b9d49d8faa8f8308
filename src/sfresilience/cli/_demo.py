"""``sfresilience demo``: the incident drill against an embedded fake org, shown live."""

from __future__ import annotations

import json
import random
import sys
import time

from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .._decorators import caller
from .._events import Event, EventKind, describe
from .._settings import load_settings
from ..testing import FakeSalesforce, FakeTrust
from ._demo_drill import Action, Drill, Step
from ._demo_json import demo_json
from ._demo_steps import STEPS
from ._postmortem import _render as render_postmortem
from ._triage import render as render_triage


class _Progress:
    """The live view: every step's state, and the running step's counts as events arrive."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.done: list[Step] = []
        self.running: str | None = None
        self.started = 0.0
        self.first_event = 0
        self._spinner = Spinner("dots")

    def __rich__(self) -> Table:
        table = _steps_table("sfresilience incident drill")
        for step in self.done:
            table.add_row(*_row(step))
        if self.running is not None:
            live = _counts(self.events[self.first_event :])
            elapsed = f"{time.monotonic() - self.started:.2f} s"
            table.add_row(self.running, self._spinner, elapsed, "", live)
        for title, _, _ in STEPS[len(self.done) + (self.running is not None) :]:
            table.add_row(Text(title, style="dim"), "", "", "", "")
        return table


def _steps_table(title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("step")
    table.add_column("result")
    table.add_column("time", justify="right")
    table.add_column("requests", justify="right")
    table.add_column("what the library did")
    return table


def _row(step: Step) -> tuple[str, str, str, str, str]:
    mark = "[green]✔ passed[/]" if step.passed else "[red]✘ FAILED[/]"
    return step.title, mark, f"{step.seconds:.2f} s", str(step.requests), _counts(step.events)


def _counts(events: list[Event]) -> str:
    names = {
        EventKind.CLASSIFIED: "errors classified",
        EventKind.RETRY: "retries",
        EventKind.REFRESH: "session refreshes",
        EventKind.RECOVERED: "recoveries",
        EventKind.GIVE_UP: "gave up",
        EventKind.SERVED_FROM_CACHE: "served from cache",
        EventKind.WRITE_REFUSED: "writes refused",
    }
    counts: dict[str, int] = {}
    for event in events:
        name = names.get(event.kind) or event.kind.value.replace("_", " ")
        if event.kind.value.startswith("budget_"):
            name = "budget events"
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{n} {name}" for name, n in counts.items()) or "nothing to do"


def _summarised(events: list[Event]) -> list[str]:
    """One line per kind of event, with a count, so a 12-retry step stays readable."""
    lines: list[str] = []
    counts: dict[tuple[EventKind, str], int] = {}  # (kind, category or reason) -> times
    first: dict[tuple[EventKind, str], Event] = {}
    for event in events:
        if event.kind is EventKind.CLASSIFIED:
            continue
        key: tuple[EventKind, str] = (event.kind, _told_apart_by(event))
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, event)
    for key, event in first.items():
        times = f" (x{counts[key]})" if counts[key] > 1 else ""
        line = _line(event)
        if len(line) > _LONGEST_LINE:
            line = line[: _LONGEST_LINE - 1] + "…"
        lines.append(line + times)
    return lines or ["nothing to do"]


_LONGEST_LINE = 160
"""Characters of one event's line (a cache serve's reason quotes the whole error)."""


def _line(event: Event) -> str:
    if event.kind is EventKind.SERVED_FROM_CACHE:
        return f"{event.operation}: served from the fallback cache, marked stale"
    return describe(event)


def _told_apart_by(event: Event) -> str:
    """What makes two events of one kind worth two lines: the category, or a budget reason."""
    if event.classification is not None:
        return event.classification.category.value
    if event.kind.value.startswith("budget_"):
        return event.reason or ""  # which threshold was crossed, and which way
    return ""  # breaker moves, cache serves, refused writes: counted together


def _panel(step: Step) -> Panel:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Salesforce", step.salesforce_does)
    for line in _summarised(step.events):
        table.add_row("sfresilience", Text(line))
    for what, holds in step.claims:
        table.add_row("check", f"[green]✔[/] {what}" if holds else f"[red]✘ {what}[/]")
    if step.error:
        table.add_row("check", f"[red]✘ {step.error}[/]")
    mark = "[green]✔[/]" if step.passed else "[red]✘[/]"
    table.add_row("Outcome", f"{mark} {step.outcome}")
    title = f"{step.title}  ({step.seconds:.2f} s, {step.requests} requests)"
    return Panel(table, title=title, title_align="left")


def _run_step(drill: Drill, progress: _Progress, title: str, does: str, action: Action) -> Step:
    step = Step(title, does, source=drill.events, first=len(drill.events))
    progress.first_event = step.first
    progress.started = time.monotonic()
    progress.running = title
    sent = len(drill.org.request_log)
    try:
        # The calls of each step are spent under a caller label of their own: the
        # postmortem's per-caller spend tells the steps apart.
        with caller(title.split(". ", 1)[-1].lower().replace(" ", "-")):
            action(drill, step)
    except Exception as error:  # noqa: BLE001  (the drill reports, never crashes)
        step.error = f"unexpected {type(error).__name__}: {error}"
    step.seconds = time.monotonic() - progress.started
    step.requests = len(drill.org.request_log) - sent
    step.events, step.source = step.seen(), None
    progress.running = None
    progress.done.append(step)
    return step


def run_demo(*, contacts: int = 2500, console: Console | None = None, as_json: bool = False) -> int:
    """Run every drill step live (or quietly, then print JSON); 0 when each did what
    the library claims."""
    console = console or Console()
    events: list[Event] = []
    started = time.monotonic()
    with _fake_org(contacts) as org:
        drill = Drill(org, events)  # list.append is atomic: hooks in threads are safe
        progress = _Progress(drill.events)
        if as_json:
            for title, does, action in STEPS:
                _run_step(drill, progress, title, does, action)
            document = demo_json(progress.done, drill, time.monotonic() - started)
            sys.stdout.write(json.dumps(document, indent=2) + "\n")
        else:
            _show(console, drill, progress, started)
    return 0 if all(step.passed for step in progress.done) else 1


def _fake_org(contacts: int) -> FakeSalesforce:
    return FakeSalesforce(
        # A fleet in Redis remembers an org's budget for a day: with Redis, each drill
        # gets an org of its own (the seed makes the org id).
        seed=random.randrange(2**31) if load_settings().redis_url else 0,
        tls=True,
        trust=FakeTrust(),
        accounts=max(contacts // 25, 2),
        contacts=contacts,
        lock_hold=0.03,
        lock_wait=0.005,
    )


def _show(console: Console, drill: Drill, progress: _Progress, started: float) -> None:
    console.rule("[bold]sfresilience incident drill")
    console.print(
        f"A fake Salesforce org at {drill.org.instance_url}, Trust at {drill.trust.url}.\n"
        "The drill skips ahead instead of waiting: an hour for the API budget's "
        "window, two minutes for the breaker's cooldown.\n"
    )
    with Live(progress, console=console, refresh_per_second=8, transient=True) as live:
        for title, does, action in STEPS:
            live.console.print(_panel(_run_step(drill, progress, title, does, action)))
    _finish(console, progress.done, drill, time.monotonic() - started)


def _finish(console: Console, steps: list[Step], drill: Drill, seconds: float) -> None:
    summary = _steps_table(f"Summary: {len(steps)} steps in {seconds:.1f} s")
    for step in steps:
        summary.add_row(*_row(step))
    console.print(summary)
    if drill.triages:
        console.print("\n[bold]The triage at the end:")
        render_triage(drill.triages[-1], console)
    if drill.incidents:
        console.print("\n[bold]The postmortem it drafted:")
        by_caller = drill.client.budget.by_caller
        # No hourly usage chart: the drill's calls all fall in one hour of its clock.
        render_postmortem(drill.incidents[-1], by_caller, {}, [], console)
    failed = [step.title for step in steps if not step.passed]
    if failed:
        console.print(f"[red]Steps that did not behave: {', '.join(failed)}")
    else:
        console.print("[green]Every step behaved as the runbook says.")
