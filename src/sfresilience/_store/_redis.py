"""Redis, for state shared by a fleet: namespaced keys, a TTL on every write."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import redis

from .._redact import redact
from ._base import StoreUnavailable


# INCRBY and its EXPIRE must be one step, or a crash between them leaves a
# counter that never expires (limits PR #15). A key without a TTL gets one; a
# key that has one keeps it, so increments never postpone the expiry.
_INCREMENT = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""

# Only the holder may release, and its release wakes exactly one waiter: BLPOP
# serves blocked clients in the order they blocked, so waiters queue FIFO. The
# wake list keeps at most one token, so a release nobody waited for lets at
# most one later waiter look again at once.
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('RPUSH', KEYS[2], '1')
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

_WAKE_TTL_MS = 10_000

# Below the client's 2 s socket timeout, so a long wait is a loop of short ones.
_MAX_BLOCK = 1.0


@contextlib.contextmanager
def _unavailable_on_error(url: str) -> Iterator[None]:
    try:
        yield
    except (redis.RedisError, OSError) as error:
        raise StoreUnavailable(f"Redis at {redact(url)} is unavailable: {error}") from error


def _ms(ttl: float) -> int:
    return max(int(ttl * 1000), 1)


class RedisStore:
    """Store on a Redis server; every error becomes StoreUnavailable."""

    def __init__(self, client: redis.Redis, *, namespace: str = "sfr", url: str = "") -> None:
        self.namespace = namespace
        self._client = client
        self._url = url or "redis"
        self._increment = client.register_script(_INCREMENT)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, *, namespace: str = "sfr") -> RedisStore:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        return cls(client, namespace=namespace, url=url)

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def get(self, key: str) -> bytes | None:
        with _unavailable_on_error(self._url):
            value: Any = self._client.get(self._key(key))
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, *, ttl: float) -> None:
        with _unavailable_on_error(self._url):
            self._client.set(self._key(key), value, px=_ms(ttl))

    def delete(self, key: str) -> None:
        with _unavailable_on_error(self._url):
            self._client.delete(self._key(key))

    def increment(self, key: str, amount: int = 1, *, ttl: float) -> int:
        with _unavailable_on_error(self._url):
            return int(self._increment(keys=[self._key(key)], args=[amount, _ms(ttl)]))

    def push(self, key: str, value: bytes, *, limit: int, ttl: float) -> None:
        name = self._key(key)
        with _unavailable_on_error(self._url), self._client.pipeline() as pipe:
            pipe.lpush(name, value)
            pipe.ltrim(name, 0, limit - 1)
            pipe.pexpire(name, _ms(ttl))
            pipe.execute()

    def newest(self, key: str, count: int) -> list[bytes]:
        with _unavailable_on_error(self._url):
            items: Any = self._client.lrange(self._key(key), 0, count - 1)
        return [item for item in items if isinstance(item, bytes)]

    def _lock_keys(self, key: str) -> list[str]:
        # One hash tag for the lock and its wake list: one Cluster slot for the script.
        name = f"{self.namespace}:lock:{{{key}}}"
        return [name, f"{name}:wake"]

    def acquire(self, key: str, token: bytes, *, ttl: float) -> bool:
        name, _ = self._lock_keys(key)
        with _unavailable_on_error(self._url):
            return bool(self._client.set(name, token, nx=True, px=_ms(ttl)))

    def release(self, key: str, token: bytes) -> bool:
        keys = self._lock_keys(key)
        with _unavailable_on_error(self._url):
            return bool(self._release(keys=keys, args=[token, _WAKE_TTL_MS]))

    def wait_released(self, key: str, timeout: float) -> bool:
        name, wake = self._lock_keys(key)
        with _unavailable_on_error(self._url):
            if not self._client.exists(name):
                return True
            seconds = min(max(timeout, 0.001), _MAX_BLOCK)
            return self._client.blpop([wake], timeout=seconds) is not None

    def ping(self) -> None:
        with _unavailable_on_error(self._url):
            self._client.ping()

    def __repr__(self) -> str:
        return f"<RedisStore {redact(self._url)} namespace={self.namespace!r}>"
