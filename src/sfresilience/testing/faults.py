"""Run-time switchable faults for `FakeSalesforce` (`fake.faults`)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass


__all__ = ["Faults"]

_SERVER_ERROR_STATUSES = (500, 502, 503)


@dataclass
class _Trigger:
    """When a fault fires: always, the next `count` times, and/or by seeded chance."""

    count: int | None = None
    probability: float | None = None
    rng: random.Random | None = None

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
        return True

    @property
    def spent(self) -> bool:
        return self.count is not None and self.count <= 0


def _trigger(count: int | None, probability: float | None, seed: int | None) -> _Trigger:
    if count is not None and count < 0:
        raise ValueError("count must be >= 0")
    if probability is not None and not 0.0 <= probability <= 1.0:
        raise ValueError("probability must be between 0 and 1")
    rng = random.Random(seed) if probability is not None else None
    return _Trigger(count, probability, rng)


class Faults:
    """Switch the fake's failure modes on and off while it runs; all thread-safe.

    Every switch takes optional `count` (fire for the next N requests it applies to,
    then switch itself off), `probability` and `seed` (fire on each request with that
    chance, deterministic for a seed and a request order). Without them a fault stays
    on until `clear()` (or its own off switch).

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
    * `clear()`: everything above off, outage restored, hung requests released.
      `FakeSalesforce.stop()` clears every fault as well.
    """

    def __init__(
        self,
        *,
        on_outage: Callable[[bool], None],
        on_expire_sessions: Callable[[], None],
        on_revoke_refresh_tokens: Callable[[], None],
    ) -> None:
        self._on_outage = on_outage
        self._on_expire_sessions = on_expire_sessions
        self._on_revoke_refresh_tokens = on_revoke_refresh_tokens
        self._cond = threading.Condition()
        self._outage = False
        self._drop: _Trigger | None = None
        self._maintenance: _Trigger | None = None
        self._server_errors: _Trigger | None = None
        self._server_error_status = 500
        self._latency: _Trigger | None = None
        self._latency_seconds = 0.0
        self._hang: _Trigger | None = None
        self._hang_generation = 0
        self._hanging = 0
        self._read_only: _Trigger | None = None
        self._expire: _Trigger | None = None
        self._stopping = False
        self._error_serial = 0
        self.active = False

    def _refresh_active(self) -> None:
        self.active = any(
            trigger is not None
            for trigger in (
                self._drop,
                self._maintenance,
                self._server_errors,
                self._latency,
                self._hang,
                self._read_only,
                self._expire,
            )
        )

    # --- switches -------------------------------------------------------------

    def outage(self, *, probability: float | None = None, seed: int | None = None) -> None:
        """Stop listening (or, with `probability`, drop that share of connections)."""
        if probability is not None:
            with self._cond:
                self._drop = _trigger(None, probability, seed)
                self._refresh_active()
            return
        with self._cond:
            self._outage = True
        self._on_outage(True)  # noqa: FBT003

    def restore(self) -> None:
        """End an outage: listen again on the same port, stop dropping connections."""
        with self._cond:
            self._drop = None
            self._refresh_active()
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
        with self._cond:
            self._maintenance = _trigger(count, probability, seed)
            self._refresh_active()

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
        with self._cond:
            self._server_errors = _trigger(count, probability, seed)
            self._server_error_status = status
            self._refresh_active()

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
        with self._cond:
            self._latency = _trigger(count, probability, seed)
            self._latency_seconds = seconds
            self._refresh_active()

    def hang(
        self,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Read requests and never answer them until `clear()` or `stop()`."""
        with self._cond:
            self._hang = _trigger(count, probability, seed)
            self._refresh_active()

    def read_only(
        self,
        *,
        count: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
    ) -> None:
        """Refuse data writes (INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE)."""
        with self._cond:
            self._read_only = _trigger(count, probability, seed)
            self._refresh_active()

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
        with self._cond:
            self._expire = _trigger(count, probability, seed)
            self._refresh_active()

    def revoke_sessions(self) -> None:
        """Revoke every session issued so far, like an admin would."""
        self._on_expire_sessions()

    def revoke_refresh_tokens(self) -> None:
        """Revoke every refresh token issued so far."""
        self._on_revoke_refresh_tokens()

    def clear(self) -> None:
        """Switch every fault off, end an outage and release hung requests."""
        with self._cond:
            self._maintenance = self._server_errors = self._latency = None
            self._hang = self._read_only = self._expire = None
            self._hang_generation += 1
            self._cond.notify_all()
        self.restore()

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

    # --- used by the server (private) -------------------------------------------

    def _fire(self, name: str) -> bool:
        with self._cond:
            trigger: _Trigger | None = getattr(self, name)
            if trigger is None:
                return False
            fired = trigger.fires()
            if trigger.spent:
                setattr(self, name, None)
                self._refresh_active()
            return fired

    def _drops(self) -> bool:
        """Whether to drop this connection without an answer."""
        return self._fire("_drop")

    def _in_maintenance(self) -> bool:
        """Whether this request gets the maintenance page."""
        return self._fire("_maintenance")

    def _server_error(self) -> tuple[int, int] | None:
        """(status, serial) when this counted request must fail with a server error."""
        with self._cond:
            status = self._server_error_status
        if not self._fire("_server_errors"):
            return None
        with self._cond:
            self._error_serial += 1
            return status, self._error_serial

    def _delay(self) -> float:
        """Seconds this request must wait (0 when latency is off or didn't fire)."""
        with self._cond:
            seconds = self._latency_seconds
        return seconds if self._fire("_latency") else 0.0

    def _hold(self) -> bool:
        """Hold this request while `hang()` is on; False when the fake is stopping."""
        if not self._fire("_hang"):
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

    def _refuses_write(self) -> bool:
        """Whether this data write is refused by read-only mode."""
        return self._fire("_read_only")

    def _expires_session(self) -> bool:
        """Whether this request finds its session expired."""
        return self._fire("_expire")

    def _stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def _start(self) -> None:
        with self._cond:
            self._stopping = False
