"""One :class:`Fallback` per client, built from the settings and the shared store.

Wrappers of one org sharing one store share its breaker and its cache: the
breaker is the process's view of the org, and a second wrapper must not pay
for an outage the first one already found.
"""

from __future__ import annotations

import json
import re
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from .._cache import (
    Backend,
    FallbackCache,
    LruBackend,
    Scope,
    StoreBackend,
    WriteBehind,
    cipher_from,
)
from .._events import Event, EventKind, Hook
from .._modes import FALLBACK, EnvToggle, FleetSwitch, ModeReason, Pinned, ReasonSource
from .._settings import Settings
from .._store import FailoverStore, MemoryStore, RedisStore, Store
from .._trust_status import TrustV1, remembered_instance
from ._breaker_cell import BreakerCell
from ._flight import SingleFlight
from ._outage import Fallback


# Cache reads happen only when Salesforce is not answering: they must not add
# the store's usual 2 s timeout to a read that is already failing.
_CACHE_TIMEOUT = 0.25
_INSTANCE_HOST = re.compile(r"^(?:https?://)?([a-z]{2,4}\d+)[.-]", re.IGNORECASE)


class _Shared:
    """What wrappers of one org on one store share."""

    def __init__(self, breaker: BreakerCell, backend: Backend) -> None:
        self.breaker = breaker
        self.backend = backend
        self.writer = WriteBehind()  # one worker thread per org, not per wrapper
        self.flights = SingleFlight()  # identical reads of any wrapper are one call


_shared: weakref.WeakKeyDictionary[Any, dict[str, _Shared]] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


def instance_key(sf: Any) -> str | None:
    """The org's instance for the status API (``NA137``), when its host names one."""
    found = _INSTANCE_HOST.match(str(vars(sf).get("sf_instance") or ""))
    return found.group(1).upper() if found else None


def _instance_of(
    from_host: str | None, sf: Any, store: weakref.ref[Store]
) -> Callable[[], str | None]:
    """The instance key: from the host, else as ``triage`` last learnt it (My Domain)."""
    host = urlsplit(f"//{vars(sf).get('sf_instance') or ''}").hostname or ""

    def instance() -> str | None:
        alive = store()  # weakly: the table of shared state must not keep the store alive
        return from_host or (remembered_instance(alive, host) if alive is not None else None)

    return instance


def _backend(settings: Settings, store: Store, clock: Callable[[], float]) -> Backend:
    """Redis when the store is Redis (short timeouts of its own), else an embedded LRU."""
    primary = store.primary if isinstance(store, FailoverStore) else store
    if isinstance(primary, MemoryStore):
        return LruBackend(
            max_entries=settings.cache_max_entries, max_bytes=settings.cache_max_bytes
        )
    if isinstance(primary, RedisStore) and settings.redis_url:
        # from_url: a redis+cluster:// URL gets a Cluster client.
        primary = RedisStore.from_url(
            settings.redis_url, namespace=primary.namespace, timeout=_CACHE_TIMEOUT
        )
    return StoreBackend(primary, clock=clock)


def board_key(org: str) -> str:
    """Where the fleet's last breaker change for *org* is posted (``sfresilience status``)."""
    return f"breaker:{{{org}}}:state"


class BreakerBoard:
    """An event hook posting breaker changes to the store, so ``status`` can show them."""

    def __init__(self, store: Store, org: str, clock: Callable[[], float]) -> None:
        self._store = store
        self._key = board_key(org)
        self._clock = clock

    def __call__(self, event: Event) -> None:
        if event.kind is EventKind.BREAKER_CLOSED:
            self._store.delete(self._key)
            return
        state = _POSTED.get(event.kind)
        if state is not None:
            record = {"state": state, "detail": event.reason, "since": self._clock()}
            self._store.set(self._key, json.dumps(record).encode(), ttl=_POSTED_TTL)


