"""Shared state behind one interface: in-process memory, or Redis for a fleet.

Every key lives under a namespace and has a TTL; nothing else in the library
talks to Redis directly.
"""

from ._base import Store, StoreUnavailable
from ._memory import MemoryStore
from ._redis import RedisStore


__all__ = ["MemoryStore", "RedisStore", "Store", "StoreUnavailable", "open_store"]


def open_store(redis_url: str | None, *, namespace: str = "sfr") -> Store:
    """Redis when a URL is configured, else the embedded in-process store."""
    if redis_url:
        return RedisStore.from_url(redis_url, namespace=namespace)
    return MemoryStore(namespace=namespace)
