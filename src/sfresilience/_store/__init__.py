"""Shared state behind one interface: in-process memory, or Redis for a fleet.

Every key lives under a namespace and has a TTL; nothing else in the library
talks to Redis directly.
"""

import threading

from ._base import Store, StoreUnavailable
from ._failover import FailoverStore
from ._ledger import CRITICAL, EXHAUSTED, NORMAL, WARN, Exchange, LedgerState, Reading, Thresholds
from ._memory import MemoryStore
from ._redis import RedisStore


__all__ = [
    "CRITICAL",
    "EXHAUSTED",
    "NORMAL",
    "WARN",
    "Exchange",
    "FailoverStore",
    "LedgerState",
    "MemoryStore",
    "Reading",
    "RedisStore",
    "Store",
    "StoreUnavailable",
    "Thresholds",
    "shared_store",
]


_shared: dict[str | None, Store] = {}
_shared_lock = threading.Lock()


def shared_store(redis_url: str | None) -> Store:
    """The process's one store for *redis_url*: clients of one process share it.

    With Redis it falls back to a local view while Redis is unreachable.
    """
    with _shared_lock:
        store = _shared.get(redis_url)
        if store is None:
            store = _shared[redis_url] = (
                FailoverStore(RedisStore.from_url(redis_url)) if redis_url else MemoryStore()
            )
        return store
