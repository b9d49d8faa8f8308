"""Redis, for state shared by a fleet: namespaced keys, a TTL on every write."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import redis
from redis.commands.core import Script

from .._redact import redact
from ._base import StoreUnavailable
from ._ledger import Exchange, LedgerState, Reading


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


# The ledger step of _ledger.apply, as one atomic script (keep the two in step:
# tests/test_store.py runs the same cases on both). KEYS share one hash tag so
# the script runs on Redis Cluster. Floats travel as strings: a Lua number in a
# reply would be truncated to an integer.
_LEDGER = """
local f = redis.call('HMGET', KEYS[1], 'used', 'limit', 'sent', 'received', 'writer',
  'source', 'level', 'since1', 'since2', 'since3')
local used, limit = tonumber(f[1]), tonumber(f[2])
-- Times stay the strings Python sent: tostring() would keep only 14 digits.
local sent_s, received_s = f[3], f[4]
local received = tonumber(f[4])
local writer, source = f[5], f[6]
local level = tonumber(f[7]) or 0
local since = {f[8], f[9], f[10]}
local now_n, me = tonumber(ARGV[13]), 'res:' .. ARGV[17]
local oldest = now_n - tonumber(ARGV[18])
-- Reservations per writer ('res:<writer>' = 'count:seen'); silent writers lapse.
local mine, reserved = 0, 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 4) == 'res:' then
    local count, seen = string.match(all[i + 1], '^(%d+):(.+)$')
    if tonumber(seen) <= oldest then
      redis.call('HDEL', KEYS[1], all[i])
    elseif all[i] == me then
      mine = tonumber(count)
    else
      reserved = reserved + tonumber(count)
    end
  end
end
local r_used = tonumber(ARGV[1])
if r_used then
  local accept = used == nil or r_used >= used
  if not accept then
    local slack = tonumber(ARGV[12])
    if ARGV[5] == writer then slack = 0 end
    accept = tonumber(ARGV[3]) > received + slack
  end
  if accept then
    used, limit = r_used, tonumber(ARGV[2])
    sent_s, received_s = ARGV[3], ARGV[4]
    writer, source = ARGV[5], ARGV[6]
  end
end
local function mark(fraction) return math.floor(limit * fraction + 1e-6) end
mine = math.max(0, mine - tonumber(ARGV[7]))
reserved = reserved + mine
local want = tonumber(ARGV[8])
local previous = level
local granted = want
if limit ~= nil then
  local marks = {mark(tonumber(ARGV[10])), mark(tonumber(ARGV[11])), limit}
  local margin = math.max(1, mark(tonumber(ARGV[15])))
  local function level_of(estimate)
    local reached, held = 0, 0
    for i = 1, 3 do
      if estimate >= marks[i] then reached = reached + 1 end
      if estimate >= marks[i] - margin then held = held + 1 end
    end
    return math.max(reached, math.min(previous, held))
  end
  local stop, cap = 2, marks[2]
  if ARGV[9] == '1' then stop, cap = 3, limit end
  if level_of(used + reserved) >= stop then
    granted = 0
  else
    granted = math.max(0, math.min(want, cap - used - reserved))
  end
  level = level_of(used + reserved + granted)
end
reserved = reserved + granted
if mine + granted > 0 then
  redis.call('HSET', KEYS[1], me, (mine + granted) .. ':' .. ARGV[13])
else
  redis.call('HDEL', KEYS[1], me)
end
local now = ARGV[13]
local out = {}
for i = 1, 3 do
  if level >= i then
    if not since[i] then since[i] = now end
    redis.call('HSET', KEYS[1], 'since' .. i, since[i])
    out[i] = since[i]
  else
    redis.call('HDEL', KEYS[1], 'since' .. i)
    out[i] = ''
  end
end
redis.call('HSET', KEYS[1], 'level', level)
if used ~= nil then
  redis.call('HSET', KEYS[1], 'used', used, 'limit', limit, 'sent', sent_s,
    'received', received_s, 'writer', writer, 'source', source)
end
redis.call('PEXPIRE', KEYS[1], ARGV[14])
for i = 19, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
if #ARGV >= 19 then redis.call('PEXPIRE', KEYS[2], ARGV[16]) end
if used == nil then
  return {'', '', '', '', '', '', reserved, granted, level, previous, out[1], out[2], out[3]}
end
return {tostring(used), tostring(limit), sent_s, received_s, writer, source,
  reserved, granted, level, previous, out[1], out[2], out[3]}
