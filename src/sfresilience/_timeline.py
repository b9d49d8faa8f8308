"""The incident timeline: what the library saw, counted per window, in the shared store.

Every guarded call reports events (``_events``); the timeline folds them into
counts per ``(window, kind, category, code)`` in this process, and writes the
counts to the store in batches, so the hot path is one dictionary update under
a lock. With Redis every process of the fleet writes into one list; readers
merge the counts of the same window from different processes.

Bounded twice: the store keeps the newest ``max_batches`` batches, each of at
most ``_BATCH_ENTRIES`` entries, and nothing older than ``max_age`` seconds is
kept or read. It holds no secret and no record data: an entry names a
category, Salesforce's error code and the operation; free text (the reason a
mode was switched, say) is redacted and cut short.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Final

from ._classify import Classification
from ._events import Event, EventKind
from ._redact import redact
from ._store import Store, StoreUnavailable, shared_store


__all__ = ["Entry", "Timeline", "TimelineHook", "timeline_for"]

_KEY: Final = "timeline"
_BATCH_ENTRIES: Final = 64
_MAX_PENDING: Final = 4096
"""Distinct counts held in memory at most (while the store is down, say)."""
_DETAIL_CHARS: Final = 200
_VERSION: Final = 1

# Event kinds are told by their value, so kinds added later (the fallback
# layer's breaker, cache and refused-write events) are counted without a change here.
_ERRORS: Final = "errors"
"""The kind of an entry that counts classified failures."""
_TOLD_WHY: Final = ("give_up", "breaker", "mode", "trust", "bulk_job_stuck")
"""Kinds (by prefix) whose reason is kept: rare transitions, not per-call chatter
(a stuck job's names the job and its fate)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline: *count* things of one kind seen in one window."""

    at: float
    """Start of the window (seconds since the epoch, UTC)."""
    until: float
    """End of the window."""
    kind: str
    """``"errors"`` (classified failures), ``"retry"``, ``"give_up"``, ``"recovered"``,
    ``"refresh"``, ``"bulk_job_stuck"``, a budget event (``"budget_warning"`` ...), ``"mode"`` (a
    fleet switch turned on or off by ``sfresilience mode``), ``"trust_incident"``
    (seen by ``sfresilience triage``), or another event's kind by its value (the
    fallback layer's breaker transitions, cache serves, refused writes)."""
    count: int
    category: str | None = None
    """The error category (``"ROW_LOCK"`` ...), when the entry is about errors."""
    code: str | None = None
    """Salesforce's error code, when there was one."""
    severity: str | None = None
    """The runbook's severity of the error (``"P1"`` .. ``"P4"``), when there was one."""
    operation: str | None = None
    """What was called (``"query"``, ``"Contact.update"``); never arguments."""
    detail: str | None = None
    """Redacted free text: why a call gave up, why a mode was switched."""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: object) -> Entry | None:
        """The entry, or None for anything that is not one (an old or damaged record)."""
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                at=float(data["at"]),
                until=float(data["until"]),
                kind=str(data["kind"]),
                count=int(data["count"]),
                category=_optional(data.get("category")),
                code=_optional(data.get("code")),
                severity=_optional(data.get("severity")),
                operation=_optional(data.get("operation")),
                detail=_optional(data.get("detail")),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


_Group = tuple[int, str, str | None, str | None, str | None, str | None, str | None]
"""(window index, kind, category, code, severity, operation, detail)."""


