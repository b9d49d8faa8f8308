"""Build ``client.bulk`` / ``client.bulk2`` the way simple-salesforce does, guarded."""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce.bulk import SFBulkHandler

from .._guard import Guard
from ._bulk2 import ResilientBulk2Handler
from ._transport import GuardedSession
from ._watchdog import Watchdog


def bulk_handler(name: str, sf: Any, guard: Guard, job_deadline: float) -> Any:
    """``sf.<name>`` (``bulk`` or ``bulk2``) with its requests routed through *guard*.

    A client whose session is not a ``requests.Session`` (a test double) gets
    simple-salesforce's handler as it is.
    """
    session = vars(sf).get("session")
    if not isinstance(session, requests.Session):
        return getattr(sf, name)
    api = "bulk2" if name == "bulk2" else "bulk"
    guarded = GuardedSession(session, sf, guard, api)
    if name == "bulk2":
        watchdog = Watchdog(job_deadline, guard.clock, guard.sleep)
        return ResilientBulk2Handler(sf, guarded, guard, watchdog)
    # Bulk 1.0: simple-salesforce's own handler and types, over the guarded session.
    return SFBulkHandler(sf.session_id, sf.bulk_url, sf.proxies, guarded)
