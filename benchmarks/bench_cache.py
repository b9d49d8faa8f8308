"""The fallback cache, the breaker and single-flight, measured side by side in one run.

Reads go through :class:`sfresilience._fallback.Fallback` (the one place that
decides between Salesforce and the cache) over unmodified simple-salesforce
against the embedded fake org; the shared backend is a throwaway redis-server.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from _redis import private_redis
from _report import RATIO_HEADER, Report, interleaved, median_seconds, ratio_row

from sfresilience._cache import FallbackCache, LruBackend, Scope, StoreBackend, normalise_soql
from sfresilience._classify import ErrorCategory
from sfresilience._core._breaker import BreakerPolicy
from sfresilience._fallback import BreakerCell, Fallback
from sfresilience._freshness import freshness
from sfresilience._store import RedisStore
from sfresilience.exceptions import CircuitOpen
from sfresilience.testing import FakeSalesforce


SCOPE = Scope("00D000000000001", "59.0")
FIELDS = (
    "Id, FirstName, LastName, Email, Phone, Title, Department, MailingCity, MailingCountry, "
    "AccountId"
)
WIDE = f"SELECT {FIELDS} FROM Contact LIMIT 200"  # noqa: S608  (constants)
"""200 records of 10 fields, the size the cached-read targets name."""
SMALL = "SELECT Id, Name FROM Account LIMIT 1"
"""bench_overhead's query, so the write-through ratio reads beside its ratio."""


def _never() -> Any:
    raise AssertionError("a cached read must not call Salesforce")


def _query_key(cache: FallbackCache, soql: str) -> str:
    return cache.key("query", normalise_soql(soql))


def _counted(org: FakeSalesforce, since: int) -> int:
    return sum(1 for entry in org.request_log[since:] if entry.counted)


def run(report: Report) -> None:
    with FakeSalesforce(accounts=200, contacts=2000) as org, private_redis() as redis_url:
        redis_backend = StoreBackend(RedisStore.from_url(redis_url, namespace="bench-cache"))
        wide = org.client().query(WIDE)
        _cached_reads(report, wide, redis_backend)
        _fail_fast(report)
        _single_flight(report, org)
        _byte_bound(report)
        _workload(report, org)
        _write_through(report, org, redis_backend)


# A cached result, served ------------------------------------------------------


def _cached_reads(report: Report, wide: dict[str, Any], redis_backend: StoreBackend) -> None:
    rounds = report.rounds
    report.section(
        "Fallback cache: a cached result served",
        f"`{WIDE}` ({len(wide['records'])} records x 10 fields) answered from the cache "
        f"inside its freshness window: key from the normalised SOQL, backend read, JSON "
        f"decode, the envelope's checks and the `freshness` mark. Median of {rounds} reads.",
    )
    rows, timings = [], {}
    for backend in (LruBackend(), redis_backend):
        cache = FallbackCache(backend, scope=SCOPE)
        fallback = Fallback(cache, BreakerCell())
        cache.put_now(_query_key(cache, WIDE), wide, fresh_for=3600.0)
        served = fallback.read(_query_key(cache, WIDE), _never, fresh_for=60.0)
        found = freshness(served)
        assert found is not None  # noqa: S101
        assert not found.stale  # noqa: S101
        assert served["records"] == wide["records"]  # noqa: S101

        def hit(fallback: Fallback = fallback, cache: FallbackCache = cache) -> object:
            return fallback.read(_query_key(cache, WIDE), _never, fresh_for=60.0)

        timings[backend.name] = median_seconds(rounds, hit)
        raw = median_seconds(rounds, functools.partial(backend.get, _query_key(cache, WIDE)))
        rows.append([backend.name, f"{timings[backend.name] * 1e3:.3f} ms", f"{raw * 1e3:.3f} ms"])
    size = _stored_size(wide)
    report.table(("backend", "served (whole read)", "of it: the backend's get"), rows)
    report.note(f"- the stored entry: {size / 1024:.0f} KiB of JSON")
    report.target("cached 200x10 result served, embedded", timings["embedded"] * 1e3, 0.2, "ms")
    report.target("cached 200x10 result served, Redis", timings["redis"] * 1e3, 1.0, "ms")


