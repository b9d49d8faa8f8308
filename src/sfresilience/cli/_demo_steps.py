"""The drill's steps: what Salesforce does to the integration, and what the library must do.

Each step drives the fake org into one incident of the runbook, calls it through
a ``ResilientClient`` as an integration would, and states its claims about what
the library did; the step fails unless every claim holds.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests

from .._classify import ErrorCategory
from .._client import ResilientClient
from .._decorators import critical
from .._events import Event, EventKind
from .._settings import Settings
from ..exceptions import BudgetExhausted, CriticalOnlyBlocked
from ..testing import FakeSalesforce, FakeTrust
from ..triage import Report, Target, run_triage


@dataclasses.dataclass
class Step:
    """One step of the drill as it ran."""

    title: str
    salesforce_does: str
    outcome: str = ""
    claims: list[tuple[str, bool]] = dataclasses.field(default_factory=list)
    events: list[Event] = dataclasses.field(default_factory=list)
    """What the library reported during the step (filled in when it ends)."""
    source: list[Event] | None = None
    """While it runs: the drill's event list, from ``first`` on."""
    first: int = 0
    seconds: float = 0.0
    requests: int = 0
    """HTTP requests the fake org received during the step."""
    error: str | None = None

    def claim(self, what: str, holds: bool) -> bool:
        self.claims.append((what, holds))
        return holds

    def seen(self) -> list[Event]:
        return self.events if self.source is None else self.source[self.first :]

    @property
    def passed(self) -> bool:
        return self.error is None and all(holds for _, holds in self.claims)

    def count(self, kind: EventKind, category: ErrorCategory | None = None) -> int:
        return sum(
            1
            for e in self.seen()
            if e.kind is kind
            and (category is None or (e.classification and e.classification.category is category))
        )


class Drill:
    """The fake org, its Trust status, and the integration's client."""

    def __init__(self, org: FakeSalesforce, events: list[Event]) -> None:
        assert org.trust is not None  # noqa: S101  (the drill pairs them)
        self.org = org
        self.trust: FakeTrust = org.trust
        self.events = events
        self.hours_passed = 0.0  # the drill jumps the budget's clock instead of waiting
        self.settings = Settings(
            retry_attempts=12, retry_deadline=2.0, backoff_initial=0.02, backoff_max=0.4
        )
        self.client = ResilientClient(
            org.client(),
            settings=self.settings,
            on_event=events.append,
            wall_clock=lambda: time.time() + self.hours_passed * 3600,
        )
        self.instance = org.org.instance_name
        self.incident: int | None = None
        self.triages: list[Report] = []

    def trust_status(self) -> str:
        try:
            response = requests.get(
                f"{self.trust.url}/v1/instances/{self.instance}/status/preview", timeout=2
            )
            return str(response.json()["status"])
        except requests.RequestException:
            return "unreachable (unknown, not healthy)"

    def triage(self) -> Report:
        """``sfresilience triage`` as on-call runs it, pointed at the fake by its environment."""
        settings = self.settings.model_copy(update={"status_url": self.trust.url})
        with _environment(self.org.env()):
            report = run_triage(Target(), settings, timeout=3.0)
        self.triages.append(report)
        return report


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


Action = Callable[[Drill, Step], None]


def normal_traffic(drill: Drill, step: Step) -> None:
    result = drill.client.query_all("SELECT Id, Name, Account.Name FROM Contact")
    instance = drill.client.query("SELECT InstanceName FROM Organization")
    contacts = len(drill.org.org.records("Contact"))
    step.claim(f"all {contacts} contacts read across pages", result["totalSize"] == contacts)
    step.claim("nothing retried", step.count(EventKind.RETRY) == 0)
    status = drill.trust_status()
    step.claim("Trust reports the instance OK", status == "OK")
    step.claim("triage says healthy", drill.triage().verdict == "healthy")
    step.outcome = (
        f"{result['totalSize']} contacts read from instance "
        f"{instance['records'][0]['InstanceName']}; Trust says {status}"
    )