"""


def _reading_args(reading: Reading | None) -> list[Any]:
    if reading is None:
        return ["", "", "", "", "", ""]
    return [
        reading.used,
        reading.limit,
        repr(reading.sent),
        repr(reading.received),
        reading.writer,
        reading.source,
    ]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _optional_float(value: Any) -> float | None:
    text = _text(value)
    return float(text) if text else None


def _state_from_reply(reply: list[Any]) -> LedgerState:
    used = _text(reply[0])
    reading = None
    if used:
        reading = Reading(
            used=int(float(used)),
            limit=int(float(_text(reply[1]))),
            sent=float(_text(reply[2])),
            received=float(_text(reply[3])),
            writer=_text(reply[4]),
            source=_text(reply[5]),
        )
    return LedgerState(
        reading=reading,
        reserved=int(reply[6]),
        granted=int(reply[7]),
        level=int(reply[8]),
        previous_level=int(reply[9]),
        since=(
            _optional_float(reply[10]),
            _optional_float(reply[11]),
            _optional_float(reply[12]),
        ),
    )


@contextlib.contextmanager
def _unavailable_on_error(url: str) -> Iterator[None]:
    try:
        yield
    # RedisClusterException (no slot covers a key, no node answers) is no RedisError.
    except (redis.RedisError, redis.exceptions.RedisClusterException, OSError) as error:
        raise StoreUnavailable(f"Redis at {redact(url)} is unavailable: {error}") from error


def _ms(ttl: float) -> int:
    return max(int(ttl * 1000), 1)


Client = redis.Redis | redis.RedisCluster

# redis+cluster://host:port names any node of a Redis Cluster; the client finds the rest.
_CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def connect(url: str, *, timeout: float = 2.0) -> Client:
    """A client for *url*: a Cluster client for ``redis+cluster://``/``rediss+cluster://``.

    *timeout* bounds connecting and each reply, in seconds. A Cluster client asks
    its nodes for the slot map as it is built, so call this where a failure
    becomes StoreUnavailable.
    """
    timeouts: dict[str, Any] = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    scheme, _, rest = url.partition("://")
    if scheme in _CLUSTER_SCHEMES:
        return redis.RedisCluster.from_url(f"{_CLUSTER_SCHEMES[scheme]}://{rest}", **timeouts)
    return redis.Redis.from_url(url, **timeouts)


@dataclass(frozen=True, slots=True)
class _Connection:
    client: Client
    increment: Script
    ledger: Script
    release: Script


class RedisStore:
    """Store on a Redis server or Cluster; every error becomes StoreUnavailable.

    Keys that one script touches share a hash tag, so each script runs in one
    Cluster slot.
    """

    def __init__(
        self,
        client: Client | Callable[[], Client],
        *,
        namespace: str = "sfr",
        url: str = "",
    ) -> None:
        self.namespace = namespace
        self._url = url or "redis"
        self._make = client if callable(client) else (lambda: client)
        self._connection: _Connection | None = None

    @classmethod
    def from_url(cls, url: str, *, namespace: str = "sfr", timeout: float = 2.0) -> RedisStore:
        """A store on *url* (see `connect`), connected on first use."""
        return cls(lambda: connect(url, timeout=timeout), namespace=namespace, url=url)

    @property
    def _live(self) -> _Connection:
        # Built on first use (inside _unavailable_on_error): a Cluster client
        # contacts its nodes when made, and Redis may be down when the store is.
        if self._connection is None:
            client = self._make()
            self._connection = _Connection(
                client,
                client.register_script(_INCREMENT),
                client.register_script(_LEDGER),
                client.register_script(_RELEASE),
            )
        return self._connection

    @property
    def _client(self) -> Client:
        return self._live.client

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
            return int(self._live.increment(keys=[self._key(key)], args=[amount, _ms(ttl)]))

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
            return bool(self._live.release(keys=keys, args=[token, _WAKE_TTL_MS]))

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

    def claim(self, key: str, *, ttl: float) -> bool:
        with _unavailable_on_error(self._url):
            return bool(self._client.set(self._key(key), b"1", px=_ms(ttl), nx=True))

    def exchange_ledger(
        self, key: str, exchange: Exchange, *, ttl: float, spent_key: str, spent_ttl: float
    ) -> LedgerState:
        thresholds = exchange.thresholds
        args: list[Any] = [
            *_reading_args(exchange.reading),
            exchange.release,
            exchange.want,
            "1" if exchange.critical else "0",
            repr(thresholds.warn),
            repr(thresholds.critical),
            repr(exchange.skew),
            repr(exchange.now),
            _ms(ttl),
            repr(thresholds.margin),
            _ms(spent_ttl),
            exchange.writer,
            repr(exchange.lease_ttl),
        ]
        for label, count in exchange.spent.items():
            args += [label, count]
        with _unavailable_on_error(self._url):
            reply = self._live.ledger(keys=[self._key(key), self._key(spent_key)], args=args)
        return _state_from_reply(list(reply))

    def totals(self, keys: list[str]) -> dict[str, int]:
        summed: dict[str, int] = {}
        with _unavailable_on_error(self._url), self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(self._key(key))
            replies: list[Any] = pipe.execute()
        for reply in replies:
            for label, count in reply.items():
                name = _text(label)
                summed[name] = summed.get(name, 0) + int(count)
        return summed

    def __repr__(self) -> str:
        return f"<RedisStore {redact(self._url)} namespace={self.namespace!r}>"