def _stored_size(value: Any) -> int:
    backend = LruBackend()
    FallbackCache(backend, scope=SCOPE).put_now("k", value)
    return backend.bytes - len("k")


# The breaker open -------------------------------------------------------------


def _open_breaker() -> BreakerCell:
    cell = BreakerCell(BreakerPolicy(threshold=1, open_for=3600.0))
    cell.record(ErrorCategory.UNAVAILABLE)
    return cell


def _fail_fast(report: Report) -> None:
    rounds = report.rounds * 5
    report.section(
        "Breaker open: fail fast",
        "A read while the breaker is open and nothing usable is cached: no request, "
        f"`CircuitOpen` raised and caught. Median of {rounds} reads.",
    )
    rows, timings = [], {}
    setups = (("no fallback cache", None), ("embedded cache, key not cached", LruBackend()))
    for name, backend in setups:
        cache = FallbackCache(backend, scope=SCOPE) if backend is not None else None
        fallback = Fallback(cache, _open_breaker())

        def refused(fallback: Fallback = fallback, cache: FallbackCache | None = cache) -> None:
            try:
                fallback.read(_query_key(cache, SMALL) if cache else "cache:{x}", _never)
            except CircuitOpen:
                return
            raise AssertionError("the open breaker let a read through")

        timings[name] = median_seconds(rounds, refused)
        rows.append([name, f"{timings[name] * 1e6:.1f} µs"])
    report.table(("setup", "fail-fast read"), rows)
    worst = max(timings.values())
    report.target("breaker-open fail-fast (slower setup)", worst * 1e6, 20, "µs")


# Single-flight --------------------------------------------------------------


def _concurrently(count: int, call: Callable[[], object]) -> list[object]:
    results: list[object] = [None] * count
    start = threading.Barrier(count)

    def worker(index: int) -> None:
        start.wait()
        results[index] = call()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _single_flight(report: Report, org: FakeSalesforce) -> None:
    readers, latency = 50, 0.2
    report.section(
        "Single-flight: concurrent identical reads",
        f"{readers} threads released together read `{SMALL}`; the fake answers each "
        f"request after {latency * 1e3:.0f} ms. API calls counted in the fake's request log.",
    )
    sf = org.client()
    cache = FallbackCache(LruBackend(), scope=SCOPE)
    fallback = Fallback(cache, BreakerCell())
    org.faults.latency(latency)
    try:
        before = len(org.request_log)
        bare = _concurrently(readers, lambda: sf.query(SMALL))
        bare_calls = _counted(org, before)
        before = len(org.request_log)
        shared = _concurrently(
            readers, lambda: fallback.read(_query_key(cache, SMALL), lambda: sf.query(SMALL))
        )
        flight_calls = _counted(org, before)
    finally:
        org.faults.clear()
    assert all(result == bare[0] for result in (*bare, *shared))  # noqa: S101
    report.table(
        ("reads", "API calls", "results alike"),
        [
            ["bare simple-salesforce", bare_calls, "yes"],
            ["Fallback.read (single-flight)", flight_calls, "yes"],
        ],
    )
    report.target(f"API calls for {readers} concurrent identical reads", flight_calls, 1, "calls")


# The byte bound ---------------------------------------------------------------


