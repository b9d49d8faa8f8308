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

import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import unquote

import requests

from .api.apex import ApexHandler, ApexRoutes
from .api.auth import Authenticator, Credentials, SessionStore
from .api.outages import READ_ONLY_MESSAGE, maintenance_page, server_error
from .api.responses import DropError, RespondError, error, json_response, not_found
from .api.rest import RestApi
from .api.versions import max_version, unsupported_version, versions_body
from .faults import Fault, FaultHit, Faults
from .org import ApiError, Org
from .org.locks import LockedWrites, RecordLocks
from .trust import FakeTrust
from .wire.http import Drip, HttpRequest, HttpResponse, HttpServer
from .wire.routing import mount
from .wire.tls import ThrowawayCA


if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce


__all__ = ["FakeSalesforce", "LoggedRequest"]

_JSON = "application/json;charset=UTF-8"
_DATA_PATH = re.compile(r"/services/data/v(\d+)\.(\d+)(?:/(.*))?")
_SOAP_LOGIN_PATH = re.compile(r"/services/Soap/u/(\d+\.\d+)/?")
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
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
        tls: bool = False,
        trust: FakeTrust | None = None,
    ) -> None:
        self._last_version = max_version(max_api_version)
        self.max_api_version = max_api_version
        self._versions_body = versions_body(self._last_version)
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
        self._my_domain_url = f"https://{my_domain}.my.salesforce.com"
        self.tls = tls
        self.trust = trust
        self._ca: ThrowawayCA | None = None
        self._started_trust = False
        self.username = username
        self.password = password
        self.security_token = security_token
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.api_limit = api_limit
        self.query_batch_size = query_batch_size
        self.long_request_threshold = long_request_threshold
        self.concurrent_long_limit = concurrent_long_limit
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
            instance_url=self._my_domain_url,
            is_sandbox=self.org.is_sandbox,
        )
        self._sessions = SessionStore(self.org.org_id, clock, session_ttl)
        self._auth = Authenticator(self._credentials, self._sessions)
        self._locks = RecordLocks()
        self._stopping = threading.Event()
        self._writes = LockedWrites(
            self._locks,
            self._stopping,
            wait=lock_wait,
            hold=lock_hold,
            error_status=lock_error_status,
        )
        self._rest = RestApi(
            self.org,
            self._writes,
            batch_size=lambda: self.query_batch_size,
            limits=self._limits,
        )
        self._apex = ApexRoutes()
        self._server = HttpServer(self._handle, name="fake-salesforce")
        self.faults = Faults(
            on_outage=self._set_outage,
            on_expire_sessions=self._sessions.invalidate_all,
            on_revoke_refresh_tokens=self._sessions.revoke_refresh_tokens,
        )
        self._log: list[LoggedRequest] = []
        self._in_flight: dict[int, float] = {}
        self._in_flight_ids = itertools.count(1)
        self._in_flight_lock = threading.Lock()
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
        """Start serving on a background thread (idempotent), with a paired `trust`.

        With `tls`, the first start makes the throwaway CA and serves HTTPS; the CA
        and the port are kept across `stop()`/`start()`.
        """
        self._stopping.clear()
        self._locks.open()
        self.faults.starting()
        if self.tls and self._ca is None:
            self._ca = ThrowawayCA()
            self._server = HttpServer(
                self._handle, name="fake-salesforce", ssl_context=self._ca.server_context
            )
        self._server.start()
        if self.tls:
            credentials = replace(self._auth.credentials, instance_url=self.instance_url)
            self._auth.credentials = credentials
        if self.trust is not None and not self.trust.running:
            self.trust.start()
            self._started_trust = True

    def stop(self) -> None:
        """Release held requests, close client sessions made here, join threads.

        Every fault is cleared too (as by `faults.clear()`), so a restarted fake
        starts healthy: switch faults on again after `start()` if a test needs them.
        """
        self._stopping.set()
        self.faults.stopping()
        self._locks.close()
        with self._client_lock:
            sessions, self._client_sessions = self._client_sessions, []
        for session in sessions:
            session.close()
        self._server.stop()
        self.faults.clear()
        if self.trust is not None and self._started_trust:
            self.trust.stop()
            self._started_trust = False

    def _set_outage(self, out: bool) -> None:
        if out:
            self._server.pause()
        else:
            self._server.resume()

    # --- addresses and clients --------------------------------------------------

    @property
    def url(self) -> str:
        """The real address, `http://127.0.0.1:<port>` (`https://` with `tls`)."""
        return self._server.url

    @property
    def instance_url(self) -> str:
        """The instance URL clients see: `https://127.0.0.1:<port>` with `tls`.

        Without `tls`, the My Domain URL (`https://fake-org.my.salesforce.com`) that
        `session()` and `mount()` route to the fake.
        """
        if self.tls:
            return f"https://127.0.0.1:{self.port}"
        return self._my_domain_url

    @property
    def ca_bundle(self) -> str:
        """The path of the PEM file with the throwaway CA (`tls` only, once started)."""
        if self._ca is None:
            raise RuntimeError("ca_bundle needs FakeSalesforce(tls=True), started")
        return str(self._ca.ca_bundle)

    def env(self) -> dict[str, str]:
        """The environment that points any process at this fake (`tls` only).

        `SF_INSTANCE_URL` and a fresh `SF_ACCESS_TOKEN`; the CA bundle as
        `REQUESTS_CA_BUNDLE` (requests, simple-salesforce), `SSL_CERT_FILE` (curl,
        Python's ssl, OpenSSL-based tools) and `NODE_EXTRA_CA_CERTS` (Node.js); and
        `SFRESILIENCE_STATUS_URL` when a `trust` is paired.
        """
        if not self.tls or self.port == 0:
            raise RuntimeError(
                "env() needs a started FakeSalesforce(tls=True): other processes reach "
                "the fake over HTTPS on 127.0.0.1"
            )
        ca_bundle = self.ca_bundle
        env = {
            "SF_INSTANCE_URL": self.instance_url,
            "SF_ACCESS_TOKEN": self.issue_session(),
            "REQUESTS_CA_BUNDLE": ca_bundle,
            "SSL_CERT_FILE": ca_bundle,
            "NODE_EXTRA_CA_CERTS": ca_bundle,
        }
        if self.trust is not None:
            env["SFRESILIENCE_STATUS_URL"] = self.trust.url
        return env

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
        verify = self.ca_bundle if self._ca is not None else False
        return mount(session, self.url, verify)

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
        self._apex.add(method, path, handler)

    # --- record locking -----------------------------------------------------------

    @property
    def lock_wait(self) -> float:
        """Seconds a write waits for its record locks before UNABLE_TO_LOCK_ROW."""
        return self._writes.wait

    @lock_wait.setter
    def lock_wait(self, seconds: float) -> None:
        self._writes.wait = seconds

    @property
    def lock_hold(self) -> float:
        """Seconds a write keeps its locks after writing (to make contention)."""
        return self._writes.hold

    @lock_hold.setter
    def lock_hold(self, seconds: float) -> None:
        self._writes.hold = seconds

    @property
    def lock_error_status(self) -> int:
        """The status of UNABLE_TO_LOCK_ROW answers (500 or 400)."""
        return self._writes.error_status

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
        except RespondError as respond:
            response = respond.response
        except DropError:
            response = None
        self._log.append(
            LoggedRequest(request.method, path, response.status if response else 0, counted)
        )
        if self.faults.active:
            self._land_delayed_writes()
            if response is not None:
                response = _dripped(response, self.faults.fire(Fault.SLOW_DRIP))
        return response

    def _faulted(self, counted: bool) -> HttpResponse | None:
        faults = self.faults
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
        faults = self.faults
        if not faults.active:
            return
        if not faults.hold():
            raise DropError
        latency = faults.fire(Fault.LATENCY)
        if latency and self._stopping.wait(latency.settings.seconds):
            raise DropError

    def _write_faulted(self, request: HttpRequest) -> HttpResponse:
        """Dispatch a write under the lose-the-answer and delay-the-write faults."""
        faults = self.faults
        delayed = faults.fire(Fault.DELAY_WRITES)
        if delayed is not None:
            faults.defer(
                lambda: self._land(request), after_requests=delayed.settings.after_requests
            )
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
        self._log.append(
            LoggedRequest(request.method, request.path, status, counted=False, late=True)
        )

    def _land_delayed_writes(self) -> None:
        for apply in self.faults.landing():
            apply()

    def _uncounted(self, request: HttpRequest) -> HttpResponse:
        self._wait_for_faults()
        path = request.path
        method = request.method
        if path in {"/services/data", "/services/data/"}:
            return HttpResponse(200, self._versions_body, _JSON)
        if path.rstrip("/") == "/services/oauth2/token":
            if method != "POST":
                return error(405, "METHOD_NOT_ALLOWED", "HTTP Method not allowed")
            return self._auth.token(request)
        soap = _SOAP_LOGIN_PATH.fullmatch(path)
        if soap is not None and method == "POST":
            return self._auth.soap_login(request, soap.group(1))
        return not_found()

    def _counted(self, request: HttpRequest) -> HttpResponse:
        token = _bearer(request)
        if token is None or not self._sessions.check(token):
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if self.faults.active and self.faults.fire(Fault.EXPIRE_SESSIONS):
            self._sessions.invalidate(token)
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        with self._usage_lock:
            exhausted = self._api_used >= self.api_limit
            if not exhausted:
                self._api_used += 1
            limit_info = (("Sforce-Limit-Info", f"api-usage={self._api_used}/{self.api_limit}"),)
        if exhausted:
            response = error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            return replace(response, headers=limit_info)
        ticket = self._enter_flight()
        if ticket is None:
            response = error(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
            )
            return replace(response, headers=limit_info)
        try:
            self._wait_for_faults()
            if self.faults.active and request.method in _WRITES:
                response = self._write_faulted(request)
            else:
                response = self._dispatch_counted(request)
        except RespondError as respond:
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
            return self._apex.handle(request, path[len("/services/apexrest/") :])
        match = _DATA_PATH.fullmatch(path)
        if match is None:
            return not_found()
        major, minor, rest = int(match.group(1)), int(match.group(2)), match.group(3) or ""
        unsupported = unsupported_version(major, minor, self._last_version)
        if unsupported is not None:
            return unsupported
        version = f"{major}.0"
        if request.method == "HEAD":
            request = replace(request, method="GET")
        if request.method in _WRITES and self.faults.active and self.faults.fire(Fault.READ_ONLY):
            return error(
                400,
                "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
                READ_ONLY_MESSAGE,
            )
        try:
            return self._rest.handle(
                request, version, [unquote(p) for p in rest.strip("/").split("/")]
            )
        except ApiError as problem:
            return json_response(problem.status, problem.body())

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


def _bearer(request: HttpRequest) -> str | None:
    authorization = request.header("authorization")
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in {"bearer", "oauth"} or not token:
        return None
    return token.strip()


def _dripped(response: HttpResponse, drip: FaultHit | None) -> HttpResponse:
    if drip is None:
        return response
    return replace(response, drip=Drip(drip.settings.seconds, drip.settings.part))