_POSTED = {EventKind.BREAKER_OPENED: "open", EventKind.BREAKER_HALF_OPEN: "half-open"}
_POSTED_TTL = 600.0  # an open breaker posts again at each failed probe


def _probe_slot(store: Store, org: str) -> dict[str, Any]:
    """One probe per fleet: an atomic claim in the shared store (a local one: per process).

    The store is held weakly: these live in a table keyed by the store itself.
    """
    key, held = f"breaker:{{{org}}}:probe", weakref.ref(store)

    def claim(ttl: float) -> bool:
        found = held()
        return found is None or found.claim(key, ttl=ttl)

    def release() -> None:
        found = held()
        if found is not None:
            found.delete(key)

    return {"claim_probe": claim, "release_claim": release}


def _shared_for(  # noqa: PLR0917
    sf: Any,
    settings: Settings,
    store: Store,
    org: str,
    clock: Callable[[], float],
    wall_clock: Callable[[], float],
) -> _Shared:
    # The org's instance URL too: an org id alone is not unique among test orgs,
    # and a breaker is about the endpoint the calls go to.
    where = f"{org}@{vars(sf).get('sf_instance') or ''}"
    with _shared_lock:
        per_store = _shared.setdefault(store, {})
        found = per_store.get(where)
        if found is None:
            instance = instance_key(sf)  # a string: the table must not keep the client alive
            breaker = BreakerCell(
                instance=_instance_of(instance, sf, weakref.ref(store)),
                status=TrustV1(settings.status_url),
                **_probe_slot(store, org),
                clock=clock,
                wall_clock=wall_clock,
            )
            found = per_store[where] = _Shared(breaker, _backend(settings, store, clock))
        return found


def fallback_sources(settings: Settings, store: Store, **clock: Any) -> list[ReasonSource]:
    """What forces fallback: ``SF_FALLBACK_MODE``, the fleet switch, the settings."""
    sources: list[ReasonSource] = [EnvToggle("SF_FALLBACK_MODE", FALLBACK, **clock)]
    if settings.fallback_mode:
        sources.append(Pinned(FALLBACK, "Settings(fallback_mode=True)"))
    sources.append(FleetSwitch(store, FALLBACK))
    return sources


def forced_by(sources: Sequence[ReasonSource]) -> Callable[[], list[str]]:
    """The reasons fallback is forced now (cheap when none is: asked on every call)."""

    def forced() -> list[str]:
        return [str(r) for s in sources if s.active() for r in s.reasons()]

    return forced


def build_fallback(
    sf: Any,
    settings: Settings,
    store: Store,
    org: str,
    *,
    hooks: Sequence[Hook] = (),
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] | None = None,
) -> tuple[Fallback, list[ReasonSource]]:
    """The client's fallback, and the sources that force it (for ``client.mode``)."""
    wall = wall_clock or time.time
    shared = _shared_for(sf, settings, store, org, clock, wall)
    api_version = str(vars(sf).get("sf_version") or "unknown")
    cache = FallbackCache(
        shared.backend,
        scope=Scope(org, api_version),
        max_age=settings.cache_ttl,
        cipher=cipher_from(settings.cache_key.get_secret_value() if settings.cache_key else None),
        clock=wall,
        writer=shared.writer,
    )
    sources = fallback_sources(settings, store, **({"clock": wall_clock} if wall_clock else {}))
    board = BreakerBoard(store, org, wall)
    fallback = Fallback(
        cache,
        shared.breaker,
        forced=forced_by(sources),
        flights=shared.flights,
        hooks=(*hooks, board),
    )
    return fallback, sources


def breaker_reasons(breaker: BreakerCell) -> tuple[ModeReason, ...]:
    """The breaker's reason for fallback while it is not closed."""
    if breaker.refusing_writes():
        return (ModeReason(FALLBACK, breaker.source, breaker.describe(), breaker.since()),)
    return ()
