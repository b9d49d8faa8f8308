"""Record locks like Salesforce's: all keys of a write at once, bounded wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable


__all__ = ["RecordLocks"]


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