class Timeline:
    """The fleet's incident timeline in *store*.

    Args:
        store: where the batches go (Redis for a fleet, memory for one process).
        window: seconds of one counting window.
        flush_every: seconds between writes to the store (checked as events come).
        max_age: seconds an entry is kept and read back.
        max_batches: batches the store keeps (the newest).
        clock: wall-clock time, injectable for tests.
    """

    def __init__(
        self,
        store: Store,
        *,
        window: float = 60.0,
        flush_every: float = 5.0,
        max_age: float = 7 * 24 * 3600.0,
        max_batches: int = 2000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if window <= 0 or flush_every < 0 or max_age <= 0 or max_batches < 1:
            raise ValueError("window and max_age must be positive, max_batches at least 1")
        self.store = store
        self.window = window
        self.flush_every = flush_every
        self.max_age = max_age
        self.max_batches = max_batches
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: dict[_Group, int] = {}
        self._flushed_at = clock()

    # Writing ----------------------------------------------------------------

    def hook(self, event: Event) -> None:
        """An event hook: count *event* (installed on every client by default)."""
        # Optional: events that are not errors (budget crossings) carry none.
        c: Classification | None = event.classification
        kind = _ERRORS if event.kind is EventKind.CLASSIFIED else str(event.kind.value)
        # Why a call gave up or a breaker moved; a retry's or a budget event's
        # reason varies per call (delays, counts) and would split the counts.
        detail = event.reason if kind.startswith(_TOLD_WHY) else None
        self.record(
            kind,
            category=c.category.value if c is not None else None,
            code=c.error_code if c is not None else None,
            severity=c.severity if c is not None else None,
            operation=event.operation,
            detail=detail,
        )

    def record(
        self,
        kind: str,
        *,
        count: int = 1,
        category: str | None = None,
        code: str | None = None,
        severity: str | None = None,
        operation: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Count *count* occurrences of *kind* now; written with the next batch."""
        now = self._clock()
        if detail is not None:
            detail = redact(detail)[:_DETAIL_CHARS]
        group = (int(now // self.window), kind, category, code, severity, operation, detail)
        with self._lock:
            if group in self._pending or len(self._pending) < _MAX_PENDING:
                self._pending[group] = self._pending.get(group, 0) + count
            due = now - self._flushed_at >= self.flush_every
        if due:
            self.flush()

    def flush(self) -> None:
        """Write what is counted so far; a store that is down keeps it for the next try."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._flushed_at = self._clock()
        if not pending:
            return
        entries = [self._entry(group, count) for group, count in pending.items()]
        try:
            for start in range(0, len(entries), _BATCH_ENTRIES):
                batch = entries[start : start + _BATCH_ENTRIES]
                self._push(batch)
        except StoreUnavailable:
            with self._lock:  # keep the counts; they merge with what comes meanwhile
                for group, count in pending.items():
                    self._pending[group] = self._pending.get(group, 0) + count

    def _entry(self, group: _Group, count: int) -> Entry:
        index, kind, category, code, severity, operation, detail = group
        start = index * self.window
        return Entry(
            start, start + self.window, kind, count, category, code, severity, operation, detail
        )

    def _push(self, batch: list[Entry]) -> None:
        payload = {"v": _VERSION, "entries": [entry.to_json() for entry in batch]}
        self.store.push(
            _KEY,
            json.dumps(payload, separators=(",", ":")).encode(),
            limit=self.max_batches,
            ttl=self.max_age,
        )

    # Reading ----------------------------------------------------------------

    def entries(self, *, since: float | None = None) -> list[Entry]:
        """Every entry of the fleet since *since* (default: ``max_age`` ago), oldest first.

        Counts of the same window and kind from several processes or batches
        are added up. This process's unwritten counts are written first.
        """
        self.flush()
        oldest = self._clock() - self.max_age
        since = oldest if since is None else max(since, oldest)
        merged: dict[tuple[object, ...], Entry] = {}
        for entry in self._stored():
            if entry.until <= since:
                continue
            key = (entry.at, entry.kind, entry.category, entry.code, entry.operation, entry.detail)
            known = merged.get(key)
            merged[key] = (
                entry
                if known is None
                else dataclasses.replace(known, count=known.count + entry.count)
            )
        return sorted(merged.values(), key=lambda e: (e.at, e.kind, e.category or ""))

    def _stored(self) -> Iterable[Entry]:
        for raw in self.store.newest(_KEY, self.max_batches):
            try:
                payload = json.loads(raw)
            except ValueError:
                continue  # a damaged batch loses its own entries, not the timeline
            items = payload.get("entries") if isinstance(payload, dict) else None
            for item in items if isinstance(items, list) else ():
                entry = Entry.from_json(item)
                if entry is not None:
                    yield entry


# One timeline per store in a process, so that every client counts into one batch.
_timelines: weakref.WeakKeyDictionary[Store, Timeline] = weakref.WeakKeyDictionary()
_timelines_lock = threading.Lock()


def timeline_for(store: Store) -> Timeline:
    """The process's timeline writing into *store* (made on first use, flushed at exit)."""
    with _timelines_lock:
        timeline = _timelines.get(store)
        if timeline is None:
            timeline = _timelines[store] = Timeline(store)
            atexit.register(_flush_quietly, weakref.ref(timeline))
        return timeline


def _flush_quietly(ref: weakref.ref[Timeline]) -> None:
    timeline = ref()
    if timeline is not None:
        try:
            timeline.flush()
        except Exception:  # noqa: BLE001  (exiting: nothing left to tell)
            return


class TimelineHook:
    """The hook a client installs: counts into the process's timeline for its store.

    A pickled or copied client writes into the timeline of the process it lands
    in, for the same Redis (a live timeline holds locks and cannot travel).
    """

    def __init__(self, store: Store | None, redis_url: str | None) -> None:
        self._redis_url = redis_url
        self.timeline = timeline_for(store if store is not None else shared_store(redis_url))

    def __call__(self, event: Event) -> None:
        self.timeline.hook(event)

    def __reduce__(self) -> tuple[object, ...]:
        return (TimelineHook, (None, self._redis_url))
