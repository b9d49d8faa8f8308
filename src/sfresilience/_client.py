"""``ResilientClient``: simple-salesforce's client, with every call guarded."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests
from simple_salesforce.api import Salesforce, SFType

from ._auth import login_from_env, refresh_token_login, sf_cli_login
from ._budget import Budget
from ._budget import install as install_budget
from ._core import RetryPolicy
from ._events import Hook, normalize_hooks
from ._guard import Guard
from ._modes import Mode
from ._redact import redact
from ._session import Login, SessionRefresher, install_timeouts
from ._settings import Settings, load_settings
from ._store import Store


# Methods whose repetition is harmless, so they are retried even after a failure
# that may have reached Salesforce. Creates, deletes and anything running custom
# Apex (apexecute, restful POST/PATCH) are not: they may not be idempotent.
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REPEATABLE_SOBJECT_METHODS = frozenset(
    {"get", "get_by_custom_id", "describe", "describe_layout", "metadata", "deleted", "updated"}
    | {"update", "upsert", "get_base64", "update_base64"}  # PATCH sets the same values again
)

_NOT_SOBJECTS = frozenset({"bulk", "bulk2", "mdapi"})


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
    install_timeouts(session, (settings.connect_timeout, settings.read_timeout))
    return Guard(policy=_policy(settings), hooks=normalize_hooks(on_event))


class ResilientClient:
    """A drop-in :class:`simple_salesforce.Salesforce` that rides out incidents.

    Same methods, same arguments, same return values and exception types; on
    failure the exception carries a ``.classification``. Lock contention and
    transient server or network errors are retried with jittered backoff under
    an attempt cap and a deadline; an expired session is refreshed once (one
    login however many threads noticed); code bugs fail at once.

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
        settings = settings if settings is not None else load_settings()
        self._sf = sf
        self._settings = settings
        install_timeouts(sf.session, (settings.connect_timeout, settings.read_timeout))
        self._refresher = _refresher_for(sf, refresh)
        self._guard = Guard(
            policy=_policy(settings),
            refresher=self._refresher,
            hooks=normalize_hooks(on_event),
            clock=clock,
            sleep=sleep,
            jitter=jitter,
        )
        self._admission = install_budget(
            sf, settings, hooks=normalize_hooks(on_event), clock=wall_clock, store=store
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
            lambda: Salesforce(session=session, **salesforce_kwargs),
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
        return self._sf

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def budget(self) -> Budget:
        """The org's API budget as the fleet knows it now (see :class:`~sfresilience.Budget`)."""
        return self._admission.budget.snapshot()

    @property
    def mode(self) -> Mode:
        """The mode calls run in, and every reason it is on (see :class:`~sfresilience.Mode`)."""
        return self._admission.mode_snapshot()

    @property
    def logins(self) -> int:
        """Logins made to refresh an expired session (by any wrapper of this client)."""
        return self._refresher.logins

    def __repr__(self) -> str:
        instance = redact(str(vars(self._sf).get("sf_instance", "?")))
        return f"<ResilientClient instance={instance!r}>"

    # The guarded surface ----------------------------------------------------

    def _call(self, operation: str, call: Callable[[], Any], *, repeatable: bool) -> Any:
        return self._guard.run(call, operation=operation, repeatable=repeatable)

    def _read(self, operation: str, call: Callable[[], Any]) -> Any:
        return self._call(operation, call, repeatable=True)

    def query(self, query: str, include_deleted: bool = False, **kwargs: Any) -> Any:
        return self._read("query", lambda: self._sf.query(query, include_deleted, **kwargs))

    def query_more(
        self,
        next_records_identifier: str,
        identifier_is_url: bool = False,
        include_deleted: bool = False,
        **kwargs: Any,
    ) -> Any:
        return self._read(
            "query_more",
            lambda: self._sf.query_more(
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
        page 3 retries page 3, not the whole query."""
        result = self.query(query, include_deleted, **kwargs)
        while True:
            yield from result["records"]
            if result["done"]:
                return
            result = self.query_more(result["nextRecordsUrl"], True, **kwargs)  # noqa: FBT003

    def query_all(
        self,
        query: str,
        include_deleted: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any]:
        records = list(self.query_all_iter(query, include_deleted, **kwargs))
        return {"records": records, "totalSize": len(records), "done": True}

    def search(self, search: str) -> Any:
        return self._read("search", lambda: self._sf.search(search))

    def quick_search(self, search: str) -> Any:
        return self._read("quick_search", lambda: self._sf.quick_search(search))

    def describe(self, **kwargs: Any) -> Any:
        return self._read("describe", lambda: self._sf.describe(**kwargs))

    def limits(self, **kwargs: Any) -> Any:
        return self._read("limits", lambda: self._sf.limits(**kwargs))

    def is_sandbox(self) -> Any:
        return self._read("is_sandbox", self._sf.is_sandbox)

    def restful(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        method: str = "GET",
        **kwargs: Any,
    ) -> Any:
        return self._call(
            f"restful {path}",
            lambda: self._sf.restful(path, params, method, **kwargs),
            repeatable=method.upper() in _READ_METHODS,
        )

    def apexecute(self, action: str, method: str = "GET", data: Any = None, **kwargs: Any) -> Any:
        return self._call(
            f"apexecute {action}",
            lambda: self._sf.apexecute(action, method, data, **kwargs),
            repeatable=method.upper() in _READ_METHODS,
        )

    def toolingexecute(
        self, action: str, method: str = "GET", data: Any = None, **kwargs: Any
    ) -> Any:
        return self._call(
            f"toolingexecute {action}",
            lambda: self._sf.toolingexecute(action, method, data, **kwargs),
            repeatable=method.upper() in _READ_METHODS,
        )

    def __getattr__(self, name: str) -> Any:
        sf = vars(self).get("_sf")
        if sf is None or name.startswith("__"):
            # Half-built (copy, pickle) or a dunder probe: never recurse into _sf.
            raise AttributeError(name)
        if name.startswith("_") or name in _NOT_SOBJECTS:
            return getattr(self._sf, name)
        if not _has_attribute(self._sf, name):
            return SObject(self, name)
        value = getattr(self._sf, name)
        if not callable(value):
            return value
        # Other methods (set_password, oauth2, deploy, ...) are guarded too, as
        # writes that may not be repeated after an ambiguous failure.
        return _guarded(self, name, lambda: getattr(self._sf, name), repeatable=False)


class SObject:
    """``client.Contact``: simple-salesforce's SFType methods, each one guarded."""

    __slots__ = ("_client", "_name")

    def __init__(self, client: ResilientClient, name: str) -> None:
        self._client = client
        self._name = name

    def _sftype(self) -> Any:
        # A fresh SFType each time, as simple-salesforce makes: it copies the
        # session id when built, so one built before a refresh would be stale.
        return getattr(self._client.wrapped, self._name)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        if not callable(getattr(SFType, attribute, None)):
            return getattr(self._sftype(), attribute)  # a value such as name or base_url
        return _guarded(
            self._client,
            f"{self._name}.{attribute}",
            lambda: getattr(self._sftype(), attribute),
            repeatable=attribute in _REPEATABLE_SOBJECT_METHODS,
        )

    def __repr__(self) -> str:
        return f"<SObject {self._name} of {self._client!r}>"


def _guarded(
    client: ResilientClient,
    operation: str,
    method: Callable[[], Callable[..., Any]],
    *,
    repeatable: bool,
) -> Callable[..., Any]:
    """A guarded stand-in for the callable *method* looks up afresh at each attempt."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        return client._call(  # noqa: SLF001
            operation, lambda: method()(*args, **kwargs), repeatable=repeatable
        )

    guarded.__name__ = guarded.__qualname__ = operation
    return guarded


def _has_attribute(sf: Salesforce, name: str) -> bool:
    return name in vars(sf) or hasattr(type(sf), name)


def _refresher_for(sf: Salesforce, refresh: Login | None) -> SessionRefresher:
    """One refresher per wrapped client, shared by every wrapper of it.

    The first wrapper moves simple-salesforce's own re-login into it: that one
    is not serialised (eight threads, eight logins), on the SFType path it can
    loop (simple-salesforce #804), and leaving it would retry under our retries.
    """
    # vars(), not getattr(): Salesforce.__getattr__ turns unknown names into SFTypes.
    attributes = vars(sf)
    existing = attributes.get("_sfresilience_refresher")
    if isinstance(existing, SessionRefresher) and refresh is None:
        return existing
    login: Login | None = refresh or attributes.get("_salesforce_login_partial")
    attributes["_salesforce_login_partial"] = None
    refresher = SessionRefresher(sf, login)
    attributes["_sfresilience_refresher"] = refresher
    return refresher
