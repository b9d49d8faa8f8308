"""Chaos fixtures: a three-master Redis Cluster, and the gate for the long cases.

Cases marked `chaos` run only under `nox -s chaos` (which sets SFRESILIENCE_CHAOS=1);
the rest of this directory is part of the default `tests` run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from tests.chaos.servers import Cluster, StartRedis, start_cluster


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    if os.environ.get("SFRESILIENCE_CHAOS") == "1":
        return
    skip = pytest.mark.skip(reason="long chaos case: run it with `nox -s chaos`")
    for item in items:
        if item.get_closest_marker("chaos") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def redis_cluster(start_redis: StartRedis) -> Iterator[Cluster]:
    """Three redis-server masters joined by `redis-cli --cluster create`."""
    with start_cluster(start_redis) as cluster:
        yield cluster
