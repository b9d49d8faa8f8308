"""The circuit breaker on Salesforce, as a pure state machine: every method takes ``now``.

Closed: outage outcomes (``UNAVAILABLE``, ``SERVER_ERROR``, ``MAINTENANCE``)
are counted in a sliding window; a success clears it. ``threshold`` of them
inside ``window`` seconds open the breaker. Open: calls are refused (served
from the cache instead) for ``open_for`` seconds — ``open_for_incident`` while
the Trust status API reports an active core incident on the org's instance.
Half-open: up to ``probes`` calls go through; a success closes the breaker, an
outage outcome opens it again. Who may probe across a fleet is the caller's
business (an atomic claim in the store): this module only says when.
"""

from __future__ import annotations

import collections
import dataclasses
import enum

from .._classify import ErrorCategory


OUTAGE = frozenset(
    {ErrorCategory.UNAVAILABLE, ErrorCategory.SERVER_ERROR, ErrorCategory.MAINTENANCE}
)


class State(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class Admit(enum.Enum):
    GO = "go"  # closed: an ordinary call
    PROBE = "probe"  # half-open: this call tests whether Salesforce is back
    REFUSE = "refuse"  # open: do not call


@dataclasses.dataclass(frozen=True, slots=True)
class BreakerPolicy:
    threshold: int = 5
    window: float = 30.0
    open_for: float = 30.0
    open_for_incident: float = 120.0
    probes: int = 1


class Breaker:
    """One breaker's state; not thread-safe by itself (the caller holds a lock)."""

    def __init__(self, policy: BreakerPolicy | None = None) -> None:
        self.policy = policy or BreakerPolicy()
        self.state = State.CLOSED
        self.opened_at: float | None = None
        self.reopen_at = 0.0
        self.last_outage: ErrorCategory | None = None
        self.incident: bool | None = None
        """What the status API said on opening: True (core incident), False, None (unknown)."""
        self._failures: collections.deque[float] = collections.deque()
        self._probes_out = 0

    def admit(self, now: float) -> Admit:
        if self.state is State.OPEN:
            if now < self.reopen_at:
                return Admit.REFUSE
            self.state = State.HALF_OPEN
            self._probes_out = 0
        if self.state is State.HALF_OPEN:
            if self._probes_out >= self.policy.probes:
                return Admit.REFUSE
            self._probes_out += 1
            return Admit.PROBE
        return Admit.GO

    def record(self, now: float, category: ErrorCategory | None) -> bool:
        """Count an outcome (None: success); True when this one opened the breaker."""
        if category is None:
            self._close()
            return False
        if category not in OUTAGE:
            if self.state is State.HALF_OPEN:
                self._close()  # Salesforce answered: it is up, whatever the caller's bug
            return False
        self.last_outage = category
        if self.state is State.HALF_OPEN:
            self._open(now)
            return True
        if self.state is State.OPEN:
            return False
        self._failures.append(now)
        while self._failures and self._failures[0] <= now - self.policy.window:
            self._failures.popleft()
        if len(self._failures) >= self.policy.threshold:
            self._open(now)
            return True
        return False

    def release_probe(self) -> None:
        """A probe that ended without an outcome (a bug, say) gives its slot back."""
        if self.state is State.HALF_OPEN and self._probes_out:
            self._probes_out -= 1

    def learn_status(self, now: float, *, incident: bool | None) -> None:
        """What the status API said about the instance (None: could not tell)."""
        self.incident = incident
        if incident and self.state is State.OPEN and self.opened_at is not None:
            self.reopen_at = max(self.reopen_at, self.opened_at + self.policy.open_for_incident)
        del now

    def open_until(self, now: float, until: float) -> None:
        """Open (or stay open) until *until*: another process of the fleet opened it."""
        if until <= now:
            return
        if self.state is not State.OPEN:
            self.state = State.OPEN
            self.opened_at = now
        self.reopen_at = max(self.reopen_at, until)

    def _open(self, now: float) -> None:
        self.state = State.OPEN
        self.opened_at = now
        self.reopen_at = now + (
            self.policy.open_for_incident if self.incident else self.policy.open_for
        )
        self._failures.clear()

    def _close(self) -> None:
        self.state = State.CLOSED
        self.opened_at = None
        self.incident = None
        self._failures.clear()
        self._probes_out = 0
