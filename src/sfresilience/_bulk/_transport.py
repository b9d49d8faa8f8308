"""simple-salesforce's Bulk handlers, with every request they send guarded.

Both Bulk handlers send everything through ``util.call_salesforce``, which calls
``session.request(method, url, headers=...)`` and raises simple-salesforce's
exception for a status of 300 or more. Handing the handlers a session whose
``request`` runs under the guard keeps all their own behaviour (URLs, payloads,
CSV splitting, result parsing) and routes each HTTP request through timeouts,
retries and session refresh. The guard needs the failure as an exception, so
a failed answer is raised here, by simple-salesforce's own
``exception_handler``: the caller sees the same exception types as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import wrapt
from simple_salesforce.util import exception_handler

from .._guard import Guard


if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce

    from .._fallback import Fallback

    class _SessionProxy(requests.Session):
        """To a type checker the proxy *is* the session it wraps."""

        __wrapped__: requests.Session

        def __init__(self, wrapped: requests.Session) -> None: ...

else:
    _SessionProxy = wrapt.ObjectProxy

NoteUse = Callable[[str, int], None]
"""The budget guard's ``note_daily_use``: (daily allocation, how many more spent)."""
BATCHES = "DailyBulkApiBatches"
"""A Bulk 1.0 batch counts one; a Bulk 2.0 ingest job one per 10,000 records."""
QUERY_JOBS = "DailyBulkV2QueryJobs"
RECORDS_PER_BATCH = 10_000
# A Bulk 1.0 query job's creation (simple-salesforce sends JSON; XML for others).
_V1_QUERY_JOB = re.compile(
    r"""["']operation["']\s*:\s*["']query(?:All)?["']|<operation>\s*query(?:All)?\s*<"""
)

# Reads may be sent again after any transient failure; a job creation, upload or
# state change only when it cannot have reached Salesforce (the guard's rule).
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class GuardedSession(_SessionProxy):
    """The client's own ``requests.Session`` (adapters, hooks, pool), guarded.

    Each attempt reads the client's *current* session id into the request's
    ``Authorization`` (Bulk 2.0) or ``X-SFDC-Session`` (Bulk 1.0) header: the
    handlers copy the id once, when built, so without this an expired session
    could never be replaced mid-job (simple-salesforce #619).
    """

    _self_sf: Salesforce
    _self_guard: Guard
    _self_api: str
    _self_note_use: NoteUse | None
    _self_fallback: Fallback | None

    def __init__(  # noqa: PLR0917
        self,
        session: requests.Session,
        sf: Salesforce,
        guard: Guard,
        api: str,
        note_use: NoteUse | None = None,
        fallback: Fallback | None = None,
    ) -> None:
        super().__init__(session)
        self._self_sf = sf
        self._self_guard = guard
        self._self_api = api
        self._self_note_use = note_use
        self._self_fallback = fallback

    def request(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        operation = f"{self._self_api} {method.upper()} {_path(url)}"
        repeatable = method.upper() in _READ_METHODS

        def send() -> requests.Response:
            return self._self_guard.run(
                lambda: self._send(method, url, headers, kwargs),
                operation=operation,
                repeatable=repeatable,
            )

        fallback = self._self_fallback
        if fallback is None:
            return send()
        # Through the client's Fallback like every other call: writes refused in
        # fallback mode or while the breaker refuses them, reads (query jobs,
        # polls) refused in fallback mode; nothing of a Bulk job is cached.
        if _writes(method, url, kwargs.get("data")):
            return fallback.write(send, operation=operation)
        result: requests.Response = fallback.read(None, send, operation=operation)
        return result

    def _send(
        self, method: str, url: str, headers: Mapping[str, str] | None, kwargs: dict[str, Any]
    ) -> requests.Response:
        session: requests.Session = self.__wrapped__
        response = session.request(method, url, headers=self._current(headers), **kwargs)
        if response.status_code >= 300:  # noqa: PLR2004  (simple-salesforce's own test)
            exception_handler(response)
        return response

    def _current(self, headers: Mapping[str, str] | None) -> dict[str, str]:
        """*headers* with the client's session id as it is now."""
        current = dict(headers or {})
        session_id = str(self._self_sf.session_id)
        if "Authorization" in current:
            current["Authorization"] = "Bearer " + session_id
        if "X-SFDC-Session" in current:
            current["X-SFDC-Session"] = session_id
        return current


def count_daily(session: object, allocation: str, count: int) -> None:
    """Tell the budget guard that *count* of the daily *allocation* were just spent."""
    if isinstance(session, GuardedSession) and session._self_note_use is not None:  # noqa: SLF001
        session._self_note_use(allocation, count)  # noqa: SLF001


def _writes(method: str, url: str, data: object) -> bool:
    """Whether a Bulk request creates, fills or moves an ingest job (not a query job)."""
    if method.upper() in _READ_METHODS or "/jobs/query" in url:
        return False
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    text = data.lstrip()[:200] if isinstance(data, str) else ""
    # Bulk 1.0: a query job names its operation; its batch is the SOQL itself.
    return not (_V1_QUERY_JOB.search(text) or text[:6].upper() == "SELECT")


def _path(url: str) -> str:
    """The part of *url* an event names: the path after ``/services/``, no query."""
    path = urlsplit(url).path
    _, marker, rest = path.partition("/services/")
    return rest if marker else path
