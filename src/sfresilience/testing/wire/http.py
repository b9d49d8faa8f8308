"""A small, fast HTTP/1.1 server for the fakes: one thread per connection, keep-alive.

Why not `http.server`: it writes the status line, the headers and the body in separate
`write` calls, which under keep-alive stalls ~40 ms per request (Nagle + delayed ACK),
and its email-based header parser costs more than the fake's own work. This server
sets `TCP_NODELAY` on every accepted socket, sends each response in one `sendall`,
and parses requests with a buffered reader.

The handler is a plain callable `HttpRequest -> HttpResponse | None` that runs on the
connection's thread (so a slow or hanging handler blocks only its own connection).
Returning `None` closes the connection without answering, which a client sees as a
dropped connection; answers to HEAD requests are sent without their body. `pause()`
really stops listening (clients get "connection refused") and closes every open
connection; `resume()` listens again on the same port.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import IO, Self


__all__ = ["Drip", "HttpRequest", "HttpResponse", "HttpServer"]

_MAX_LINE = 65_536 + 1024
_MAX_HEADERS = 200
_REASONS = {status.value: status.phrase for status in HTTPStatus}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One parsed request; header names are lower-cased."""

    method: str
    target: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of header `name` (any case), or `default`."""
        return self.headers.get(name.lower(), default)


@dataclass(frozen=True, slots=True)
class Drip:
    """Send a response's `part` ("headers", "body" or "all") a byte every `seconds`."""

    seconds: float
    part: str = "body"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete response; `Content-Length` and `Connection` are added when sent.

    With `drip`, the server trickles it instead of sending it in one write.
    """

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())
    drip: Drip | None = None

    def encode(self, *, keep_alive: bool, head: bool = False) -> bytes:
        """The whole response as bytes, ready for a single `sendall`."""
        header, body = self.encode_parts(keep_alive=keep_alive, head=head)
        return header + body

    def encode_parts(self, *, keep_alive: bool, head: bool = False) -> tuple[bytes, bytes]:
        """(status line and headers, body) as bytes.

        For a HEAD request (`head`) the body is left out but `Content-Length` still
        gives its size, as RFC 9110 allows, so the keep-alive framing stays intact.
        """
        reason = _REASONS.get(self.status, "Unknown")
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        if self.content_type is not None:
            lines.append(f"Content-Type: {self.content_type}")
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        if self.status != HTTPStatus.NO_CONTENT and self.status >= HTTPStatus.OK:
            lines.append(f"Content-Length: {len(self.body)}")
        if not keep_alive:
            lines.append("Connection: close")
        header = "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n"
        return header, b"" if head else self.body


Handler = Callable[[HttpRequest], HttpResponse | None]


class _BadRequestError(Exception):
    pass


def _read_chunked(rfile: IO[bytes]) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = rfile.readline(_MAX_LINE)
        if not size_line:
            raise _BadRequestError("truncated chunked body")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while rfile.readline(_MAX_LINE) not in {b"\r\n", b"\n", b""}:
                pass
            return b"".join(parts)
        parts.append(rfile.read(size))
        rfile.readline(_MAX_LINE)


def _read_request(rfile: IO[bytes]) -> tuple[HttpRequest, bool] | None:
    """Read one request; `None` at a clean end of stream. Returns (request, keep)."""
    line = rfile.readline(_MAX_LINE)
    while line in {b"\r\n", b"\n"}:
        line = rfile.readline(_MAX_LINE)
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").split()
    except ValueError as error:
        raise _BadRequestError("malformed request line") from error
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        raw = rfile.readline(_MAX_LINE)
        if raw in {b"\r\n", b"\n", b""}:
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise _BadRequestError("too many headers")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _read_chunked(rfile)
    else:
        length = int(headers.get("content-length", "0") or "0")
        body = rfile.read(length) if length else b""
        if len(body) != length:
            raise _BadRequestError("truncated body")
    connection = headers.get("connection", "").lower()
    keep = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    path, _, query = target.partition("?")
    request = HttpRequest(method.upper(), target, path, query, headers, body)
    return request, keep


class HttpServer:
    """A threaded HTTP/1.1 server on loopback with keep-alive and pause/resume.

    `HttpServer(handler, host="127.0.0.1", port=0, name="fake-http", ssl_context=None)`;
    with an `ssl_context` it serves HTTPS (the handshake runs on the connection's
    thread). `start()`,
    `stop(timeout=5.0)`, `pause()`, `resume()`, `port`, `url`, `listening`; also a
    context manager. `port` is fixed at `start()` (OS-chosen when 0) and kept across
    `pause()`/`resume()`. A handler that raises gets a plain 500 answer and its
    exception is appended to `handler_errors`.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "fake-http",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._handler = handler
        self._ssl_context = ssl_context
        self._host = host
        self._port = port
        self._name = name
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._started = False
        self._closing = threading.Event()
        self.handler_errors: list[Exception] = []

    @property
    def port(self) -> int:
        """The TCP port (known after `start()`)."""
        return self._port

    @property
    def url(self) -> str:
        """`http://host:port` of the server (`https://` with an `ssl_context`)."""
        scheme = "http" if self._ssl_context is None else "https"
        return f"{scheme}://{self._host}:{self._port}"

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted right now."""
        return self._listener is not None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Bind, listen and start accepting on a background thread."""
        with self._lock:
            if self._started:
                return
            self._started = True
            self._listen()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening, close every connection and join all threads."""
        with self._lock:
            if not self._started:
                return
            self._started = False
        self._close(timeout, join=True)

    def pause(self, timeout: float = 5.0) -> None:
        """Stop listening (connections are refused) and close open connections.

        Handlers still running (a held request, say) are not waited for; their
        answer goes nowhere.
        """
        self._close(timeout, join=False)

    def _close(self, timeout: float, *, join: bool) -> None:
        self._closing.set()
        with self._lock:
            accept_thread = self._accept_thread
            listener, wake_r, wake_w = self._listener, self._wake_r, self._wake_w
            self._listener = self._accept_thread = None
            self._wake_r = self._wake_w = None
            if wake_w is not None:
                with contextlib.suppress(OSError):
                    wake_w.send(b"x")
            connections = dict(self._connections)
        if accept_thread is not None:
            accept_thread.join(timeout)
        for sock in (listener, wake_r, wake_w):
            if sock is not None:
                sock.close()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if join:
            with self._lock:
                threads = list(self._connections.values())
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join(timeout)

    def resume(self) -> None:
        """Listen again on the same port after `pause()`."""
        with self._lock:
            if self._started and self._listener is None:
                self._listen()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, self._port))
            listener.listen(128)
            listener.setblocking(False)  # noqa: FBT003
        except OSError:
            listener.close()
            raise
        self._port = int(listener.getsockname()[1])
        self._listener = listener
        self._closing.clear()
        self._wake_r, self._wake_w = socket.socketpair()
        thread = threading.Thread(
            target=self._accept_loop,
            args=(listener, self._wake_r),
            name=f"{self._name}-accept",
            daemon=True,
        )
        self._accept_thread = thread
        thread.start()

    def _accept_loop(self, listener: socket.socket, wake: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if wake in ready:
                    return
                try:
                    conn, _ = listener.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    return
                conn.setblocking(True)  # noqa: FBT003
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                thread = threading.Thread(
                    target=self._serve,
                    args=(conn,),
                    name=f"{self._name}-conn",
                    daemon=True,
                )
                with self._lock:
                    if self._listener is not listener:
                        conn.close()
                        return
                    self._connections[conn] = thread
                thread.start()

    def _send(self, conn: socket.socket, response: HttpResponse, *, keep: bool, head: bool) -> None:
        if response.drip is None:
            conn.sendall(response.encode(keep_alive=keep, head=head))
            return
        header, body = response.encode_parts(keep_alive=keep, head=head)
        part = response.drip.part
        self._trickle(conn, header, response.drip.seconds, slow=part in {"headers", "all"})
        self._trickle(conn, body, response.drip.seconds, slow=part in {"body", "all"})

    def _trickle(self, conn: socket.socket, data: bytes, seconds: float, *, slow: bool) -> None:
        """Send `data`, a byte every `seconds` when `slow`; give up when closing."""
        if not slow:
            conn.sendall(data)
            return
        for index in range(len(data)):
            if index and self._closing.wait(seconds):
                raise OSError("server closing")
            conn.sendall(data[index : index + 1])

    def _serve(self, raw: socket.socket) -> None:
        try:
            conn = self._secured(raw)
        except OSError:  # ssl.SSLError included: a failed handshake
            self._forget(raw)
            raw.close()
            return
        rfile = conn.makefile("rb")
        try:
            while True:
                try:
                    parsed = _read_request(rfile)
                except (_BadRequestError, ValueError):
                    conn.sendall(HttpResponse(400).encode(keep_alive=False))
                    return
                if parsed is None:
                    return
                request, keep = parsed
                try:
                    response = self._handler(request)
                except Exception as error:  # noqa: BLE001 - answer, keep the error
                    self.handler_errors.append(error)
                    response = HttpResponse(500, b"internal error in fake", "text/plain")
                if response is None:
                    return
                self._send(conn, response, keep=keep, head=request.method == "HEAD")
                if not keep:
                    return
        except OSError:
            return
        finally:
            rfile.close()
            self._forget(conn)
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _secured(self, raw: socket.socket) -> socket.socket:
        """The connection itself, or wrapped in TLS (handshake on this thread).

        Wrapping takes the file descriptor over from `raw`, so the wrapped socket
        replaces it in `_connections`, where `pause()`/`stop()` find it to shut down.
        """
        if self._ssl_context is None:
            return raw
        raw.settimeout(10.0)
        conn = self._ssl_context.wrap_socket(raw, server_side=True)
        conn.settimeout(None)
        with self._lock:
            thread = self._connections.pop(raw, None)
            if thread is not None:
                self._connections[conn] = thread
        return conn

    def _forget(self, raw: socket.socket) -> None:
        with self._lock:
            self._connections.pop(raw, None)
