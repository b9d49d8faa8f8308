"""API accounting: the daily allocation, the concurrent long-request limit, /limits."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

from ..wire.http import HttpResponse
from .responses import error


__all__ = ["ApiAccounting"]

Headers = tuple[tuple[str, str], ...]


class ApiAccounting:
    """Counts API calls against the daily allocation and tracks requests in flight.

    `api_limit`, `long_request_threshold` and `concurrent_long_limit` are plain
    attributes, read at each request, so a test may change them on a running fake.
    """

    def __init__(
        self,
        *,
        api_limit: int,
        api_usage: int,
        long_request_threshold: float,
        concurrent_long_limit: int,
        clock: Callable[[], float],
    ) -> None:
        self.api_limit = api_limit
        self.long_request_threshold = long_request_threshold
        self.concurrent_long_limit = concurrent_long_limit
        self._clock = clock
        self._used = api_usage
        self._lock = threading.Lock()
        self._in_flight: dict[int, float] = {}
        self._tickets = itertools.count(1)

    @property
    def used(self) -> int:
        """API calls used in the current allocation."""
        return self._used

    def set_used(self, used: int) -> None:
        """Set the calls used so far."""
        with self._lock:
            self._used = used

    def charge(self) -> tuple[HttpResponse | None, Headers]:
        """Count one call: (403 answer when the allocation is spent, the limit header)."""
        with self._lock:
            exhausted = self._used >= self.api_limit
            if not exhausted:
                self._used += 1
            limit_info = (("Sforce-Limit-Info", f"api-usage={self._used}/{self.api_limit}"),)
        if not exhausted:
            return None, limit_info
        refused = error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        return refused, limit_info

    def enter(self) -> int | None:
        """A ticket for a request starting now, None past the concurrent long limit."""
        now = self._clock()
        with self._lock:
            threshold = self.long_request_threshold
            long_running = sum(1 for t in self._in_flight.values() if now - t >= threshold)
            if long_running >= self.concurrent_long_limit:
                return None
            ticket = next(self._tickets)
            self._in_flight[ticket] = now
            return ticket

    def leave(self, ticket: int) -> None:
        """The request holding `ticket` is done."""
        with self._lock:
            del self._in_flight[ticket]

    def limits(self) -> dict[str, dict[str, int]]:
        """The body of GET /limits."""
        with self._lock:
            used = self._used
        return {
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            "ConcurrentSyncReportRuns": {"Max": 20, "Remaining": 20},
            "DailyApiRequests": {
                "Max": self.api_limit,
                "Remaining": max(0, self.api_limit - used),
            },
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DailyStreamingApiEvents": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "FileStorageMB": {"Max": 20, "Remaining": 20},
            "HourlyTimeBasedWorkflow": {"Max": 50, "Remaining": 50},
            "SingleEmail": {"Max": 15, "Remaining": 15},
        }


def concurrent_limit_refusal() -> HttpResponse:
    """The 403 for too many concurrent long requests."""
    return error(
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
    )
