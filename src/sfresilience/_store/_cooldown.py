"""Leave a failing shared store alone for a while, and say so now and then."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Cooldown:
    """After a failure, :attr:`active` holds for ``seconds``, so an outage is not paid
    as a timeout on every call; :meth:`failed` counts the failure and answers whether
    to log it (at most once per ``warn_every`` seconds)."""

    def __init__(self, seconds: float, *, warn_every: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self._warn_every = warn_every
        self._clock = clock
        self._lock = threading.Lock()
        self._retry_at = float("-inf")
        self._warned_at = float("-inf")
        self.failures = 0

    @property
    def active(self) -> bool:
        """Whether the store is being left alone right now."""
        return self._clock() < self._retry_at

    def failed(self) -> bool:
        """Record a failure now; True when it should be logged."""
        now = self._clock()
        with self._lock:
            self.failures += 1
            self._retry_at = now + self.seconds
            warn = now - self._warned_at >= self._warn_every
            if warn:
                self._warned_at = now
        return warn
