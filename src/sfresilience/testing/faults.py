"""Run-time switchable faults for `FakeSalesforce` (`fake.faults`).

Every fault is a row of one table keyed by `Fault`: how often it fires (a `count`,
a seeded `probability`, or always) and its settings (`FaultSettings`). The named
switches (`outage()`, `server_errors()`, `latency()`, ...) arm rows; the server reads
the table through `fire(fault)`, which answers whether the fault fires for this
request and with which settings. `armed` is a read-only snapshot of the table.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from ._fault_table import (
    _SERVER_ERROR_STATUSES,
    BULK_JOB_FAILURE,
    ArmedFault,
    DripPart,
    Fault,
    FaultHit,
    FaultSettings,
    _Delayed,
    _Row,
)


__all__ = ["ArmedFault", "Fault", "FaultHit", "FaultSettings", "Faults"]


class Faults:
    """Switch the fake's failure modes on and off while it runs; all thread-safe.

    Every switch takes optional `count` (fire for the next N requests it applies to,
    then switch itself off), `probability` and `seed` (fire on each request with that
    chance, deterministic for a seed and a request order). Without them a fault stays
    on until `clear()` (or its own off switch). `arm(fault, ...)` and `disarm(fault)`
    do the same for any `Fault`.

    * `outage()` really stops listening and closes open connections (clients get
      "connection refused"); `restore()` listens again on the same port. With
      `probability`, the server keeps listening and drops that share of connections
      without an answer instead.
    * `maintenance()`: 503 `text/html` "We are down for maintenance" on every request,
      login included.
    * `server_errors(count=None, status=500)`: counted (data API) requests fail with
      500 `UNKNOWN_EXCEPTION` JSON, a 502 edge page or a 503 CDN page. They don't
      use the API allocation.
    * `latency(seconds)`: every request waits `seconds` before being handled.
    * `hang()`: requests are read and never answered until `clear()`/`stop()`;
      `hanging` and `wait_hanging(n)` tell a test when they are held.
    * `read_only()`: data writes fail 400
      `INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE`; reads work.
    * `expire_sessions()` / `revoke_sessions()`: every session issued so far becomes
      invalid (401 `INVALID_SESSION_ID`); new logins work. With `probability`, each
      authenticated request finds its session expired with that chance.
    * `revoke_refresh_tokens()`: refresh tokens issued so far stop working.
    * `lose_responses()`: a write (POST, PATCH, PUT, DELETE to the data API or Apex
      REST) is applied and counted, then the connection closes before any answer
      byte: the client cannot tell whether it happened, and a retried create
      duplicates.
    * `delay_writes(after_requests=None, after_seconds=None)`: a write's connection
      closes unanswered and the write is not applied yet; it lands on
      `release_delayed()`, after `after_requests` later requests have been handled
      (just before the last of them is answered), or with the first request handled
      `after_seconds` later by the fake's clock (inject one to move time in a test),
      so a retry can be overtaken by the original. Nothing lands between requests on
      its own. `delayed` is how many wait.
    * `slow_drip(seconds, part="body")`: answers are sent one byte every `seconds`
      ("headers", "body" or "all" of them), which per-read timeouts never catch.
    * `stuck_bulk_jobs()`: Bulk jobs and batches that start (are first polled after
      closing) stay `InProgress` until `fake.bulk.release()`; `count` counts jobs.
    * `failed_bulk_jobs(message)`: Bulk jobs and batches that start fail as a whole.
    * `async_api_disabled()`: every Bulk request answers `FeatureNotEnabled: Async API
      not enabled`, as an org without the Async API does.
    * `clear()`: everything above off, outage restored, hung requests released,
      delayed writes discarded unapplied. `FakeSalesforce.stop()` clears every
      fault as well.
    """

    def __init__(
        self,
        *,
        on_outage: Callable[[bool], None],
        on_expire_sessions: Callable[[], None],
        on_revoke_refresh_tokens: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_outage = on_outage
        self._clock = clock
        self._on_expire_sessions = on_expire_sessions
        self._on_revoke_refresh_tokens = on_revoke_refresh_tokens
        self._cond = threading.Condition()
        self._rows: dict[Fault, _Row] = {}
        self._outage = False
        self._hang_generation = 0
        self._hanging = 0
        self._delayed: list[_Delayed] = []
        self._stopping = False
        self.active = False
        """Whether any fault is armed or any write is delayed (a fast path for servers)."""

    # --- the table ----------------------------------------------------------------

    def arm(
        self,
        fault: Fault,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
        settings: FaultSettings | None = None,
    ) -> None:
        """Switch `fault` on (replacing its row): `count` times, by chance, or always."""
        if count is not None and count < 0:
            raise ValueError("count must be >= 0")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        rng = random.Random(seed) if probability is not None else None
        row = _Row(settings or FaultSettings(), count, probability, rng)
        with self._cond:
            self._rows[fault] = row
            self._refresh_active()

    def disarm(self, fault: Fault) -> None:
        """Switch `fault` off."""
        with self._cond:
            self._rows.pop(fault, None)
            self._refresh_active()

    @property
    def armed(self) -> Mapping[Fault, ArmedFault]:
        """A snapshot of every armed fault."""
        with self._cond:
            return MappingProxyType(
                {
                    fault: ArmedFault(fault, row.settings, row.count, row.probability, row.fired)
                    for fault, row in self._rows.items()
                }
            )

    def fire(self, fault: Fault) -> FaultHit | None:
        """Whether `fault` fires for this request (consuming one of its `count`).

        For servers: call it once per request the fault applies to.
        """
        with self._cond:
            row = self._rows.get(fault)
            if row is None or not row.fires():
                return None
            if row.spent:
                del self._rows[fault]
                self._refresh_active()
            return FaultHit(fault, row.settings, row.fired)

    def _refresh_active(self) -> None:
        self.active = bool(self._rows or self._delayed)

    # --- switches -------------------------------------------------------------

    def outage(self, *, probability: float | None = None, seed: int | None = None) -> None:
        """Stop listening (or, with `probability`, drop that share of connections)."""
        if probability is not None:
            self.arm(Fault.DROP_CONNECTIONS, probability=probability, seed=seed)
            return
        with self._cond:
            self._outage = True
        self._on_outage(True)  # noqa: FBT003

    def restore(self) -> None:
        """End an outage: listen again on the same port, stop dropping connections."""
        self.disarm(Fault.DROP_CONNECTIONS)
        with self._cond:
            was_out, self._outage = self._outage, False
        if was_out:
            self._on_outage(False)  # noqa: FBT003

    def maintenance(
        self,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Answer 503 with the HTML maintenance page, login included."""
        self.arm(Fault.MAINTENANCE, count=count, probability=probability, seed=seed)

    def server_errors(
        self,
        count: int | None = None,
        *,
        status: int = 500,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Fail counted requests with 500 JSON, a 502 edge page or a 503 CDN page."""
        if status not in _SERVER_ERROR_STATUSES:
            raise ValueError(f"status must be one of {_SERVER_ERROR_STATUSES}")
        settings = FaultSettings(status=status)
        self.arm(
            Fault.SERVER_ERRORS, count=count, probability=probability, seed=seed, settings=settings
        )

    def latency(
        self,
        seconds: float,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Delay each request by `seconds` before handling it."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        settings = FaultSettings(seconds=seconds)
        self.arm(Fault.LATENCY, count=count, probability=probability, seed=seed, settings=settings)

    def hang(
        self,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Read requests and never answer them until `clear()` or `stop()`."""
        self.arm(Fault.HANG, count=count, probability=probability, seed=seed)

    def read_only(
        self,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Refuse data writes (INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE)."""
        self.arm(Fault.READ_ONLY, count=count, probability=probability, seed=seed)

    def expire_sessions(
        self,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Invalidate every session issued so far (with `probability`: at random)."""
        if probability is None and count is None:
            self._on_expire_sessions()
            return
        self.arm(Fault.EXPIRE_SESSIONS, count=count, probability=probability, seed=seed)

    def revoke_sessions(self) -> None:
        """Revoke every session issued so far, like an admin would."""
        self._on_expire_sessions()

    def revoke_refresh_tokens(self) -> None:
        """Revoke every refresh token issued so far."""
        self._on_revoke_refresh_tokens()

    def lose_responses(
        self,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Apply writes, then drop the connection before any byte of the answer."""
        self.arm(Fault.LOSE_RESPONSES, count=count, probability=probability, seed=seed)

    def delay_writes(
        self,
        *,
        after_requests: int | None = None,
        after_seconds: float | None = None,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Lose writes' answers and apply the writes later (see the class docs)."""
        if after_requests is not None and after_requests < 1:
            raise ValueError("after_requests must be >= 1")
        if after_seconds is not None and after_seconds < 0:
            raise ValueError("after_seconds must be >= 0")
        settings = FaultSettings(after_requests=after_requests, after_seconds=after_seconds)
        self.arm(
            Fault.DELAY_WRITES, count=count, probability=probability, seed=seed, settings=settings
        )

    def slow_drip(
        self,
        seconds: float,
        *,
        part: DripPart = "body",
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Send answers one byte every `seconds` (their headers, body, or all)."""
        if seconds <= 0:
            raise ValueError("seconds must be > 0")
        if part not in {"headers", "body", "all"}:
            raise ValueError("part must be 'headers', 'body' or 'all'")
        settings = FaultSettings(seconds=seconds, part=part)
        self.arm(
            Fault.SLOW_DRIP, count=count, probability=probability, seed=seed, settings=settings
        )

    def stuck_bulk_jobs(
        self,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Keep Bulk jobs that start from now on InProgress until `fake.bulk.release()`."""
        self.arm(Fault.BULK_JOBS_STUCK, count=count, probability=probability, seed=seed)

    def failed_bulk_jobs(
        self,
        message: str = BULK_JOB_FAILURE,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Fail Bulk jobs that start from now on as a whole, with `message`."""
        settings = FaultSettings(message=message)
        self.arm(
            Fault.BULK_JOBS_FAIL, count=count, probability=probability, seed=seed, settings=settings
        )

    def async_api_disabled(
        self,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Answer Bulk requests FeatureNotEnabled: Async API not enabled."""
        self.arm(Fault.ASYNC_API_DISABLED, count=count, probability=probability, seed=seed)

    def clear(self) -> None:
        """Switch every fault off, end an outage, release hung requests.

        Delayed writes that have not landed are discarded: call `release_delayed()`
        first to land them.
        """
        with self._cond:
            self._rows.clear()
            self._delayed.clear()
            self._hang_generation += 1
            self._refresh_active()
            self._cond.notify_all()
        self.restore()

    # --- delayed writes -------------------------------------------------------------

    def defer(self, apply: Callable[[], None], settings: FaultSettings) -> None:
        """For servers: hold a write back; it lands by `release_delayed()` or `landing()`."""
        # The request that defers the write is counted down too, once it is handled.
        after = settings.after_requests
        remaining = None if after is None else after + 1
        wait = settings.after_seconds
        due_at = None if wait is None else self._clock() + wait
        with self._cond:
            self._delayed.append(_Delayed(apply, remaining, due_at))
            self._refresh_active()

    def landing(self) -> list[Callable[[], None]]:
        """For servers, once per handled request: the delayed writes due now."""
        now = self._clock()
        with self._cond:
            due = [delayed for delayed in self._delayed if delayed.due(now)]
            if not due:
                return []
            self._delayed = [delayed for delayed in self._delayed if delayed not in due]
            self._refresh_active()
        return [delayed.apply for delayed in due]

    def release_delayed(self) -> int:
        """Apply every delayed write now, oldest first; returns how many landed."""
        with self._cond:
            due, self._delayed = self._delayed, []
            self._refresh_active()
        for delayed in due:
            delayed.apply()
        return len(due)

    @property
    def delayed(self) -> int:
        """How many delayed writes have not landed yet."""
        return len(self._delayed)

    # --- observation ------------------------------------------------------------

    @property
    def in_outage(self) -> bool:
        """Whether the fake is not listening because of `outage()`."""
        return self._outage

    @property
    def hanging(self) -> int:
        """How many requests are being held by `hang()` right now."""
        return self._hanging

    def wait_hanging(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least `count` requests are held by `hang()`."""
        with self._cond:
            return self._cond.wait_for(lambda: self._hanging >= count, timeout)

    # --- held requests (for servers) ---------------------------------------------

    def hold(self) -> bool:
        """Hold this request while `hang()` fires for it; False when the fake stops."""
        if self.fire(Fault.HANG) is None:
            return True
        with self._cond:
            generation = self._hang_generation
            self._hanging += 1
            self._cond.notify_all()
            try:
                self._cond.wait_for(lambda: self._stopping or self._hang_generation != generation)
            finally:
                self._hanging -= 1
            return not self._stopping

    def stopping(self) -> None:
        """For servers: the fake is stopping, let every held request go unanswered."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def starting(self) -> None:
        """For servers: the fake serves again."""
        with self._cond:
            self._stopping = False
