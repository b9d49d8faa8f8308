"""Record locks like Salesforce's: all keys of a write at once, bounded wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from .errors import ApiError


__all__ = ["LockedWrites", "RecordLocks"]

_T = TypeVar("_T")


class RecordLocks:
    """Exclusive locks on record ids; a write takes all its keys atomically."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held: set[str] = set()
        self._closed = False

    def acquire(self, keys: Iterable[str], timeout: float) -> str | None:
        """Take every key within `timeout` seconds; else return the first busy key."""
        wanted = list(dict.fromkeys(keys))
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                busy = [key for key in wanted if key in self._held]
                if not busy:
                    self._held.update(wanted)
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return busy[0]
                self._cond.wait(remaining)

    def release(self, keys: Iterable[str]) -> None:
        """Give the keys back and wake waiting writers."""
        with self._cond:
            self._held -= set(keys)
            self._cond.notify_all()

    def close(self) -> None:
        """Make every waiting and future acquire fail at once (the fake is stopping)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def open(self) -> None:
        """Accept waiting again after `close()`."""
        with self._cond:
            self._closed = False


class LockedWrites:
    """Run writes under their record locks, as Salesforce does.

    A write that cannot take its keys within `wait` seconds raises `ApiError`
    `UNABLE_TO_LOCK_ROW` (status `error_status`, 500 or 400 as the org answers); a
    write that gets them holds them `hold` more seconds (to make contention), cut
    short when `stopping` is set. The settings are read at each write, so a test
    may change them on a running fake.
    """

    def __init__(
        self,
        locks: RecordLocks,
        stopping: threading.Event,
        *,
        wait: float,
        hold: float,
        error_status: int,
    ) -> None:
        if error_status not in {400, 500}:
            raise ValueError("lock_error_status must be 400 or 500")
        self.locks = locks
        self.wait = wait
        self.hold = hold
        self.error_status = error_status
        self._stopping = stopping

    def run(self, keys: list[str], write: Callable[[], _T]) -> _T:
        """`write()` with every key locked; no keys: no locking."""
        if not keys:
            return write()
        busy = self.locks.acquire(keys, self.wait)
        if busy is not None:
            raise ApiError(
                self.error_status,
                "UNABLE_TO_LOCK_ROW",
                "unable to obtain exclusive access to this record or 1 records: " + busy,
                [],
            )
        try:
            result = write()
            if self.hold > 0:
                self._stopping.wait(self.hold)
            return result
        finally:
            self.locks.release(keys)
