"""Reads that survive an outage, and writes that say why they were not sent.

:class:`Fallback` is the one place that decides between Salesforce and the
fallback cache. Order of questions for a read:

1. Forced fallback (``SF_FALLBACK_MODE``, the fleet switch)? Serve the cache,
   send nothing; nothing usable → :class:`FallbackUnavailable`.
2. A value still inside its freshness window (``resilient_query(ttl=...)``)?
   Serve it, send nothing.
3. Breaker open? Serve the cache; nothing usable → :class:`CircuitOpen`.
4. Otherwise call (one call for concurrent identical reads), keep the result;
   if the call ends in a classified outage (``UNAVAILABLE``, ``SERVER_ERROR``
   after its retries, ``MAINTENANCE``) or critical-only mode turned it away,
   serve the cache, else raise the call's own error unchanged.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from .._cache import Entry, FallbackCache
from .._classify import Classification, ErrorCategory, classify
from .._core._breaker import OUTAGE, Admit, State
from .._events import Event, EventKind, Hook, emit
from .._freshness import Freshness, freshness, mark
from .._logsafe import safe_reason
from ..exceptions import CircuitOpen, CriticalOnlyBlocked, FallbackUnavailable, WriteRefused
from ._breaker_cell import BreakerCell
from ._flight import SingleFlight


T = TypeVar("T")

# Set while a read's live call runs: the calls it makes (query_all's pages)
# are part of it, and go straight through.
_inside_read: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sfresilience_inside_read", default=False
)
# Set while a ``resilient_query`` function runs: its reads raise instead of
# serving stale values, so the function's own cache answers for the whole.
_stale_elsewhere: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sfresilience_stale_elsewhere", default=False
)


@contextlib.contextmanager
def stale_served_outside() -> Iterator[None]:
    """Inside: reads never serve stale values (an outer cache serves the whole)."""
    token = _stale_elsewhere.set(True)
    try:
        yield
    finally:
        _stale_elsewhere.reset(token)


class Fallback:
    """Cache, breaker and single-flight for one org.

    Args:
        cache: the fallback cache; None: nothing is kept (the breaker still works).
        breaker: the org's breaker.
        forced: why fallback is forced right now (empty: it is not); asked on every call.
    """

    def __init__(
        self,
        cache: FallbackCache | None,
        breaker: BreakerCell,
        *,
        forced: Callable[[], Sequence[str]] = tuple,
        flights: SingleFlight | None = None,
        hooks: Sequence[Hook] = (),
    ) -> None:
        self.cache = cache
        self.breaker = breaker
        self.forced = forced
        self.flights = flights or SingleFlight()
        self.hooks = tuple(hooks)

    def _tell(self, kind: EventKind, operation: str, reason: str) -> None:
        emit(Event(kind, operation, 1, None, reason=reason), self.hooks)

    def _breaker_moved(self, before: State, operation: str) -> None:
        """Tell the hooks when the breaker changed state during *operation*."""
        after = self.breaker.state
        if after is before:
            return
        kind = {
            State.OPEN: EventKind.BREAKER_OPENED,
            State.HALF_OPEN: EventKind.BREAKER_HALF_OPEN,
            State.CLOSED: EventKind.BREAKER_CLOSED,
        }[after]
        self._tell(kind, operation, self.breaker.describe())

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every result read so far is in the cache; False on timeout."""
        return self.cache.writer.flush(timeout) if self.cache is not None else True

    # Reads -------------------------------------------------------------------

    def read(
        self,
        key: str | None,
        call: Callable[[], T],
        *,
        fresh_for: float = 0.0,
        operation: str = "read",
    ) -> Any:
        """*call*'s result, or the cached one marked by ``freshness`` (see the module).

        *key* None: a read that is not kept (``search``, ``limits``); it is still
        refused in fallback mode and while the breaker is open.
        """
        if _inside_read.get():
            return call()
        token = _inside_read.set(True)
        try:
            served = self._read(key, call, fresh_for, operation)
        finally:
            _inside_read.reset(token)
        found = freshness(served)
        if found is not None and found.stale:
            self._tell(EventKind.SERVED_FROM_CACHE, operation, found.reason)
        return served

    def _read(self, key: str | None, call: Callable[[], T], fresh_for: float, op: str) -> Any:
        forced = self.forced()
        if forced:
            reason = f"fallback mode ({'; '.join(forced)})"
            return self._serve(key, reason, FallbackUnavailable)
        if fresh_for > 0 and key is not None:
            fresh = self._fresh(key, fresh_for)
            if fresh is not None:
                return fresh
        before = self.breaker.state
        admit = self.breaker.admit()
        self._breaker_moved(before, op)
        if admit is Admit.REFUSE:
            return self._serve(key, self.breaker.describe(), CircuitOpen)
        return self._attempt(key, call, fresh_for, op)

    def _attempt(self, key: str | None, call: Callable[[], T], fresh_for: float, op: str) -> Any:
        try:
            if key is None:
                return self._live(key, call, fresh_for, op)
            return self.flights.run(key, lambda: self._live(key, call, fresh_for, op))
        except CriticalOnlyBlocked as error:
            return self._serve_or_raise(key, safe_reason(f"critical-only mode ({error})"), error)
        except Exception as error:
            category = _category(error)
            if category not in OUTAGE:
                raise
            reason = safe_reason(f"Salesforce {category.value}: {error}")
            return self._serve_or_raise(key, reason, error)

    def _live(self, key: str | None, call: Callable[[], T], fresh_for: float, op: str) -> T:
        before = self.breaker.state
        try:
            result = call()
        except CriticalOnlyBlocked:
            self.breaker.release_probe()
            raise
        except Exception as error:
            category = _category(error)
            if category is None:
                self.breaker.release_probe()  # our caller's bug says nothing of Salesforce
            else:
                self.breaker.record(category)
                self._breaker_moved(before, op)
            raise
        self.breaker.record(None)
        self._breaker_moved(before, op)
        if self.cache is not None and key is not None:
            self.cache.put(key, result, fresh_for=fresh_for)
        return result

    def _fresh(self, key: str, fresh_for: float) -> Any:
        if self.cache is None:
            return None
        entry = self.cache.lookup(key)
        if entry is None or self.cache.age(entry) >= min(fresh_for, entry.fresh_for):
            return None
        return self._marked(entry, "fresh: inside its ttl", stale=False)

    def _serve(
        self, key: str | None, reason: str, missing: type[CircuitOpen | FallbackUnavailable]
    ) -> Any:
        entry, why_not = self._lookup(key)
        if entry is not None:
            return self._marked(entry, reason, stale=True)
        message = f"not sent: {reason}; {why_not}"
        if missing is CircuitOpen:
            raise CircuitOpen(message, reason=reason)
        raise FallbackUnavailable(message, reason=reason, cache=why_not)

    def _serve_or_raise(self, key: str | None, reason: str, error: Exception) -> Any:
        entry, _ = self._lookup(key)
        if entry is None:
            raise error  # the call's own error, as it was: nothing to serve instead
        return self._marked(entry, reason, stale=True)

    def _lookup(self, key: str | None) -> tuple[Entry | None, str]:
        cache = self.cache
        if key is None:
            return None, "this call is not kept in the fallback cache"
        if _stale_elsewhere.get():
            return None, "the enclosing resilient_query serves from its own cache"
        if cache is None:
            return None, "no fallback cache is configured"
        # Asked again after the lookup: the lookup itself may find it down.
        entry = cache.lookup(key) if cache.available else None
        if entry is None and not cache.available:
            return None, f"the fallback cache ({cache.backend.name}) is unavailable"
        if entry is None:
            return None, f"nothing usable cached (none younger than {cache.max_age:g} s)"
        return entry, ""

    def _marked(self, entry: Entry, reason: str, *, stale: bool) -> Any:
        assert self.cache is not None  # noqa: S101  (an entry came from it)
        age = self.cache.age(entry)
        fetched_at = datetime.fromtimestamp(entry.fetched_at, UTC)
        return mark(entry.value, Freshness(fetched_at, age, stale, reason))

    # Writes ------------------------------------------------------------------

    def write(self, call: Callable[[], T], *, operation: str) -> T:
        if _inside_read.get():
            return call()
        forced = self.forced()
        if forced:
            msg = f"{operation} not sent: fallback mode is on ({'; '.join(forced)})"
            self._tell(EventKind.WRITE_REFUSED, operation, msg)
            raise WriteRefused(msg, mode="fallback")
        if self.breaker.refusing_writes():
            source = self.breaker.source
            msg = f"{operation} not sent: {source} ({self.breaker.describe()})"
            self._tell(EventKind.WRITE_REFUSED, operation, msg)
            raise WriteRefused(msg, mode=source)
        before = self.breaker.state
        try:
            result = call()
        except Exception as error:
            category = _category(error)
            if category in OUTAGE:
                self.breaker.record(category)
                self._breaker_moved(before, operation)
            raise
        return result


def _category(error: Exception) -> ErrorCategory | None:
    """The error's category; None for errors that are not Salesforce's (bugs in the caller)."""
    found = getattr(error, "classification", None)
    if isinstance(found, Classification):
        return found.category
    if isinstance(error, TypeError | AttributeError | KeyError | ValueError | AssertionError):
        return None
    return classify(error).category
