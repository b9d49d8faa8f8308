"""The store interface."""

from __future__ import annotations

from typing import Protocol

from ._ledger import Exchange, LedgerState


class StoreUnavailable(Exception):
    """The shared store could not be reached.

    Internal: the failover store catches it and falls back to a local view, so it
    never reaches a user (and is not part of the exceptions tree).
    """


class Store(Protocol):
    """Namespaced keys, each with a TTL in seconds."""

    namespace: str

    def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    def set(self, key: str, value: bytes, *, ttl: float) -> None:
        """Store *value* for *ttl* seconds."""
        ...

    def delete(self, key: str) -> None:
        """Forget *key*; absent keys are fine."""
        ...

    def increment(self, key: str, amount: int = 1, *, ttl: float) -> int:
        """Add *amount* atomically; a new key starts at 0 and expires after *ttl*."""
        ...

    def push(self, key: str, value: bytes, *, limit: int, ttl: float) -> None:
        """Prepend *value* to a list that keeps its newest *limit* items."""
        ...

    def newest(self, key: str, count: int) -> list[bytes]:
        """Up to *count* items of a list, newest first."""
        ...

    def acquire(self, key: str, token: bytes, *, ttl: float) -> bool:
        """Take the lock *key* for *token* unless someone holds it; it lapses after *ttl*."""
        ...

    def release(self, key: str, token: bytes) -> bool:
        """Give back *key* if *token* still holds it, waking one waiter; else False."""
        ...

    def wait_released(self, key: str, timeout: float) -> bool:
        """Block until *key* is released (True) or about *timeout* seconds pass (False).

        True may also come when *key* is free already or was released before the
        wait began; whoever waits then tries :meth:`acquire` again.
        """
        ...

    def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot be reached."""
        ...

    def claim(self, key: str, *, ttl: float) -> bool:
        """Take *key* for *ttl* seconds if nobody holds it; True when this call took it."""
        ...

    def exchange_ledger(
        self, key: str, exchange: Exchange, *, ttl: float, spent_key: str, spent_ttl: float
    ) -> LedgerState:
        """Apply *exchange* to the API-usage ledger at *key* atomically (see ``_ledger``).

        Per-caller spend is added to the counters at *spent_key*; both keys
        must share one hash tag (``{...}``) so the step stays atomic on Cluster.
        """
        ...

    def totals(self, keys: list[str]) -> dict[str, int]:
        """Per-label sums over the counters at *keys* (absent keys count as empty)."""
        ...
