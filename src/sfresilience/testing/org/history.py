"""What an org's tables looked like: snapshots for all-or-none requests, and replication.

`Org` (store.py) holds the tables; this mixin reads and restores them.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from .catalog import Schema
from .errors import ApiError
from .schema import Record
from .soql import parse_datetime


__all__ = ["Snapshot", "TableHistory"]


@dataclass(frozen=True)
class Snapshot:
    """Copies of every record at one moment (see `Org.snapshot`)."""

    tables: dict[str, dict[str, Record]]
    deleted_at: dict[str, str]


def _replication_window(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Both ends in UTC with the seconds dropped, as getUpdated/getDeleted read them."""

    def minute(moment: dt.datetime) -> dt.datetime:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).replace(second=0, microsecond=0)

    low, high = minute(start), minute(end)
    if low >= high:
        raise ApiError(
            400,
            "INVALID_REPLICATION_DATE",
            "startDate must chronologically precede endDate by more than one minute",
        )
    return low, high


class TableHistory:
    """Snapshot and restore of every table, and the replication windows over them."""

    schema: Schema
    _lock: threading.RLock
    _tables: dict[str, dict[str, Record]]
    _deleted_at: dict[str, str]
    _unique: dict[tuple[str, str], dict[object, str]]

    # -- transactions (allOrNone composite requests, sObject trees) -----------

    def snapshot(self) -> Snapshot:
        """Every record as it is now, for `restore` when an all-or-none request fails."""
        with self._lock:
            tables = {
                name: {record_id: dict(record) for record_id, record in table.items()}
                for name, table in self._tables.items()
            }
            return Snapshot(tables, dict(self._deleted_at))

    def restore(self, snapshot: Snapshot) -> None:
        """Undo every write since `snapshot`: new records vanish, changed ones revert."""
        with self._lock:
            for name, table in self._tables.items():
                before = snapshot.tables.get(name, {})
                for record_id in [key for key in table if key not in before]:
                    del table[record_id]
                for record_id, old in before.items():
                    current = table.get(record_id)
                    if current is None:
                        table[record_id] = dict(old)
                    elif current != old:
                        current.clear()
                        current.update(old)
            self._deleted_at.clear()
            self._deleted_at.update(snapshot.deleted_at)
            self._unique.clear()  # rebuilt from the restored records on next use

    # -- replication (SFType.deleted / SFType.updated) -------------------------

    def deleted_between(
        self, sobject: str, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[str, str]]:
        """(id, deletedDate) of records deleted in [start, end), oldest first.

        The body of GET /sobjects/X/deleted/?start=&end=. As in Salesforce the
        seconds of `start` and `end` are ignored, naive datetimes are UTC, and `start`
        must precede `end` (else 400 INVALID_REPLICATION_DATE).
        """
        obj = self.schema.known(sobject)
        low, high = _replication_window(start, end)
        with self._lock:
            found = [
                (parse_datetime(stamp), record_id, stamp)
                for record_id, stamp in self._deleted_at.items()
                if record_id in self._tables[obj.name]
            ]
        return [
            (record_id, stamp) for moment, record_id, stamp in sorted(found) if low <= moment < high
        ]

    def updated_between(self, sobject: str, start: dt.datetime, end: dt.datetime) -> list[str]:
        """Ids of live records created or changed (by SystemModstamp) in [start, end).

        The ids of GET /sobjects/X/updated/?start=&end=, oldest change first; the
        window follows the same rules as `deleted_between`.
        """
        obj = self.schema.known(sobject)
        low, high = _replication_window(start, end)
        if obj.field("SystemModstamp") is None:
            return []
        with self._lock:
            found = [
                (parse_datetime(str(record["SystemModstamp"])), str(record["Id"]))
                for record in self._tables[obj.name].values()
                if not record["IsDeleted"]
            ]
        return [record_id for moment, record_id in sorted(found) if low <= moment < high]
