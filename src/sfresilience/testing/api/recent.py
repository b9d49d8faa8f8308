"""Recently viewed items: `GET /services/data/vXX.X/recent[?limit=n]`.

Salesforce fills this list from what the user views in the UI (and from SOQL's
`FOR VIEW`); reading records through the API does not add to it. The fake has no
UI, so a test marks what its user "viewed" with `FakeSalesforce.mark_viewed()`.
The answer is an array of `{attributes, Id, Name}`, most recent first, at most 200
(or `limit`; an unreadable one is ignored); records deleted since are left out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from ..org import ApiError, Org


__all__ = ["RecentlyViewed"]

_MAX_ITEMS = 200


class RecentlyViewed:
    """The integration user's recently viewed records."""

    def __init__(self, org: Org) -> None:
        self._org = org
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def mark(self, sobject: str, record_id: str) -> None:
        """Record that the user viewed `record_id` (it moves to the front)."""
        self._org.get(sobject, record_id, ["Id"], "59.0")  # NOT_FOUND for a wrong id
        with self._lock:
            self._items.pop(record_id, None)
            self._items[record_id] = sobject
            while len(self._items) > _MAX_ITEMS:
                self._items.popitem(last=False)

    def items(self, params: dict[str, str], version: str) -> list[dict[str, Any]]:
        """The body of GET /recent."""
        limit = _limit(params.get("limit"))
        with self._lock:
            viewed = list(reversed(self._items.items()))
        found: list[dict[str, Any]] = []
        for record_id, sobject in viewed:
            if len(found) >= limit:
                break
            record = self._shaped(sobject, record_id, version)
            if record is not None:
                found.append(record)
        return found

    def _shaped(self, sobject: str, record_id: str, version: str) -> dict[str, Any] | None:
        org = self._org
        try:
            return org.get(sobject, record_id, ["Id", "Name"], version)
        except ApiError as problem:
            if problem.error_code == "INVALID_FIELD":  # an object without a Name field
                return org.get(sobject, record_id, ["Id"], version)
            return None  # deleted since it was viewed


def _limit(text: str | None) -> int:
    """`limit` capped at 200; a missing or unreadable one means the default 200."""
    try:
        limit = int(text) if text is not None else _MAX_ITEMS
    except ValueError:
        return _MAX_ITEMS
    return max(0, min(limit, _MAX_ITEMS))
