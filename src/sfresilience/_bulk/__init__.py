"""Bulk API 2.0 and Bulk API 1.0 through the guard."""

from ._bulk2 import ResilientBulk2Handler, ResilientBulk2Type
from ._factory import bulk_handler, bulk_query_records
from ._outcome import BulkJobResult, BulkOutcome, FailedRecord
from ._query import switch_to_bulk
from ._watchdog import Watchdog


__all__ = [
    "BulkJobResult",
    "BulkOutcome",
    "FailedRecord",
    "ResilientBulk2Handler",
    "ResilientBulk2Type",
    "Watchdog",
    "bulk_handler",
    "bulk_query_records",
    "switch_to_bulk",
]
