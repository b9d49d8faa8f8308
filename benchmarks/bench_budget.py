"""The API-budget guard across a fleet: 8 worker processes, one Redis, one fake org over TLS.

Run by benchmarks/run.py (``run(report)``); this file is also the worker program
(``python bench_budget.py worker guard|poll``), so the workers are real processes
that share nothing with the parent but Redis and the fake org's HTTPS port.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import requests
from _redis import private_redis
from _report import RATIO_HEADER, Report, interleaved, ratio_row
from requests.adapters import BaseAdapter

from sfresilience import ResilientClient, Settings
from sfresilience._budget import BudgetGuard
from sfresilience._budget._transport import BudgetAdapter
from sfresilience._modes import CRITICAL_ONLY, EnvToggle, FleetSwitch, Modes
from sfresilience._store import FailoverStore, MemoryStore, RedisStore, Store, Thresholds
from sfresilience.testing import FakeSalesforce


WORKERS = 8
SOQL = "SELECT Id FROM Account LIMIT 1"
POLL_EVERY = 25  # calls between two /limits reads in the "what teams do today" workers
CRITICAL = 0.95


# --- the workers (separate processes) ---------------------------------------------------


def _salesforce() -> object:
    import requests  # noqa: PLC0415
    from simple_salesforce import Salesforce  # noqa: PLC0415

    return Salesforce(
        instance_url=os.environ["SF_INSTANCE_URL"],
        session_id=os.environ["SF_ACCESS_TOKEN"],
        session=requests.Session(),
    )


def _guarded_worker(account: str) -> dict[str, int]:
    """Plain queries until critical-only, then critical sObject reads until spent."""
    from sfresilience import critical  # noqa: PLC0415
    from sfresilience.exceptions import BudgetExhausted, CriticalOnlyBlocked  # noqa: PLC0415

    client = ResilientClient(_salesforce(), settings=Settings())  # type: ignore[arg-type]
    _ready()
    plain = critical_calls = 0
    with contextlib.suppress(CriticalOnlyBlocked):
        while True:
            # A new query each time: a repeated read is answered from the fallback
            # cache once critical-only mode is on, and would never stop.
            client.query(f"{SOQL} OFFSET {plain}")
            plain += 1
    with critical(), contextlib.suppress(BudgetExhausted):
        while True:
            client.Account.get(account)
            critical_calls += 1
    return {"plain": plain, "critical": critical_calls}


def _polling_worker(account: str) -> dict[str, int]:
    """What teams do today: read /limits every few calls, stop at what it said."""
    from simple_salesforce.exceptions import SalesforceRefusedRequest  # noqa: PLC0415

    sf = _salesforce()
    _ready()
    plain = critical_calls = refused = 0
    used, limit = 0, 1
    for phase, stop_at in (("plain", CRITICAL), ("critical", 1.0)):
        calls = 0
        while True:
            try:
                if calls % POLL_EVERY == 0:
                    daily = sf.limits()["DailyApiRequests"]  # type: ignore[attr-defined]
                    limit = daily["Max"]
                    used = limit - daily["Remaining"]
                if used >= limit * stop_at:
                    break
                if phase == "plain":
                    sf.query(SOQL)  # type: ignore[attr-defined]
                    plain += 1
                else:
                    sf.Account.get(account)  # type: ignore[attr-defined]
                    critical_calls += 1
            except SalesforceRefusedRequest:
                refused += 1
                break
            calls += 1
            used += 1  # its own call; the other workers' it learns at the next poll
    return {"plain": plain, "critical": critical_calls, "refused": refused}


def _ready() -> None:
    print("ready", flush=True)
    sys.stdin.readline()  # the parent says "go" once every worker is ready


def _worker_main(kind: str, account: str) -> None:
    result = _guarded_worker(account) if kind == "guard" else _polling_worker(account)
    print(json.dumps(result), flush=True)


# --- the parent -------------------------------------------------------------------------


def _fleet(kind: str, org: FakeSalesforce, redis_url: str | None) -> list[dict[str, int]]:
    env = {**os.environ, **org.env()}
    if redis_url:
        env["SFRESILIENCE_REDIS_URL"] = redis_url
    account = org.org.records("Account")[0]["Id"]
    command = [sys.executable, str(Path(__file__).resolve()), "worker", kind, account]
    workers = [
        subprocess.Popen(  # noqa: S603
            command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(WORKERS)
    ]
    for worker in workers:
        assert worker.stdout is not None  # noqa: S101
        worker.stdout.readline()
    for worker in workers:
        assert worker.stdin is not None  # noqa: S101
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=600)
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _past_mark_in_plain_phase(org: FakeSalesforce, start: int, mark: int) -> int:
    """Counted calls past the critical mark that were plain queries (non-critical)."""
    used, past = start, 0
    for entry in org.request_log:
        if entry.counted and entry.status == 200:  # noqa: PLR2004
            used += 1
            if used > mark and entry.path.endswith("/query/"):
                past += 1
    return past


def _fleet_row(
    name: str, org: FakeSalesforce, start: int, results: list[dict[str, int]]
) -> tuple[list[str], int, float]:
    limit = org.api_limit
    mark = int(limit * CRITICAL + 1e-6)
    over_cap = sum(1 for r in org.request_log if r.status == 403)  # noqa: PLR2004
    used = org.api_usage - start
    share = used / (limit - start)
    watching = sum(1 for r in org.request_log if r.path.endswith("/limits/"))
    row = [
        name,
        str(sum(r["plain"] for r in results)),
        str(sum(r["critical"] for r in results)),
        str(watching),
        f"{org.api_usage}/{limit}",
        f"{share:.1%}",
        str(_past_mark_in_plain_phase(org, start, mark)),
        str(over_cap),
    ]
    return row, over_cap, share


def _fleet_section(report: Report) -> None:
    limit = 1200 if report.quick else 4000
    start = limit // 2
    report.section(
        "API budget across a fleet",
        f"{WORKERS} worker processes hammer one fake org over TLS (allocation {limit}, "
        f"{start} already used). Each runs plain queries until critical-only mode, then "
        f"critical sObject reads until the allocation is spent. Counted in the fake's "
        f"request log. Beside it, the same {WORKERS} workers with bare simple-salesforce "
        f"reading `/limits` every {POLL_EVERY} calls and stopping where it said.",
    )
    rows = []
    with private_redis() as redis_url:
        with FakeSalesforce(tls=True, api_limit=limit, api_usage=start) as org:
            row, over_cap, share = _fleet_row(
                "sfresilience, shared Redis", org, start, _fleet("guard", org, redis_url)
            )
            rows.append(row)
        with FakeSalesforce(tls=True, api_limit=limit, api_usage=start) as org:
            polled, polled_over, _ = _fleet_row(
                f"/limits every {POLL_EVERY} calls", org, start, _fleet("poll", org, None)
            )
            rows.append(polled)
    header = (
        "fleet",
        "plain calls",
        "critical calls",
        "/limits calls",
        "usage at the end",
        "of the allowed calls used",
        "plain calls past the critical mark",
        "calls past the cap (403)",
    )
    report.table(header, rows)
    report.target("calls past the cap, guarded fleet", over_cap, 0, "calls")
    report.target("allowed calls used, guarded fleet", share * 100, 98, "%", lower_is_better=False)
    report.note(
        f"- the polling fleet sent {polled_over} calls Salesforce refused as over the cap, "
        f"and {polled[6]} plain calls into the critical reserve"
    )


def _overhead_section(report: Report) -> float:
    rounds = report.rounds
    report.section(
        "Budget guard on the happy path",
        f"Medians of {rounds} interleaved rounds: a query through bare simple-salesforce "
        "and through ResilientClient (retry guard, modes and budget), embedded and with Redis.",
    )
    with private_redis() as redis_url, FakeSalesforce(api_limit=10**9) as org:
        raw = org.client()
        embedded = ResilientClient(org.client(), settings=Settings())
        shared = ResilientClient(org.client(), settings=Settings(redis_url=redis_url))
        for _ in range(200):
            raw.query(SOQL)
            embedded.query(SOQL)
            shared.query(SOQL)
        local = interleaved(rounds, lambda: raw.query(SOQL), lambda: embedded.query(SOQL))
        fleet = interleaved(rounds, lambda: raw.query(SOQL), lambda: shared.query(SOQL))
    report.table(
        RATIO_HEADER,
        [
            ratio_row("query: simple-salesforce → ResilientClient, embedded", *local),
            ratio_row("query: simple-salesforce → ResilientClient, Redis", *fleet),
        ],
    )
    report.target("guard on / bare ratio, embedded", local[1] / local[0], 1.05, "x")
    report.target("guard on / bare ratio, Redis", fleet[1] / fleet[0], 1.10, "x")
    return local[0]


class _Canned(BaseAdapter):
    """Answers every request at once with a fixed 200: isolates the guard's own work."""

    def __init__(self) -> None:
        super().__init__()
        self.used = 0

    def send(self, request: requests.PreparedRequest, **_: object) -> requests.Response:  # type: ignore[override]
        self.used += 1
        response = requests.Response()
        response.status_code = 200
        response.headers["Sforce-Limit-Info"] = f"api-usage={self.used}/1000000000"
        response.request = request
        return response

    def close(self) -> None:
        return None


