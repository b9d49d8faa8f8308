"""Transport failures: which phase of the request failed, read from the exception chain.

``requests`` wraps ``urllib3`` errors, which wrap socket errors, through
``args``, ``.reason``, ``__cause__`` and ``__context__``; the chain is walked
through all of them (bounded, cycle-safe).
"""

from __future__ import annotations

import errno
import http.client
import re
import socket
import ssl
from collections.abc import Iterator

import requests
import urllib3.exceptions

from sfresilience._classify._table import (
    CONNECT_FAILED,
    CONNECTION_LOST,
    READ_TIMEOUT,
    REQUEST_NOT_SENDABLE,
    TLS_FAILED,
)


_MAX_CHAIN = 32

_NOT_SENDABLE: tuple[type[BaseException], ...] = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
    urllib3.exceptions.LocationValueError,
    urllib3.exceptions.ProxySchemeUnsupported,
)
# Failures before a single byte of the request reached Salesforce.
_CONNECT: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectTimeout,
    requests.exceptions.ProxyError,
    urllib3.exceptions.ConnectTimeoutError,  # includes NewConnectionError, DNS
    urllib3.exceptions.ProxyError,
    ConnectionRefusedError,
    socket.gaierror,
    socket.herror,
)
_CONNECT_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL}
)
_TLS: tuple[type[BaseException], ...] = (
    requests.exceptions.SSLError,
    urllib3.exceptions.SSLError,
    ssl.SSLError,
)
# TLS failures that happen during the handshake, before the request is sent.
_TLS_HANDSHAKE = re.compile(
    r"certificate|handshake|wrong.version|unknown.protocol|hostname|self.signed"
    r"|tlsv1.alert|unsupported.protocol",
    re.IGNORECASE,
)
_READ_TIMEOUT: tuple[type[BaseException], ...] = (
    requests.exceptions.ReadTimeout,
    urllib3.exceptions.ReadTimeoutError,
)
# Failures after the request was (at least partly) sent.
_LOST: tuple[type[BaseException], ...] = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.IncompleteRead,
    http.client.IncompleteRead,
    http.client.BadStatusLine,  # includes RemoteDisconnected
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)
# Generic transport errors that name no phase.
_GENERIC: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    TimeoutError,
)
_WRAPPER_PREFIX = re.compile(r"^(?:None|<[^<>]*>):\s*")


def chain(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps, outermost first, each once."""
    seen: set[int] = set()
    queue: list[BaseException] = [error]
    while queue and len(seen) < _MAX_CHAIN:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked: list[object] = [getattr(current, "reason", None)]
        args = getattr(current, "args", ())
        if isinstance(args, tuple):
            linked.extend(args[:4])
        linked += [current.__cause__, current.__context__]
        queue.extend(item for item in linked if isinstance(item, BaseException))


def _is_connect(error: BaseException) -> bool:
    if isinstance(error, _CONNECT):
        return True
    code = getattr(error, "errno", None)
    return type(error) is OSError and isinstance(code, int) and code in _CONNECT_ERRNOS


def _is_tls_handshake(error: BaseException) -> bool:
    return isinstance(error, _TLS) and bool(_TLS_HANDSHAKE.search(_text(error)))


def signal(error: BaseException) -> str | None:
    """Which transport signal the error is, or None when it is no transport failure."""
    links = list(chain(error))
    for kinds, name in (
        (_NOT_SENDABLE, REQUEST_NOT_SENDABLE),
        (_CONNECT, CONNECT_FAILED),
        (_TLS, TLS_FAILED),
        (_READ_TIMEOUT, READ_TIMEOUT),
        (_LOST, CONNECTION_LOST),
    ):
        if any(isinstance(link, kinds) for link in links):
            return name
    if any(_is_connect(link) for link in links):
        return CONNECT_FAILED
    if any(isinstance(link, TimeoutError) for link in links):
        return READ_TIMEOUT
    if any(isinstance(link, _GENERIC) for link in links):
        return CONNECTION_LOST
    return None


def never_sent(error: BaseException) -> bool | None:
    """True: certainly never reached Salesforce; False: was sent.

    None when the error is no transport failure at all.
    """
    links = list(chain(error))
    if any(isinstance(link, _READ_TIMEOUT + _LOST) for link in links):
        return False
    if any(
        isinstance(link, _NOT_SENDABLE) or _is_connect(link) or _is_tls_handshake(link)
        for link in links
    ):
        return True
    if any(isinstance(link, _TLS + _GENERIC) for link in links):
        return False
    return None


def describe(error: BaseException) -> str:
    """``Outer: innermost reason``.

    E.g. ``ConnectionError: [Errno 111] Connection refused``.
    """
    links = list(chain(error))
    inner = next(
        (text for link in reversed(links) if (text := _text(link))),
        "",
    )
    name = type(error).__name__
    return f"{name}: {inner}" if inner else name


def _text(error: BaseException) -> str:
    args = getattr(error, "args", ())
    if (
        isinstance(args, tuple)
        and len(args) >= 2  # noqa: PLR2004 - urllib3's (connection, message) pairs
        and isinstance(args[-1], str)
        and not isinstance(args[0], str | BaseException)
    ):
        return args[-1]
    try:
        text = str(error)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break classification
        return ""
    return _WRAPPER_PREFIX.sub("", text)
