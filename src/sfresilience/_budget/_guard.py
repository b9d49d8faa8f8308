"""The API-budget guard: admits each counted request against the fleet's ledger.

Hot path: a request takes one reservation from a small local lease and, when
it comes back, notes what ``Sforce-Limit-Info`` said. Only when the lease is
used up (or a second has passed) does the guard trade with the store: report
the newest reading, release what it now reflects, give back leases too old to
trust, and ask for the next lease, all in one atomic step. Leases shrink to a
single call as the cap nears, so the fleet never reserves past it.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
import time
from collections.abc import Callable, Sequence

from .._events import Event, Hook, emit
from .._store import (
    EXHAUSTED,
    Exchange,
    FailoverStore,
    LedgerState,
    Reading,
    Store,
    Thresholds,
)
from .._store._ledger import accepts, mark
from ..exceptions import BudgetExhausted, CriticalOnlyBlocked
from ._held import LEDGER_TTL, Held, writer_id
from ._snapshot import Budget
from ._tell import crossing_events, snapshot_of


Probe = Callable[[], "tuple[int, int] | None"]
"""Asks ``/limits``: ``(used, limit)``, or None when it could not tell."""

_SPENT_BUCKET = 3600.0  # per-caller spend is kept per hour, summed over 24
_SPENT_TTL = 25 * 3600.0


@dataclasses.dataclass(frozen=True, slots=True)
class Tuning:
    """How the guard trades with the store; the defaults suit loopback and LAN Redis."""

    lease_max: int = 16
    """Most reservations taken in one trade, far from the cap."""
    trade_every: float = 1.0
    """Seconds after which a trade reports readings even if the lease lasts."""
    token_max_age: float = 60.0
    """Seconds a leased reservation may wait unused before it is given back."""
    stale_after: float = 60.0
    """Seconds after which a refused call may probe ``/limits`` for fresh numbers."""
    lease_ttl: float = 900.0
    """Seconds a silent process's reservations keep counting (above any REST call's 10 min)."""
    skew: float = 1.0
    """Seconds two hosts' clocks may disagree by."""


