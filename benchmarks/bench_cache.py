"""The fallback cache, the breaker and single-flight, measured side by side in one run.

Through :class:`ResilientClient` over unmodified simple-salesforce against the
embedded fake org; its Redis is a throwaway redis-server. The byte bound is
measured on the embedded backend itself (100,000 API calls would measure the fake).
"""

from __future__ import annotations

import functools
import random
import sys
import threading
from collections.abc import Callable
from typing import Any

from _redis import private_redis
from _report import RATIO_HEADER, Report, interleaved, median_seconds, ratio_row
from _web_backend import SimulatedTime, serve, zipf_sequence

from sfresilience import ResilientClient, Settings
from sfresilience._cache import FallbackCache, LruBackend, Scope, normalise_soql
from sfresilience._cache._envelope import decode
from sfresilience._classify import ErrorCategory
from sfresilience._fallback import fallback_of
from sfresilience._freshness import freshness
from sfresilience._store import MemoryStore
from sfresilience.exceptions import CircuitOpen, FallbackUnavailable
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


def _cache_of(client: ResilientClient) -> FallbackCache:
    cache = fallback_of(client).cache
    assert cache is not None  # noqa: S101
    return cache


def _query_key(client: ResilientClient, soql: str) -> str:
    """The key the client keeps ``client.query(soql)`` under."""
    return _cache_of(client).key("query", (normalise_soql(soql), False, {}))


def _counted(org: FakeSalesforce, since: int) -> int:
    return sum(1 for entry in org.request_log[since:] if entry.counted)


Clients = Callable[..., ResilientClient]
"""Makes a client of the fake org on one backend (the same cache every time)."""


def _backends(org: FakeSalesforce, redis_url: str) -> dict[str, Clients]:
    memory = MemoryStore()

    def embedded(**settings: Any) -> ResilientClient:
        return ResilientClient(org.client(), settings=Settings(**settings), store=memory)

    def redis(**settings: Any) -> ResilientClient:
        return ResilientClient(org.client(), settings=Settings(redis_url=redis_url, **settings))

    return {"embedded": embedded, "redis": redis}


def run(report: Report) -> None:
    with (
        FakeSalesforce(accounts=200, contacts=2000, api_limit=10**9) as org,
        private_redis() as redis_url,
    ):
        backends = _backends(org, redis_url)
        _cached_reads(report, backends)
        _fail_fast(report, org)
        _single_flight(report, org)
        _byte_bound(report)
        _workload(report, org)
        _write_through(report, org, backends)


# A cached result, served ------------------------------------------------------


def _cached_reads(report: Report, backends: dict[str, Clients]) -> None:
    rounds = report.rounds
    report.section(
        "Fallback cache: a cached result served",
        f"`client.query` of `{WIDE}` (200 records x 10 fields) in fallback mode "
        "(`Settings(fallback_mode=True)`), answered from what a normal client of the same "
        "org and store wrote through: key from the normalised SOQL, backend read, JSON "
        f"decode, the envelope's checks and the `freshness` mark. Median of {rounds} reads.",
    )
    rows, timings = [], {}
    for name, make in backends.items():
        writer, reader = make(), make(fallback_mode=True)
        wide = writer.query(WIDE)
        fallback_of(writer).flush(timeout=10)
        served = reader.query(WIDE)
        found = freshness(served)
        assert found is not None  # noqa: S101
        assert served["records"] == wide["records"]  # noqa: S101
        cache, key = _cache_of(reader), _query_key(reader, WIDE)
        get = functools.partial(cache.backend.get, key)
        entry = get() or b""
        misses: list[FallbackUnavailable] = []
        timings[name] = median_seconds(rounds, functools.partial(_serve_once, reader, misses))
        raw = median_seconds(rounds, get)
        opened = functools.partial(decode, entry, scope=cache.scope, key=key, cipher=None)
        decoding = median_seconds(rounds, opened)
        took = [f"{seconds * 1e3:.3f} ms" for seconds in (timings[name], raw, decoding)]
        rows.append([name, *took, f"{len(entry) / 1024:.0f} KiB", len(misses)])
    header = ("backend", "served (whole read)", "of it: backend get", "of it: decode", "entry")
    report.table((*header, "not served"), rows)
    report.note(
        "- not served: reads that found the cache unavailable (the client gives the cache "
        "its own short Redis timeout, so a slow Redis is a miss, never a stalled read)"
    )
    report.target("cached 200x10 result served, embedded", timings["embedded"] * 1e3, 0.2, "ms")
    report.target("cached 200x10 result served, Redis", timings["redis"] * 1e3, 1.0, "ms")


