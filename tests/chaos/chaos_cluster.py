"""A Redis Cluster started by the test session (see conftest's `redis_cluster`)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Cluster:
    """Three masters on loopback; `url` is the store's `redis+cluster://` form."""

    ports: tuple[int, ...]

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
