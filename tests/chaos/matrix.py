"""The fault matrix's harness: one fake org, one guarded client, and what each saw.

A row arms faults on the fake, makes one call through the real client over real
HTTP, and then states what the caller saw (`Seen`) and what reached Salesforce
(the fake's request log and records).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sfresilience import ErrorCategory, Event, ResilientClient, Settings
from sfresilience._store import MemoryStore, Store
from sfresilience.exceptions import SFResilienceError
from sfresilience.testing import FakeSalesforce


# Short timeouts and no real backoff: a row takes well under a second.
FAST: dict[str, Any] = {
    "retry_attempts": 3,
    "retry_deadline": 3.0,
    "backoff_initial": 0.01,
    "backoff_max": 0.01,
    "connect_timeout": 0.5,
    "read_timeout": 0.4,
}


@dataclass(frozen=True)
class Seen:
    """What the caller got: a value, or an exception (its type, category and notes)."""

    value: Any = None
    error: BaseException | None = None

    @property
    def category(self) -> ErrorCategory | None:
        classification = getattr(self.error, "classification", None)
        return None if classification is None else classification.category

    @property
    def ambiguous(self) -> bool:
        """The caller was told the write may have been applied and was not re-sent."""
        notes = " ".join(getattr(self.error, "__notes__", []))
        return "may have been applied" in notes and "not re-sent" in notes


class Clock:
    """A clock of real time (*base*) plus what a test skips ahead (`advance`)."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self.offset = 0.0
        self._base = base

    def __call__(self) -> float:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Harness:
    """A fake org and a client of it whose sleeps run scheduled actions instead."""

    fake: FakeSalesforce
    clock: Clock = field(default_factory=Clock)
    settings: dict[str, Any] = field(default_factory=dict)
    store: Store = field(default_factory=MemoryStore)
    sleeps: list[float] = field(default_factory=list)
    on_sleep: list[Callable[[], None]] = field(default_factory=list)
    exits: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    events: list[Event] = field(default_factory=list)
    marks: dict[str, Any] = field(default_factory=dict)
    """What a row's call noted for its checks (the id it deleted, ...)."""
    _client: ResilientClient | None = None

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.on_sleep:
            self.on_sleep.pop(0)()

    @property
    def client(self) -> ResilientClient:
        if self._client is None:
            self._client = ResilientClient(
                self.fake.client(),
                settings=Settings(**{**FAST, **self.settings}),
                sleep=self.sleep,
                store=self.store,
                on_event=self.events.append,
            )
        return self._client

    def observe(self, call: Callable[[Harness], Any]) -> Seen:
        try:
            return Seen(value=call(self))
        except Exception as error:  # noqa: BLE001  (what the caller sees is the point)
            return Seen(error=error)

    # What reached Salesforce -------------------------------------------------

    def statuses(self, method: str, path_part: str) -> list[int]:
        """Statuses of requests the client sent (delayed writes landing are not sent)."""
        return [
            r.status
            for r in self.fake.request_log
            if r.method == method and path_part in r.path and not r.late
        ]

    def records(self, sobject: str, **match: Any) -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.fake.org.records(sobject)
            if all(r.get(k) == v for k, v in match.items())
        ]

    def contact(self, index: int = 0) -> str:
        return str(self.fake.org.records("Contact")[index]["Id"])


@dataclass(frozen=True)
class Row:
    """One fault: arm it, make the call, check the caller's view and Salesforce's."""

    name: str
    arm: Callable[[Harness], None]
    call: Callable[[Harness], Any]
    caller: Callable[[Seen], bool]
    salesforce: Callable[[Harness], bool]
    settings: dict[str, Any] = field(default_factory=dict)
    fake: dict[str, Any] = field(default_factory=dict)
    """FakeSalesforce keywords for this row, over BASE_FAKE."""


BASE_FAKE: dict[str, Any] = {"accounts": 2, "contacts": 7, "query_batch_size": 3, "lock_wait": 0.0}


@contextlib.contextmanager
def harness_for(row: Row) -> Iterator[Harness]:
    clock = Clock()
    with FakeSalesforce(clock=clock, **{**BASE_FAKE, **row.fake}) as fake:
        harness = Harness(fake, clock, dict(row.settings))
        with harness.exits:
            yield harness


def ok(seen: Seen) -> bool:
    return seen.error is None


def failed(kind: type[BaseException], category: ErrorCategory) -> Callable[[Seen], bool]:
    def check(seen: Seen) -> bool:
        return isinstance(seen.error, kind) and seen.category is category

    return check


def ambiguous(kind: type[BaseException]) -> Callable[[Seen], bool]:
    def check(seen: Seen) -> bool:
        return isinstance(seen.error, kind) and seen.ambiguous

    return check


def classified(error: BaseException) -> bool:
    """A classified Salesforce error, or one of the library's own documented errors."""
    return getattr(error, "classification", None) is not None or isinstance(
        error, SFResilienceError
    )


def secrets_of(fake: FakeSalesforce, client: ResilientClient) -> list[str]:
    """The credentials a caller must never see in an error."""
    return [
        fake.password,
        fake.security_token,
        fake.consumer_secret,
        str(client.session_id),
    ]


def error_text(error: BaseException | None) -> str:
    """Everything an error shows: its text, repr, notes, classification and causes."""
    parts: list[str] = []
    while error is not None:
        parts += [str(error), repr(error), *getattr(error, "__notes__", [])]
        parts.append(repr(getattr(error, "classification", "")))
        error = error.__cause__ or error.__context__
    return "\n".join(parts)


def run_row(row: Row) -> None:
    """Arm, call, and check the caller's view, Salesforce's, and that nothing leaked."""
    with harness_for(row) as harness:
        check_row(row, harness)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def _logged() -> Iterator[list[str]]:
    """Every line the library logs meanwhile, at DEBUG and up."""
    logger, handler = logging.getLogger("sfresilience"), _Records()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def check_row(row: Row, harness: Harness) -> None:
    client = harness.client  # logged in before the fault is armed
    row.arm(harness)
    with _logged() as lines:
        seen = harness.observe(row.call)
    assert row.caller(seen), f"the caller saw {seen.error!r} / {seen.value!r}"
    if seen.error is not None:
        assert classified(seen.error), f"an unclassified error reached the caller: {seen.error!r}"
    assert row.salesforce(harness), f"Salesforce saw {harness.fake.request_log}"
    shown = "\n".join([error_text(seen.error), *lines, *map(repr, harness.events)])
    assert [] == [secret for secret in secrets_of(harness.fake, client) if secret in shown]
