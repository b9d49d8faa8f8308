"""The store interface."""

from __future__ import annotations

from typing import Protocol

from ..exceptions import SFResilienceError


class StoreUnavailable(SFResilienceError):
    """The shared store could not be reached; the caller decides to degrade or fail."""


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