class BudgetGuard:
    """One org's budget, as one client sees it; safe to share between threads."""

    def __init__(
        self,
        store: Store,
        org_id: str,
        thresholds: Thresholds,
        *,
        clock: Callable[[], float] = time.time,
        hooks: Sequence[Hook] = (),
        tuning: Tuning | None = None,
    ) -> None:
        self.store = store
        self.thresholds = thresholds
        self.probe: Probe | None = None
        self._key = f"budget:{{{org_id}}}"
        self._clock = clock
        self._hooks = hooks
        self._tuning = tuning or Tuning()
        self._lock = threading.Lock()
        self._held = Held()
        self._leases = self._held.leases
        self._pending: Reading | None = None
        self._raw: tuple[int, int, float, float, str] | None = None  # the best answer since
        self._known: Reading | None = None
        self._unreflected: list[float] = []
        self._in_flight = 0
        self._marks = (0, 0)  # (limit, its critical mark), cached off the hot path
        self._spent: collections.Counter[str] = collections.Counter()
        self._state: LedgerState | None = None
        self._traded_at = -math.inf
        self._daily_limits: dict[str, tuple[int, int]] = {}

    # The hot path ------------------------------------------------------------

    def acquire(self, *, critical: bool, label: str) -> float:
        """Reserve one call or raise; returns the send time to pass to :meth:`answered`."""
        events: list[Event] = []
        with self._lock:
            now = self._clock()
            asked = False
            if now - self._traded_at >= self._tuning.trade_every:
                # Report first: the trade may void leases others' spending overtook.
                asked = not self._holds(critical)
                want = self._want(critical) if asked else 0
                events += self._trade(now, want=want, critical=critical)
            taken = self._take(critical, now, label)
            if not taken and not asked:
                events += self._trade(now, want=self._want(critical), critical=critical)
                taken = self._take(critical, now, label)
            refusal = None if taken else self._refusal(critical)
        self._emit(events)
        if refusal is None:
            return now
        if self._probe_fresh_numbers():
            return self.acquire(critical=critical, label=label)
        raise refusal

    def answered(self, sent: float, reading: tuple[int, int] | None, *, source: str) -> None:
        """Note the answer to a request :meth:`acquire` admitted."""
        with self._lock:
            received = self._clock()
            self._in_flight -= 1
            if reading is None:
                self._unreflected.append(received)
                return
            used, limit = reading
            self._held.covered += 1
            # Same writer, same clock: keep the higher count, or a lower one sent
            # after the best answer so far came back (the hot path, so no Reading yet).
            best = self._raw
            if best is None or used >= best[0] or sent > best[3]:
                self._raw = (used, limit, sent, received, source)
            leases = self._leases
            if used + leases[False].count + leases[True].count + self._in_flight >= (
                self._critical_mark(limit)
            ):
                # Near a mark (or others spent what this lease assumed): trade first.
                self._traded_at = -math.inf
            if used >= limit:
                # Spent, by Salesforce's own count (calls outside the fleet, say):
                # what this guard leased earlier is void.
                self._held.returning += self._held.unused()
                for lease in leases.values():
                    lease.count = 0

    def unanswered(self) -> None:
        """A request admitted but lost on the way: it may have counted, so stay reserved."""
        with self._lock:
            self._in_flight -= 1
            self._unreflected.append(self._clock())

    def _critical_mark(self, limit: int) -> int:
        if self._marks[0] != limit:
            self._marks = (limit, mark(limit, self.thresholds.critical))
        return self._marks[1]

    def known_limit(self) -> int | None:
        """The allocation, if any reading has told it."""
        if self._raw is not None:
            return self._raw[1]
        known = self._pending or self._known
        return known.limit if known else None

    def note_daily_limits(self, limits: dict[str, tuple[int, int]]) -> None:
        with self._lock:
            self._daily_limits = limits

    def note_daily_use(self, name: str, count: int) -> None:
        """*count* more of the daily allocation *name* (``DailyBulkApiBatches`` ...)
        spent by this process since the last ``/limits`` reading; unknown until one."""
        with self._lock:
            known = self._daily_limits.get(name)
            if known is not None:
                maximum, remaining = known
                self._daily_limits = {
                    **self._daily_limits,
                    name: (maximum, max(0, remaining - count)),
                }

    # Reading it ----------------------------------------------------------------

    def snapshot(self) -> Budget:
        """Trade (to report what this process knows), then say what the fleet knows."""
        with self._lock:
            now = self._clock()
            events = self._trade(now, want=0, critical=False)
            state, daily = self._state, dict(self._daily_limits)
        self._emit(events)
        hour = int(now // _SPENT_BUCKET)
        by_caller = self.store.totals([self._spent_key(hour - back) for back in range(25)])
        return snapshot_of(state, by_caller, daily, now, fleet=self._is_fleet())

    def refresh(self) -> None:
        """Trade once, so the level this guard knows is the fleet's."""
        with self._lock:
            events = self._trade(self._clock(), want=0, critical=False)
        self._emit(events)

    def critical_since(self) -> float | None:
        """When the budget switched critical-only on (None: it has not), as last traded."""
        state = self._state
        return None if state is None else state.since[1]

    @property
    def key(self) -> str:
        return self._key

    @property
    def held(self) -> Held:
        return self._held

    def close(self) -> None:
        """Give back what is leased and unused (also done when the guard is collected)."""
        with self._lock:
            for lease in self._leases.values():
                self._held.returning += lease.count
                lease.count = 0
            if self._held.returning or self._held.covered:
                self._trade(self._clock(), want=0, critical=False)

    # Inside ------------------------------------------------------------------

    def _holds(self, critical: bool) -> bool:
        leases = self._leases
        return bool(leases[False].count or (critical and leases[True].count))

    def _take(self, critical: bool, now: float, label: str) -> bool:
        for kind in (False, True) if critical else (False,):
            lease = self._leases[kind]
            if lease.count and now - lease.granted_at > self._tuning.token_max_age:
                self._held.returning += lease.count
                lease.count = 0
            if lease.count:
                lease.count -= 1
                self._spent[label] += 1
                self._in_flight += 1
                return True
        return False

    def _want(self, critical: bool) -> int:
        state, known = self._state, self._pending or self._known
        if state is None or known is None or state.reading is None:
            return 1  # the allocation is unknown: one call, whose answer will tell
        limit = state.reading.limit
        cap = limit if critical else mark(limit, self.thresholds.critical)
        room = cap - (state.reading.used + state.reserved)
        return max(1, min(self._tuning.lease_max, room // 32))

    def _flush_raw(self) -> None:
        raw = self._raw
        if raw is not None:
            self._raw = None
            self._note(Reading(*raw[:4], writer_id(), raw[4]))

    def _trade(self, now: float, *, want: int, critical: bool) -> list[Event]:
        self._flush_raw()
        reading = self._pending or self._known
        released = self._held.covered + self._held.returning
        if reading is not None:
            still = [t for t in self._unreflected if t >= reading.sent]
            released += len(self._unreflected) - len(still)
            self._unreflected = still
        exchange = Exchange(
            reading=reading,
            release=released,
            want=want,
            critical=critical,
            thresholds=self.thresholds,
            now=now,
            skew=self._tuning.skew,
            writer=writer_id(),
            lease_ttl=self._tuning.lease_ttl,
            spent=dict(self._spent),
        )
        state = self.store.exchange_ledger(
            self._key,
            exchange,
            ttl=LEDGER_TTL,
            spent_key=self._spent_key(int(now // _SPENT_BUCKET)),
            spent_ttl=_SPENT_TTL,
        )
        self._held.covered = self._held.returning = 0
        self._pending = None
        self._spent.clear()
        self._known = state.reading
        self._state = state
        self._traded_at = now
        if state.granted:
            lease = self._leases[critical]
            lease.count += state.granted
            lease.granted_at = now
        if state.reading is not None:
            self._void_overtaken_leases(state.reading)
        return self._events(state, now)

    def _void_overtaken_leases(self, reading: Reading) -> None:
        """Give back leases Salesforce's own count has overtaken (calls outside the fleet)."""
        if reading.used >= reading.limit:
            self._held.returning += self._held.unused()
            for lease in self._leases.values():
                lease.count = 0
            return
        plain = self._leases[False]
        excess = reading.used + plain.count - self._critical_mark(reading.limit)
        if excess > 0 and plain.count:
            dropped = min(excess, plain.count)  # they would spend the critical reserve
            plain.count -= dropped
            self._held.returning += dropped

    def _others_hold(self, state: LedgerState) -> int:
        """Reservations held by other guards and processes, by the last trade."""
        held = self._held
        own = held.unused() + held.returning + held.covered
        return state.reserved - own - self._in_flight - len(self._unreflected)

    def _note(self, reading: Reading) -> None:
        best = self._pending or self._known
        if best is None or accepts(best, reading, self._tuning.skew):
            self._pending = reading

    def _refusal(self, critical: bool) -> Exception:
        state = self._state
        assert state is not None  # noqa: S101  (a refusal follows a trade)
        estimate = state.estimate or 0
        limit = state.reading.limit if state.reading else 0
        if critical or state.level >= EXHAUSTED or estimate >= limit:
            return BudgetExhausted(
                f"the org's daily API allocation is spent: {estimate} of {limit} calls "
                f"used or in flight; calls resume by themselves when the rolling 24-hour "
                f"window frees some"
            )
        return CriticalOnlyBlocked(
            f"critical-only mode is on (budget guard: {estimate} of {limit} API calls "
            f"used or in flight, SFRESILIENCE_BUDGET_CRITICAL is "
            f"{self.thresholds.critical:.0%}); this work is not marked critical and was "
            f"not sent"
        )

    def _probe_fresh_numbers(self) -> bool:
        """Ask ``/limits`` once per fleet when refusals rest on numbers gone stale."""
        with self._lock:
            state, probe, now = self._state, self.probe, self._clock()
            reading = state.reading if state else None
            if (
                probe is None
                or state is None
                or reading is None
                or now - reading.received < self._tuning.stale_after
                # Others hold reservations: their answers will tell, unless they went silent.
                or (
                    self._others_hold(state) > 0 and now - reading.received < self._tuning.lease_ttl
                )
            ):
                return False
        if not self.store.claim(f"{self._key}:probe", ttl=self._tuning.stale_after):
            return False
        sent = self._clock()
        usage = probe()
        if usage is None:
            return False
        fresh = Reading(*usage, sent, self._clock(), writer_id(), "limits")
        with self._lock:
            self._note(fresh)
            events = self._trade(self._clock(), want=0, critical=False)
            newer = self._state is not None and self._state.reading == fresh
        self._emit(events)
        return newer and fresh.used < fresh.limit

    def _events(self, state: LedgerState, now: float) -> list[Event]:
        if state.level == state.previous_level or state.reading is None:
            return []
        budget = snapshot_of(state, {}, dict(self._daily_limits), now, fleet=self._is_fleet())
        return crossing_events(state, budget)

    def _emit(self, events: list[Event]) -> None:
        for event in events:
            emit(event, self._hooks)

    def _spent_key(self, hour: int) -> str:
        return f"{self._key}:spent:{hour}"

    def _is_fleet(self) -> bool:
        return isinstance(self.store, FailoverStore) and not self.store.degraded
