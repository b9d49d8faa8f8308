"""`FakeSalesforce`: an embedded Salesforce org served over real HTTP on loopback.

The fake answers the wire formats simple-salesforce speaks (SOAP partner login, the
OAuth token endpoint, the REST data API and Apex REST) from an in-memory `Org`, with
Salesforce's API accounting, record locking and switchable faults. Point any
`requests`-based client at it through `fake.session()` / `fake.mount(session)`,
which route `*.salesforce.com` and `*.force.com` to the fake; `fake.client()` gives a
logged-in simple-salesforce client:

    with FakeSalesforce(contacts=2500) as fake:
        sf = fake.client()
        sf.query_all("SELECT Id FROM Contact")["totalSize"]  # 2500
        fake.faults.server_errors(count=3)
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import parse_qs, unquote

import requests

from ._auth import Authenticator, Credentials, SessionStore
from ._faults import Faults
from ._http import HttpRequest, HttpResponse, HttpServer
from ._locks import RecordLocks
from ._org import ApiError, Org
from ._routing import mount


if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce


__all__ = ["ApexRequest", "FakeSalesforce", "LoggedRequest"]

_T = TypeVar("_T")
_JSON = "application/json;charset=UTF-8"
_HTML = "text/html;charset=UTF-8"
_FIRST_VERSION = 31
_VERSION = re.compile(r"(\d+)\.0")
_DATA_PATH = re.compile(r"/services/data/v(\d+)\.(\d+)(?:/(.*))?")
_SOAP_LOGIN_PATH = re.compile(r"/services/Soap/u/(\d+\.\d+)/?")
_NEXT_PATH = re.compile(r"(01g[0-9A-Za-z]{15})-(\d+)")
_BATCH_SIZE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_MAX_CURSORS = 500
_AUTH_KWARGS = frozenset(
    {
        "username",
        "password",
        "security_token",
        "session_id",
        "instance",
        "instance_url",
        "organizationId",
        "consumer_key",
        "consumer_secret",
        "privatekey_file",
        "privatekey",
    }
)

MAINTENANCE_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Down for Maintenance'
    '</title></head><body><div class="content"><h1>We are down for maintenance.</h1>'
    "<p>Sorry for the inconvenience. We'll be back shortly.</p></div></body></html>"
)
EDGE_502_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>502 Bad Gateway</title>'
    "</head><body><h1>Bad Gateway</h1><p>Salesforce Edge wasn't able to communicate"
    " successfully with the Salesforce instance.</p></body></html>"
)
CDN_503_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Service Not Available'
    "</title></head><body><h1>Service Not Available</h1><p>The server is temporarily"
    " unable to service your request. Please try again later.</p><p>This error"
    " originated from Salesforce CDN partner.</p></body></html>"
)
# Nothing is ever purged from the fake's delete log: deletions are available from
# before the org's first record.
_EARLIEST_DATE_AVAILABLE = "2023-01-01T00:00:00.000+0000"
_REPLICATION_DATE_MESSAGE = (
    "start and end must be ISO 8601 date-times, such as 2024-06-01T00:00:00+00:00"
)
_READ_ONLY_MESSAGE = (
    "Updates can't be made during maintenance. Try again when maintenance is complete."
)


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request the fake answered (status 0: dropped without an answer).

    `path` is without the query string; `counted` is whether it used the API
    allocation's accounting (the data API and Apex REST; not login, not the
    versions list).
    """

    method: str
    path: str
    status: int
    counted: bool


@dataclass(frozen=True, slots=True)
class ApexRequest:
    """What an Apex REST handler registered with `apex_route` receives."""

    method: str
    path: str
    params: dict[str, str]
    body: Any


ApexHandler = Callable[[ApexRequest], Any]