def _byte_bound(report: Report) -> None:
    queries = 20_000 if report.quick else 100_000
    bound = 8 * 1024 * 1024
    report.section(
        "Embedded cache: the byte bound",
        f"{queries:,} distinct queries, results of 1 to 40 records (seeded), written into "
        f"an embedded cache bounded by {bound / 2**20:.0f} MiB (entry bound out of the way). "
        "The bound counts each entry's stored form (key + JSON); tracemalloc shows what "
        "the Python heap held.",
    )
    backend = LruBackend(max_entries=10_000_000, max_bytes=bound)
    cache = FallbackCache(backend, scope=SCOPE)
    rng = random.Random(7)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    peak = 0
    for index in range(queries):
        soql = f"SELECT Id, Name, Phone FROM Account WHERE Name = 'Account {index}'"  # noqa: S608
        cache.put_now(_query_key(cache, soql), _result(rng, rng.randint(1, 40)))
        peak = max(peak, backend.bytes)
    heap_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    report.table(
        ("queries", "bound", "peak counted bytes", "entries kept", "evicted", "heap peak"),
        [
            [
                f"{queries:,}",
                f"{bound:,}",
                f"{peak:,}",
                f"{len(backend):,}",
                f"{backend.evictions:,}",
                f"{heap_peak / 2**20:.1f} MiB",
            ]
        ],
    )
    report.note(
        f"- the heap holds {heap_peak / max(peak, 1):.2f}x the counted bytes: Python's "
        "per-object overhead on the keys, the bytes objects and the LRU's links"
    )
    report.target("embedded cache peak bytes / byte bound", peak / bound, 1.0, "x")


def _result(rng: random.Random, size: int) -> dict[str, Any]:
    records = [
        {
            "attributes": {"type": "Account"},
            "Id": f"001{rng.getrandbits(48):012x}",
            "Name": f"Account {rng.getrandbits(20)}",
            "Phone": f"+1 555 {rng.randint(0, 9999):04d}",
        }
        for _ in range(size)
    ]
    return {"totalSize": size, "done": True, "records": records}


# A read-heavy web backend -------------------------------------------------------


class _SimulatedTime:
    """Wall-clock time that moves 1/rate seconds per request issued (the cache's clock)."""

    def __init__(self, rate: float) -> None:
        self._start = time.time()
        self._rate = rate
        self._issued = 0

    def __call__(self) -> float:
        return self._start + self._issued / self._rate

    def issue(self) -> None:
        self._issued += 1  # under the caller's lock


def _zipf_sequence(accounts: list[str], count: int, exponent: float = 1.1) -> list[str]:
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


