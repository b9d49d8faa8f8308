"""``freshness(result)``: whether a result came from the fallback cache, and how old it is.

A cached result must keep simple-salesforce's shape (``isinstance(r, dict)``,
``r["records"]``, ``json.dumps(r)`` and ``==`` all as before), yet carry where
it came from. It is returned as a *subclass* of its own type (OrderedDict,
list, str, int or float) with the freshness in one extra attribute. An id-keyed
weak registry was the alternative, but dicts and lists cannot be weakly
referenced, and ids are reused. ``True``, ``False`` and ``None`` cannot be
subclassed: a function of ``resilient_query`` returning one of those is served
unmarked, so ``freshness`` of it is None — return an object to be able to tell.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from datetime import datetime
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class Freshness:
    """Where a cached result came from."""

    fetched_at: datetime
    """When Salesforce answered it (UTC)."""
    age: float
    """Seconds between that answer and when it was served."""
    stale: bool
    """True when older than its freshness window (a fallback served it)."""
    reason: str
    """Why it was served from the cache."""


class CachedDict(OrderedDict[Any, Any]):
    __slots__ = ("__sfr_freshness__",)


class CachedList(list[Any]):
    __slots__ = ("__sfr_freshness__",)


class CachedStr(str):
    __slots__ = ("__sfr_freshness__",)


class CachedInt(int):
    __sfr_freshness__: Freshness


class CachedFloat(float):
    __sfr_freshness__: Freshness


_MARKED: tuple[tuple[type, type], ...] = (
    (dict, CachedDict),
    (list, CachedList),
    (str, CachedStr),
    (int, CachedInt),
    (float, CachedFloat),
)


def mark(value: Any, found: Freshness) -> Any:
    """*value* as a result that ``freshness`` recognises (see the module docstring)."""
    if isinstance(value, bool) or value is None:
        return value
    for plain, cached in _MARKED:
        if isinstance(value, plain):
            marked = cached(value)
            object.__setattr__(marked, "__sfr_freshness__", found)
            return marked
    return value


def freshness(result: object) -> Freshness | None:
    """None for a live result; for one served from the fallback cache, its :class:`Freshness`."""
    found = getattr(result, "__sfr_freshness__", None)
    return found if isinstance(found, Freshness) else None
