"""Reading the org's usage out of what Salesforce sends back (pure)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


DAILY_API_REQUESTS = "DailyApiRequests"


# `api-usage=18/5000`, not the `per-app-api-usage=...` that may share the header.
_API_USAGE = re.compile(r"(?:^|[;,\s])api-usage\s*=\s*(\d+)\s*/\s*(\d+)", re.IGNORECASE)


def parse_limit_info(value: str | None) -> tuple[int, int] | None:
    """``(used, limit)`` from ``Sforce-Limit-Info: api-usage=18/5000; ...``, or None.

    Other fields (``api-bursts``, ``per-app-api-usage``) are skipped; anything
    that does not parse is treated as no reading, never as an error.
    """
    if not value:
        return None
    found = _API_USAGE.search(value)
    if found is None:
        return None
    used, limit = int(found.group(1)), int(found.group(2))
    return (used, limit) if limit > 0 else None


def parse_daily_limits(body: Any) -> dict[str, tuple[int, int]]:
    """``{name: (max, remaining)}`` from a ``/limits`` body; unreadable entries are skipped.

    Old API versions sent the numbers as strings; nested per-app entries
    inside ``DailyApiRequests`` are not limits of their own and are ignored.
    """
    limits: dict[str, tuple[int, int]] = {}
    if not isinstance(body, Mapping):
        return limits
    for name, entry in body.items():
        if not isinstance(entry, Mapping):
            continue
        try:
            limits[str(name)] = (int(entry["Max"]), int(entry["Remaining"]))
        except (KeyError, TypeError, ValueError):
            continue
    return limits


def usage_from_limits(limits: Mapping[str, tuple[int, int]]) -> tuple[int, int] | None:
    """``(used, limit)`` of the daily API allocation from parsed ``/limits``."""
    entry = limits.get(DAILY_API_REQUESTS)
    if entry is None or entry[0] <= 0:
        return None
    maximum, remaining = entry
    return max(0, maximum - remaining), maximum
