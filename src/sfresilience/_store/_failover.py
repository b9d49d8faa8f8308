"""Redis trouble never fails a call: the store falls back to a local one, and says so."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from ._base import Store, StoreUnavailable
from ._cooldown import Cooldown
from ._ledger import Exchange, LedgerState
from ._memory import MemoryStore


T = TypeVar("T")
logger = logging.getLogger("sfresilience")


class FailoverStore:
    """A shared store with a local one behind it.

    When the shared store fails, calls go to the local store for ``cooldown``
    seconds (so an outage is not paid as a timeout on every call), then the
    shared one is tried again. A warning is logged at most once per
    ``warn_every`` seconds. Only what the local view knows survives the switch:
    callers that need continuity (the budget guard) send their last reading.
    """

    def __init__(
        self,
        primary: Store,
        *,
        local: MemoryStore | None = None,
        cooldown: float = 30.0,
        warn_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.local = local or MemoryStore(namespace=primary.namespace)
        self.namespace = primary.namespace
        self._cooldown = Cooldown(cooldown, warn_every=warn_every, clock=clock)

    @property
    def failures(self) -> int:
        return self._cooldown.failures

    @property
    def degraded(self) -> bool:
        """Whether calls go to the local store right now."""
        return self._cooldown.active

    def _run(self, operation: Callable[[Store], T]) -> T:
        if not self.degraded:
            try:
                return operation(self.primary)
            except StoreUnavailable as error:
                self._fail(error)
        return operation(self.local)

    def _fail(self, error: StoreUnavailable) -> None:
        if self._cooldown.failed():
            logger.warning(
                "%s; using this process's local view for %.0f s "
                "(budget and modes are no longer shared with the fleet)",
                error,
                self._cooldown.seconds,
            )

    def get(self, key: str) -> bytes | None:
        return self._run(lambda store: store.get(key))

    def set(self, key: str, value: bytes, *, ttl: float) -> None:
        self._run(lambda store: store.set(key, value, ttl=ttl))

    def delete(self, key: str) -> None:
        self._run(lambda store: store.delete(key))

    def increment(self, key: str, amount: int = 1, *, ttl: float) -> int:
        return self._run(lambda store: store.increment(key, amount, ttl=ttl))

    def push(self, key: str, value: bytes, *, limit: int, ttl: float) -> None:
        self._run(lambda store: store.push(key, value, limit=limit, ttl=ttl))

    def newest(self, key: str, count: int) -> list[bytes]:
        return self._run(lambda store: store.newest(key, count))

    def acquire(self, key: str, token: bytes, *, ttl: float) -> bool:
        return self._run(lambda store: store.acquire(key, token, ttl=ttl))

    def release(self, key: str, token: bytes) -> bool:
        return self._run(lambda store: store.release(key, token))

    def wait_released(self, key: str, timeout: float) -> bool:
        return self._run(lambda store: store.wait_released(key, timeout))

    def ping(self) -> None:
        self.primary.ping()

    def claim(self, key: str, *, ttl: float) -> bool:
        return self._run(lambda store: store.claim(key, ttl=ttl))

    def exchange_ledger(
        self, key: str, exchange: Exchange, *, ttl: float, spent_key: str, spent_ttl: float
    ) -> LedgerState:
        return self._run(
            lambda store: store.exchange_ledger(
                key, exchange, ttl=ttl, spent_key=spent_key, spent_ttl=spent_ttl
            )
        )

    def totals(self, keys: list[str]) -> dict[str, int]:
        return self._run(lambda store: store.totals(keys))

    def __repr__(self) -> str:
        state = "degraded" if self.degraded else "ok"
        return f"<FailoverStore {self.primary!r} {state}>"