def _serve_once(reader: ResilientClient, misses: list[FallbackUnavailable]) -> None:
    try:
        reader.query(WIDE)
    except FallbackUnavailable as missed:
        misses.append(missed)


# The breaker open -------------------------------------------------------------


def _fail_fast(report: Report, org: FakeSalesforce) -> None:
    rounds = report.rounds * 5
    report.section(
        "Breaker open: fail fast",
        "`client.query` while the org's breaker is open (opened by its threshold of "
        "`UNAVAILABLE` outcomes) and nothing usable is cached: no request, `CircuitOpen` "
        f"raised and caught. Embedded cache. Median of {rounds} reads.",
    )
    client = ResilientClient(org.client(), settings=Settings())
    breaker = fallback_of(client).breaker
    for _ in range(breaker.breaker.policy.threshold):
        breaker.record(ErrorCategory.UNAVAILABLE)
    before = len(org.request_log)

    def refused() -> None:
        try:
            client.query(SMALL)
        except CircuitOpen:
            return
        raise AssertionError("the open breaker let a read through")

    took = median_seconds(rounds, refused)
    assert len(org.request_log) == before  # noqa: S101
    report.table(
        ("setup", "fail-fast read", "requests sent"), [["embedded", f"{took * 1e6:.1f} µs", 0]]
    )
    report.target("breaker-open fail-fast", took * 1e6, 20, "µs")


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
        f"{readers} threads released together call `query({SMALL!r})` on one client; the "
        f"fake answers each request after {latency * 1e3:.0f} ms. API calls counted in the "
        "fake's request log.",
    )
    sf, client = org.client(), ResilientClient(org.client(), settings=Settings())
    org.faults.latency(latency)
    try:
        before = len(org.request_log)
        bare = _concurrently(readers, lambda: sf.query(SMALL))
        bare_calls = _counted(org, before)
        before = len(org.request_log)
        shared = _concurrently(readers, lambda: client.query(SMALL))
        flight_calls = _counted(org, before)
    finally:
        org.faults.clear()
    assert all(result == bare[0] for result in (*bare, *shared))  # noqa: S101
    report.table(
        ("reads", "API calls", "results alike"),
        [["bare simple-salesforce", bare_calls, "yes"], ["ResilientClient", flight_calls, "yes"]],
    )
    report.target(f"API calls for {readers} concurrent identical reads", flight_calls, 1, "calls")


# The byte bound ---------------------------------------------------------------


def _byte_bound(report: Report) -> None:
    queries = 20_000 if report.quick else 100_000
    bound = 8 * 1024 * 1024
    report.section(
        "Embedded cache: the byte bound",
        f"{queries:,} distinct queries, each result one of 64 seeded ones of 1 to 40 records, into "
        f"an embedded cache bounded by {bound / 2**20:.0f} MiB (entry bound out of the way). "
        "The bound counts each entry's stored form (key + JSON); beside it, what the LRU's "
        "objects take on the heap at the end (`sys.getsizeof` of keys, values, links).",
    )
    backend = LruBackend(max_entries=10_000_000, max_bytes=bound)
    cache = FallbackCache(backend, scope=SCOPE)
    rng = random.Random(7)
    results = [_result(rng, rng.randint(1, 40)) for _ in range(64)]  # sizes vary, built once
    peak = 0
    for index in range(queries):
        soql = f"SELECT Id, Name, Phone FROM Account WHERE Name = 'Account {index}'"  # noqa: S608
        cache.put_now(cache.key("query", normalise_soql(soql)), rng.choice(results))
        peak = max(peak, backend.bytes)
    heap = _heap_of(backend)
    report.table(
        ("queries", "bound", "peak counted bytes", "entries kept", "evicted", "heap at the end"),
        [
            [
                f"{queries:,}",
                f"{bound:,}",
                f"{peak:,}",
                f"{len(backend):,}",
                f"{backend.evictions:,}",
                f"{heap / 2**20:.1f} MiB",
            ]
        ],
    )
    report.note(
        f"- the heap holds {heap / max(backend.bytes, 1):.2f}x the counted bytes: Python's "
        "per-object overhead on the keys, the bytes objects and the LRU's links"
    )
    report.target("embedded cache peak bytes / byte bound", peak / bound, 1.0, "x")