def _own_cost(store: Store, rounds: int) -> tuple[float, float]:
    """Median seconds per request: the canned answer alone, and through the budget adapter."""
    canned = _Canned()
    guard = BudgetGuard(store, "00D000000000001", Thresholds(warn=0.8, critical=CRITICAL))
    modes = Modes([EnvToggle("SF_CRITICAL_ONLY", CRITICAL_ONLY), FleetSwitch(store, CRITICAL_ONLY)])
    adapter = BudgetAdapter(canned, modes, guard)
    request = requests.Request(
        "GET", f"https://x.my.salesforce.com/services/data/v59.0/query/?q={SOQL}"
    ).prepare()
    return interleaved(rounds * 5, lambda: canned.send(request), lambda: adapter.send(request))


def _own_cost_section(report: Report, bare: float) -> None:
    rounds = report.rounds
    with private_redis() as redis_url:
        embedded = _own_cost(MemoryStore(), rounds)
        shared = _own_cost(FailoverStore(RedisStore.from_url(redis_url)), rounds)
    report.note(
        "The guard's own work per request, against a transport that answers at once "
        "(modes, reservation, header reading; Redis trades amortised over the lease): "
        f"embedded +{(embedded[1] - embedded[0]) * 1e6:.1f} µs, "
        f"Redis +{(shared[1] - shared[0]) * 1e6:.1f} µs; as a share of this run's bare "
        f"query ({bare * 1e6:.0f} µs): {1 + (embedded[1] - embedded[0]) / bare:.3f} and "
        f"{1 + (shared[1] - shared[0]) / bare:.3f}; of the ~560 µs a loopback call costs on "
        f"a quiet machine (measured-baselines): {1 + (embedded[1] - embedded[0]) / 560e-6:.3f}"
        f" and {1 + (shared[1] - shared[0]) / 560e-6:.3f}."
    )


def run(report: Report) -> None:
    _own_cost_section(report, _overhead_section(report))
    _fleet_section(report)


if __name__ == "__main__" and sys.argv[1:2] == ["worker"]:
    _worker_main(sys.argv[2], sys.argv[3])