def lock_contention(drill: Drill, step: Step) -> None:
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
    locks = step.count(EventKind.CLASSIFIED, ErrorCategory.ROW_LOCK)
    step.claim("the Account's lock was contended (UNABLE_TO_LOCK_ROW seen)", locks > 0)
    step.claim(f"all {len(contacts)} updates applied", titles == {"Drilled"})
    step.claim("no update gave up", step.count(EventKind.GIVE_UP) == 0)
    step.outcome = (
        f"{len(contacts)} concurrent updates of one Account's Contacts all applied; "
        f"{locks} lock conflicts ridden through"
    )


def session_expiry(drill: Drill, step: Step) -> None:
    logins = drill.org.login_count
    drill.org.faults.expire_sessions()
    drill.client.query("SELECT Id FROM Account LIMIT 5")
    step.claim("one login, however many calls noticed", drill.org.login_count - logins == 1)
    step.claim("the refresh was reported", step.count(EventKind.REFRESH) == 1)
    step.outcome = f"query answered after {drill.org.login_count - logins} login"


def code_bug(drill: Drill, step: Step) -> None:
    sent = len(drill.org.request_log)
    try:
        drill.client.query("SELECT Id, Nmae FROM Contact")
    except Exception as error:  # noqa: BLE001  (the claim below names what it must be)
        c = getattr(error, "classification", None)
        step.claim("classified a code bug", c is not None and c.error_code == "INVALID_FIELD")
        step.outcome = f"{type(error).__name__} raised after one request: {c}"
    else:
        step.claim("the misspelt field raised", False)  # noqa: FBT003
    step.claim("sent once, never retried", len(drill.org.request_log) - sent == 1)


def budget_pressure(drill: Drill, step: Step) -> None:
    limit = drill.org.api_limit
    drill.org.set_api_usage(int(limit * 0.85))
    drill.client.query("SELECT Id FROM Account LIMIT 1")
    seen = drill.client.budget  # reads what the header said: the warning fires
    step.claim("Sforce-Limit-Info read at 85 %: warn", seen.level == "warn")
    step.claim("warned once at 80 %", step.count(EventKind.BUDGET_WARNING) == 1)
    drill.org.set_api_usage(int(limit * 0.96))
    with critical():
        drill.client.query("SELECT Id FROM Account LIMIT 1")
    mode = drill.client.mode
    step.claim("critical-only mode on at 95 %", mode.effective == "critical-only")
    sent = len(drill.org.request_log)
    try:
        drill.client.query("SELECT Id FROM Contact LIMIT 1")
        step.claim("non-critical work refused", False)  # noqa: FBT003
    except CriticalOnlyBlocked:
        step.claim("non-critical work refused, not sent", len(drill.org.request_log) == sent)
    with critical():
        drill.client.query("SELECT Id FROM Account LIMIT 1")
    step.claim("critical work still sent", len(drill.org.request_log) > sent)
    drill.org.set_api_usage(limit)
    with critical():
        _refused_at_the_limit(drill, step)
    drill.org.set_api_usage(0)
    drill.hours_passed += 1
    drill.client.query("SELECT Id FROM Account LIMIT 1")
    step.claim("back to normal an hour later", drill.client.mode.effective == "normal")
    step.outcome = (
        f"read {seen.used}/{seen.limit} from Sforce-Limit-Info and warned; at 96 % "
        f"{mode.effective} ({mode.reasons[0].source}): a non-critical read refused "
        f"unsent, critical ones sent; at 100 % even critical work stopped "
        f"unsent; an hour later /limits showed calls free and calls resumed by themselves"
    )


