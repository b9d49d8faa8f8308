"""The shared backend: any store (Redis in practice), never allowed to fail a call.

Every store error becomes a miss (or a dropped write), logged at most once per
``warn_every`` seconds and counted. After an error the store is left alone for
``cooldown`` seconds, so an outage of Redis is not paid as a timeout on every
read; then the next operation tries again, and redis-py reconnects by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from .._store import Store, StoreUnavailable
from .._store._cooldown import Cooldown


T = TypeVar("T")
logger = logging.getLogger("sfresilience")


class StoreBackend:
    """Cache entries in a :class:`~sfresilience._store.Store`, degrading to misses."""

    name = "redis"

    def __init__(
        self,
        store: Store,
        *,
        cooldown: float = 5.0,
        warn_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._cooldown = Cooldown(cooldown, warn_every=warn_every, clock=clock)
        self.last_error: str | None = None

    @property
    def errors(self) -> int:
        return self._cooldown.failures

    @property
    def available(self) -> bool:
        """False while the store is being left alone after an error."""
        return not self._cooldown.active

    def get(self, key: str) -> bytes | None:
        return self._run(lambda: self.store.get(key), None)

    def set(self, key: str, value: bytes, *, ttl: float) -> None:
        self._run(lambda: self.store.set(key, value, ttl=ttl), None)

    def delete(self, key: str) -> None:
        self._run(lambda: self.store.delete(key), None)

    def _run(self, operation: Callable[[], T], default: T) -> T:
        if not self.available:
            return default
        try:
            return operation()
        except StoreUnavailable as error:
            self._failed(error)
            return default

    def _failed(self, error: StoreUnavailable) -> None:
        self.last_error = str(error)
        if self._cooldown.failed():
            logger.warning(
                "fallback cache: %s; reads are misses and writes are skipped, "
                "trying again in %g s (%d errors so far)",
                error,
                self._cooldown.seconds,
                self.errors,
            )
