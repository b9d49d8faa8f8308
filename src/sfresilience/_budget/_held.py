"""What a guard holds in the ledger, kept apart so it can be given back when the guard is gone."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import time

from .._store import Exchange, Store, Thresholds


_HOST = socket.gethostname()
LEDGER_TTL = 2 * 24 * 3600.0  # outlives the rolling window it describes

_writer: tuple[int, str] = (0, "")


def writer_id() -> str:
    """This process, as the ledger knows it (checked each time: a fork is a new writer)."""
    global _writer  # noqa: PLW0603  (a per-process cache)
    pid = os.getpid()
    if _writer[0] != pid:
        _writer = (pid, f"{_HOST}:{pid}")
    return _writer[1]


@dataclasses.dataclass(slots=True)
class Lease:
    count: int = 0
    granted_at: float = 0.0


@dataclasses.dataclass(slots=True)
class Held:
    """Reservations this guard holds; kept apart so they can be given back after it is gone."""

    leases: dict[bool, Lease] = dataclasses.field(
        default_factory=lambda: {False: Lease(), True: Lease()}  # keyed by "critical"
    )
    returning: int = 0
    """Leased reservations to give back at the next trade."""
    covered: int = 0
    """Answered calls a reading reflects, to release at the next trade."""

    def unused(self) -> int:
        return sum(lease.count for lease in self.leases.values())


def give_back(store: Store, key: str, thresholds: Thresholds, held: Held) -> None:
    """Return what *held* still reserves; quietly, as it runs when a guard is collected."""
    release = held.unused() + held.returning + held.covered
    if not release:
        return
    exchange = Exchange(
        reading=None,
        release=release,
        want=0,
        critical=False,
        thresholds=thresholds,
        now=time.time(),
        writer=writer_id(),
    )
    with contextlib.suppress(Exception):
        store.exchange_ledger(
            key, exchange, ttl=LEDGER_TTL, spent_key=f"{key}:spent:0", spent_ttl=1.0
        )
