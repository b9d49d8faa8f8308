"""Every request's path through the fake: faults, auth, accounting, then a handler.

`Router.handle` is the `HttpServer` handler. Uncounted paths (the versions list,
OAuth token and UserInfo, SOAP login) go straight to their handlers; counted paths (the
data API, Bulk API 1.0 and Apex REST) need a live session, use the API allocation and hold
a concurrency ticket. Faults are read from `Faults` at the points Salesforce would fail.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from urllib.parse import unquote

from ..faults import Fault, FaultHit, Faults
from ..org import ApiError
from ..wire.http import Drip, HttpRequest, HttpResponse
from .accounting import ApiAccounting, concurrent_limit_refusal
from .apex import ApexRoutes
from .auth import Authenticator, SessionStore
from .bulk import BulkV1Api, async_error
from .bulk_formats import wants_json
from .outages import READ_ONLY_MESSAGE, maintenance_page, server_error
from .responses import (
    JSON,
    DropError,
    RespondError,
    bearer_token,
    error,
    json_response,
    not_found,
)
from .rest import RestApi
from .userinfo import UserInfo
from .versions import unsupported_version, versions_body


__all__ = ["LoggedRequest", "Router"]

_DATA_PATH = re.compile(r"/services/data/v(\d+)\.(\d+)(?:/(.*))?")
_SOAP_LOGIN_PATH = re.compile(r"/services/Soap/u/(\d+\.\d+)/?")
_APEX_PREFIX = "/services/apexrest/"
_ASYNC_PREFIX = "/services/async/"
_ASYNC_PATH = re.compile(r"/services/async/(\d+)\.(\d+)(?:/(.*))?")
_COUNTED_PREFIXES = ("/services/data/v", _APEX_PREFIX, _ASYNC_PREFIX)
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request the fake answered (status 0: dropped without an answer).

    `path` is without the query string; `counted` is whether it used the API
    allocation's accounting (the data API and Apex REST; not login, not the
    versions list). `late` marks a write delayed by `faults.delay_writes()` landing:
    its status is what the write got, and it was counted when it arrived.
    """

    method: str
    path: str
    status: int
    counted: bool
    late: bool = False


