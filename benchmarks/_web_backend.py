"""A read-heavy web backend for bench_cache: page views over a Zipf hot set, on threads."""

from __future__ import annotations

import bisect
import itertools
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from sfresilience._cache import normalise_soql


class SimulatedTime:
    """Wall-clock time that moves 1/rate seconds per request issued (the cache's clock)."""

    def __init__(self, rate: float) -> None:
        self._start = time.time()
        self._rate = rate
        self._issued = 0

    def __call__(self) -> float:
        return self._start + self._issued / self._rate

    def issue(self) -> None:
        self._issued += 1  # under the caller's lock


def zipf_sequence(accounts: list[str], count: int, exponent: float = 1.1) -> list[str]:
    """*count* account ids drawn (seeded) with Zipf weights: a few hot, a long cold tail."""
    rng = random.Random(42)
    ranked = accounts[:]
    rng.shuffle(ranked)
    cumulative = list(
        itertools.accumulate(1 / (rank**exponent) for rank in range(1, len(ranked) + 1))
    )
    return [ranked[bisect.bisect(cumulative, rng.random() * cumulative[-1])] for _ in range(count)]


Read = Callable[[str, Any, Callable[[], Any]], Any]
"""(kind, what identifies the call, the call) -> result."""


def _page_view(sf: Any, read: Read, account: str) -> list[Any]:
    """What one page of the web backend reads: the account and its contacts."""
    # An id the fake org made, not user input.
    soql = f"SELECT Id, FirstName, LastName, Email FROM Contact WHERE AccountId = '{account}'"  # noqa: S608
    return [
        read("get", ["Account", account], lambda: sf.Account.get(account)),
        read("query", normalise_soql(soql), lambda: sf.query(soql)),
    ]


def serve(
    sf: Any, views: list[str], workers: int, read: Read, tick: Callable[[], None]
) -> list[Any]:
    """Run every page view of *views* on *workers* threads sharing one client, as a web app does."""
    lock, queue, served = threading.Lock(), iter(views), []

    def next_view() -> str | None:
        with lock:
            tick()
            return next(queue, None)

    def worker() -> None:
        while (account := next_view()) is not None:
            served.extend(_page_view(sf, read, account))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return served
