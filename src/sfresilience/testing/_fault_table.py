"""The rows of the fault table `Faults` keeps: which fault, its settings, when it fires.

Split from faults.py, which re-exports the public names (`Fault`, `FaultSettings`,
`FaultHit`, `ArmedFault`); import them from there or from `sfresilience.testing`.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


_SERVER_ERROR_STATUSES = (500, 502, 503)
# A real whole-job failure text (a CSV with CRLF line endings in an LF job).
BULK_JOB_FAILURE = (
    "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF"
)
DripPart = Literal["headers", "body", "all"]


class Fault(enum.Enum):
    """Every failure the fake can inject."""

    DROP_CONNECTIONS = "drop_connections"
    """Close the connection without an answer (`outage(probability=...)`)."""
    MAINTENANCE = "maintenance"
    """503 text/html maintenance page on every request, login included."""
    SERVER_ERRORS = "server_errors"
    """Counted requests fail with 500 JSON, a 502 edge page or a 503 CDN page."""
    LATENCY = "latency"
    """Wait `seconds` before handling the request."""
    HANG = "hang"
    """Read the request and answer only after `clear()`/`stop()` (then: no answer)."""
    READ_ONLY = "read_only"
    """Data writes fail 400 INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE."""
    EXPIRE_SESSIONS = "expire_sessions"
    """The request's session is found expired (401 INVALID_SESSION_ID)."""
    LOSE_RESPONSES = "lose_responses"
    """A write is applied, then the connection drops before any answer byte."""
    DELAY_WRITES = "delay_writes"
    """A write's answer is lost and the write itself lands later."""
    SLOW_DRIP = "slow_drip"
    """The answer is sent one byte every `seconds`."""
    BULK_JOBS_STUCK = "bulk_jobs_stuck"
    """A Bulk job (or v1 batch) starting now stays InProgress until `fake.bulk.release()`."""
    BULK_JOBS_FAIL = "bulk_jobs_fail"
    """A Bulk job (or v1 batch) starting now fails as a whole with `message`."""
    ASYNC_API_DISABLED = "async_api_disabled"
    """A Bulk request answers FeatureNotEnabled: Async API not enabled."""


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """What a fault does when it fires; each fault reads only its own fields.

    `seconds`: the latency, or the pause between dripped bytes. `status`: the
    server error's status. `part`: what `SLOW_DRIP` trickles ("headers", "body"
    or "all"). `after_requests` / `after_seconds`: a delayed write lands once this
    many later requests have been handled, or at the first request handled this many
    seconds (of the fake's clock) later, whichever comes first (both None: only on
    `release_delayed()`). `message`: a failed Bulk job's `errorMessage`.
    """

    seconds: float = 0.0
    status: int = 500
    part: DripPart = "body"
    after_requests: int | None = None
    message: str = ""
    after_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class FaultHit:
    """One firing: the fault, its settings, and how often it has fired (1 = first)."""

    fault: Fault
    settings: FaultSettings
    serial: int


@dataclass(frozen=True, slots=True)
class ArmedFault:
    """A row of the table: `remaining` firings (None: unlimited) and the `probability`."""

    fault: Fault
    settings: FaultSettings
    remaining: int | None
    probability: float | None
    fired: int


@dataclass
class _Row:
    """When a fault fires: always, the next `count` times, and/or by seeded chance."""

    settings: FaultSettings
    count: int | None = None
    probability: float | None = None
    rng: random.Random | None = None
    fired: int = 0

    def fires(self) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if (
            self.probability is not None
            and self.rng is not None
            and self.rng.random() >= self.probability
        ):
            return False
        if self.count is not None:
            self.count -= 1
        self.fired += 1
        return True

    @property
    def spent(self) -> bool:
        return self.count is not None and self.count <= 0


@dataclass
class _Delayed:
    apply: Callable[[], None]
    remaining: int | None = None
    due_at: float | None = None

    def due(self, now: float) -> bool:
        """Count one handled request down; whether the write lands now."""
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                return True
        return self.due_at is not None and now >= self.due_at
