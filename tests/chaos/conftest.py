"""Chaos fixtures: a three-master Redis Cluster, and the gate for the long cases.

Cases marked `chaos` run only under `nox -s chaos` (which sets SFRESILIENCE_CHAOS=1);
the rest of this directory is part of the default `tests` run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
import redis
from tests.chaos.chaos_cluster import Cluster, free_port


StartRedis = Callable[..., contextlib.AbstractContextManager[object]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    if os.environ.get("SFRESILIENCE_CHAOS") == "1":
        return
    skip = pytest.mark.skip(reason="long chaos case: run it with `nox -s chaos`")
    for item in items:
        if item.get_closest_marker("chaos") is not None:
            item.add_marker(skip)


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


@pytest.fixture(scope="session")
def redis_cluster(start_redis: StartRedis) -> Iterator[Cluster]:
    """Three redis-server masters joined by `redis-cli --cluster create`."""
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not on PATH: it is needed to create the cluster")
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
        yield Cluster(ports)
