"""One soak worker process: mixed reads, writes and Bulk through one client, for a while.

Runs in a process of its own (multiprocessing spawn). Every operation ends in an
`Outcome`: done, or the error its caller got, classified or not. Each created
record carries a unique external id, so the parent can count copies in the fake.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from simple_salesforce.api import Salesforce

from sfresilience import ResilientClient, Settings, caller, critical
from sfresilience.exceptions import SFResilienceError
from sfresilience.testing.wire.routing import mount


# Real backoff, bounded: the soak is a run of the library as deployed, not a unit test.
SETTINGS: dict[str, Any] = {
    "retry_attempts": 5,
    "retry_deadline": 10.0,
    "backoff_initial": 0.05,
    "backoff_max": 0.5,
    "connect_timeout": 2.0,
    "read_timeout": 5.0,
}
BULK_ROWS = 5


@dataclass(frozen=True)
class Spec:
    """What a worker needs: where the fake and Redis are, when to start and stop."""

    index: int
    fake_url: str
    username: str
    password: str
    security_token: str
    account_id: str
    redis_url: str | None
    resilient: bool
    seconds: float
    seed: int
    bulk: bool = True


@dataclass
class Report:
    """What one worker did; the parent checks it against the fake's records."""

    index: int
    outcomes: dict[str, int] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    unclassified: list[str] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)
    """External id -> "ok", "ambiguous", "refused" or "bulk-failed" (a Bulk job's error)."""
    updates: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Record id -> [(title, "ok" / "ambiguous" / "refused"), ...] in order."""
    by_caller: dict[str, int] = field(default_factory=dict)


def verdict(error: BaseException) -> str:
    """How the caller was told: ambiguous (may have been applied) or refused."""
    notes = " ".join(getattr(error, "__notes__", []))
    return "ambiguous" if "may have been applied" in notes else "refused"


def _name(error: BaseException) -> str:
    classification = getattr(error, "classification", None)
    if classification is not None:
        return str(classification.category.value)
    return type(error).__name__


class Worker:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.random = random.Random(spec.seed)
        self.report = Report(spec.index)
        session = mount(requests.Session(), spec.fake_url)
        sf = Salesforce(
            username=spec.username,
            password=spec.password,
            security_token=spec.security_token,
            session=session,
        )
        settings = Settings(redis_url=spec.redis_url, **SETTINGS)
        # Any: simple-salesforce types its dynamic attributes (`sf.Contact`) loosely.
        self.sf: Any = ResilientClient(sf, settings=settings) if spec.resilient else sf
        self.mine: list[str] = []
        self.serial = 0

    def _external_id(self) -> str:
        self.serial += 1
        return f"soak-{self.spec.seed}-{self.spec.index}-{self.serial}"

    def run(self) -> Report:
        operations = self._operations()
        names = list(operations)
        weights = [operations[name][0] for name in names]
        stop_at = time.monotonic() + self.spec.seconds
        while time.monotonic() < stop_at:
            name = self.random.choices(names, weights)[0]
            self._timed(name, operations[name][1])
        if self.spec.resilient:
            self.sf.budget  # noqa: B018  (a trade: report this worker's spend to the fleet)
        return self.report

    def _operations(self) -> dict[str, tuple[float, Callable[[], Any]]]:
        operations: dict[str, tuple[float, Callable[[], Any]]] = {
            "query": (55, lambda: self.sf.query("SELECT Id, Name FROM Account LIMIT 5")),
            "get": (10, self._get),
            "create": (20, self._create),
            "update": (12, self._update),
        }
        if self.spec.bulk:
            operations["bulk"] = (3, self._bulk)
        return operations

    def _timed(self, name: str, operation: Callable[[], Any]) -> None:
        label = f"worker-{self.spec.index}"
        started = time.perf_counter()
        try:
            urgent = self.random.random() < 0.1
            with caller(label), critical() if urgent else contextlib.nullcontext():
                operation()
        except Exception as error:  # noqa: BLE001  (every outcome is recorded)
            kind = f"{name}:{_name(error)}"
            if getattr(error, "classification", None) is None and not isinstance(
                error, SFResilienceError
            ):
                self.report.unclassified.append(f"{name}: {error!r}"[:300])
        else:
            kind = f"{name}:ok"
            self.report.latencies.setdefault(name, []).append(time.perf_counter() - started)
        self.report.outcomes[kind] = self.report.outcomes.get(kind, 0) + 1

    def _get(self) -> Any:
        if not self.mine:
            return self.sf.query("SELECT Id FROM Contact LIMIT 1")
        return self.sf.Contact.get(self.random.choice(self.mine))

    def _create(self) -> Any:
        external = self._external_id()
        record = {"LastName": "Soak", "External_Id__c": external}
        if self.random.random() < 0.3:
            record["AccountId"] = self.spec.account_id  # every such write locks the Account
        try:
            result = self.sf.Contact.create(record)
        except Exception as error:
            self.report.created[external] = verdict(error)
            raise
        self.report.created[external] = "ok"
        self.mine.append(str(result["id"]))
        return result

    def _update(self) -> Any:
        if not self.mine:
            return self._create()
        record = self.random.choice(self.mine)
        title = f"t{self.serial}-{self.random.randrange(10**6)}"
        self.serial += 1
        history = self.report.updates.setdefault(record, [])
        try:
            result = self.sf.Contact.update(record, {"Title": title})
        except Exception as error:
            history.append((title, verdict(error)))
            raise
        history.append((title, "ok"))
        return result

    def _bulk(self) -> Any:
        externals = [self._external_id() for _ in range(BULK_ROWS)]
        rows = [{"LastName": "SoakBulk", "External_Id__c": e} for e in externals]
        try:
            results = self.sf.bulk2.Contact.insert(records=rows, wait=0.05)
        except Exception as error:
            # Told apart: a job that failed while being polled may still have run.
            told = verdict(error)
            for external in externals:
                self.report.created[external] = "bulk-failed" if told == "refused" else told
            raise
        failed = sum(int(result.get("numberRecordsFailed", 0)) for result in results)
        for external in externals:
            self.report.created[external] = "ok" if not failed else "ambiguous"
        return results


def work(spec: Spec, results: Any, ready: Any, done: Any) -> None:
    """The process entry point: log in, start with the others (and the fault schedule) at
    *ready*, run, then read the fleet's counters once every worker has reported (*done*)."""
    worker = Worker(spec)
    ready.wait(timeout=300)
    report = worker.run()
    done.wait(timeout=120)
    if spec.resilient:
        report.by_caller = dict(worker.sf.budget.by_caller)
    results.put(report)