def _serve(
    org: FakeSalesforce, views: list[str], workers: int, read: Read, tick: Callable[[], None]
) -> list[Any]:
    """Run every page view of *views* on *workers* threads, each with its own client."""
    lock, queue, served = threading.Lock(), iter(views), []

    def next_view() -> str | None:
        with lock:
            tick()
            return next(queue, None)

    def worker(sf: Any) -> None:
        while (account := next_view()) is not None:
            served.extend(_page_view(sf, read, account))

    threads = [threading.Thread(target=worker, args=(org.client(),)) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return served


def _workload(report: Report, org: FakeSalesforce) -> None:
    views, traffic, stale, workers = (400 if report.quick else 2000), 20.0, 5.0, 8
    rate = views / traffic
    accounts = [str(record["Id"]) for record in org.org.records("Account")]
    sequence = _zipf_sequence(accounts, views)
    report.section(
        "A read-heavy web backend: API calls spent",
        f"{views:,} page views on {workers} threads, each reading one Account (`get`) and its "
        f"Contacts (a query); which Account is Zipf-distributed (s = 1.1, seeded) over "
        f"{len(accounts)}, {len(set(sequence))} of them visited. Views arrive at "
        f"{rate:g}/s of simulated time (the cache's clock), so the run covers "
        f"{views / rate:g} s of traffic; reads may be {stale:g} s stale. Same sequence "
        "for both; API calls counted in the fake's request log.",
    )
    before = len(org.request_log)
    _serve(org, sequence, workers, lambda _kind, _what, call: call(), lambda: None)
    bare = _counted(org, before)
    clock = _SimulatedTime(rate)
    cache = FallbackCache(LruBackend(), scope=SCOPE, clock=clock)
    fallback = Fallback(cache, BreakerCell())

    def cached(kind: str, what: Any, call: Callable[[], Any]) -> Any:
        return fallback.read(cache.key(kind, what), call, fresh_for=stale)

    before = len(org.request_log)
    served = _serve(org, sequence, workers, cached, clock.issue)
    cached_calls = _counted(org, before)
    ages = [found.age for result in served if (found := freshness(result)) is not None]
    _workload_report(report, views, (bare, cached_calls), ages, fallback.flights.shared)


def _workload_report(
    report: Report, views: int, calls: tuple[int, int], ages: list[float], shared: int
) -> None:
    bare, cached = calls
    daily = 100_000
    report.table(
        ("reads", "API calls", "calls per 1,000 views", f"views a {daily:,}-call day allows"),
        [
            [
                "bare simple-salesforce",
                f"{bare:,}",
                f"{bare / views * 1000:,.0f}",
                f"{daily * views // bare:,}",
            ],
            [
                "fallback cache + single-flight",
                f"{cached:,}",
                f"{cached / views * 1000:,.0f}",
                f"{daily * views // max(cached, 1):,}",
            ],
        ],
    )
    oldest = max(ages, default=0.0)
    report.note(
        f"- the cache answered {len(ages):,} of {2 * views:,} reads (oldest served "
        f"{oldest:.2f} s old); single-flight shared {shared:,} live calls; "
        f"API calls cached / bare: {cached / bare:.3f} ({bare / max(cached, 1):.1f}x fewer)"
    )


# The happy path with write-through on ----------------------------------------


def _write_through(report: Report, org: FakeSalesforce, redis_backend: StoreBackend) -> None:
    rounds, block = report.rounds // _BLOCK, _BLOCK
    report.section(
        "Fallback cache: the happy path with write-through on",
        f"`{SMALL}` through bare simple-salesforce, and through `Fallback.read` (key, "
        "breaker, single-flight, the live call, its result handed to the write-behind "
        "queue and serialised and written on the writer thread). The writer's work "
        f"competes for the GIL with the calls after it, so each sample is {block} reads in a "
        "row and, on the write-through side, waiting for the writer to finish them: all "
        f"of its work is charged to it. Medians of {rounds} interleaved samples, per read; "
        "two clients of the same fake org, connection pools warmed.",
    )
    rows, ratios = [], {}
    for backend in (LruBackend(), redis_backend):
        timing, cache = _write_through_timing(org, backend, rounds)
        ratios[backend.name] = timing[1] / timing[0]
        rows.append(ratio_row(f"query, write-through to {backend.name}", *timing))
        rows[-1][0] += f" ({cache.writer.written:,} written, {cache.writer.dropped} dropped)"
    report.table(RATIO_HEADER, rows)
    report.target("write-through on / bare ratio, embedded", ratios["embedded"], 1.05, "x")
    report.target("write-through on / bare ratio, Redis", ratios["redis"], 1.10, "x")


_BLOCK = 10


def _write_through_timing(
    org: FakeSalesforce, backend: LruBackend | StoreBackend, rounds: int
) -> tuple[tuple[float, float], FallbackCache]:
    raw, through = org.client(), org.client()
    cache = FallbackCache(backend, scope=SCOPE)
    fallback = Fallback(cache, BreakerCell())

    def bare_block() -> None:
        for _ in range(_BLOCK):
            raw.query(SMALL)

    def cached_block() -> None:
        for _ in range(_BLOCK):
            fallback.read(_query_key(cache, SMALL), lambda: through.query(SMALL))
        cache.writer.flush(timeout=10)

    for _ in range(20):
        bare_block()
        cached_block()
    bare, cached = interleaved(rounds, bare_block, cached_block)
    return (bare / _BLOCK, cached / _BLOCK), cache
