"""Which session refresher the wrappers of one client share.

It is kept on the wrapped client itself, so every wrapper of a client finds the
same one, and a copy of the client (shallow, deep, or unpickled) gets the login
without the lock and counters that belong to the original.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from simple_salesforce.api import Salesforce

from ._auth import checked_login
from ._session import Login, SessionRefresher


class _Refresh:
    """Kept on the wrapped client: its login, and the one refresher every wrapper shares.

    A copy or an unpickled client gets the login but not the refresher (a lock
    and counters belong to one client): its first wrapper makes its own.
    """

    def __init__(self, login: Login | None) -> None:
        self.login = login
        self._refresher: SessionRefresher | None = None
        self._owner: Callable[[], object] = lambda: None

    def use_login(self, login: Login) -> None:
        self.login = login
        if self._refresher is not None:
            self._refresher.use_login(login)

    def belongs_to(self, sf: Salesforce) -> bool:
        """False when *sf* is a shallow copy of the client this was made for."""
        owner = self._owner()
        return owner is None or owner is sf

    def refresher(self, sf: Salesforce) -> SessionRefresher:
        if self._refresher is None or self._owner() is not sf:
            self._refresher = SessionRefresher(sf, self.login)
            self._owner = weakref.ref(sf)
        return self._refresher

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Refresh, (self.login,))


_REFRESH = "_sfresilience_refresh"


def refresher_for(sf: Salesforce, refresh: Login | None) -> SessionRefresher:
    """One refresher per wrapped client, shared by every wrapper of it.

    A later wrapper given ``refresh=`` hands its login to that refresher.

    The first wrapper moves simple-salesforce's own re-login into it: that one
    is not serialised (eight threads, eight logins), on the SFType path it can
    loop (simple-salesforce #804), and leaving it would retry under our retries.
    """
    # vars(), not getattr(): Salesforce.__getattr__ turns unknown names into SFTypes.
    attributes = vars(sf)
    kept = attributes.get(_REFRESH)
    if not isinstance(kept, _Refresh):
        own = attributes.get("_salesforce_login_partial")
        kept = _Refresh(refresh or (checked_login(own) if own is not None else None))
        attributes["_salesforce_login_partial"] = None
        attributes[_REFRESH] = kept
    elif not kept.belongs_to(sf):
        # A shallow copy's: its own lock.
        kept = attributes[_REFRESH] = _Refresh(refresh or kept.login)
    elif refresh is not None:
        # Still one refresher (two would log in twice per expiry), now with this login.
        kept.use_login(refresh)
    return kept.refresher(sf)
