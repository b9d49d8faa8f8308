"""``ResilientClient``: simple-salesforce's client, with every call guarded."""

from __future__ import annotations

import copy
import functools
import random
import time
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import requests
import wrapt
from simple_salesforce.api import Salesforce

from ._auth import checked_login, login_from_env, refresh_token_login, sf_cli_login
from ._budget import Admission, Budget, org_key
from ._budget import install as install_budget
from ._bulk import bulk_handler, bulk_query_records, switch_to_bulk
from ._cache import normalise_soql
from ._core import RetryPolicy
from ._events import Hook, normalize_hooks
from ._fallback import Fallback
from ._fallback._wiring import breaker_reasons, build_fallback
from ._guard import Guard
from ._lockqueue import lock_queue_for
from ._modes import Mode, ReasonSource, with_reasons
from ._pages import PageWalk
from ._redact import redact
from ._refresh_slot import refresher_for
from ._session import Login, SessionRefresher, install_timeouts
from ._settings import Settings, load_settings
from ._sobject import SObject
from ._store import Store
from ._timeline import TimelineHook


if TYPE_CHECKING:

    class _Proxy(Salesforce):
        """To a type checker the wrapper *is* the client it wraps, as to isinstance."""

        __wrapped__: Salesforce

        def __init__(self, wrapped: Salesforce) -> None: ...

else:
    _Proxy = wrapt.BaseObjectProxy


_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Attributes simple-salesforce builds on access that are not sObjects: its Bulk
# and Bulk 2.0 handlers, built here over a guarded session (see _bulk).
_BULK_HANDLERS = frozenset({"bulk", "bulk2"})

# Public Salesforce methods that never reach Salesforce.
_LOCAL_METHODS = frozenset({"parse_result_to_json"})


def _policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.retry_attempts,
        deadline=settings.retry_deadline,
        backoff_initial=settings.backoff_initial,
        backoff_max=settings.backoff_max,
        retry_ambiguous_writes=settings.retry_ambiguous_writes,
    )


def _login_guard(
    settings: Settings, session: requests.Session, on_event: Hook | Iterable[Hook] | None
) -> Guard:
    """The guard a login runs under: the client's timeouts, retries and deadline."""
    timeouts = (settings.connect_timeout, settings.read_timeout)
    install_timeouts(session, timeouts)
    return Guard(policy=_policy(settings), hooks=normalize_hooks(on_event), timeouts=timeouts)


