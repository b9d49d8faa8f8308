"""The breaker with its I/O: a lock, the clocks, the status API, and the fleet's probe claim."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from .._classify import ErrorCategory
from .._core._breaker import Admit, Breaker, BreakerPolicy, State
from .._trust_status import InstanceStatus, StatusSource


class BreakerCell:
    """One org's breaker, shared by every wrapper of that org in this process.

    Args:
        instance: the org's instance key for the status API (e.g. ``"NA137"``), if known.
        status: the status API; None: not asked.
        claim_probe: takes the fleet's one probe slot (an atomic claim in the
            store); by default every process probes on its own.
        release_claim: gives the slot back once the probe has its outcome, so
            the fleet's next probe waits for the breaker's timing, not the claim's TTL.
    """

    def __init__(
        self,
        policy: BreakerPolicy | None = None,
        *,
        instance: Callable[[], str | None] = lambda: None,
        status: StatusSource | None = None,
        claim_probe: Callable[[float], bool] = lambda _ttl: True,
        release_claim: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.breaker = Breaker(policy)
        self._instance = instance
        self._status = status
        self._claim_probe = claim_probe
        self._release_claim = release_claim
        self._claimed = False
        self._clock = clock
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self.opened_wall: float | None = None
        self.status: InstanceStatus | None = None
        self.refused = 0

    @property
    def state(self) -> State:
        return self.breaker.state

    def admit(self) -> Admit:
        with self._lock:
            admit = self.breaker.admit(self._clock())
        if admit is Admit.PROBE:
            if self._claim_probe(self.breaker.policy.open_for):
                self._claimed = True
            else:
                with self._lock:
                    self.breaker.release_probe()
                    self.breaker.open_until(self._clock(), self._clock() + 1.0)
                admit = Admit.REFUSE
        if admit is Admit.REFUSE:
            self.refused += 1
        return admit

    def record(self, category: ErrorCategory | None) -> None:
        with self._lock:
            opened = self.breaker.record(self._clock(), category)
            if opened:
                self.opened_wall = self._wall_clock()
        self._give_back_claim()
        if opened:
            self._ask_status()

    def release_probe(self) -> None:
        with self._lock:
            self.breaker.release_probe()
        self._give_back_claim()

    def _give_back_claim(self) -> None:
        if self._claimed:
            self._claimed = False
            self._release_claim()

    def refusing_writes(self) -> bool:
        """Writes wait for a read to close the breaker: they are never probes."""
        return self.breaker.state is not State.CLOSED

    def _ask_status(self) -> None:
        instance = self._instance()
        if self._status is None or not instance:
            return
        found = self._status.instance_status(instance)
        with self._lock:
            self.status = found
            self.breaker.learn_status(self._clock(), incident=found.core_incident)

    @property
    def source(self) -> Literal["breaker", "maintenance"]:
        """How ``client.mode`` names this reason: ``maintenance`` or ``breaker``."""
        maintenance = self.breaker.last_outage is ErrorCategory.MAINTENANCE
        trust = self.status.status if self.status else None
        if maintenance or (trust is not None and trust.startswith("MAINTENANCE")):
            return "maintenance"
        return "breaker"

    def describe(self) -> str:
        breaker, policy = self.breaker, self.breaker.policy
        outage = breaker.last_outage.value if breaker.last_outage else "outage"
        text = f"breaker {breaker.state.value} after {policy.threshold} {outage} outcomes"
        text += f" within {policy.window:g} s"
        if self.status is not None:
            text += f"; {self.status.detail}"
        left = breaker.reopen_at - self._clock()
        if breaker.state is State.OPEN and left > 0:
            text += f"; next probe in {left:.0f} s"
        return text

    def since(self) -> datetime | None:
        return datetime.fromtimestamp(self.opened_wall, UTC) if self.opened_wall else None