def _refused_at_the_limit(drill: Drill, step: Step) -> None:
    """Salesforce refuses the first call past the allocation; the guard sends no more."""
    try:
        drill.client.query("SELECT Id FROM Account LIMIT 1")
        step.claim("Salesforce refused the call at 100 %", False)  # noqa: FBT003
    except BudgetExhausted:
        pass  # the guard knew already
    except Exception as error:  # noqa: BLE001  (the claim names what it must be)
        c = getattr(error, "classification", None)
        limited = c is not None and c.category is ErrorCategory.API_LIMIT_EXCEEDED
        step.claim("Salesforce's refusal classified API_LIMIT_EXCEEDED", limited)
    sent = len(drill.org.request_log)
    try:
        drill.client.query("SELECT Id FROM Account LIMIT 1")
        step.claim("at 100 % calls stop", False)  # noqa: FBT003
    except BudgetExhausted:
        step.claim("at 100 % even critical calls stop unsent", len(drill.org.request_log) == sent)


def server_burst(drill: Drill, step: Step) -> None:
    burst = 3
    drill.org.faults.server_errors(burst, status=503)
    result = drill.client.query("SELECT Id FROM Account LIMIT 1")
    retried = step.count(EventKind.RETRY, ErrorCategory.UNAVAILABLE)
    step.claim(f"{burst} 503s retried", retried == burst)
    step.claim("the caller got its answer", result["totalSize"] == 1)
    step.outcome = "the burst was ridden through; the caller saw nothing"


def outage(drill: Drill, step: Step) -> None:
    drill.incident = drill.trust.open_incident(drill.instance, severity="major")
    drill.org.faults.outage()
    started = time.monotonic()
    try:
        drill.client.query("SELECT Id FROM Account LIMIT 1")
        step.claim("the outage surfaced", False)  # noqa: FBT003
    except requests.ConnectionError as error:
        c = getattr(error, "classification", None)
        unavailable = c is not None and c.category is ErrorCategory.UNAVAILABLE
        step.claim("classified UNAVAILABLE", unavailable)
    waited = time.monotonic() - started
    step.claim("raised within the 2 s deadline", waited <= drill.settings.retry_deadline + 0.5)
    verdict = drill.triage().verdict
    if drill.settings.redis_url:  # the instance was remembered while healthy
        step.claim("triage says salesforce_incident", verdict == "salesforce_incident")
    else:
        # Without Redis no instance is remembered: an unreachable org is not known to be
        # on the incident's instance, and triage says so rather than guess.
        step.claim("triage says unknown (no Redis to remember the instance)", verdict == "unknown")
    step.outcome = (
        f"ConnectionError classified UNAVAILABLE after {waited:.1f} s; Trust says "
        f"{drill.trust_status()}; triage verdict: {verdict}"
    )


def recovery(drill: Drill, step: Step) -> None:
    drill.org.faults.restore()
    if drill.incident is not None:
        drill.trust.resolve_incident(drill.incident)
    total = drill.client.query("SELECT COUNT() FROM Contact")["totalSize"]
    step.claim("calls answered again", total == len(drill.org.org.records("Contact")))
    verdict = drill.triage().verdict
    step.claim("triage says healthy", verdict == "healthy")
    step.outcome = f"{total} contacts counted; Trust says {drill.trust_status()}; triage: {verdict}"


STEPS: tuple[tuple[str, str, Action], ...] = (
    ("1. Normal traffic", "answers queries, pages of 2,000", normal_traffic),
    ("2. Record-lock contention", "UNABLE_TO_LOCK_ROW while a write holds the Account",
     lock_contention),
    ("3. Session expiry", "every session expires: 401 INVALID_SESSION_ID", session_expiry),
    ("4. Code bug", "400 INVALID_FIELD for a misspelt field", code_bug),
    ("5. API budget pressure", "85 %, then 96 %, then 100 % of the daily allocation used",
     budget_pressure),
    ("6. 503 burst", "three 503 CDN pages in a row", server_burst),
    ("7. Outage", "connections refused; Trust reports a major incident", outage),
    ("8. Recovery", "listening again; the incident is resolved", recovery),
)  # fmt: skip
