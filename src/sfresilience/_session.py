"""What sfresilience installs on the wrapped client's ``requests`` session.

simple-salesforce sends every request (login included) through one
``requests.Session`` but sets no timeout on most of them, so the timeouts are
put on the session's transport adapters, where no call can miss them.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests
import urllib3
from requests.adapters import BaseAdapter


TimeoutPair = tuple[float, float]

# The absolute moment (time.monotonic) by which the current guarded call must end.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "sfresilience_deadline", default=None
)


@contextlib.contextmanager
def deadline_scope(seconds_left: float) -> Iterator[None]:
    """Clamp every request's timeouts inside the block to *seconds_left*.

    Nested scopes keep the earlier deadline. Real time, not the guard's
    injectable clock: these bound real sockets.
    """
    deadline = time.monotonic() + seconds_left
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


class TimeoutAdapter(BaseAdapter):
    """Wraps a transport adapter: default timeouts, clamped to the call's deadline."""

    def __init__(self, inner: BaseAdapter, timeouts: TimeoutPair) -> None:
        super().__init__()
        self.inner = inner
        self.timeouts = timeouts

    def send(  # noqa: PLR0917  (requests' adapter signature)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
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
        connect, read = self.timeouts
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
    """Wrap each adapter mounted on *session* (once) with a TimeoutAdapter."""
    for prefix, adapter in list(session.adapters.items()):
        if isinstance(adapter, TimeoutAdapter):
            adapter.timeouts = timeouts
        else:
            session.mount(prefix, TimeoutAdapter(adapter, timeouts))


Login = Callable[[], tuple[str, str]]
"""Returns ``(session_id, instance)`` like simple-salesforce's ``SalesforceLogin``."""

_URL_ATTRIBUTES = (
    "base_url",
    "apex_url",
    "tooling_url",
    "bulk_url",
    "bulk2_url",
    "metadata_url",
    "oauth2_url",
)


class SessionRefresher:
    """Logs in again at most once per expiry, however many threads saw it expire.

    Each attempt notes :attr:`generation` before it starts. A refresh asked for
    with an old generation means another thread already tried since: the
    caller simply retries with whatever session there is now. The generation
    moves on after a failed login too, so threads queued behind a refused
    login do not each try (and lock the integration user out).
    """

    def __init__(self, sf: Any, login: Login | None) -> None:
        self._sf = sf
        self._login = login
        self._lock = threading.Lock()
        self.generation = 0
        self.logins = 0

    @property
    def can_refresh(self) -> bool:
        return self._login is not None

    def refresh(self, seen_generation: int, *, wait: float) -> bool:
        """Log in again unless someone tried since *seen_generation*.

        Waits at most *wait* seconds for a refresh already under way; returns
        False when that wait ran out, True otherwise.
        """
        if self._login is None:
            raise RuntimeError("no login is known for this client")
        if not self._lock.acquire(timeout=max(wait, 0.0)):
            return False
        try:
            if self.generation == seen_generation:
                try:
                    session_id, instance = self._login()
                finally:
                    self.generation += 1
                self.logins += 1
                _apply_session(self._sf, session_id, instance)
        finally:
            self._lock.release()
        return True


def _apply_session(sf: Any, session_id: str, instance: str) -> None:
    old_instance = sf.sf_instance
    sf.session_id = session_id
    sf.sf_instance = instance
    sf.headers = {**sf.headers, "Authorization": "Bearer " + session_id}
    if instance != old_instance:
        # simple-salesforce computes its URLs once, in __init__.
        for name in _URL_ATTRIBUTES:
            url = getattr(sf, name, None)
            if isinstance(url, str):
                setattr(sf, name, url.replace(f"//{old_instance}/", f"//{instance}/"))