class Router:
    """Routes requests to the handlers, with faults, sessions and API accounting."""

    def __init__(
        self,
        *,
        faults: Faults,
        auth: Authenticator,
        sessions: SessionStore,
        accounting: ApiAccounting,
        rest: RestApi,
        apex: ApexRoutes,
        bulk_v1: BulkV1Api,
        userinfo: UserInfo,
        last_version: int,
        stopping: threading.Event,
    ) -> None:
        self._faults = faults
        self._auth = auth
        self._sessions = sessions
        self._accounting = accounting
        self._rest = rest
        self._apex = apex
        self._bulk_v1 = bulk_v1
        self._userinfo = userinfo
        self._last_version = last_version
        self._versions_body = versions_body(last_version)
        self._stopping = stopping
        self.log: list[LoggedRequest] = []

    def handle(self, request: HttpRequest) -> HttpResponse | None:
        """Answer `request`; None closes the connection without an answer."""
        path = request.path
        counted = path.startswith(_COUNTED_PREFIXES)
        response: HttpResponse | None
        try:
            response = self._faulted(counted)
            if response is None:
                response = self._counted(request) if counted else self._uncounted(request)
        except RespondError as respond:
            response = respond.response
        except DropError:
            response = None
        self.log.append(
            LoggedRequest(request.method, path, response.status if response else 0, counted)
        )
        if self._faults.active:
            for land in self._faults.landing():
                land()
            if response is not None:
                response = _dripped(response, self._faults.fire(Fault.SLOW_DRIP))
        return response

    # --- faults -----------------------------------------------------------------

    def _faulted(self, counted: bool) -> HttpResponse | None:
        faults = self._faults
        if not faults.active:
            return None
        if faults.fire(Fault.DROP_CONNECTIONS):
            raise DropError
        if faults.fire(Fault.MAINTENANCE):
            return maintenance_page()
        if counted:
            failure = faults.fire(Fault.SERVER_ERRORS)
            if failure is not None:
                return server_error(failure.settings.status, failure.serial)
        return None

    def _wait_for_faults(self) -> None:
        faults = self._faults
        if not faults.active:
            return
        if not faults.hold():
            raise DropError
        latency = faults.fire(Fault.LATENCY)
        if latency and self._stopping.wait(latency.settings.seconds):
            raise DropError

    def _write_faulted(self, request: HttpRequest) -> HttpResponse:
        """Dispatch a write under the lose-the-answer and delay-the-write faults."""
        faults = self._faults
        delayed = faults.fire(Fault.DELAY_WRITES)
        if delayed is not None:
            faults.defer(lambda: self._land(request), delayed.settings)
            raise DropError
        lost = faults.fire(Fault.LOSE_RESPONSES)
        response = self._dispatch_counted(request)
        if lost is not None:
            raise DropError
        return response

    def _land(self, request: HttpRequest) -> None:
        """Apply a delayed write now; its answer goes nowhere but the request log."""
        try:
            status = self._dispatch_counted(request).status
        except RespondError as respond:
            status = respond.response.status
        self.log.append(
            LoggedRequest(request.method, request.path, status, counted=False, late=True)
        )

    # --- uncounted: versions list, OAuth, SOAP login ------------------------------

    def _uncounted(self, request: HttpRequest) -> HttpResponse:
        self._wait_for_faults()
        path = request.path
        method = request.method
        if path in {"/services/data", "/services/data/"}:
            return HttpResponse(200, self._versions_body, JSON)
        if path.rstrip("/") == "/services/oauth2/userinfo":
            return self._userinfo.handle(request)
        if path.rstrip("/") == "/services/oauth2/token":
            if method != "POST":
                return error(405, "METHOD_NOT_ALLOWED", "HTTP Method not allowed")
            return self._auth.token(request)
        soap = _SOAP_LOGIN_PATH.fullmatch(path)
        if soap is not None and method == "POST":
            return self._auth.soap_login(request, soap.group(1))
        return not_found()

    # --- counted: the data API and Apex REST --------------------------------------

    def _counted(self, request: HttpRequest) -> HttpResponse:
        bulk_v1 = request.path.startswith(_ASYNC_PREFIX)
        # The async API takes its session in X-SFDC-Session and answers 400 InvalidSessionId.
        token = (
            (request.header("x-sfdc-session") or "").strip() or None
            if bulk_v1
            else bearer_token(request)
        )
        invalid = (
            async_error("InvalidSessionId", "Invalid session id", json_format=wants_json(request))
            if bulk_v1
            else error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        )
        if token is None or not self._sessions.check(token):
            return invalid
        if self._faults.active and self._faults.fire(Fault.EXPIRE_SESSIONS):
            self._sessions.invalidate(token)
            return invalid
        refused, limit_info = self._accounting.charge()
        if refused is not None:
            return replace(refused, headers=limit_info)
        ticket = self._accounting.enter()
        if ticket is None:
            return replace(concurrent_limit_refusal(), headers=limit_info)
        try:
            self._wait_for_faults()
            if self._faults.active and request.method in _WRITES:
                response = self._write_faulted(request)
            else:
                response = self._dispatch_counted(request)
        except RespondError as respond:
            response = respond.response
        finally:
            self._accounting.leave(ticket)
        return replace(response, headers=response.headers + limit_info)

    def _dispatch_counted(self, request: HttpRequest) -> HttpResponse:  # noqa: PLR0911
        path = request.path
        if path.startswith(_APEX_PREFIX):
            return self._apex.handle(request, path[len(_APEX_PREFIX) :])
        bulk = _ASYNC_PATH.fullmatch(path)
        if bulk is not None:
            version = f"{bulk.group(1)}.{bulk.group(2)}"
            return self._bulk_v1.handle(
                request, version, (bulk.group(3) or "").strip("/").split("/")
            )
        match = _DATA_PATH.fullmatch(path)
        if match is None:
            return not_found()
        major, minor, rest = int(match.group(1)), int(match.group(2)), match.group(3) or ""
        unsupported = unsupported_version(major, minor, self._last_version)
        if unsupported is not None:
            return unsupported
        if request.method == "HEAD":
            request = replace(request, method="GET")
        if request.method in _WRITES and self._faults.active and self._faults.fire(Fault.READ_ONLY):
            return error(
                400,
                "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
                READ_ONLY_MESSAGE,
            )
        parts = [unquote(part) for part in rest.strip("/").split("/")]
        try:
            return self._rest.handle(request, f"{major}.0", parts)
        except ApiError as problem:
            return json_response(problem.status, problem.body())


def _dripped(response: HttpResponse, drip: FaultHit | None) -> HttpResponse:
    if drip is None:
        return response
    return replace(response, drip=Drip(drip.settings.seconds, drip.settings.part))
