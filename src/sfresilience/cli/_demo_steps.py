"""The drill's steps: what Salesforce does to the integration, and what the library must do.

Each step drives the fake org into one incident of the runbook, calls it through
a ``ResilientClient`` as an integration would, and states its claims about what
the library did; the step fails unless every claim holds.
"""

from __future__ import annotations

import time

from .._classify import ErrorCategory
from .._decorators import critical
from .._events import EventKind
from .._freshness import freshness
from ..exceptions import BudgetExhausted, CircuitOpen, CriticalOnlyBlocked, WriteRefused
from ._demo_drill import Action, Drill, Step, read_all, worker


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
    threads = [worker(drill.client.Contact.update, cid, {"Title": "Drilled"}) for cid in contacts]
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
    drill.refused(step, "non-critical work refused, not sent", CriticalOnlyBlocked,
                  lambda: drill.client.query("SELECT Id FROM Contact LIMIT 1"))  # fmt: skip
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
    drill.refused(step, "at 100 % even critical calls stop unsent", BudgetExhausted,
                  lambda: drill.client.query("SELECT Id FROM Account LIMIT 1"))  # fmt: skip


# The dashboards of five workers: distinct reads, so no two share one flight.
DASHBOARDS = tuple(
    f"SELECT Id, Name FROM Account ORDER BY Name LIMIT {n}"  # noqa: S608  (a literal number)
    for n in range(1, 6)
)


def server_burst(drill: Drill, step: Step) -> None:
    burst = 3
    drill.org.faults.server_errors(burst, status=503)
    result = drill.client.query("SELECT Id FROM Account LIMIT 1")
    retried = step.count(EventKind.RETRY, ErrorCategory.UNAVAILABLE)
    step.claim(f"{burst} 503s retried", retried == burst)
    step.claim("the caller got its answer", result["totalSize"] == 1)
    dashboards = read_all(drill.client, DASHBOARDS)
    step.claim(f"{len(DASHBOARDS)} workers' dashboards read live (and kept in the cache)",
               all(isinstance(d, dict) and freshness(d) is None for d in dashboards))  # fmt: skip
    drill.fallback_flush()
    step.outcome = "the burst was ridden through; the caller saw nothing"


def outage(drill: Drill, step: Step) -> None:
    drill.incident = drill.trust.open_incident(drill.instance, severity="major")
    drill.org.faults.outage()
    started = time.monotonic()
    served = [freshness(result) for result in read_all(drill.client, DASHBOARDS)]
    waited = time.monotonic() - started
    stale = sum(1 for f in served if f is not None and f.stale)
    step.claim(f"all {len(DASHBOARDS)} dashboards served from the cache, marked stale",
               stale == len(DASHBOARDS))  # fmt: skip
    step.claim("within the 2 s deadline", waited <= drill.settings.retry_deadline + 0.5)
    mode = drill.client.mode
    by_breaker = any(r.source == "breaker" for r in mode.reasons)
    step.claim("the breaker opened: fallback mode", mode.effective == "fallback" and by_breaker)
    step.claim("the breaker's opening reported once", step.count(EventKind.BREAKER_OPENED) == 1)
    tries = step.count(EventKind.CLASSIFIED)
    again = freshness(drill.client.query(DASHBOARDS[0]))
    step.claim("with the breaker open, a read is served without trying Salesforce",
               again is not None and step.count(EventKind.CLASSIFIED) == tries)  # fmt: skip
    account = drill.org.org.records("Account")[0]["Id"]
    drill.refused(step, "writes refused while the breaker is open, not sent", WriteRefused,
                  lambda: drill.client.Account.update(account, {"Name": "X"}))  # fmt: skip
    drill.refused(step, "a read never cached raises CircuitOpen", CircuitOpen,
                  lambda: drill.client.query("SELECT Id FROM Opportunity LIMIT 3"))  # fmt: skip
    step.claim("each read from the cache and the refused write reported",
               step.count(EventKind.SERVED_FROM_CACHE) == len(DASHBOARDS) + 1
               and step.count(EventKind.WRITE_REFUSED) == 1)  # fmt: skip
    _triage_in_outage(drill, step)
    step.outcome = (
        f"{stale} reads served from the cache in {waited:.1f} s; {mode}; Trust says "
        f"{drill.trust_status()}; triage verdict: {drill.triages[-1].verdict}"
    )


def _triage_in_outage(drill: Drill, step: Step) -> None:
    verdict = drill.triage().verdict
    if drill.settings.redis_url:  # the instance was remembered while healthy
        step.claim("triage says salesforce_incident", verdict == "salesforce_incident")
    else:
        # Without Redis no instance is remembered: an unreachable org is not known to be
        # on the incident's instance, and triage says so rather than guess.
        step.claim("triage says unknown (no Redis to remember the instance)", verdict == "unknown")


_COOLDOWN_SKIP = 130.0
"""Seconds the drill skips ahead: past the breaker's cooldown (120 s after a core incident)."""


def recovery(drill: Drill, step: Step) -> None:
    drill.org.faults.restore()
    if drill.incident is not None:
        drill.trust.resolve_incident(drill.incident)
    cooling = freshness(drill.client.query(DASHBOARDS[0]))
    step.claim("while the breaker cools down, reads are still served from the cache",
               cooling is not None)  # fmt: skip
    drill.skipped += _COOLDOWN_SKIP
    live = drill.client.query(DASHBOARDS[1])
    step.claim("after the cooldown one probe goes through and is answered live",
               freshness(live) is None)  # fmt: skip
    step.claim("the breaker closed: normal mode", drill.client.mode.effective == "normal")
    moves = (step.count(EventKind.BREAKER_HALF_OPEN), step.count(EventKind.BREAKER_CLOSED))
    step.claim("half-open, then closed, reported", moves == (1, 1))
    total = drill.client.query("SELECT COUNT() FROM Contact")["totalSize"]
    step.claim("calls answered again", total == len(drill.org.org.records("Contact")))
    verdict = drill.triage().verdict
    step.claim("triage says healthy", verdict == "healthy")
    step.outcome = (
        f"the drill skipped {_COOLDOWN_SKIP:.0f} s of cooldown; the probe closed the breaker; "
        f"{total} contacts counted; Trust says {drill.trust_status()}; triage: {verdict}"
    )


def postmortem(drill: Drill, step: Step) -> None:
    """The draft the timeline gives: every incident of the drill, counted."""
    incident = drill.postmortem()
    seen = {category for category, _, _ in incident.errors}
    for category in ("ROW_LOCK", "SESSION_EXPIRED", "INVALID_REQUEST", "UNAVAILABLE"):
        step.claim(f"the timeline counted {category}", category in seen)
    i = incident.impact
    step.claim("one session refresh counted", i.session_refreshes == 1)
    step.claim("the recoveries counted (locks, session, burst)", i.recovered >= 3)  # noqa: PLR2004
    step.claim("the calls that gave up counted", i.failed >= 1)
    step.claim("the reads served from the cache counted",
               i.served_from_cache >= len(DASHBOARDS) + 1)  # fmt: skip
    step.claim("the refused write counted", i.writes_refused == 1)
    step.outcome = (
        f"{incident.severity or 'no'} severity; {i.failed_attempts} failed attempts, "
        f"{i.retried} retried, {i.recovered} recovered, {i.failed} failed, "
        f"{i.served_from_cache} served from cache, {i.writes_refused} writes refused"
    )


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
    ("9. Postmortem", "(nothing: the library drafts it from its timeline)", postmortem),
)  # fmt: skip
