"""The drill's world: the fake org, Trust, the integration's client, and one step as it ran."""

from __future__ import annotations

import contextvars
import dataclasses
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests

from .._classify import ErrorCategory
from .._client import ResilientClient
from .._events import Event, EventKind
from .._fallback import fallback_of
from .._settings import Settings
from .._store import MemoryStore, Store, shared_store
from .._timeline import timeline_for
from ..incident import Incident, summarize
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
        self.skipped = 0.0  # and the breaker's past its cooldown
        self.settings = Settings(
            retry_attempts=12, retry_deadline=2.0, backoff_initial=0.02, backoff_max=0.4
        )
        # Without Redis, a store of the drill's own: the postmortem tells of this
        # drill alone, not of other clients the process ran before it.
        url = self.settings.redis_url
        self.store: Store = shared_store(url) if url else MemoryStore()
        self.client = ResilientClient(
            org.client(),
            settings=self.settings,
            store=self.store,
            on_event=events.append,
            clock=lambda: time.monotonic() + self.skipped,
            wall_clock=lambda: time.time() + self.hours_passed * 3600,
        )
        self.instance = org.org.instance_name
        self.incident: int | None = None
        self.triages: list[Report] = []
        self.started = time.time()
        self.incidents: list[Incident] = []

    def refused(
        self, step: Step, what: str, refusal: type[Exception], call: Callable[[], object]
    ) -> None:
        """Claim that *call* raises *refusal* and sends nothing to Salesforce."""
        sent = len(self.org.request_log)
        try:
            call()
        except refusal:
            step.claim(what, len(self.org.request_log) == sent)
        else:
            step.claim(what, False)  # noqa: FBT003

    def fallback_flush(self) -> None:
        """Wait until the results read so far are in the fallback cache (written behind)."""
        fallback_of(self.client).flush(timeout=5.0)

    def postmortem(self) -> Incident:
        """The incident the client's timeline tells of since the drill began."""
        timeline = timeline_for(self.store)
        entries = timeline.entries(since=self.started)
        incident = summarize(entries, since=self.started, now=time.time())
        self.incidents.append(incident)
        return incident

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


def worker(target: Callable[..., object], *args: object) -> threading.Thread:
    """A worker thread that keeps the step's caller label (a context variable)."""
    return threading.Thread(target=contextvars.copy_context().run, args=(target, *args))


def read_all(client: ResilientClient, queries: tuple[str, ...]) -> list[object]:
    """Each query read by a worker thread of its own, at once; the results or errors."""
    results: list[object] = [None] * len(queries)

    def read(index: int) -> None:
        try:
            results[index] = client.query(queries[index])
        except Exception as error:  # noqa: BLE001  (told by the caller's claims)
            results[index] = error

    threads = [worker(read, i) for i in range(len(queries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
