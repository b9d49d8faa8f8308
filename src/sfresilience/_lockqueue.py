"""Queueing behind record locks: the guard's hands for the core's ``QueueBehind``.

Each guarded write of a known record takes a first-in-first-out slot for the
record, and for every record its writes were seen waiting for (a Contact's
Account), before it is sent. Writes of the same record or parent in this
process therefore go one after another, each as soon as the previous one's
answer is back, instead of colliding and sleeping blindly. With a shared store
(Redis) the contended records are also locked across the fleet.

When a lock error names a record nobody here is known to hold (another
process, or a write whose parent was not yet learned), the waiter waits for the
writes in flight that might hold it, at most the backoff a blind retry would
have slept.
"""

from __future__ import annotations

import collections
import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ._classify import Classification, ErrorCategory
from ._classify._table import CATEGORY_DEFAULTS
from ._core import ContentionMap, record_key
from ._store import Store


# SFType methods whose first argument names the one record they write.
_RECORD_WRITES = frozenset({"update", "upsert", "delete", "update_base64"})

# A fleet lock outlives any sane write, yet a crashed holder stalls its
# followers only this long.
_FLEET_TTL = 5.0


def record_written(method: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str | None:
    """The record an SFType *method* called with these arguments writes, if it writes one."""
    if method not in _RECORD_WRITES:
        return None
    record = args[0] if args else kwargs.get("record_id")
    return record if isinstance(record, str) and record else None


class _Kept:
    """Kept on the wrapped client: the one lock queue every wrapper of it shares.

    A shallow copy of the client shares it too (same org, same locks); a deep
    copy or an unpickled client gets a queue of its own, as locks and threads
    belong to one process.
    """

    def __init__(self) -> None:
        self._queue: LockQueue | None = None
        self._mutex = threading.Lock()

    def queue(self, store: Store | None) -> LockQueue:
        with self._mutex:
            if self._queue is None:
                self._queue = LockQueue(store)
            return self._queue

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Kept, ())


_KEPT = "_sfresilience_locks"


def lock_queue_for(sf: Any, store: Store | None) -> LockQueue:
    """One lock queue per wrapped client, shared by its wrappers (like the refresher).

    *store* is the one the budget uses: queueing across the fleet fails over with it.
    """
    # vars(), not getattr(): Salesforce.__getattr__ turns unknown names into SFTypes.
    attributes = vars(sf)
    kept = attributes.get(_KEPT)
    if not isinstance(kept, _Kept):
        kept = attributes[_KEPT] = _Kept()
    return kept.queue(store)


def queue_timeout_classification(record: str) -> Classification:
    """``ROW_LOCK``, for a write that never left the queue behind *record*."""
    rule = CATEGORY_DEFAULTS[ErrorCategory.ROW_LOCK]
    return Classification(
        category=ErrorCategory.ROW_LOCK,
        error_code=None,
        message=f"waited behind other writes of {record} until the deadline",
        http_status=None,
        retryable=True,
        action=rule.action,
        severity=rule.severity,
    )


