"""``ResilientClient``: simple-salesforce's client, with every call guarded."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests
from simple_salesforce.api import Salesforce

from ._auth import login_from_env, sf_cli_login
from ._core import RetryPolicy
from ._events import Hook, normalize_hooks
from ._guard import Guard
from ._redact import redact
from ._session import Login, SessionRefresher, install_timeouts
from ._settings import Settings, load_settings


# HTTP methods whose repetition is harmless: retried even after a failure that
# may have reached Salesforce. POST (create) and DELETE are not among them.
_REPEATABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PATCH", "PUT"})

_SOBJECT_METHODS = {
    "create": "POST",
    "update": "PATCH",
    "upsert": "PATCH",
    "delete": "DELETE",
    "upload_base64": "POST",
    "update_base64": "PATCH",
}

_NOT_SOBJECTS = frozenset({"bulk", "bulk2", "mdapi"})


class ResilientClient:
    """A drop-in :class:`simple_salesforce.Salesforce` that rides out incidents.

    Same methods, same arguments, same return values and exception types; on
    failure the exception carries a ``.classification``. Lock contention and
    transient server or network errors are retried with jittered backoff under
    an attempt cap and a deadline; an expired session is refreshed once (one
    login however many threads noticed); code bugs fail at once.

    Args:
        sf: the client to wrap. ResilientClient takes over its session refresh.
        settings: the knobs; by default read from the environment.
        refresh: for clients built from a session id, how to log in again:
            a callable returning ``(session_id, instance)``.
        on_event: a hook, or hooks, called with each :class:`~sfresilience.Event`.
        clock, sleep, jitter: injectable time and randomness, for tests.
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
    ) -> None:
        settings = settings if settings is not None else load_settings()
        self._sf = sf
        self._settings = settings
        install_timeouts(sf.session, (settings.connect_timeout, settings.read_timeout))
        self._refresher = SessionRefresher(sf, refresh or _take_over_login(sf))
        self._guard = Guard(
            policy=RetryPolicy(
                attempts=settings.retry_attempts,
                deadline=settings.retry_deadline,
                backoff_initial=settings.backoff_initial,
                backoff_max=settings.backoff_max,
                retry_ambiguous_writes=settings.retry_ambiguous_writes,
            ),
            refresher=self._refresher,
            hooks=normalize_hooks(on_event),
            clock=clock,
            sleep=sleep,
            jitter=jitter,
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

        The login itself gets the configured timeouts and retries too.
        """
        settings = settings if settings is not None else load_settings()
        session = salesforce_kwargs.pop("session", None) or requests.Session()
        install_timeouts(session, (settings.connect_timeout, settings.read_timeout))
        guard = Guard(policy=RetryPolicy(attempts=settings.retry_attempts))
        sf = guard.run(
            lambda: Salesforce(session=session, **salesforce_kwargs),
            operation="login",
            repeatable=True,
        )
        return cls(sf, settings=settings, on_event=on_event)

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
    def logins(self) -> int:
        """Logins this client made to refresh an expired session."""
        return self._refresher.logins

    def __repr__(self) -> str:
        instance = redact(str(getattr(self._sf, "sf_instance", "?")))
        return f"<ResilientClient instance={instance!r}>"

    # The guarded surface ----------------------------------------------------

    def _call(self, operation: str, method: str, call: Callable[[], Any]) -> Any:
        return self._guard.run(
            call, operation=operation, repeatable=method.upper() in _REPEATABLE_METHODS
        )

    def query(self, query: str, include_deleted: bool = False, **kwargs: Any) -> Any:
        return self._call("query", "GET", lambda: self._sf.query(query, include_deleted, **kwargs))

    def query_more(
        self,
        next_records_identifier: str,
        identifier_is_url: bool = False,
        include_deleted: bool = False,
        **kwargs: Any,
    ) -> Any:
        return self._call(
            "query_more",
            "GET",
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
        return self._call("search", "GET", lambda: self._sf.search(search))

    def quick_search(self, search: str) -> Any:
        return self._call("quick_search", "GET", lambda: self._sf.quick_search(search))

    def describe(self, **kwargs: Any) -> Any:
        return self._call("describe", "GET", lambda: self._sf.describe(**kwargs))

    def limits(self, **kwargs: Any) -> Any:
        return self._call("limits", "GET", lambda: self._sf.limits(**kwargs))

    def is_sandbox(self) -> Any:
        return self._call("is_sandbox", "GET", self._sf.is_sandbox)

    def restful(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        method: str = "GET",
        **kwargs: Any,
    ) -> Any:
        return self._call(
            f"restful {path}",
            method,
            lambda: self._sf.restful(path, params, method, **kwargs),
        )

    def apexecute(self, action: str, method: str = "GET", data: Any = None, **kwargs: Any) -> Any:
        return self._call(
            f"apexecute {action}",
            method,
            lambda: self._sf.apexecute(action, method, data, **kwargs),
        )

    def toolingexecute(
        self, action: str, method: str = "GET", data: Any = None, **kwargs: Any
    ) -> Any:
        return self._call(
            f"toolingexecute {action}",
            method,
            lambda: self._sf.toolingexecute(action, method, data, **kwargs),
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in _NOT_SOBJECTS or _has_attribute(self._sf, name):
            return getattr(self._sf, name)
        return SObject(self, name)


class SObject:
    """``client.Contact``: simple-salesforce's SFType methods, each one guarded."""

    __slots__ = ("_client", "_name")

    def __init__(self, client: ResilientClient, name: str) -> None:
        self._client = client
        self._name = name

    def __getattr__(self, method: str) -> Callable[..., Any]:
        if method.startswith("_"):
            raise AttributeError(method)
        http_method = _SOBJECT_METHODS.get(method, "GET")
        client = self._client

        def guarded(*args: Any, **kwargs: Any) -> Any:
            # A fresh SFType per attempt: it copies the session id when built.
            return client._call(  # noqa: SLF001
                f"{self._name}.{method}",
                http_method,
                lambda: getattr(getattr(client.wrapped, self._name), method)(*args, **kwargs),
            )

        guarded.__name__ = method
        guarded.__qualname__ = f"{self._name}.{method}"
        return guarded

    def __repr__(self) -> str:
        return f"<SObject {self._name} of {self._client!r}>"


def _has_attribute(sf: Salesforce, name: str) -> bool:
    return name in vars(sf) or hasattr(type(sf), name)


def _take_over_login(sf: Salesforce) -> Login | None:
    """Move simple-salesforce's own re-login into our single-flight refresher.

    Its built-in refresh is not serialised (eight threads, eight logins), and
    on the SFType path it can loop (simple-salesforce #804); leaving it in
    place would also retry on top of our retries.
    """
    # vars(), not getattr(): Salesforce.__getattr__ turns unknown names into SFTypes.
    attributes = vars(sf)
    login: Login | None = attributes.get("_salesforce_login_partial")
    if login is not None:
        sf._salesforce_login_partial = None  # noqa: SLF001
        # Kept on the client so that a second wrapper can still log in again.
        attributes["_sfresilience_login"] = login
    return login or attributes.get("_sfresilience_login")