class ResilientClient(_Proxy):
    """A drop-in :class:`simple_salesforce.Salesforce` that rides out incidents.

    It behaves as the client it wraps (a transparent proxy): ``isinstance(client,
    Salesforce)`` holds, attribute reads and writes reach the wrapped client, and
    its methods take the same arguments and return the same values. ``client.Contact``
    is an :class:`SFType` (an :class:`~sfresilience.SObject`). Each *method* call
    that reaches Salesforce is guarded, and on failure raises simple-salesforce's
    own exception with a ``.classification`` added. Lock contention and transient
    server or network errors are retried with jittered backoff under an attempt
    cap and a deadline; an expired session is refreshed once (one login however
    many threads noticed); code bugs fail at once.

    Wrapping takes over the client's session refresh, which simple-salesforce
    does without a lock and, on the sObject path, possibly in a loop (#804):
    call Salesforce through the wrapper from then on.

    Args:
        sf: the client to wrap.
        settings: the knobs; by default read from the environment.
        refresh: for clients built from a session id, how to log in again:
            a callable returning ``(session_id, instance)``.
        on_event: a hook, or hooks, called with each :class:`~sfresilience.Event`.
        store: where the budget and the modes are shared; by default Redis at
            ``SFRESILIENCE_REDIS_URL``, else this process's memory.
        clock, sleep, jitter: injectable time and randomness, for tests.
        wall_clock: injectable wall-clock time for the budget and the modes.
    """

    # wrapt keeps attributes named _self_* on the wrapper; every other attribute
    # read or written is the wrapped client's.
    _self_settings: Settings
    _self_refresher: SessionRefresher
    _self_guard: Guard
    _self_admission: Admission
    _self_fallback: Fallback
    _self_forcing: Sequence[ReasonSource]

    def __init__(
        self,
        sf: Salesforce,
        *,
        settings: Settings | None = None,
        refresh: Login | None = None,
        on_event: Hook | Iterable[Hook] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        store: Store | None = None,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(sf, ResilientClient):
            sf = sf.wrapped  # wrapping a wrapper wraps its client, not the guard
        super().__init__(sf)
        settings = settings if settings is not None else load_settings()
        self._self_settings = settings
        # vars(), not getattr(): Salesforce.__getattr__ turns unknown names into
        # SFTypes, and a client built by Salesforce.__new__ may have no session yet.
        session = vars(sf).get("session")
        if isinstance(session, requests.Session):  # not a user's test double
            install_timeouts(session, (settings.connect_timeout, settings.read_timeout))
        self._self_refresher = refresher_for(sf, refresh)
        # What the library sees goes to the fleet's incident timeline too.
        hooks: tuple[Hook, ...] = (
            *normalize_hooks(on_event),
            TimelineHook(store, settings.redis_url),
        )
        self._self_admission = install_budget(
            sf, settings, hooks=hooks, clock=wall_clock, store=store
        )
        self._self_guard = Guard(
            policy=_policy(settings),
            refresher=self._self_refresher,
            hooks=hooks,
            clock=clock,
            sleep=sleep,
            jitter=jitter,
            timeouts=(settings.connect_timeout, settings.read_timeout),
            locks=lock_queue_for(sf, self._self_admission.budget.store),
        )
        self._self_fallback, self._self_forcing = build_fallback(
            sf,
            settings,
            self._self_admission.budget.store,
            org_key(sf),
            hooks=hooks,
            clock=clock,
            wall_clock=wall_clock,
        )

    # Building one -----------------------------------------------------------

    @classmethod
    def from_credentials(
        cls,
        *,
        settings: Settings | None = None,
        on_event: Hook | Iterable[Hook] | None = None,
        **salesforce_kwargs: Any,
    ) -> ResilientClient:
        """Log in with simple-salesforce's own keywords, then wrap.

        The login itself runs under the same timeouts, retries and deadline.
        """
        settings = settings if settings is not None else load_settings()
        session = salesforce_kwargs.pop("session", None) or requests.Session()
        guard = _login_guard(settings, session, on_event)
        sf = guard.run(
            checked_login(lambda: Salesforce(session=session, **salesforce_kwargs)),
            operation="login",
            repeatable=True,
        )
        return cls(sf, settings=settings, on_event=on_event)

    @classmethod
    def from_refresh_token(
        cls,
        *,
        consumer_key: str,
        refresh_token: str,
        consumer_secret: str | None = None,
        domain: str = "login",
        settings: Settings | None = None,
        session: requests.Session | None = None,
        on_event: Hook | Iterable[Hook] | None = None,
    ) -> ResilientClient:
        """Log in with an OAuth refresh token, and again with it whenever the session expires."""
        settings = settings if settings is not None else load_settings()
        session = session or requests.Session()
        guard = _login_guard(settings, session, on_event)
        login = refresh_token_login(
            session=session,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            refresh_token=refresh_token,
            domain=domain,
        )
        session_id, instance = guard.run(login, operation="login", repeatable=True)
        sf = Salesforce(session_id=session_id, instance=instance, session=session)
        return cls(sf, settings=settings, refresh=login, on_event=on_event)

    @classmethod
    def from_env(
        cls,
        *,
        settings: Settings | None = None,
        session: requests.Session | None = None,
        on_event: Hook | Iterable[Hook] | None = None,
    ) -> ResilientClient:
        """Build from ``SF_USERNAME``/``SF_PASSWORD``/... or ``SF_ACCESS_TOKEN``."""
        kwargs, refresh = login_from_env(session or requests.Session())
        if "session_id" not in kwargs:
            return cls.from_credentials(settings=settings, on_event=on_event, **kwargs)
        sf = Salesforce(**kwargs)
        return cls(sf, settings=settings, refresh=refresh, on_event=on_event)

    @classmethod
    def from_sf_cli(
        cls,
        target_org: str,
        *,
        settings: Settings | None = None,
        session: requests.Session | None = None,
        on_event: Hook | Iterable[Hook] | None = None,
    ) -> ResilientClient:
        """Use an org authorised in the ``sf`` CLI; refreshing asks the CLI again."""
        session = session or requests.Session()
        login = sf_cli_login(target_org)
        session_id, instance = login()
        sf = Salesforce(session_id=session_id, instance=instance, session=session)
        return cls(sf, settings=settings, refresh=login, on_event=on_event)

    # Introspection ----------------------------------------------------------

    @property
    def wrapped(self) -> Salesforce:
        """The simple-salesforce client underneath."""
        return self.__wrapped__

    @property
    def settings(self) -> Settings:
        return self._self_settings

    @property
    def budget(self) -> Budget:
        """The org's API budget as the fleet knows it now (see :class:`~sfresilience.Budget`)."""
        return self._self_admission.budget.snapshot()

    @property
    def mode(self) -> Mode:
        """The mode calls run in, and every reason it is on (see :class:`~sfresilience.Mode`)."""
        forcing = [reason for source in self._self_forcing for reason in source.reasons()]
        breaker = breaker_reasons(self._self_fallback.breaker)
        return with_reasons(self._self_admission.mode_snapshot(), [*forcing, *breaker])

    @property
    def logins(self) -> int:
        """Logins made to refresh an expired session (by any wrapper of this client)."""
        return self._self_refresher.logins

    def __repr__(self) -> str:
        instance = redact(str(vars(self.__wrapped__).get("sf_instance", "?")))
        return f"<ResilientClient instance={instance!r}>"

    __str__ = __repr__

    def __dir__(self) -> Iterable[str]:
        own = (name for name in vars(ResilientClient) if not name.startswith("_"))
        return sorted({*dir(self.__wrapped__), *own})

    # Copies ------------------------------------------------------------------

    def __copy__(self) -> ResilientClient:
        """Another wrapper of the same client, sharing its guard's settings and hooks."""
        return self._rewrap(self.__wrapped__)

    def __deepcopy__(self, memo: dict[int, Any]) -> ResilientClient:
        """A wrapper of a deep copy of the client (which refreshes its own session)."""
        return self._rewrap(copy.deepcopy(self.__wrapped__, memo))

    def __reduce_ex__(self, protocol: object) -> tuple[Any, ...]:
        return (_rebuild, (self.__wrapped__, *self._blueprint()))

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__reduce_ex__(2)

    def _rewrap(self, sf: Salesforce) -> ResilientClient:
        return _rebuild(sf, *self._blueprint())

    def _blueprint(self) -> tuple[Any, ...]:
        """What a like wrapper is built from, besides the client."""
        guard = self._self_guard
        return (self._self_settings, guard.hooks, guard.clock, guard.sleep, guard.jitter)

    # The guarded surface ----------------------------------------------------

    def _call(
        self,
        operation: str,
        call: Callable[[], Any],
        *,
        repeatable: bool,
        deadline: float | None = None,
        record: str | None = None,
        key: str | None = None,
    ) -> Any:
        """Reads (repeatable calls) through the fallback, kept under *key* when given;
        writes through it too, refused while it says Salesforce is not to be written."""

        def guarded() -> Any:
            return self._self_guard.run(
                call, operation=operation, repeatable=repeatable, deadline=deadline, record=record
            )

        if repeatable:
            return self._self_fallback.read(key, guarded, operation=operation)
        return self._self_fallback.write(guarded, operation=operation)

    def _read(
        self,
        operation: str,
        call: Callable[[], Any],
        deadline: float | None = None,
        *,
        key: str | None = None,
    ) -> Any:
        return self._call(operation, call, repeatable=True, deadline=deadline, key=key)

    def _cache_key(self, kind: str, *call: Any) -> str | None:
        """Where the fallback cache keeps the result of *call*."""
        cache = self._self_fallback.cache
        return cache.key(kind, call) if cache is not None else None

    def query(self, query: str, include_deleted: bool = False, **kwargs: Any) -> Any:
        key = self._cache_key("query", normalise_soql(query), include_deleted, kwargs)
        return self._read(
            "query", lambda: self.__wrapped__.query(query, include_deleted, **kwargs), key=key
        )

    def query_more(
        self,
        next_records_identifier: str,
        identifier_is_url: bool = False,
        include_deleted: bool = False,
        **kwargs: Any,
    ) -> Any:
        return self._read(
            "query_more",
            lambda: self.__wrapped__.query_more(
                next_records_identifier, identifier_is_url, include_deleted, **kwargs
            ),
        )

    def query_all_iter(
        self,
        query: str,
        include_deleted: bool = False,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Yield every record; each page is guarded on its own, so a failure on
        page 3 retries page 3, not the whole query.

        Each page may take ``SFRESILIENCE_RETRY_DEADLINE``; all of them together
        ``SFRESILIENCE_QUERY_ALL_DEADLINE`` when set."""
        sf = self.__wrapped__
        left = _time_left(self._self_settings.query_all_deadline, self._self_guard.clock)
        result = self._read("query", lambda: sf.query(query, include_deleted, **kwargs), left())
        pages = PageWalk(f"{sf.base_url}query/")
        records, next_url = pages.read(result)
        if switch_to_bulk(result, self._self_settings.bulk_query_threshold):
            bulk = self._bulk_records(query, include_deleted=include_deleted)
            if bulk is not None:
                del result, records  # the job reads its records again: don't hold the page
                yield from bulk
                return
        while True:
            del result  # records and next_url hold what is still needed
            yield from records
            if next_url is None:
                return
            next_page = functools.partial(
                sf.query_more,
                next_url,
                identifier_is_url=True,
                include_deleted=include_deleted,
                **kwargs,
            )
            result = self._read("query_more", next_page, left())
            records, next_url = pages.read(result)

    def _bulk_records(self, query: str, *, include_deleted: bool) -> Iterator[Any] | None:
        """*query*'s records from a Bulk 2.0 query job (see docs/bulk.md)."""
        return bulk_query_records(
            self.__wrapped__,
            self._self_guard,
            self._self_settings.bulk_job_deadline,
            query,
            include_deleted=include_deleted,
            describe=lambda name: getattr(self, name).describe(),
            note_use=self._self_admission.budget.note_daily_use,
        )

    def query_all(
        self,
        query: str,
        include_deleted: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Every record of *query*, kept whole in the fallback cache (its pages are not)."""

        def every_page() -> dict[str, Any]:
            records = list(self.query_all_iter(query, include_deleted, **kwargs))
            return {"records": records, "totalSize": len(records), "done": True}

        key = self._cache_key("query_all", normalise_soql(query), include_deleted, kwargs)
        found: dict[str, Any] = self._self_fallback.read(key, every_page, operation="query_all")
        return found

    def search(self, search: str) -> Any:
        return self._read("search", lambda: self.__wrapped__.search(search))

    def quick_search(self, search: str) -> Any:
        return self._read("quick_search", lambda: self.__wrapped__.quick_search(search))

    def describe(self, **kwargs: Any) -> Any:
        return self._read(
            "describe",
            lambda: self.__wrapped__.describe(**kwargs),
            key=self._cache_key("describe", kwargs),
        )

    def limits(self, **kwargs: Any) -> Any:
        return self._read("limits", lambda: self.__wrapped__.limits(**kwargs))

    def is_sandbox(self) -> Any:
        return self._read("is_sandbox", self.__wrapped__.is_sandbox)

    def restful(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        method: str = "GET",
        **kwargs: Any,
    ) -> Any:
        return self._call(
            f"restful {path}",
            lambda: self.__wrapped__.restful(path, params, method, **kwargs),
            repeatable=method.upper() in _READ_METHODS,
        )

    def apexecute(self, action: str, method: str = "GET", data: Any = None, **kwargs: Any) -> Any:
        return self._call(
            f"apexecute {action}",
            lambda: self.__wrapped__.apexecute(action, method, data, **kwargs),
            repeatable=method.upper() in _READ_METHODS,
        )

    def toolingexecute(
        self, action: str, method: str = "GET", data: Any = None, **kwargs: Any
    ) -> Any:
        return self._call(
            f"toolingexecute {action}",
            lambda: self.__wrapped__.toolingexecute(action, method, data, **kwargs),
            repeatable=method.upper() in _READ_METHODS,
        )

    def __getattr__(self, name: str) -> Any:
        # Only names the wrapper lacks get here. Values (whatever their type: a
        # test's MagicMock session, a hook) come back as they are; only methods
        # of the client's class are guarded.
        sf = self.__wrapped__
        if name.startswith("_") or name in vars(sf):
            return getattr(sf, name)
        if name in _BULK_HANDLERS:
            deadline = self._self_settings.bulk_job_deadline
            note_use = self._self_admission.budget.note_daily_use
            fallback = self._self_fallback
            return bulk_handler(name, sf, self._self_guard, deadline, note_use, fallback)
        found = _class_attribute(type(sf), name)
        if found is None:
            return SObject(name, self)  # what Salesforce.__getattr__ makes of the name
        if not isinstance(found, types.FunctionType) or name in _LOCAL_METHODS:
            return getattr(sf, name)  # a property (mdapi), static method or constant
        # Other methods (set_password, oauth2, deploy, ...) are guarded too, as
        # writes that may not be repeated after an ambiguous failure.
        return _guarded_method(self, name, getattr(sf, name))


def _guarded_method(
    client: ResilientClient, name: str, method: Callable[..., Any]
) -> Callable[..., Any]:
    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        return client._call(name, lambda: method(*args, **kwargs), repeatable=False)  # noqa: SLF001

    return guarded


_ABSENT = object()


def _class_attribute(cls: type, name: str) -> object:
    """*name* as *cls* defines it (no descriptor called), or None."""
    for klass in cls.__mro__:
        found: object = vars(klass).get(name, _ABSENT)
        if found is not _ABSENT:
            return found
    return None


def _rebuild(  # noqa: PLR0917  (pickle passes them by position)
    sf: Salesforce,
    settings: Settings,
    hooks: Sequence[Hook],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    jitter: Callable[[], float],
) -> ResilientClient:
    """A wrapper of *sf* like another one (for copy and pickle)."""
    return ResilientClient(
        sf, settings=settings, on_event=hooks, clock=clock, sleep=sleep, jitter=jitter
    )


def _time_left(seconds: float | None, clock: Callable[[], float]) -> Callable[[], float | None]:
    """Seconds left of a *seconds* budget started now; ``None`` when unbounded."""
    if seconds is None:
        return lambda: None
    ends = clock() + seconds
    return lambda: ends - clock()
