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

    def ping(self) -> None:
        """Raise StoreUnavailable when the store cannot be reached."""
        ...
