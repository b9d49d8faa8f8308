"""The embedded default: a dict with expiry, safe across threads of one process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ._ledger import Exchange, LedgerState, apply


class MemoryStore:
    """In-process store; *clock* is injectable so tests never wait for a TTL."""

    def __init__(
        self, *, namespace: str = "sfr", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.namespace = namespace
        self._clock = clock
        self._lock = threading.Lock()
        self._released = threading.Condition(self._lock)
        self._data: dict[str, tuple[float, Any]] = {}

    def _live(self, key: str) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._data[key]
            return None
        return value

    def _put(self, key: str, value: Any, ttl: float) -> None:
        self._data[key] = (self._clock() + ttl, value)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._live(key)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, *, ttl: float) -> None:
        with self._lock:
            self._put(key, value, ttl)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def increment(self, key: str, amount: int = 1, *, ttl: float) -> int:
        with self._lock:
            current = self._live(key)
            if not isinstance(current, int):
                self._put(key, amount, ttl)
                return amount
            expires, _ = self._data[key]
            self._data[key] = (expires, current + amount)
            return current + amount

    def push(self, key: str, value: bytes, *, limit: int, ttl: float) -> None:
        with self._lock:
            items = self._live(key)
            items = [value, *(items if isinstance(items, list) else [])][:limit]
            self._put(key, items, ttl)

    def newest(self, key: str, count: int) -> list[bytes]:
        with self._lock:
            items = self._live(key)
        return list(items[:count]) if isinstance(items, list) else []

    def acquire(self, key: str, token: bytes, *, ttl: float) -> bool:
        name = _lock_name(key)
        with self._lock:
            if self._live(name) is not None:
                return False
            self._put(name, _Held(token), ttl)
            return True

    def release(self, key: str, token: bytes) -> bool:
        name = _lock_name(key)
        with self._lock:
            held = self._live(name)
            if not isinstance(held, _Held) or held.token != token:
                return False
            del self._data[name]
            self._released.notify_all()
            return True

    def wait_released(self, key: str, timeout: float) -> bool:
        with self._lock:
            if self._live(_lock_name(key)) is None:
                return True
            return self._released.wait(max(timeout, 0.0))

    def ping(self) -> None:
        return None

    def claim(self, key: str, *, ttl: float) -> bool:
        with self._lock:
            if self._live(key) is not None:
                return False
            self._put(key, b"1", ttl)
            return True

    def exchange_ledger(
        self, key: str, exchange: Exchange, *, ttl: float, spent_key: str, spent_ttl: float
    ) -> LedgerState:
        with self._lock:
            current = self._live(key)
            state = apply(current if isinstance(current, LedgerState) else None, exchange)
            self._put(key, state, ttl)
            if exchange.spent:
                totals = self._live(spent_key)
                totals = dict(totals) if isinstance(totals, dict) else {}
                for label, count in exchange.spent.items():
                    totals[label] = totals.get(label, 0) + count
                self._put(spent_key, totals, spent_ttl)
        return state

    def totals(self, keys: list[str]) -> dict[str, int]:
        summed: dict[str, int] = {}
        with self._lock:
            for key in keys:
                found = self._live(key)
                for label, count in (found if isinstance(found, dict) else {}).items():
                    summed[label] = summed.get(label, 0) + count
        return summed

    def __repr__(self) -> str:
        return f"<MemoryStore namespace={self.namespace!r}>"


class _Held:
    """A lock's value: who holds it (never readable through get())."""

    __slots__ = ("token",)

    def __init__(self, token: bytes) -> None:
        self.token = token


def _lock_name(key: str) -> str:
    return f"lock:{key}"
