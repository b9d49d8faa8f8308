"""The small option objects `FakeSalesforce` is built from.

    FakeSalesforce(
        org=Org(contacts=2_500),
        identity=Identity(username="etl@example.com"),
        limits=Limits(api_limit=1_000),
        locking=Locking(hold=0.05, wait=0.01),
        server=ServerOptions(tls=True),
    )

Every field has the default today's keywords have, and each object checks its own
values when made. `FakeSalesforce`'s flat keywords (`contacts=`, `api_limit=`,
`lock_wait=`, `tls=`, ...) still work: `resolve()` folds them into these objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, TypedDict

from .api.versions import max_version
from .org import Field, Org, SObject


__all__ = ["Identity", "Keywords", "Limits", "Locking", "Options", "ServerOptions", "resolve"]


@dataclass(frozen=True, kw_only=True)
class Identity:
    """The one integration user and connected app the org knows, and its My Domain."""

    my_domain: str = "fake-org"
    username: str = "integration@fake-org.example.com"
    password: str = "fake-password-1"  # noqa: S105
    security_token: str = "FAKESECURITYTOKEN0123"  # noqa: S105
    consumer_key: str = "3MVG9FAKE.CONSUMER.KEY.sfresilience"
    consumer_secret: str = "FAKECONSUMERSECRET0123456789"  # noqa: S105


@dataclass(frozen=True, kw_only=True)
class Limits:
    """API accounting: the daily allocation and what is used, paging, long requests.

    `api_limit`/`api_usage`: the daily allocation and calls used so far.
    `query_batch_size`: records per query page. `long_request_threshold` (seconds)
    and `concurrent_long_limit`: how many requests older than the threshold may run
    at once before the "ConcurrentRequests" 403.
    """

    api_limit: int = 15_000
    api_usage: int = 0
    query_batch_size: int = 2000
    long_request_threshold: float = 20.0
    concurrent_long_limit: int = 25

    def __post_init__(self) -> None:
        if self.query_batch_size < 1:
            raise ValueError("query_batch_size must be >= 1")
        if self.api_limit < 0 or self.api_usage < 0:
            raise ValueError("api_limit and api_usage must be >= 0")


@dataclass(frozen=True, kw_only=True)
class Locking:
    """Record locks: writes `hold` their locks that long, wait `wait` for them.

    A write that waits in vain fails `UNABLE_TO_LOCK_ROW` with `error_status`
    (500, as seen in production, or 400).
    """

    hold: float = 0.0
    wait: float = 10.0
    error_status: int = 500

    def __post_init__(self) -> None:
        if self.error_status not in {400, 500}:
            raise ValueError("lock_error_status must be 400 or 500")
        if self.hold < 0 or self.wait < 0:
            raise ValueError("lock hold and wait must be >= 0")


@dataclass(frozen=True, kw_only=True)
class ServerOptions:
    """How the fake serves: TLS, port, API versions, session lifetime.

    `tls`: HTTPS with a throwaway CA (see `FakeSalesforce.env()`). `port`: the
    loopback port (0: OS-chosen). `max_api_version`: the newest REST version
    served. `session_ttl`: idle seconds before a session expires (None: never).
    """

    tls: bool = False
    port: int = 0
    max_api_version: str = "66.0"
    session_ttl: float | None = None

    def __post_init__(self) -> None:
        max_version(self.max_api_version)
        if not 0 <= self.port <= 65_535:  # noqa: PLR2004
            raise ValueError("port must be 0-65535")


class Keywords(TypedDict, total=False):
    """`FakeSalesforce`'s flat keywords, each a field of an option object or of `Org`."""

    accounts: int
    contacts: int
    opportunities: int
    seed: int
    instance_name: str
    org_name: str
    is_sandbox: bool
    objects: Iterable[SObject]
    fields: Mapping[str, Iterable[Field]]
    my_domain: str
    username: str
    password: str
    security_token: str
    consumer_key: str
    consumer_secret: str
    api_limit: int
    api_usage: int
    query_batch_size: int
    long_request_threshold: float
    concurrent_long_limit: int
    lock_hold: float
    lock_wait: float
    lock_error_status: int
    session_ttl: float | None
    max_api_version: str
    tls: bool
    port: int


@dataclass(frozen=True, kw_only=True)
class Options:
    """Everything `FakeSalesforce` is built from, once resolved."""

    org: Org
    identity: Identity
    limits: Limits
    locking: Locking
    server: ServerOptions


_ORG_KEYWORDS = frozenset(
    {
        "accounts",
        "contacts",
        "opportunities",
        "seed",
        "instance_name",
        "org_name",
        "is_sandbox",
        "objects",
        "fields",
    }
)
_LOCK_KEYWORDS = {"lock_hold": "hold", "lock_wait": "wait", "lock_error_status": "error_status"}


def _names(kind: type[Any]) -> frozenset[str]:
    return frozenset(item.name for item in fields(kind))


def _pick(keywords: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    return {name: keywords.pop(name) for name in list(keywords) if name in names}


def resolve(
    *,
    org: Org | None,
    identity: Identity | None,
    limits: Limits | None,
    locking: Locking | None,
    server: ServerOptions | None,
    keywords: Keywords,
) -> Options:
    """The option objects, with any flat keywords folded in (they win)."""
    rest: dict[str, Any] = dict(keywords)
    org_keywords = _pick(rest, _ORG_KEYWORDS)
    if org is not None and org_keywords:
        names = ", ".join(sorted(org_keywords))
        raise TypeError(f"give either org= or the org's own keywords ({names}), not both")
    lock_keywords = {
        _LOCK_KEYWORDS[name]: value
        for name, value in _pick(rest, frozenset(_LOCK_KEYWORDS)).items()
    }
    resolved = Options(
        org=org if org is not None else Org(**org_keywords),
        identity=replace(identity or Identity(), **_pick(rest, _names(Identity))),
        limits=replace(limits or Limits(), **_pick(rest, _names(Limits))),
        locking=replace(locking or Locking(), **lock_keywords),
        server=replace(server or ServerOptions(), **_pick(rest, _names(ServerOptions))),
    )
    if rest:
        raise TypeError(f"unexpected keyword arguments: {', '.join(sorted(rest))}")
    return resolved
