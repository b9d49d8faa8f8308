"""Write-through off the caller's path: a bounded queue and one worker thread.

The caller only appends a closure; serialising, encrypting and the backend
write happen on the worker. When writes arrive faster than the backend takes
them, the oldest pending write is dropped (and counted): the newest value of a
key is the one worth keeping.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable


logger = logging.getLogger("sfresilience")


class WriteBehind:
    """Runs queued writes in order on a daemon thread, started on first use."""

    def __init__(self, *, max_pending: int = 1000) -> None:
        self._pending: collections.deque[Callable[[], None]] = collections.deque()
        self._max_pending = max_pending
        self._ready = threading.Condition()
        self._busy = False
        self._idle = False  # the worker waits for work: only then is it woken
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.written = 0

    def submit(self, write: Callable[[], None]) -> None:
        with self._ready:
            if len(self._pending) >= self._max_pending:
                self._pending.popleft()
                self.dropped += 1
            self._pending.append(write)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="sfresilience-cache-writer", daemon=True
                )
                self._thread.start()
            if self._idle:
                self._ready.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every write submitted so far is done; False on timeout."""
        with self._ready:
            return self._ready.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _work(self) -> None:
        while True:
            with self._ready:
                self._idle = True
                self._ready.wait_for(lambda: bool(self._pending))
                self._idle = False
                write = self._pending.popleft()
                self._busy = True
            try:
                write()
            except Exception:  # a write that fails must not stop the ones after it
                logger.exception("fallback cache: a write-through failed")
            with self._ready:
                self._busy = False
                self.written += 1
                self._ready.notify_all()
