"""`FakeSalesforce`: an embedded Salesforce org served over real HTTP on loopback.

The fake answers the wire formats simple-salesforce speaks (SOAP partner login, the
OAuth token endpoint, the REST data API, composite resources, Bulk API 2.0 and 1.0,
and Apex REST) from an in-memory `Org`, with
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

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, Unpack

import requests

from .api.accounting import ApiAccounting
from .api.apex import ApexHandler, ApexRoutes
from .api.auth import Authenticator, Credentials, SessionStore
from .api.bulk import BulkV1Api
from .api.bulk2 import Bulk2Api
from .api.bulk2_jobs import JobIds
from .api.composite import CompositeApi
from .api.recent import RecentlyViewed
from .api.rest import RestApi
from .api.router import LoggedRequest, Router
from .api.tooling import ToolingApi
from .api.userinfo import UserInfo
from .api.versions import max_version
from .faults import Faults
from .options import Identity, Keywords, Limits, Locking, Options, ServerOptions, resolve
from .org import Org
from .org.jobs import BulkJobs
from .org.locks import LockedWrites, RecordLocks
from .org.rows import RowWriter
from .trust import FakeTrust
from .wire.http import HttpServer
from .wire.routing import mount
from .wire.tls import ThrowawayCA


if TYPE_CHECKING:
    from simple_salesforce.api import Salesforce


__all__ = ["FakeSalesforce", "LoggedRequest"]

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


class FakeSalesforce:
    """An embedded Salesforce org over real HTTP on `127.0.0.1` (OS-chosen port).

    Use it as a context manager or call `start()`/`stop()`. Point clients at it with
    `session()`, `mount(session)` or `client(**kwargs)`; `url` is the real loopback
    address, `instance_url` the URL clients see. With `tls`, any process reaches it
    through `env()`.

    Built from an `Org` and small option objects, all keyword-only and optional:
    `identity` (`Identity`: user, password, token, connected app, My Domain),
    `limits` (`Limits`: API allocation, paging, long requests), `locking`
    (`Locking`), `server` (`ServerOptions`: TLS, port, API versions, session TTL),
    `trust` (a `FakeTrust` paired with it: started and stopped with it unless
    already running, and named in `env()`), and `clock` (a monotonic clock in
    seconds for session TTLs and long-request ages; inject one in tests). Each
    field of those objects is also a flat keyword (`contacts=`, `api_limit=`,
    `lock_wait=`, `tls=`, ... see `Keywords`), which wins over the object's value.

    REST API versions 31.0 to `max_api_version` are served and listed by
    `GET /services/data/`; retired versions (30.0 and older) answer 410
    `UNSUPPORTED_API_VERSION` and versions above the newest 404 `NOT_FOUND`.

    Faults are switched at run time through `faults` (see `Faults`).
    """

    def __init__(
        self,
        *,
        org: Org | None = None,
        identity: Identity | None = None,
        limits: Limits | None = None,
        locking: Locking | None = None,
        server: ServerOptions | None = None,
        trust: FakeTrust | None = None,
        clock: Callable[[], float] = time.monotonic,
        **keywords: Unpack[Keywords],
    ) -> None:
        options = resolve(
            org=org,
            identity=identity,
            limits=limits,
            locking=locking,
            server=server,
            keywords=keywords,
        )
        self.options = options
        self.org = options.org
        self.trust = trust
        self._started_trust = False
        self._ca: ThrowawayCA | None = None
        self._copy_identity(options.identity)
        self.query_batch_size = options.limits.query_batch_size
        self._sessions = SessionStore(self.org.org_id, clock, options.server.session_ttl)
        self._auth = Authenticator(self._credentials(options), self._sessions)
        self._stopping = threading.Event()
        self._locks = RecordLocks()
        self._writes = LockedWrites(
            self._locks,
            self._stopping,
            wait=options.locking.wait,
            hold=options.locking.hold,
            error_status=options.locking.error_status,
        )
        self.faults = Faults(
            on_outage=self._set_outage,
            on_expire_sessions=self._sessions.invalidate_all,
            on_revoke_refresh_tokens=self._sessions.revoke_refresh_tokens,
            clock=clock,
        )
        self._router = self._build_router(options, clock)
        self._server = HttpServer(
            self._router.handle, port=options.server.port, name="fake-salesforce"
        )
        self._client_sessions: list[requests.Session] = []
        self._client_lock = threading.Lock()

    def _copy_identity(self, identity: Identity) -> None:
        self._my_domain_url = f"https://{identity.my_domain}.my.salesforce.com"
        self.username = identity.username
        self.password = identity.password
        self.security_token = identity.security_token
        self.consumer_key = identity.consumer_key
        self.consumer_secret = identity.consumer_secret

    def _credentials(self, options: Options) -> Credentials:
        identity = options.identity
        return Credentials(
            username=identity.username,
            password=identity.password,
            security_token=identity.security_token,
            consumer_key=identity.consumer_key,
            consumer_secret=identity.consumer_secret,
            user_id=self.org.user_id,
            org_id=self.org.org_id,
            org_name=self.org.org_name,
            instance_url=self._my_domain_url,
            is_sandbox=self.org.is_sandbox,
        )

    def _build_router(self, options: Options, clock: Callable[[], float]) -> Router:
        limits = options.limits
        self._accounting = ApiAccounting(
            api_limit=limits.api_limit,
            api_usage=limits.api_usage,
            long_request_threshold=limits.long_request_threshold,
            concurrent_long_limit=limits.concurrent_long_limit,
            clock=clock,
        )
        self._apex = ApexRoutes()
        self.bulk = BulkJobs(self.faults)
        self.tooling = ToolingApi(id_pod=self.org.org_id[3:5])
        self._recent = RecentlyViewed(self.org)
        rest = RestApi(
            self.org,
            self._writes,
            batch_size=lambda: self.query_batch_size,
            limits=lambda: {**self._accounting.limits(), **self.bulk.limits()},
            tooling=self.tooling,
            recent=self._recent,
        )
        rows = RowWriter(self.org, self._writes)
        job_ids = JobIds()
        rest.mount("jobs", Bulk2Api(self.org, rows, self.bulk, ids=job_ids).handle)
        rest.mount("composite", CompositeApi(self.org, rows, rest.handle).handle)
        return Router(
            faults=self.faults,
            auth=self._auth,
            sessions=self._sessions,
            accounting=self._accounting,
            rest=rest,
            apex=self._apex,
            bulk_v1=BulkV1Api(self.org, rows, self.bulk, ids=job_ids),
            userinfo=UserInfo(self.org, self._sessions, lambda: self._auth.credentials),
            last_version=max_version(options.server.max_api_version),
            stopping=self._stopping,
        )

    @property
    def tls(self) -> bool:
        """Whether the fake serves HTTPS with a throwaway CA."""
        return self.options.server.tls

    @property
    def max_api_version(self) -> str:
        """The newest REST API version served, e.g. "66.0"."""
        return self.options.server.max_api_version

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
                self._router.handle,
                port=self._server.port,
                name="fake-salesforce",
                ssl_context=self._ca.server_context,
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
        self.bulk.clear()
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

    def mark_viewed(self, sobject: str, record_id: str) -> None:
        """Put a record on the user's recently viewed list (GET /recent), first.

        Salesforce fills that list from what a user views in its UI, which the fake
        does not have; reading a record through the API does not mark it.
        """
        self._recent.mark(sobject, record_id)

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

    @contextlib.contextmanager
    def locked(self, *record_ids: str) -> Iterator[None]:
        """Hold the record locks of `record_ids` for the block, as another transaction would.

        Writes to those records (REST, composite, Bulk rows) wait `lock_wait` seconds
        and then fail with `UNABLE_TO_LOCK_ROW`. Use 18-character ids.
        """
        busy = self._locks.acquire(record_ids, self._writes.wait)
        if busy is not None:
            raise RuntimeError(f"record {busy} is already locked")
        try:
            yield
        finally:
            self._locks.release(record_ids)

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
        return self._accounting.used

    def set_api_usage(self, used: int) -> None:
        """Set the API calls used so far (e.g. to just below `api_limit`)."""
        self._accounting.set_used(used)

    @property
    def api_limit(self) -> int:
        """The daily API allocation (settable on a running fake)."""
        return self._accounting.api_limit

    @api_limit.setter
    def api_limit(self, limit: int) -> None:
        self._accounting.api_limit = limit

    @property
    def long_request_threshold(self) -> float:
        """Seconds after which a running request counts as long."""
        return self._accounting.long_request_threshold

    @property
    def concurrent_long_limit(self) -> int:
        """How many long requests may run at once."""
        return self._accounting.concurrent_long_limit

    @property
    def request_log(self) -> list[LoggedRequest]:
        """Every request answered so far, in order (the live list)."""
        return self._router.log

    # --- request handling -------------------------------------------------------
