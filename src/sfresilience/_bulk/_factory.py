"""Build ``client.bulk`` / ``client.bulk2`` the way simple-salesforce does, guarded."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests
from simple_salesforce.bulk import SFBulkHandler
from simple_salesforce.bulk2 import SFBulk2Handler

from .._events import logger
from .._fallback import Fallback
from .._guard import Guard
from ._bulk1 import ResilientBulkHandler
from ._bulk2 import ResilientBulk2Handler
from ._compat import BULK1_NEEDS, BULK2_NEEDS, compatible
from ._query import object_of, stream_query
from ._transport import GuardedSession, NoteUse
from ._watchdog import Watchdog


_QUERY_POLL = 1.0  # first poll interval of a query job, seconds (then doubling)


def bulk_handler(  # noqa: PLR0917
    name: str,
    sf: Any,
    guard: Guard,
    job_deadline: float,
    note_use: NoteUse | None = None,
    fallback: Fallback | None = None,
) -> Any:
    """``sf.<name>`` (``bulk`` or ``bulk2``) with its requests routed through *guard*.

    A client whose session is not a ``requests.Session`` (a test double) gets
    simple-salesforce's handler as it is; a simple-salesforce whose private Bulk
    methods changed gets its own handler over the guarded session (``_compat``).
    With *fallback*, every request goes through it (see ``GuardedSession``).
    """
    session = vars(sf).get("session")
    if not isinstance(session, requests.Session):
        return getattr(sf, name)
    api = "bulk2" if name == "bulk2" else "bulk"
    guarded = GuardedSession(session, sf, guard, api, note_use, fallback)
    if name == "bulk2":
        if not compatible(api, BULK2_NEEDS):
            return SFBulk2Handler(sf.session_id, sf.bulk2_url, sf.proxies, guarded)
        watchdog = Watchdog(job_deadline, guard.clock, guard.sleep)
        return ResilientBulk2Handler(sf, guarded, guard, watchdog)
    if not compatible(api, BULK1_NEEDS):
        return SFBulkHandler(sf.session_id, sf.bulk_url, sf.proxies, guarded)
    return ResilientBulkHandler(sf, guarded, guard)


def bulk_query_records(
    sf: Any,
    guard: Guard,
    job_deadline: float,
    soql: str,
    *,
    include_deleted: bool,
    describe: Callable[[str], Mapping[str, Any]],
    note_use: NoteUse | None = None,
) -> Iterator[dict[str, Any]] | None:
    """*soql*'s records from a Bulk 2.0 query job, in ``query_all``'s shape; None
    when the query names no object or the client has no real session."""
    object_name = object_of(soql)
    handler = bulk_handler("bulk2", sf, guard, job_deadline, note_use)
    if object_name is None or not isinstance(handler, ResilientBulk2Handler):
        return None
    client = getattr(handler, object_name)._client  # noqa: SLF001  (our own subclass)
    version = sf.sf_version

    def record_url(object_type: str, record_id: str) -> str:
        return f"/services/data/v{version}/sobjects/{object_type}/{record_id}"

    logger.info("query_all of %s switches to a Bulk 2.0 query job", object_name)
    return stream_query(
        client,
        soql,
        include_deleted=include_deleted,
        wait=lambda job_id: client.wait_for_job(job_id, True, _QUERY_POLL),  # noqa: FBT003
        describe=describe(object_name),
        record_url=record_url,
    )
