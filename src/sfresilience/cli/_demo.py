"""``sfresilience demo``: the incident drill against an embedded fake org."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

import requests
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from .._client import ResilientClient
from .._events import Event, EventKind, describe
from .._freshness import freshness
from .._settings import Settings
from ..exceptions import BudgetExhausted
from ..testing import FakeSalesforce, FakeTrust


@dataclasses.dataclass
class _Step:
    title: str
    salesforce_does: str
    outcome: str = ""
    passed: bool = True
    events: list[Event] = dataclasses.field(default_factory=list)


class _Drill:
    def __init__(self, org: FakeSalesforce, trust: FakeTrust, console: Console) -> None:
        self.org = org
        self.trust = trust
        self.console = console
        self.events: list[Event] = []
        self.hours_passed = 0.0  # the drill jumps the budget's clock instead of waiting
        self.client = ResilientClient(
            org.client(),
            settings=Settings(
                retry_attempts=12,
                retry_deadline=2.0,
                backoff_initial=0.02,
                backoff_max=0.4,
            ),
            on_event=self.events.append,
            wall_clock=lambda: time.time() + self.hours_passed * 3600,
        )
        self.instance = org.org.instance_name
        self.incident: int | None = None
        self.results: list[_Step] = []

    def step(self, title: str, salesforce_does: str, action: Callable[[_Step], None]) -> None:
        step = _Step(title, salesforce_does)
        self.events.clear()
        try:
            action(step)
        except Exception as error:  # noqa: BLE001  (the drill reports, never crashes)
            step.passed = False
            step.outcome = f"unexpected {type(error).__name__}: {error}"
        step.events = list(self.events)
        self.results.append(step)
        self._show(step)

    def _show(self, step: _Step) -> None:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold")
        table.add_column()
        table.add_row("Salesforce", step.salesforce_does)
        for event in _summarised(step.events):
            table.add_row("sfresilience", event)
        mark = "[green]✔[/]" if step.passed else "[red]✘[/]"
        table.add_row("Outcome", f"{mark} {step.outcome}")
        self.console.print(Panel(table, title=step.title, title_align="left"))

    def trust_status(self) -> str:
        try:
            response = requests.get(
                f"{self.trust.url}/v1/instances/{self.instance}/status/preview",
                timeout=2,
            )
            return str(response.json()["status"])
        except requests.RequestException:
            return "unreachable (unknown, not healthy)"


def _summarised(events: list[Event]) -> list[str]:
    """One line per kind of event, with a count, so a 12-retry step stays readable."""
    lines: list[str] = []
    counts: dict[tuple[EventKind, str], int] = {}  # (kind, category or reason) -> times
    first: dict[tuple[EventKind, str], Event] = {}
    for event in events:
        if event.kind is EventKind.CLASSIFIED:
            continue
        # An event without a classification (the budget's) is told apart by its reason.
        what = event.classification.category.value if event.classification else event.reason
        key: tuple[EventKind, str] = (event.kind, what or "")
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, event)
    for key, event in first.items():
        times = f" (x{counts[key]})" if counts[key] > 1 else ""
        lines.append(describe(event) + times)
    return lines or ["nothing to do"]


def _healthy(drill: _Drill) -> Callable[[_Step], None]:
    def action(step: _Step) -> None:
        result = drill.client.query_all("SELECT Id, Name, Account.Name FROM Contact")
        instance = drill.client.query("SELECT InstanceName FROM Organization")
        used, limit = drill.org.api_usage, drill.org.api_limit
        step.outcome = (
            f"{result['totalSize']} contacts read across pages from instance "
            f"{instance['records'][0]['InstanceName']}; Trust says "
            f"{drill.trust_status()} (read by the drill); API usage {used}/{limit}"
        )

    return action


def _lock_contention(drill: _Drill) -> Callable[[_Step], None]:
    def action(step: _Step) -> None:
        account = drill.org.org.records("Account")[0]["Id"]
        contacts = [c["Id"] for c in drill.org.org.records("Contact") if c["AccountId"] == account]
        contacts = contacts[:8]
        threads = [
            threading.Thread(target=drill.client.Contact.update, args=(cid, {"Title": "Drilled"}))
            for cid in contacts
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        titles = {c["Title"] for c in drill.org.org.records("Contact") if c["Id"] in contacts}
        step.passed = titles == {"Drilled"}
        step.outcome = f"{len(contacts)} concurrent updates of one Account's Contacts all applied"

    return action


def _session_expiry(drill: _Drill) -> Callable[[_Step], None]:
    def action(step: _Step) -> None:
        logins = drill.org.login_count
        drill.org.faults.expire_sessions()
        drill.client.query("SELECT Id FROM Account LIMIT 5")
        step.passed = drill.org.login_count - logins == 1
        step.outcome = f"query answered after {drill.org.login_count - logins} login"

    return action


def _code_bug(drill: _Drill) -> Callable[[_Step], None]:
    def action(step: _Step) -> None:
        sent = len(drill.org.request_log)
        try:
            drill.client.query("SELECT Id, Nmae FROM Contact")
        except Exception as error:  # noqa: BLE001
            c = error.classification  # type: ignore[attr-defined]
            step.passed = len(drill.org.request_log) - sent == 1
            step.outcome = (
                f"{type(error).__name__} raised after one request, "
                f"classified {c.category.value} ({c.error_code})"
            )

    return action


def _budget(drill: _Drill) -> Callable[[_Step], None]:
    def action(step: _Step) -> None:
        limit = drill.org.api_limit
        drill.org.set_api_usage(int(limit * 0.85))
        drill.client.query("SELECT Id FROM Account LIMIT 1")
        seen = drill.client.budget
        drill.org.set_api_usage(limit)
        try:
            drill.client.query("SELECT Id FROM Account LIMIT 1")
        except Exception as error:  # noqa: BLE001
            c = error.classification  # type: ignore[attr-defined]
            refused = type(error).__name__
        sent = len(drill.org.request_log)
        try:
            drill.client.query("SELECT Id FROM Account LIMIT 1")
            step.passed = False
        except BudgetExhausted:
            step.passed = len(drill.org.request_log) == sent
        drill.org.set_api_usage(0)
        drill.hours_passed += 1
        drill.client.query("SELECT Id FROM Account LIMIT 1")
        step.outcome = (
            f"Sforce-Limit-Info read {seen.used}/{seen.limit} ({seen.level}); at the limit "
            f"{refused} classified {c.category.value}, not retried; the next call was "
            f"refused without being sent; an hour later /limits showed calls free again "
            f"and calls resumed by themselves"
        )

    return action


def _burst(drill: _Drill) -> Callable[[_Step], None]:
    def action(step: _Step) -> None:
        drill.org.faults.server_errors(3, status=503)
        drill.client.query("SELECT Id FROM Account LIMIT 1")
        step.outcome = "the burst was ridden through; the caller saw nothing"

    return action


def _outage(drill: _Drill) -> Callable[[_Step], None]:
    def action(step: _Step) -> None:
        drill.incident = drill.trust.open_incident(drill.instance, severity="major")
        drill.org.faults.outage()
        try:
            served = freshness(drill.client.query("SELECT Id FROM Account LIMIT 1"))
            step.passed = served is not None
            if served is not None:
                step.outcome = (
                    f"served from the fallback cache ({served.age:.1f} s old), marked by "
                    f"freshness(); Trust says {drill.trust_status()} (read by the drill)"
                )
        except requests.ConnectionError as error:
            c = error.classification  # type: ignore[attr-defined]
            step.outcome = (
                f"{type(error).__name__} classified {c.category.value}, raised within "
                f"the 2 s deadline; Trust says {drill.trust_status()} (read by the drill)"
            )

    return action


def _recovery(drill: _Drill) -> Callable[[_Step], None]:
    def action(step: _Step) -> None:
        drill.org.faults.restore()
        if drill.incident is not None:
            drill.trust.resolve_incident(drill.incident)
        total = drill.client.query("SELECT COUNT() FROM Contact")["totalSize"]
        step.outcome = (
            f"{total} contacts counted; Trust says {drill.trust_status()} (read by the drill)"
        )

    return action


def run_demo(*, contacts: int = 2500, console: Console | None = None) -> int:
    """Run every drill step; 0 when each behaved as the runbook says."""
    console = console or Console()
    with (
        FakeSalesforce(
            accounts=max(contacts // 25, 2),
            contacts=contacts,
            lock_hold=0.03,
            lock_wait=0.005,
        ) as org,
        FakeTrust(instances=(org.org.instance_name,)) as trust,
    ):
        drill = _Drill(org, trust, console)
        console.rule("[bold]sfresilience incident drill")
        console.print(
            f"A fake Salesforce org at {org.url} ({org.instance_url}), Trust at {trust.url}\n"
        )
        drill.step("1. Healthy org", "answers queries, pages of 2,000", _healthy(drill))
        drill.step(
            "2. Record-lock contention",
            "UNABLE_TO_LOCK_ROW while a write holds the Account",
            _lock_contention(drill),
        )
        drill.step(
            "3. Session expiry",
            "every session expires: 401 INVALID_SESSION_ID",
            _session_expiry(drill),
        )
        drill.step("4. Code bug", "400 INVALID_FIELD for a misspelt field", _code_bug(drill))
        drill.step(
            "5. API budget pressure",
            "85 % of the daily allocation used, then 100 %",
            _budget(drill),
        )
        drill.step("6. 503 burst", "three 503 CDN pages in a row", _burst(drill))
        drill.step(
            "7. Outage",
            "connections refused; Trust reports a major incident",
            _outage(drill),
        )
        drill.step("8. Recovery", "listening again; the incident is resolved", _recovery(drill))
    failed = [step.title for step in drill.results if not step.passed]
    if failed:
        console.print(f"[red]Steps that did not behave: {', '.join(failed)}")
        return 1
    console.print("[green]Every step behaved as the runbook says.")
    return 0
