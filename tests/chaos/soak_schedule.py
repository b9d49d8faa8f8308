"""The soak's fault schedule: each fault on for a slice of the run, then off again."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.chaos.servers import Server

from sfresilience.testing import FakeSalesforce
from sfresilience.testing.faults import Fault


Action = Callable[[FakeSalesforce, Server], None]


@dataclass(frozen=True)
class Step:
    start: float
    """Share of the run at which the fault goes on."""
    end: float
    name: str
    on: Action
    off: Action


def _nothing(_fake: FakeSalesforce, _server: Server) -> None:
    return None


def _restart_redis(_fake: FakeSalesforce, server: Server) -> None:
    server.start(tempfile.mkdtemp(prefix="sfr-soak-again-"))


def _pause_redis(_fake: FakeSalesforce, server: Server) -> None:
    client = server.client()
    client.client_pause(1500, all=True)
    client.close()


def _squeeze_budget(fake: FakeSalesforce, _server: Server) -> None:
    """The allocation is nearly spent: 400 calls left, past the critical mark."""
    fake.api_limit = fake.api_usage + 400


def _set_lock_hold(seconds: float) -> Action:
    def action(fake: FakeSalesforce, _server: Server) -> None:
        fake.lock_hold = seconds

    return action


STEPS = [
    Step(0.06, 0.14, "500/502/503 storm on 30 % of requests",
         lambda f, _s: f.faults.server_errors(probability=0.3, seed=1),
         lambda f, _s: f.faults.disarm(Fault.SERVER_ERRORS)),
    Step(0.14, 0.22, "writes applied, then their answers lost (10 %)",
         lambda f, _s: f.faults.lose_responses(probability=0.1, seed=2),
         lambda f, _s: f.faults.disarm(Fault.LOSE_RESPONSES)),
    Step(0.22, 0.28, "sessions expire (5 % of requests)",
         lambda f, _s: f.faults.expire_sessions(probability=0.05, seed=3),
         lambda f, _s: f.faults.disarm(Fault.EXPIRE_SESSIONS)),
    Step(0.28, 0.32, "outage: connection refused",
         lambda f, _s: f.faults.outage(), lambda f, _s: f.faults.restore()),
    Step(0.34, 0.42, "Redis killed, then restarted",
         lambda _f, s: s.kill(), _restart_redis),
    Step(0.44, 0.52, "0.2 s latency on 30 % of requests",
         lambda f, _s: f.faults.latency(0.2, probability=0.3, seed=4),
         lambda f, _s: f.faults.disarm(Fault.LATENCY)),
    Step(0.52, 0.58, "HTML 503 maintenance page on 20 % of requests",
         lambda f, _s: f.faults.maintenance(probability=0.2, seed=5),
         lambda f, _s: f.faults.disarm(Fault.MAINTENANCE)),
    Step(0.58, 0.64, "read-only maintenance",
         lambda f, _s: f.faults.read_only(), lambda f, _s: f.faults.disarm(Fault.READ_ONLY)),
    Step(0.64, 0.74, "lock contention: writes hold their locks 50 ms",
         _set_lock_hold(0.05), _set_lock_hold(0.0)),
    Step(0.76, 0.78, "Redis paused 1.5 s (CLIENT PAUSE)", _pause_redis, _nothing),
    Step(0.84, 1.0, "budget squeezed: 400 calls left of the allocation",
         _squeeze_budget, _nothing),
]  # fmt: skip


def schedule(
    fake: FakeSalesforce,
    server: Server,
    start_at: float,
    seconds: float,
    skip: tuple[str, ...] = (),
) -> list[str]:
    """Run STEPS (less *skip*) against the fake and Redis in real time; what was applied."""
    steps = [step for step in STEPS if not step.name.startswith(skip)]
    events = sorted(
        [(s.start, 1, s.name, s.on) for s in steps] + [(s.end, 0, s.name, s.off) for s in steps]
    )
    applied = []
    for share, on, name, action in events:
        if share >= 1.0:
            continue
        time.sleep(max(0.0, start_at + share * seconds - time.time()))  # sleep-ok: the schedule
        action(fake, server)
        if on:
            applied.append(f"{share * seconds:5.1f} s: {name}")
    return applied