class _Slots:
    """First-in-first-out slots per key, for the threads of one process."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._holders: dict[str, object] = {}
        self._queues: dict[str, collections.deque[object]] = {}
        self._turns: dict[str, threading.Condition] = {}

    def acquire(self, key: str, owner: object, timeout: float) -> tuple[bool, bool]:
        """Wait for *key* in line; return (acquired, whether someone was ahead)."""
        deadline = time.monotonic() + timeout
        with self._mutex:
            queue = self._queues.setdefault(key, collections.deque())
            turn = self._turns.setdefault(key, threading.Condition(self._mutex))
            queue.append(owner)
            behind = key in self._holders or queue[0] is not owner
            while key in self._holders or queue[0] is not owner:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    queue.remove(owner)
                    self._forget_if_idle(key)
                    turn.notify_all()
                    return False, behind
                turn.wait(remaining)
            queue.popleft()
            self._holders[key] = owner
            return True, behind

    def release(self, key: str, owner: object) -> None:
        with self._mutex:
            if self._holders.get(key) is not owner:
                return
            del self._holders[key]
            turn = self._turns[key]
            self._forget_if_idle(key)
            turn.notify_all()

    def waiting(self, key: str) -> int:
        with self._mutex:
            return len(self._queues.get(key, ()))

    def _forget_if_idle(self, key: str) -> None:
        if key not in self._holders and not self._queues.get(key):
            self._queues.pop(key, None)
            self._turns.pop(key, None)


class _InFlight:
    """Writes on the wire, and whether each is known to hold a contended key."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._unattributed: set[object] = set()

    @contextlib.contextmanager
    def sending(self, owner: object, *, attributed: bool) -> Iterator[None]:
        if attributed:
            yield
            return
        with self._changed:
            self._unattributed.add(owner)
        try:
            yield
        finally:
            with self._changed:
                self._unattributed.discard(owner)
                self._changed.notify_all()

    def wait_for_unattributed(self, timeout: float) -> bool:
        """Wait until the unattributed writes in flight now have finished.

        False at once when there are none: nothing here can be the holder.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            waiting_for = set(self._unattributed)
            if not waiting_for:
                return False
            while waiting_for & self._unattributed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
            return True


class _FleetLocks:
    """Per-record locks in the shared store, so processes queue too.

    The store is the budget's failover store: while Redis is down, the locks
    fall back to this process's local view (and the store says so, once).
    """

    def __init__(self, store: Store, *, ttl: float = _FLEET_TTL) -> None:
        self._store = store
        self._ttl = ttl

    def acquire(self, key: str, token: bytes, timeout: float) -> tuple[bool, bool]:
        """(acquired, whether another process held it)."""
        deadline = time.monotonic() + timeout
        behind = False
        while not self._store.acquire(f"record:{key}", token, ttl=self._ttl):
            behind = True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False, behind
            self._store.wait_released(f"record:{key}", min(remaining, self._ttl))
        return True, behind

    def release(self, key: str, token: bytes) -> None:
        self._store.release(f"record:{key}", token)


class LockQueue:
    """What this process learned about record locks, and the lines to wait in.

    One per wrapped client (shared by every wrapper of it); give it the shared
    store to queue across processes too.
    """

    def __init__(
        self, store: Store | None = None, *, contention: ContentionMap | None = None
    ) -> None:
        self.contention = contention or ContentionMap()
        self._slots = _Slots()
        self._in_flight = _InFlight()
        self._fleet = _FleetLocks(store) if store is not None else None

    def for_call(self, record: str) -> CallLocks:
        """The slots of one guarded write of *record*."""
        return CallLocks(self, record_key(record))

    def waiting(self, record: str) -> int:
        """Writes of this process waiting in line for *record* (not the one holding it)."""
        return self._slots.waiting(record_key(record))


class CallLocks:
    """One guarded write's place in the lines, attempt after attempt."""

    def __init__(self, queue: LockQueue, record: str) -> None:
        self._queue = queue
        self.record = record
        self._owner = object()
        self._token = secrets.token_bytes(12)
        self._held: list[str] = []
        self._fleet_held: list[str] = []
        self._named: tuple[str, ...] = ()
        self._fallback = 0.0

    def queue_behind(self, records: Iterable[str], fallback: float) -> None:
        """A lock error named *records*: remember them, and wait behind them next time."""
        self._named = tuple(records)
        self._fallback = fallback
        self._queue.contention.learn(self.record, self._named)

    @contextlib.contextmanager
    def attempt(self, seconds_left: float, sleep: Callable[[float], None]) -> Iterator[str | None]:
        """Hold the slots while one attempt is sent; yield the key whose wait ran out, if any."""
        try:
            timed_out = self._take(seconds_left, sleep)
            if timed_out is not None:
                yield timed_out
                return
            with self._queue._in_flight.sending(self._owner, attributed=self._attributed()):  # noqa: SLF001
                yield None
        finally:
            self._give_back()

    def _take(self, seconds_left: float, sleep: Callable[[float], None]) -> str | None:
        deadline = time.monotonic() + seconds_left
        contended = self._queue.contention.contended(self.record)
        waited: set[str] = set()
        for key in sorted({self.record} | contended):
            acquired, behind = self._queue._slots.acquire(  # noqa: SLF001
                key, self._owner, deadline - time.monotonic()
            )
            if not acquired:
                return key
            self._held.append(key)
            if behind:
                waited.add(key)
        timed_out = self._take_fleet(contended, deadline, waited)
        if timed_out is None:
            self._wait_for_unknown_holder(waited, deadline, sleep)
        return timed_out

    def _take_fleet(
        self, contended: frozenset[str], deadline: float, waited: set[str]
    ) -> str | None:
        fleet = self._queue._fleet  # noqa: SLF001
        if fleet is None:
            return None
        for key in sorted(contended):
            acquired, behind = fleet.acquire(key, self._token, deadline - time.monotonic())
            if not acquired:
                return key
            self._fleet_held.append(key)
            if behind:
                waited.add(key)
        return None

    def _wait_for_unknown_holder(
        self, waited: set[str], deadline: float, sleep: Callable[[float], None]
    ) -> None:
        named, self._named = self._named, ()
        if not named or waited.intersection(named):
            return  # first try, or we queued behind the holder itself
        fallback = min(self._fallback, deadline - time.monotonic())
        if fallback <= 0:
            return
        if not self._queue._in_flight.wait_for_unattributed(fallback):  # noqa: SLF001
            sleep(fallback)

    def _attributed(self) -> bool:
        return bool(self._queue.contention.contended(self.record) - {self.record})

    def _give_back(self) -> None:
        fleet = self._queue._fleet  # noqa: SLF001
        while self._fleet_held:
            key = self._fleet_held.pop()
            if fleet is not None:
                fleet.release(key, self._token)
        while self._held:
            self._queue._slots.release(self._held.pop(), self._owner)  # noqa: SLF001