class _RespondError(Exception):
    """Leave request handling early with a ready response."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _json(status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()) -> HttpResponse:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HttpResponse(status, body, _JSON, headers)


def _error(status: int, code: str, message: str, fields: list[str] | None = None) -> HttpResponse:
    error: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        error["fields"] = fields
    return _json(status, [error])


def _not_found() -> HttpResponse:
    return _error(404, "NOT_FOUND", "The requested resource does not exist")


def _season(version: int) -> str:
    offset = version - 20
    season = ("Winter", "Spring", "Summer")[offset % 3]
    return f"{season} '{11 + offset // 3:02d}"


def _versions_body(last: int) -> bytes:
    return json.dumps(
        [
            {"label": _season(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
            for v in range(_FIRST_VERSION, last + 1)
        ]
    ).encode()


def _max_version(version: str) -> int:
    match = _VERSION.fullmatch(version)
    if match is None or int(match.group(1)) < _FIRST_VERSION:
        raise ValueError(f"max_api_version must look like '66.0' and be >= {_FIRST_VERSION}.0")
    return int(match.group(1))


@dataclass
class _Cursor:
    records: list[dict[str, Any]]
    total_size: int
    batch_size: int


class FakeSalesforce:
    """An embedded Salesforce org over real HTTP on `127.0.0.1` (OS-chosen port).

    Use it as a context manager or call `start()`/`stop()`. Point clients at it with
    `session()`, `mount(session)` or `client(**kwargs)`; `url` is the real loopback
    address, `instance_url` the My Domain URL clients see.

    Options (all keyword-only): the org (`org`, or the data sizes `accounts`,
    `contacts`, `opportunities`, `seed`, `instance_name`, `org_name`, `is_sandbox`),
    the credentials, `api_limit`/`api_usage` (daily allocation and calls used),
    `query_batch_size` (records per query page), `long_request_threshold` and
    `concurrent_long_limit` (the concurrent long-request limit), `lock_hold`,
    `lock_wait` and `lock_error_status` (record locking), `session_ttl` (idle
    seconds before a session expires; None: never), `clock` (a monotonic clock
    in seconds, for session TTLs and long-request ages; inject one in tests) and
    `max_api_version` (the newest REST API version served, "66.0" by default).

    REST API versions 31.0 to `max_api_version` are served and listed by
    `GET /services/data/`; retired versions (30.0 and older) answer 410
    `UNSUPPORTED_API_VERSION` and versions above the newest 404 `NOT_FOUND`.

    Faults are switched at run time through `faults` (see `Faults`).
    """

    def __init__(
        self,
        *,
        org: Org | None = None,
        accounts: int = 20,
        contacts: int = 200,
        opportunities: int = 50,
        seed: int = 0,
        instance_name: str = "NA137",
        org_name: str = "Fake Org",
        is_sandbox: bool = False,
        my_domain: str = "fake-org",
        username: str = "integration@fake-org.example.com",
        password: str = "fake-password-1",  # noqa: S107
        security_token: str = "FAKESECURITYTOKEN0123",  # noqa: S107
        consumer_key: str = "3MVG9FAKE.CONSUMER.KEY.sfresilience",
        consumer_secret: str = "FAKECONSUMERSECRET0123456789",  # noqa: S107
        api_limit: int = 15_000,
        api_usage: int = 0,
        query_batch_size: int = 2000,
        long_request_threshold: float = 20.0,
        concurrent_long_limit: int = 25,
        lock_hold: float = 0.0,
        lock_wait: float = 10.0,
        lock_error_status: int = 500,
        session_ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_api_version: str = "66.0",
    ) -> None:
        if lock_error_status not in {400, 500}:
            raise ValueError("lock_error_status must be 400 or 500")
        self._last_version = _max_version(max_api_version)
        self.max_api_version = max_api_version
        self._versions_body = _versions_body(self._last_version)
        if query_batch_size < 1:
            raise ValueError("query_batch_size must be >= 1")
        self.org = org or Org(
            accounts=accounts,
            contacts=contacts,
            opportunities=opportunities,
            seed=seed,
            instance_name=instance_name,
            org_name=org_name,
            is_sandbox=is_sandbox,
        )
        self.instance_url = f"https://{my_domain}.my.salesforce.com"
        self.username = username
        self.password = password
        self.security_token = security_token
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.api_limit = api_limit
        self.query_batch_size = query_batch_size
        self.long_request_threshold = long_request_threshold
        self.concurrent_long_limit = concurrent_long_limit
        self.lock_hold = lock_hold
        self.lock_wait = lock_wait
        self.lock_error_status = lock_error_status
        self._clock = clock
        self._api_used = api_usage
        self._usage_lock = threading.Lock()
        self._credentials = Credentials(
            username=username,
            password=password,
            security_token=security_token,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            user_id=self.org.user_id,
            org_id=self.org.org_id,
            org_name=self.org.org_name,
            instance_url=self.instance_url,
            is_sandbox=self.org.is_sandbox,
        )
        self._sessions = SessionStore(self.org.org_id, clock, session_ttl)
        self._auth = Authenticator(self._credentials, self._sessions)
        self._locks = RecordLocks()
        self._stopping = threading.Event()
        self._server = HttpServer(self._handle, name="fake-salesforce")
        self.faults = Faults(
            on_outage=self._set_outage,
            on_expire_sessions=self._sessions.invalidate_all,
            on_revoke_refresh_tokens=self._sessions.revoke_refresh_tokens,
        )
        self._log: list[LoggedRequest] = []
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._cursor_lock = threading.Lock()
        self._cursor_ids = itertools.count(1)
        self._in_flight: dict[int, float] = {}
        self._in_flight_ids = itertools.count(1)
        self._in_flight_lock = threading.Lock()
        self._apex: dict[tuple[str, str], _ApexRoute] = {}
        self._apex_lock = threading.Lock()
        self._client_sessions: list[requests.Session] = []
        self._client_lock = threading.Lock()

    # --- lifecycle --------------------------------------------------------------

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
        """Start serving on a background thread (idempotent)."""
        self._stopping.clear()
        self._locks.open()
        self.faults._start()  # noqa: SLF001
        self._server.start()

    def stop(self) -> None:
        """Release held requests, close client sessions made here, join threads.

        Every fault is cleared too (as by `faults.clear()`), so a restarted fake
        starts healthy: switch faults on again after `start()` if a test needs them.
        """
        self._stopping.set()
        self.faults._stop()  # noqa: SLF001
        self._locks.close()
        with self._client_lock:
            sessions, self._client_sessions = self._client_sessions, []
        for session in sessions:
            session.close()
        self._server.stop()
        self.faults.clear()

    def _set_outage(self, out: bool) -> None:
        if out:
            self._server.pause()
        else:
            self._server.resume()

    # --- addresses and clients --------------------------------------------------

    @property
    def url(self) -> str:
        """The real address, `http://127.0.0.1:<port>`."""
        return self._server.url

    @property
    def port(self) -> int:
        """The loopback TCP port (kept across outages)."""
        return self._server.port

    def session(self) -> requests.Session:
        """A new `requests.Session` routing Salesforce hosts to this fake.

        The fake closes it on `stop()`.
        """
        session = requests.Session()
        with self._client_lock:
            self._client_sessions.append(session)
        return self.mount(session)

    def mount(self, session: requests.Session) -> requests.Session:
        """Route `session`'s Salesforce hosts to this fake; other hosts are untouched.

        The adapters already mounted for `https://`/`http://` are wrapped, so they
        still see (rewritten) Salesforce traffic. Mount after your own adapters.
        """
        return mount(session, self.url)

    def client(self, **kwargs: Any) -> Salesforce:
        """A logged-in `simple_salesforce.Salesforce` talking to this fake.

        Without credential kwargs it logs in with the SOAP username/password/token
        flow; kwargs pass through to `Salesforce(...)`, and `session` defaults to
        `self.session()`.
        """
        from simple_salesforce.api import Salesforce  # noqa: PLC0415 - slow import

        if not _AUTH_KWARGS & kwargs.keys():
            kwargs = {
                "username": self.username,
                "password": self.password,
                "security_token": self.security_token,
                **kwargs,
            }
        if kwargs.get("session") is None:
            kwargs["session"] = self.session()
        return Salesforce(**kwargs)

    def issue_session(self) -> str:
        """Mint a valid session id directly (no login, not counted in `login_count`)."""
        return self._sessions.issue(self.username)

    def issue_refresh_token(self) -> str:
        """Mint a refresh token for the integration user."""
        return self._sessions.issue_refresh_token(self.username)

    def apex_route(self, method: str, path: str, handler: ApexHandler) -> None:
        """Answer `METHOD /services/apexrest/<path>` with `handler(ApexRequest)`.

        Like an `@RestResource(urlMapping=...)`, `path` is case-sensitive and may
        hold `*` wildcards that match any characters, `/` included (`Things/*`
        matches `Things/123`). An exact mapping wins over wildcards, and a longer
        wildcard mapping over a shorter one.

        The handler's return value is sent as JSON with status 200; return
        `(status, body)` to choose the status (204 sends no body). A request body
        that is not JSON answers 400 `JSON_PARSER_ERROR` without calling the
        handler, and a handler that raises answers 500 `APEX_ERROR` with
        `"<ExceptionType>: <message>"`, as an unhandled Apex exception does.
        """
        method = method.upper()
        pattern = path.strip("/")
        regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
        with self._apex_lock:
            self._apex[method, pattern] = _ApexRoute(method, pattern, regex, handler)

    # --- accounting and observation ---------------------------------------------

    @property
    def login_count(self) -> int:
        """Successful logins (SOAP and OAuth) so far."""
        return self._auth.login_count

    @property
    def api_usage(self) -> int:
        """API calls used in the current allocation."""
        return self._api_used

    def set_api_usage(self, used: int) -> None:
        """Set the API calls used so far (e.g. to just below `api_limit`)."""
        with self._usage_lock:
            self._api_used = used

    @property
    def request_log(self) -> list[LoggedRequest]:
        """Every request answered so far, in order (the live list)."""
        return self._log

    # --- request handling -------------------------------------------------------

    def _handle(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path
        counted = path.startswith(("/services/data/v", "/services/apexrest/"))
        response: HttpResponse | None
        try:
            response = self._faulted(counted)
            if response is None:
                response = self._counted(request) if counted else self._uncounted(request)
        except _RespondError as respond:
            response = respond.response
        except _DropError:
            response = None
        self._log.append(
            LoggedRequest(request.method, path, response.status if response else 0, counted)
        )
        return response

    def _faulted(self, counted: bool) -> HttpResponse | None:
        faults = self.faults
        if not faults.active:
            return None
        if faults._drops():  # noqa: SLF001
            raise _DropError
        if faults._in_maintenance():  # noqa: SLF001
            return HttpResponse(503, MAINTENANCE_PAGE.encode(), _HTML)
        if counted:
            failure = faults._server_error()  # noqa: SLF001
            if failure is not None:
                return _server_error(*failure)
        return None

    def _wait_for_faults(self) -> None:
        faults = self.faults
        if not faults.active:
            return
        if not faults._hold():  # noqa: SLF001
            raise _DropError
        delay = faults._delay()  # noqa: SLF001
        if delay and self._stopping.wait(delay):
            raise _DropError

    def _uncounted(self, request: HttpRequest) -> HttpResponse:
        self._wait_for_faults()
        path = request.path
        method = request.method
        if path in {"/services/data", "/services/data/"}:
            return HttpResponse(200, self._versions_body, _JSON)
        if path.rstrip("/") == "/services/oauth2/token":
            if method != "POST":
                return _error(405, "METHOD_NOT_ALLOWED", "HTTP Method not allowed")
            return self._auth.token(request)
        soap = _SOAP_LOGIN_PATH.fullmatch(path)
        if soap is not None and method == "POST":
            return self._auth.soap_login(request, soap.group(1))
        return _not_found()

    def _counted(self, request: HttpRequest) -> HttpResponse:
        token = _bearer(request)
        if token is None or not self._sessions.check(token):
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self.faults.active and self.faults._expires_session():  # noqa: SLF001
            self._sessions.invalidate(token)
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        with self._usage_lock:
            exhausted = self._api_used >= self.api_limit
            if not exhausted:
                self._api_used += 1
            limit_info = (("Sforce-Limit-Info", f"api-usage={self._api_used}/{self.api_limit}"),)
        if exhausted:
            response = _error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            return replace(response, headers=limit_info)
        ticket = self._enter_flight()
        if ticket is None:
            response = _error(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
            )
            return replace(response, headers=limit_info)
        try:
            self._wait_for_faults()
            response = self._dispatch_counted(request)
        except _RespondError as respond:
            response = respond.response
        finally:
            with self._in_flight_lock:
                del self._in_flight[ticket]
        return replace(response, headers=response.headers + limit_info)

    def _enter_flight(self) -> int | None:
        now = self._clock()
        threshold = self.long_request_threshold
        with self._in_flight_lock:
            long_running = sum(1 for t in self._in_flight.values() if now - t >= threshold)
            if long_running >= self.concurrent_long_limit:
                return None
            ticket = next(self._in_flight_ids)
            self._in_flight[ticket] = now
            return ticket

    def _dispatch_counted(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith("/services/apexrest/"):
            return self._apexrest(request, path[len("/services/apexrest/") :])
        match = _DATA_PATH.fullmatch(path)
        if match is None:
            return _not_found()
        major, minor, rest = int(match.group(1)), int(match.group(2)), match.group(3) or ""
        unsupported = self._unsupported_version(major, minor)
        if unsupported is not None:
            return unsupported
        version = f"{major}.0"
        if request.method == "HEAD":
            request = replace(request, method="GET")
        if (
            request.method in _WRITES and self.faults.active and self.faults._refuses_write()  # noqa: SLF001
        ):
            return _error(
                400,
                "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
                _READ_ONLY_MESSAGE,
            )
        try:
            return self._data(request, version, [unquote(p) for p in rest.strip("/").split("/")])
        except ApiError as error:
            return _json(error.status, error.body())

    def _unsupported_version(self, major: int, minor: int) -> HttpResponse | None:
        if major < _FIRST_VERSION and minor == 0:
            return _error(410, "UNSUPPORTED_API_VERSION", "API version is no longer supported")
        if major > self._last_version or minor != 0:
            return _not_found()
        return None

    # --- the REST data API ------------------------------------------------------

    def _data(  # noqa: PLR0911 - a router
        self, request: HttpRequest, version: str, parts: list[str]
    ) -> HttpResponse:
        method = request.method
        head = parts[0]
        params = {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        if head in {"query", "queryAll"} and method == "GET":
            if len(parts) == 1:
                return self._query(request, params, version, include_deleted=head == "queryAll")
            if len(parts) == 2:  # noqa: PLR2004
                return self._query_more(parts[1], version, head)
        elif head == "search" and len(parts) == 1 and method == "GET":
            search = params.get("q")
            if not search:
                return _error(400, "MALFORMED_SEARCH", "No search term found")
            return _json(200, {"searchRecords": self.org.search(search, version)})
        elif head == "limits" and len(parts) == 1 and method == "GET":
            return _json(200, self._limits())
        elif head == "recent" and len(parts) == 1 and method == "GET":
            return _json(200, [])
        elif head == "sobjects":
            return self._sobjects(request, params, version, parts[1:])
        elif head == "" and method == "GET":
            return _json(200, _resources(version))
        return _not_found()

    def _query(
        self,
        request: HttpRequest,
        params: dict[str, str],
        version: str,
        *,
        include_deleted: bool,
    ) -> HttpResponse:
        soql = params.get("q")
        if not soql:
            return _error(400, "MALFORMED_QUERY", "A query string has to be specified")
        result = self.org.query(soql, include_deleted=include_deleted, version=version)
        batch_size = self.query_batch_size
        options = request.header("sforce-query-options")
        if options:
            requested = _BATCH_SIZE.search(options)
            if requested is not None:
                batch_size = min(2000, max(200, int(requested.group(1))))
        records = result.records
        if len(records) <= batch_size:
            return _json(200, {"totalSize": result.total_size, "done": True, "records": records})
        locator = f"01gFAKE{next(self._cursor_ids):011d}"
        cursor = _Cursor(records, result.total_size, batch_size)
        with self._cursor_lock:
            self._cursors[locator] = cursor
            while len(self._cursors) > _MAX_CURSORS:
                self._cursors.popitem(last=False)
        endpoint = "queryAll" if include_deleted else "query"
        return _json(200, _page(cursor, locator, 0, f"/services/data/v{version}/{endpoint}"))

    def _query_more(self, identifier: str, version: str, endpoint: str) -> HttpResponse:
        match = _NEXT_PATH.fullmatch(identifier)
        with self._cursor_lock:
            cursor = self._cursors.get(match.group(1)) if match else None
        if match is None or cursor is None:
            return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        prefix = f"/services/data/v{version}/{endpoint}"
        return _json(200, _page(cursor, match.group(1), int(match.group(2)), prefix))

    def _limits(self) -> dict[str, dict[str, int]]:
        with self._usage_lock:
            used = self._api_used
        return {
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            "ConcurrentSyncReportRuns": {"Max": 20, "Remaining": 20},
            "DailyApiRequests": {
                "Max": self.api_limit,
                "Remaining": max(0, self.api_limit - used),
            },
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DailyStreamingApiEvents": {"Max": 10000, "Remaining": 10000},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "FileStorageMB": {"Max": 20, "Remaining": 20},
            "HourlyTimeBasedWorkflow": {"Max": 50, "Remaining": 50},
            "SingleEmail": {"Max": 15, "Remaining": 15},
        }

    def _sobjects(  # noqa: PLR0911 - a router
        self,
        request: HttpRequest,
        params: dict[str, str],
        version: str,
        parts: list[str],
    ) -> HttpResponse:
        method = request.method
        org = self.org
        if not parts or parts == [""]:
            if method == "GET":
                return _json(200, org.describe_global(version))
            return _method_not_allowed(method, "GET,HEAD")
        sobject = parts[0]
        if len(parts) == 1:
            return self._sobject(request, version, sobject)
        if len(parts) == 2 and parts[1] in {"deleted", "updated"}:  # noqa: PLR2004
            if method == "GET":
                return _json(200, self._replication(sobject, parts[1], params))
            return _method_not_allowed(method, "GET,HEAD")
        if len(parts) == 2 and parts[1] == "describe":  # noqa: PLR2004
            if method == "GET":
                return _json(200, org.describe(sobject, version))
            return _method_not_allowed(method, "GET,HEAD")
        if len(parts) == 2:  # noqa: PLR2004
            return self._record(request, params, version, sobject, parts[1])
        if len(parts) == 3:  # noqa: PLR2004
            return self._external(
                request,
                params=params,
                version=version,
                sobject=sobject,
                field=parts[1],
                value=parts[2],
            )
        return _not_found()

    def _sobject(self, request: HttpRequest, version: str, sobject: str) -> HttpResponse:
        method = request.method
        if method == "GET":
            describe = self.org.describe(sobject, version)
            basic = {k: v for k, v in describe.items() if k not in _DESCRIBE_ONLY}
            return _json(200, {"objectDescribe": basic, "recentItems": []})
        if method == "POST":
            record_id = self.org.create(sobject, _body(request))
            return _json(201, {"id": record_id, "success": True, "errors": []})
        return _method_not_allowed(method, "GET,HEAD,POST")

    def _replication(self, sobject: str, kind: str, params: dict[str, str]) -> dict[str, Any]:
        start, end = _replication_date(params, "start"), _replication_date(params, "end")
        covered = _render_minute(end)
        if kind == "updated":
            ids = self.org.updated_between(sobject, start, end)
            return {"ids": ids, "latestDateCovered": covered}
        deleted = self.org.deleted_between(sobject, start, end)
        return {
            "deletedRecords": [
                {"id": record_id, "deletedDate": deleted_date}
                for record_id, deleted_date in deleted
            ],
            "earliestDateAvailable": _EARLIEST_DATE_AVAILABLE,
            "latestDateCovered": covered,
        }

    def _record(
        self,
        request: HttpRequest,
        params: dict[str, str],
        version: str,
        sobject: str,
        record_id: str,
    ) -> HttpResponse:
        method = request.method
        org = self.org
        if method == "GET":
            return _json(200, org.get(sobject, record_id, _fields(params), version))
        if method == "PATCH":
            data = _body(request)
            self._locked(
                org.lock_keys(sobject, record_id),
                lambda: org.update(sobject, record_id, data),
            )
            return HttpResponse(204)
        if method == "DELETE":
            self._locked(
                org.lock_keys(sobject, record_id),
                lambda: org.delete(sobject, record_id),
            )
            return HttpResponse(204)
        return _method_not_allowed(method, "GET,HEAD,PATCH,DELETE")

    def _external(
        self,
        request: HttpRequest,
        *,
        params: dict[str, str],
        version: str,
        sobject: str,
        field: str,
        value: str,
    ) -> HttpResponse:
        method = request.method
        org = self.org
        if method == "GET":
            return _json(
                200,
                org.get_by_external_id(sobject, field, value, _fields(params), version),
            )
        if method == "PATCH":
            data = _body(request)
            try:
                existing = org.get_by_external_id(sobject, field, value, ["Id"], version)
            except ApiError as error:
                if error.status != 404:  # noqa: PLR2004
                    raise
                keys: list[str] = []
            else:
                keys = org.lock_keys(sobject, str(existing["Id"]))
            record_id, created = self._locked(keys, lambda: org.upsert(sobject, field, value, data))
            if created:
                return _json(
                    201,
                    {"id": record_id, "success": True, "errors": [], "created": True},
                )
            return HttpResponse(204)
        return _method_not_allowed(method, "GET,HEAD,PATCH")

    def _locked(self, keys: list[str], write: Callable[[], _T]) -> _T:
        if not keys:
            return write()
        busy = self._locks.acquire(keys, self.lock_wait)
        if busy is not None:
            raise _RespondError(
                _error(
                    self.lock_error_status,
                    "UNABLE_TO_LOCK_ROW",
                    "unable to obtain exclusive access to this record or 1 records: " + busy,
                    [],
                )
            )
        try:
            result = write()
            if self.lock_hold > 0:
                self._stopping.wait(self.lock_hold)
            return result
        finally:
            self._locks.release(keys)

    # --- Apex REST ----------------------------------------------------------------

    def _apex_handler(self, method: str, path: str) -> ApexHandler | None:
        with self._apex_lock:
            exact = self._apex.get((method, path))
            if exact is not None:
                return exact.handler
            matches = [
                route
                for route in self._apex.values()
                if route.method == method and route.regex.fullmatch(path)
            ]
        if not matches:
            return None
        return max(matches, key=lambda route: len(route.pattern)).handler

    def _apexrest(self, request: HttpRequest, path: str) -> HttpResponse:
        path = path.strip("/")
        handler = self._apex_handler(request.method, path)
        if handler is None:
            return _error(404, "NOT_FOUND", "Could not find a match for URL")
        params = {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}
        body = _parse_json(request.body) if request.body else None
        try:
            status, payload = _apex_result(
                handler(ApexRequest(request.method, "/" + path, params, body))
            )
        except Exception as error:  # noqa: BLE001 - an unhandled Apex exception
            return _error(500, "APEX_ERROR", f"{type(error).__name__}: {error}")
        if status == 204:  # noqa: PLR2004
            return HttpResponse(204)
        return _json(status, payload)


@dataclass(frozen=True, slots=True)
class _ApexRoute:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: ApexHandler


def _apex_result(result: Any) -> tuple[int, Any]:
    if not (
        isinstance(result, tuple)
        and len(result) == 2  # noqa: PLR2004
        and isinstance(result[0], int)
        and not isinstance(result[0], bool)
    ):
        return 200, result
    status, payload = result
    if not 200 <= status <= 599:  # noqa: PLR2004
        raise ValueError(f"an Apex REST status must be 200-599, not {status}")
    return status, payload


class _DropError(Exception):
    """Close the connection without answering."""


_DESCRIBE_ONLY = frozenset(
    {
        "fields",
        "childRelationships",
        "recordTypeInfos",
        "supportedScopes",
        "namedLayoutInfos",
    }
)


def _bearer(request: HttpRequest) -> str | None:
    authorization = request.header("authorization")
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in {"bearer", "oauth"} or not token:
        return None
    return token.strip()


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise _RespondError(
            _error(400, "JSON_PARSER_ERROR", f"Unexpected character: {error}")
        ) from error


def _body(request: HttpRequest) -> dict[str, Any]:
    data = _parse_json(request.body or b"{}")
    if not isinstance(data, dict):
        raise _RespondError(
            _error(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of object from array",
            )
        )
    return data


def _replication_date(params: dict[str, str], name: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(params[name])
    except (KeyError, ValueError) as error:
        raise _RespondError(
            _error(400, "INVALID_REPLICATION_DATE", _REPLICATION_DATE_MESSAGE)
        ) from error


def _render_minute(moment: dt.datetime) -> str:
    """`moment` in UTC (naive: already UTC) to the minute, as Salesforce renders it."""
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:00.000+0000")


def _fields(params: dict[str, str]) -> list[str] | None:
    fields = params.get("fields")
    if not fields:
        return None
    return [f.strip() for f in fields.split(",") if f.strip()]


def _method_not_allowed(method: str, allowed: str) -> HttpResponse:
    return _error(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {allowed}",
    )


def _page(cursor: _Cursor, locator: str, offset: int, prefix: str) -> dict[str, Any]:
    records = cursor.records
    end = offset + cursor.batch_size
    page: dict[str, Any] = {"totalSize": cursor.total_size, "done": end >= len(records)}
    if end < len(records):
        page["nextRecordsUrl"] = f"{prefix}/{locator}-{end}"
    page["records"] = records[offset:end]
    return page


def _resources(version: str) -> dict[str, str]:
    base = f"/services/data/v{version}"
    names = ("sobjects", "query", "queryAll", "search", "limits", "recent")
    return {name: f"{base}/{name}" for name in names}


def _server_error(status: int, serial: int) -> HttpResponse:
    if status == 500:  # noqa: PLR2004
        error_id = f"{1_234_560 + serial}-{serial % 100:02d} ({-(987_650 + serial)})"
        message = (
            "An unexpected error occurred. Please include this ErrorId if you contact"
            f" support: {error_id}"
        )
        return _error(500, "UNKNOWN_EXCEPTION", message)
    page = EDGE_502_PAGE if status == 502 else CDN_503_PAGE  # noqa: PLR2004
    return HttpResponse(status, page.encode(), _HTML)
