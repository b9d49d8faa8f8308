"""What sfresilience installs on the wrapped client's ``requests`` session.

simple-salesforce sends every request (login included) through one
``requests.Session`` but sets no timeout on most of them, so the timeouts are
put on the session's transport adapters, where no call can miss them.

A read timeout limits each read from the socket, not the response: a server
that sends one byte every half second is never cut off by it. So while a
guarded call runs, every read of the response (status line, headers and body)
gets only the time left before the call's deadline, and a read that would
cross it times out. The deadline thus bounds the whole exchange however the
bytes arrive.
"""

from __future__ import annotations

import contextvars
import http.client
import io
import time
from collections.abc import Mapping
from typing import Any

import requests
import urllib3
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.utils import select_proxy
from urllib3.connectionpool import HTTPConnectionPool


__all__ = ["TimeoutAdapter", "TimeoutPair", "deadline_scope", "install_timeouts"]

TimeoutPair = tuple[float, float]
"""``(connect, read)`` seconds."""


# The absolute moment (time.monotonic) by which the current guarded call must
# end, and the timeouts of the client making it.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "sfresilience_deadline", default=None
)
_timeouts: contextvars.ContextVar[TimeoutPair | None] = contextvars.ContextVar(
    "sfresilience_timeouts", default=None
)


class deadline_scope:  # noqa: N801  (used as a function: ``with deadline_scope(...)``)
    """Bound every request inside the block to end within *seconds_left*.

    *timeouts*, when given, replace the adapter's defaults for these requests
    (so two wrappers of one session keep their own). Nested scopes keep the
    earlier deadline. Real time, not the guard's injectable clock: these bound
    real sockets. A class, not ``contextlib.contextmanager``: it is entered on
    every attempt of every guarded call, and a generator costs more.
    """

    __slots__ = ("_deadline", "_timeouts", "_timeouts_token", "_token")

    def __init__(self, seconds_left: float, timeouts: TimeoutPair | None = None) -> None:
        self._deadline = time.monotonic() + seconds_left
        self._timeouts = timeouts

    def __enter__(self) -> None:
        outer = _deadline.get()
        deadline = self._deadline if outer is None else min(outer, self._deadline)
        self._token = _deadline.set(deadline)
        timeouts = self._timeouts
        self._timeouts_token = _timeouts.set(timeouts) if timeouts is not None else None

    def __exit__(self, *_: object) -> None:
        if self._timeouts_token is not None:
            _timeouts.reset(self._timeouts_token)
        _deadline.reset(self._token)