def _heap_of(backend: LruBackend) -> int:
    entries = backend._entries  # noqa: SLF001  (what the bound is about)
    held = sum(
        sys.getsizeof(key) + sys.getsizeof(pair) + sys.getsizeof(pair[0])
        for key, pair in entries.items()
    )
    return held + sys.getsizeof(entries)


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


def _workload(report: Report, org: FakeSalesforce) -> None:
    views, traffic, stale, workers = (400 if report.quick else 2000), 20.0, 5.0, 8
    rate = views / traffic
    accounts = [str(record["Id"]) for record in org.org.records("Account")]
    sequence = zipf_sequence(accounts, views)
    report.section(
        "A read-heavy web backend: API calls spent",
        f"{views:,} page views on {workers} threads sharing one client, each view reading one "
        f"Account (`get`) and its Contacts (a query); which Account is Zipf-distributed "
        f"(s = 1.1, seeded) over {len(accounts)}, {len(set(sequence))} of them visited. Views "
        f"arrive at {rate:g}/s of simulated time (the client's wall clock), so the run covers "
        f"{traffic:g} s of traffic; reads may be {stale:g} s stale (each read through the "
        f"client's fallback with a {stale:g} s freshness window, as `resilient_query(ttl=...)` "
        "reads). Same sequence for both; API calls counted in the fake's request log.",
    )
    before = len(org.request_log)
    serve(org.client(), sequence, workers, lambda _kind, _what, call: call(), lambda: None)
    bare = _counted(org, before)
    clock = SimulatedTime(rate)
    client = ResilientClient(org.client(), settings=Settings(), wall_clock=clock)
    fallback, cache = fallback_of(client), _cache_of(client)

    def cached(kind: str, what: Any, call: Callable[[], Any]) -> Any:
        return fallback.read(cache.key(kind, what), call, fresh_for=stale)

    before = len(org.request_log)
    served = serve(client, sequence, workers, cached, clock.issue)
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


def _write_through(report: Report, org: FakeSalesforce, backends: dict[str, Clients]) -> None:
    rounds, block = max(report.rounds // _BLOCK, 20), _BLOCK
    report.section(
        "Fallback cache: the happy path with write-through on",
        f"`query({SMALL!r})` through bare simple-salesforce and through ResilientClient, "
        "whose reads are written through to its fallback cache (serialised and written on "
        "the writer thread). The writer's work competes for the GIL with the calls after "
        f"it, so each sample is {block} reads in a row, and on the ResilientClient side "
        "ends when the writer has written them all: its work is charged to the side that "
        "made it, while its waits on Redis overlap the reads as they would in an app. "
        f"Medians of {rounds} interleaved samples, per read; connection pools warmed.",
    )
    rows, ratios = [], {}
    for name, make in backends.items():
        client = make()
        timing = _write_through_timing(org.client(), client, rounds)
        ratios[name] = timing[1] / timing[0]
        writer = _cache_of(client).writer
        rows.append(ratio_row(f"query, write-through to {name}", *timing))
        rows[-1][0] += f" ({writer.written:,} written, {writer.dropped} dropped)"
    report.table(RATIO_HEADER, rows)
    report.target("write-through on / bare ratio, embedded", ratios["embedded"], 1.05, "x")
    report.target("write-through on / bare ratio, Redis", ratios["redis"], 1.10, "x")


_BLOCK = 50


def _write_through_timing(raw: Any, client: ResilientClient, rounds: int) -> tuple[float, float]:
    fallback = fallback_of(client)

    def bare_block() -> None:
        for _ in range(_BLOCK):
            raw.query(SMALL)

    def client_block() -> None:
        for _ in range(_BLOCK):
            client.query(SMALL)
        fallback.flush(timeout=10)

    for _ in range(20):
        bare_block()
        client_block()
    bare, through = interleaved(rounds, bare_block, client_block)
    return bare / _BLOCK, through / _BLOCK
