"""The embedded backend: an in-process LRU bounded by entries *and* bytes."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class LruBackend:
    """Least recently used entries go first once either bound is reached.

    Each entry costs its value's length plus its key's; an entry larger than
    the whole byte bound is not kept at all.
    """

    name = "embedded"

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("the embedded cache needs room for at least one entry")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self.bytes = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            value, expires = found
            if expires <= self._clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, *, ttl: float) -> None:
        size = len(key) + len(value)
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if size > self.max_bytes:
                return
            self._entries[key] = (value, self._clock() + ttl)
            self.bytes += size
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                oldest = next(iter(self._entries))
                self._drop(oldest)
                self.evictions += 1

    def delete(self, key: str) -> None:
        with self._lock:
            if key in self._entries:
                self._drop(key)

    def _drop(self, key: str) -> None:
        value, _ = self._entries.pop(key)
        self.bytes -= len(key) + len(value)

    @property
    def available(self) -> bool:
        return True
