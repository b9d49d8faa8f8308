"""Which records a lock error names, and which records a write is known to lock.

Salesforce's ``UNABLE_TO_LOCK_ROW`` names what the write waited for: "unable to
obtain exclusive access to this record or 1 records: 0013000000AbCdE". That may be
the record itself or a parent the write also locks (a Contact's Account). Callers
that learn it can queue behind the holder instead of sleeping blindly, and a later
write of the same record can queue *before* it is sent.
"""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import Iterable

from .._classify import Classification, ErrorCategory


# A Salesforce id: 15 case-sensitive characters, or 18 with a case-safe suffix.
# An id cut short by a trimmed message ("001...…") must not count.
_RECORD_ID = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?)(?![A-Za-z0-9…])")
_NAMES_RECORDS = re.compile(
    r"exclusive access to this record or \d+ records?:\s*(.*)", re.IGNORECASE
)

_DEFAULT_REMEMBERED = 10_000


def record_key(record_id: str) -> str:
    """The key one record queues under: its 15-character id (18 = 15 + a suffix)."""
    return record_id[:15] if len(record_id) == 18 and record_id.isalnum() else record_id  # noqa: PLR2004


def contended_records(classification: Classification) -> tuple[str, ...]:
    """The record keys a ``ROW_LOCK`` error names, in order; empty when it names none."""
    if classification.category is not ErrorCategory.ROW_LOCK:
        return ()
    found = _NAMES_RECORDS.search(classification.message)
    if found is None:
        return ()
    ids = _RECORD_ID.findall(found.group(1))
    return tuple(dict.fromkeys(record_key(record_id) for record_id in ids))


class ContentionMap:
    """What each record's writes were seen to lock: itself, and the parents named.

    Bounded (least recently used goes first) and safe across threads. A stale
    entry (a Contact moved to another Account) costs a needless wait, never a
    wrong answer.
    """

    def __init__(self, *, remembered: int = _DEFAULT_REMEMBERED) -> None:
        self._remembered = remembered
        self._locks: collections.OrderedDict[str, frozenset[str]] = collections.OrderedDict()
        self._mutex = threading.Lock()

    def learn(self, record: str, contended: Iterable[str]) -> frozenset[str]:
        """Remember that writing *record* waited for *contended*; return all it is known to lock."""
        key = record_key(record)
        with self._mutex:
            known = self._locks.pop(key, frozenset()) | frozenset(contended)
            self._locks[key] = known
            while len(self._locks) > self._remembered:
                self._locks.popitem(last=False)
            return known

    def contended(self, record: str) -> frozenset[str]:
        """Keys a write of *record* was seen waiting for (empty when never contended)."""
        key = record_key(record)
        with self._mutex:
            known = self._locks.get(key)
            if known is None:
                return frozenset()
            self._locks.move_to_end(key)
            return known

    def __len__(self) -> int:
        with self._mutex:
            return len(self._locks)
