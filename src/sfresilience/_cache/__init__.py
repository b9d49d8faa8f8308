"""The fallback cache: what was last read from Salesforce, kept to serve when it is not.

Entries are JSON envelopes (``_envelope``), keyed by org, API version and a
hash of the call (``_keys``), kept in an embedded LRU or a shared store
(``_lru``, ``_remote``), written off the caller's path (``_writer``).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from cryptography.fernet import MultiFernet

from ._envelope import BadEntry, Entry, Scope, cipher_from, decode, encode
from ._keys import cache_key, normalise_soql
from ._lru import LruBackend
from ._remote import StoreBackend
from ._writer import WriteBehind


__all__ = [
    "Backend",
    "Entry",
    "FallbackCache",
    "LruBackend",
    "Scope",
    "StoreBackend",
    "WriteBehind",
    "cache_key",
    "cipher_from",
    "normalise_soql",
]

logger = logging.getLogger("sfresilience")

_REKEEP_AFTER = 1.0
"""Seconds within which an equal answer under the same key is not kept again."""
_RECENT_KEYS = 256
"""Keys whose last kept answer is remembered for that (a bound on what it holds)."""


class Backend(Protocol):
    """Where entries live: bytes under a key, each with a TTL."""

    name: str

    @property
    def available(self) -> bool: ...

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, *, ttl: float) -> None: ...

    def delete(self, key: str) -> None: ...


class FallbackCache:
    """Read and write one org's entries; every failure is a miss, never an error.

    Args:
        backend: where entries live.
        scope: the org and API version entries belong to.
        max_age: ``SFRESILIENCE_CACHE_TTL``, the oldest value that may be served.
        cipher: at-rest encryption (``SFRESILIENCE_CACHE_KEY``), or None.
        clock: wall-clock time (entries carry their fetch time across processes).
        writer: the write-behind queue; by default one of this cache's own.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        scope: Scope,
        max_age: float = 3600.0,
        cipher: MultiFernet | None = None,
        clock: Callable[[], float] = time.time,
        writer: WriteBehind | None = None,
        warn_every: float = 60.0,
    ) -> None:
        self.backend = backend
        self.scope = scope
        self.max_age = max_age
        self._cipher = cipher
        self._clock = clock
        self.writer = writer or WriteBehind()
        self._warn_every = warn_every
        self._warned_at = -float("inf")
        self._warn_lock = threading.Lock()
        self.bad_entries = 0
        # Hot keys are re-read many times a second with the same answer: keeping
        # each again would cost an encode and a wake-up of the writer per read.
        self._recent: collections.OrderedDict[str, tuple[float, Any]] = collections.OrderedDict()
        self._recent_lock = threading.Lock()

    def key(self, kind: str, call: Any) -> str:
        return cache_key(self.scope.org_id, self.scope.api_version, kind, call)

    @property
    def available(self) -> bool:
        return self.backend.available

    def put(self, key: str, value: Any, *, fresh_for: float = 0.0) -> None:
        """Keep *value*, fetched now, in the background (never blocks on the backend)."""
        fetched_at = self._clock()
        if self.backend.available and self._kept_a_moment_ago(key, value, fetched_at):
            return
        self.writer.submit(lambda: self._write(key, value, fetched_at, fresh_for))

    def _kept_a_moment_ago(self, key: str, value: Any, now: float) -> bool:
        """Whether the same *value* was kept under *key* less than a second ago.

        Skipping it leaves the entry's fetch time up to that second older than
        the newest equal answer: ``freshness`` may overstate an age, never understate it.
        """
        with self._recent_lock:
            last = self._recent.get(key)
            if last is not None and 0 <= now - last[0] < _REKEEP_AFTER and _same(last[1], value):
                return True
            self._recent[key] = (now, value)
            self._recent.move_to_end(key)
            if len(self._recent) > _RECENT_KEYS:
                self._recent.popitem(last=False)
            return False

    def put_now(self, key: str, value: Any, *, fresh_for: float = 0.0) -> None:
        """Keep *value* on the caller's thread (for tests and tools)."""
        self._write(key, value, self._clock(), fresh_for)

    def _write(self, key: str, value: Any, fetched_at: float, fresh_for: float) -> None:
        try:
            raw = encode(
                value,
                scope=self.scope,
                key=key,
                fetched_at=fetched_at,
                fresh_for=fresh_for,
                cipher=self._cipher,
            )
        except (TypeError, ValueError) as error:
            self._warn(f"a result was not kept: it is not JSON ({error})")
            return
        except RuntimeError as error:  # the caller changed it while it was being written
            self._warn(f"a result was not kept: it changed while being written ({error})")
            return
        self.backend.set(key, raw, ttl=max(self.max_age, fresh_for))
        self._forget_if_down()

    def _forget_if_down(self) -> None:
        # A backend that failed may have lost what it kept: keep equal answers again.
        if not self.backend.available:
            with self._recent_lock:
                self._recent.clear()

    def lookup(self, key: str) -> Entry | None:
        """The entry at *key* if one may still be served, else None."""
        raw = self.backend.get(key)
        if raw is None:
            self._forget_if_down()
            return None
        try:
            entry = decode(raw, scope=self.scope, key=key, cipher=self._cipher)
        except BadEntry as why:
            self.bad_entries += 1
            self._warn(f"entry {key} is unreadable ({why}); treated as a miss")
            return None
        if self.age(entry) > max(self.max_age, entry.fresh_for):
            return None
        return entry

    def age(self, entry: Entry) -> float:
        return max(0.0, self._clock() - entry.fetched_at)

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        with self._warn_lock:
            if now - self._warned_at < self._warn_every:
                return
            self._warned_at = now
        logger.warning("fallback cache: %s", message)

    def __repr__(self) -> str:
        return f"<FallbackCache {self.backend.name} org={self.scope.org_id!r}>"


def _same(kept: Any, value: Any) -> bool:
    try:
        return bool(kept == value)
    except Exception:  # noqa: BLE001  (a function's own result type may not compare)
        return False