class TimeoutAdapter(BaseAdapter):
    """Wraps a transport adapter: default timeouts, clamped to the call's deadline."""

    def __init__(self, inner: BaseAdapter, timeouts: TimeoutPair) -> None:
        super().__init__()
        self.inner = inner
        self.timeouts = timeouts
        self._http = _bound_exchanges(inner)

    def send(  # noqa: PLR0917  (requests' adapter signature)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if proxies and self._http is not None:
            _bound_proxy(self._http, request, proxies)
        return self.inner.send(
            request,
            stream=stream,
            timeout=self._effective(timeout),
            verify=verify,
            cert=cert,
            proxies=proxies,
        )

    def close(self) -> None:
        self.inner.close()

    def _effective(self, given: Any) -> Any:
        if isinstance(given, urllib3.Timeout):
            return given  # the caller built its own; leave it alone
        connect, read = _timeouts.get() or self.timeouts
        if isinstance(given, tuple):
            connect = given[0] if given[0] is not None else connect
            read = given[1] if given[1] is not None else read
        elif given is not None:
            connect = read = float(given)
        deadline = _deadline.get()
        if deadline is not None:
            left = max(deadline - time.monotonic(), 0.001)
            connect, read = min(connect, left), min(read, left)
        return (connect, read)


def install_timeouts(session: requests.Session, timeouts: TimeoutPair) -> None:
    """Wrap each adapter mounted on *session* (once) with a TimeoutAdapter.

    *timeouts* become the defaults for requests sent outside a guarded call
    only when the session has none yet: a second wrapper of the same client
    brings its own timeouts to its own calls instead (see :func:`deadline_scope`).
    """
    for prefix, adapter in list(session.adapters.items()):
        if not isinstance(adapter, TimeoutAdapter):
            session.mount(prefix, TimeoutAdapter(adapter, timeouts))


# The whole-exchange bound ---------------------------------------------------


_DEADLINE_SLACK = 0.01
"""Seconds a response may end past the call's deadline, to spare a settimeout per read."""


class _DeadlineRaw(io.RawIOBase):
    """A socket file whose every read ends by the deadline, however slow the bytes."""

    def __init__(self, inner: io.BufferedIOBase, sock: Any, deadline: float) -> None:
        super().__init__()
        self._inner = inner
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out: the call's deadline passed during the response")
        timeout = self._sock.gettimeout()
        if timeout is not None and timeout <= left + _DEADLINE_SLACK:
            # The socket's own timeout (clamped to the deadline when the request
            # left, see TimeoutAdapter) ends this read by then. settimeout is an
            # ioctl that releases the GIL, costly on every read, so it is only
            # called once the deadline is nearer than that timeout.
            return self._inner.readinto1(buffer)
        self._sock.settimeout(left)
        try:
            return self._inner.readinto1(buffer)
        finally:
            self._sock.settimeout(timeout)

    def fileno(self) -> int:
        return self._inner.fileno()

    def close(self) -> None:
        if not self.closed:
            self._inner.close()
        super().close()


class _DeadlineResponse(http.client.HTTPResponse):
    """http.client's response, reading through :class:`_DeadlineRaw` inside a guarded call."""

    def __init__(self, sock: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = _deadline.get()
        if deadline is not None and hasattr(sock, "settimeout"):
            self.fp = io.BufferedReader(_DeadlineRaw(self.fp, sock, deadline))


_MAX_WRAPPING = 4
_connection_classes: dict[type[Any], type[Any]] = {}
_pool_classes: dict[type[HTTPConnectionPool], type[HTTPConnectionPool]] = {}


def _deadline_connection(base: type[Any]) -> type[Any]:
    """*base* (urllib3's, a SOCKS one, ...) reading its responses under the deadline."""
    if getattr(base, "response_class", None) is not http.client.HTTPResponse:
        return base  # someone else's response class: leave it alone
    if base not in _connection_classes:
        _connection_classes[base] = type(
            base.__name__, (base,), {"response_class": _DeadlineResponse}
        )
    return _connection_classes[base]


def _deadline_pool(base: type[HTTPConnectionPool]) -> type[HTTPConnectionPool]:
    if base in _pool_classes.values():
        return base
    if base not in _pool_classes:
        connection = _deadline_connection(base.ConnectionCls)
        _pool_classes[base] = type(base.__name__, (base,), {"ConnectionCls": connection})
    return _pool_classes[base]


def _bound_manager(manager: Any) -> None:
    classes = getattr(manager, "pool_classes_by_scheme", None)
    if not isinstance(classes, dict):
        return
    bounded = {scheme: _deadline_pool(pool) for scheme, pool in classes.items()}
    if bounded != classes:
        manager.pool_classes_by_scheme = bounded
        manager.clear()  # pools made before use the old classes; drop their idle connections


def _bound_exchanges(adapter: BaseAdapter, depth: int = 0) -> HTTPAdapter | None:
    """Make *adapter*'s connections read responses under the deadline.

    That takes requests' ``HTTPAdapter`` (or a subclass), found as the adapter
    itself or as an adapter it wraps (a routing or logging adapter around it);
    returns the one found.
    """
    if isinstance(adapter, HTTPAdapter):
        _bound_manager(adapter.poolmanager)
        for manager in adapter.proxy_manager.values():
            _bound_manager(manager)
        return adapter
    if depth < _MAX_WRAPPING:
        for value in list(getattr(adapter, "__dict__", {}).values()):
            if isinstance(value, BaseAdapter) and (found := _bound_exchanges(value, depth + 1)):
                return found
    return None


def _bound_proxy(
    adapter: HTTPAdapter, request: requests.PreparedRequest, proxies: Mapping[str, str]
) -> None:
    proxy = select_proxy(str(request.url), dict(proxies))
    if proxy:
        # The same (cached) manager HTTPAdapter.send is about to use.
        _bound_manager(adapter.proxy_manager_for(proxy))
