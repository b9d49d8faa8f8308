"""Single-flight session refresh: one login per expiry, however many threads saw it."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

from ._transport import TimeoutPair, deadline_scope, install_timeouts


__all__ = [
    "Login",
    "LoginOutcome",
    "SessionRefresher",
    "TimeoutPair",
    "deadline_scope",
    "install_timeouts",
]

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


@dataclasses.dataclass(frozen=True, slots=True)
class LoginOutcome:
    """How the latest login went, as every thread that waited for it learns."""

    generation: int
    """The session generation the login left behind."""
    error: Exception | None = None
    """Why the login failed; ``None`` when a new session is in place."""


class SessionRefresher:
    """Logs in again at most once per expiry, however many threads saw it expire.

    Each attempt notes :attr:`generation` before it starts. A refresh asked for
    with an old generation means another thread logged in (or tried) since:
    the caller gets that login's outcome instead of logging in itself. So
    threads queued behind a refused login do not each try (and lock the
    integration user out), and threads queued behind a failed one learn why
    it failed rather than re-sending with a session known to be dead.

    The new session is installed before the generation moves on, under the
    lock: a thread that sees the new generation also sees the new session.
    """

    def __init__(self, sf: Any, login: Login | None) -> None:
        self._sf = sf
        self._login = login
        self._lock = threading.Lock()
        self._failure: Exception | None = None
        self.generation = 0
        self.logins = 0

    @property
    def can_refresh(self) -> bool:
        return self._login is not None

    def use_login(self, login: Login) -> None:
        """Log in with *login* from now on."""
        with self._lock:
            self._login = login

    def refresh(self, seen_generation: int, *, wait: float) -> LoginOutcome | None:
        """Log in again unless someone did since *seen_generation*; their outcome if so.

        Waits at most *wait* seconds for a login already under way; returns
        ``None`` when that wait ran out.
        """
        if self._login is None:
            raise RuntimeError("no login is known for this client")
        if not self._lock.acquire(timeout=min(max(wait, 0.0), threading.TIMEOUT_MAX)):
            return None
        try:
            if self.generation != seen_generation:
                failure = self._failure
                return LoginOutcome(self.generation, _copy(failure) if failure else None)
            return self._log_in(self._login)
        finally:
            self._lock.release()

    def _log_in(self, login: Login) -> LoginOutcome:
        try:
            session_id, instance = login()
        except Exception as error:  # noqa: BLE001  (the outcome, handed to every waiter)
            self._failure = _copy(error)
            self.generation += 1
            return LoginOutcome(self.generation, error)
        _apply_session(self._sf, session_id, instance)
        self._failure = None
        self.logins += 1
        self.generation += 1  # only now: the session above is already in place
        return LoginOutcome(self.generation)


def _copy(error: Exception) -> Exception:
    """A fresh instance of *error* to raise in another thread, without our notes."""
    cls = type(error)
    try:
        clone = cls.__new__(cls, *error.args)
    except Exception:  # noqa: BLE001  (an exotic __new__: share the original)
        return error
    state = getattr(error, "__dict__", {})
    clone.__dict__.update(
        {key: value for key, value in state.items() if key not in {"__notes__", "classification"}}
    )
    clone.__cause__ = error.__cause__
    clone.__context__ = error.__context__
    clone.__suppress_context__ = error.__suppress_context__
    return clone


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
