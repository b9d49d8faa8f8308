"""The API-usage ledger both backends keep: one reading, the reservations, the level.

A *reading* is what Salesforce last said about the org's usage (the
``Sforce-Limit-Info`` header, or ``/limits``). *Reserved* counts the calls the
fleet has been allowed to send that no accepted reading reflects yet: leased
but unused, in flight, or finished without telling. ``used + reserved`` is then
never below the org's true usage, which is what keeps a fleet under the cap.

Reservations are kept per writer (host and process) with the time it last
traded: a process that dies holding some stops counting once it has been
silent for ``lease_ttl`` seconds, longer than any REST call may run, so a
crashed worker cannot shrink the fleet's allocation for good.

This module is the reference implementation: :class:`MemoryStore` runs it
under a lock and the Redis backend runs the same steps as one Lua script
(``_redis.py``); the behavioural suite in tests/test_store.py holds both to it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping


# Levels, in order: each one is on when usage + reservations reach its mark.
NORMAL, WARN, CRITICAL, EXHAUSTED = 0, 1, 2, 3
_EPSILON = 1e-6  # 0.95 * 2000 is 1899.9999999999998 in binary floating point


@dataclasses.dataclass(frozen=True, slots=True)
class Reading:
    """What one response said: ``used`` of ``limit`` calls, and when."""

    used: int
    limit: int
    sent: float
    """Wall-clock time the request left (the reading is at least this new)."""
    received: float
    """Wall-clock time the answer arrived (the reading is at most this new)."""
    writer: str
    """Who read it (host and process): clocks agree within one writer."""
    source: str
    """``"header"`` or ``"limits"``."""


@dataclasses.dataclass(frozen=True, slots=True)
class Thresholds:
    """Fractions of the allocation: warn, critical-only, and the hysteresis margin."""

    warn: float
    critical: float
    margin: float = 0.01
    """A level switches off only once usage is this share below its mark."""


@dataclasses.dataclass(frozen=True, slots=True)
class Exchange:
    """One trip to the ledger: report, give back, ask."""

    reading: Reading | None
    release: int
    """Reservations to drop: calls the reading now reflects, and unused leases."""
    want: int
    """Reservations asked for now (0: only report and read)."""
    critical: bool
    """Critical work may reach the allocation; other work only the critical mark."""
    thresholds: Thresholds
    now: float
    skew: float = 1.0
    """Seconds two writers' clocks may disagree by."""
    writer: str = ""
    """Who trades: the reservations released and granted are this writer's."""
    lease_ttl: float = 900.0
    """Seconds after which a silent writer's reservations stop counting."""
    spent: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """Counted calls per caller label since the last exchange."""


@dataclasses.dataclass(frozen=True, slots=True)
class LedgerState:
    """The ledger after an exchange, and what this exchange changed."""

    reading: Reading | None
    reserved: int
    """Live reservations of every writer."""
    granted: int
    level: int
    previous_level: int
    since: tuple[float | None, float | None, float | None]
    """When each of WARN, CRITICAL, EXHAUSTED last switched on (None: off)."""
    holdings: Mapping[str, tuple[int, float]] = dataclasses.field(default_factory=dict)
    """Per writer: reservations held and when it last traded."""

    @property
    def estimate(self) -> int | None:
        """Usage the fleet must assume: the reading plus every reservation."""
        return None if self.reading is None else self.reading.used + self.reserved


def mark(limit: int, fraction: float) -> int:
    """The call count where *fraction* of *limit* is reached."""
    return math.floor(limit * fraction + _EPSILON)


def accepts(current: Reading | None, new: Reading, skew: float) -> bool:
    """Whether *new* replaces *current*.

    A higher count always does (it can only be newer, or an overestimate). A
    lower one does only when its request left after *current*'s answer came
    back: then Salesforce counted it later, so the drop is the rolling window
    freeing calls, not an answer that was overtaken in flight.
    """
    if current is None or new.used >= current.used:
        return True
    slack = 0.0 if new.writer == current.writer else skew
    return new.sent > current.received + slack


def level_of(estimate: int, limit: int, thresholds: Thresholds, previous: int) -> int:
    """The level for *estimate*; one that is on stays on until the margin is cleared."""
    marks = (
        mark(limit, thresholds.warn),
        mark(limit, thresholds.critical),
        limit,
    )
    margin = max(1, mark(limit, thresholds.margin))
    reached = sum(1 for m in marks if estimate >= m)
    held = sum(1 for m in marks if estimate >= m - margin)
    return max(reached, min(previous, held))


def _grant(reading: Reading, reserved: int, previous: int, exchange: Exchange) -> int:
    """How many of the wanted reservations fit, given the level that is on.

    A level held on by its margin refuses as if it were reached, so the mode
    a snapshot reports is the one calls meet.
    """
    thresholds = exchange.thresholds
    estimate = reading.used + reserved
    level = level_of(estimate, reading.limit, thresholds, previous)
    if exchange.critical:
        stop, cap = EXHAUSTED, reading.limit
    else:
        stop, cap = CRITICAL, mark(reading.limit, thresholds.critical)
    if level >= stop:
        return 0
    return max(0, min(exchange.want, cap - estimate))


def apply(state: LedgerState | None, exchange: Exchange) -> LedgerState:
    """The ledger after *exchange*; pure, so both backends can be held to it."""
    reading = state.reading if state else None
    if exchange.reading is not None and accepts(reading, exchange.reading, exchange.skew):
        reading = exchange.reading
    holdings = {
        writer: held
        for writer, held in (state.holdings if state else {}).items()
        if held[1] > exchange.now - exchange.lease_ttl
    }
    mine = max(0, holdings.get(exchange.writer, (0, 0.0))[0] - exchange.release)
    reserved = mine + sum(
        count for writer, (count, _) in holdings.items() if writer != exchange.writer
    )
    previous = state.level if state else NORMAL
    if reading is None:
        # The allocation is unknown until the first answer: admit, but count.
        granted = exchange.want
        level = previous
    else:
        granted = _grant(reading, reserved, previous, exchange)
        level = level_of(
            reading.used + reserved + granted, reading.limit, exchange.thresholds, previous
        )
    old_since = state.since if state else (None, None, None)
    since = tuple(
        (old if old is not None else exchange.now) if level >= number else None
        for number, old in zip((WARN, CRITICAL, EXHAUSTED), old_since, strict=True)
    )
    if mine + granted:
        holdings[exchange.writer] = (mine + granted, exchange.now)
    else:
        holdings.pop(exchange.writer, None)
    return LedgerState(
        reading=reading,
        reserved=reserved + granted,
        granted=granted,
        level=level,
        previous_level=previous,
        since=(since[0], since[1], since[2]),
        holdings=holdings,
    )
