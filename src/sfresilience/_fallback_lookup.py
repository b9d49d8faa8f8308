"""STUB until wt-wire lands ``fallback_of``: one embedded Fallback per simple-salesforce client.

Replaced at merge by the accessor the client wiring provides (same name, same
signature); nothing but ``_resilient_query`` imports this module.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from ._budget import org_key
from ._cache import FallbackCache, LruBackend, Scope
from ._fallback import BreakerCell, Fallback
from ._modes import FALLBACK, EnvToggle


if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce

    from ._client import ResilientClient

_lock = threading.Lock()
_by_client: weakref.WeakKeyDictionary[Salesforce, Fallback] = weakref.WeakKeyDictionary()
_env = EnvToggle("SF_FALLBACK_MODE", FALLBACK)


def _forced() -> list[str]:
    return [str(reason) for reason in _env.reasons()]


def fallback_of(client: ResilientClient) -> Fallback:
    """The fallback of *client* (shared by every wrapper of one simple-salesforce client)."""
    sf = client.wrapped
    with _lock:
        found = _by_client.get(sf)
        if found is None:
            scope = Scope(org_key(sf), str(vars(sf).get("sf_version", "")))
            cache = FallbackCache(LruBackend(), scope=scope)
            found = _by_client[sf] = Fallback(cache, BreakerCell(), forced=_forced)
        return found
