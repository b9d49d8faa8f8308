"""``resilient_query``: a read function's whole result, kept and served through an outage.

The decorator is a thin face over :class:`~sfresilience._fallback.Fallback`:
it renders the call's key, finds the org's fallback from the client the
function uses, and hands the function over as the read. The function runs
under ``stale_served_outside``, so none of its own reads is answered piecemeal
from the cache: either the whole function runs live, or its whole last result
is served.

Which client: ``client=`` given to the decorator (a client, a function
returning one, or the name of a parameter or of an attribute of ``self``);
else the first argument that is a ``ResilientClient``; else, for a method,
the one ``ResilientClient`` among ``self``'s attributes.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from simple_salesforce.api import Salesforce

from ._cache import cache_key
from ._client import ResilientClient
from ._decorators import critical as critical_block
from ._fallback import Fallback, fallback_of, stale_served_outside
from ._freshness import freshness
from ._key_template import KeyTemplate, receiver_of


P = ParamSpec("P")
R = TypeVar("R")

_KIND = "resilient_query"

ClientSource = ResilientClient | Callable[[], ResilientClient] | str


def resilient_query(
    *,
    key: str | None = None,
    ttl: float = 0.0,
    critical: bool = False,
    client: ClientSource | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Keep the function's result and serve it when Salesforce cannot answer.

    Args:
        key: a template over the function's parameters (``"accounts:{region}"``)
            telling calls apart; None: all arguments but ``self`` and clients.
            Entries belong to the function: two functions never share one.
        ttl: seconds a result is fresh: a call inside that window is answered
            from the cache without running the function. 0: always run it while
            Salesforce answers.
        critical: run the function as critical work (as ``@critical``).
        client: the ``ResilientClient`` whose org the cache belongs to, a function
            returning it, or the name of the parameter (or of ``self``'s attribute)
            holding it; None: found among the arguments (see the module).

    Served from the cache (marked by ``freshness``): inside ``ttl``; in fallback
    mode; while the breaker is open; after an outage (``UNAVAILABLE``,
    ``SERVER_ERROR`` past its retries, ``MAINTENANCE``); and for non-critical
    functions in critical-only mode. Nothing usable cached raises
    ``FallbackUnavailable`` or ``CircuitOpen`` with the reason, or the
    function's own error after an outage.
    """
    _check_ttl(ttl)

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(function):
            msg = f"resilient_query: {function.__qualname__} is async; only sync functions"
            raise TypeError(msg)
        signature = inspect.signature(function)
        owner = function.__qualname__
        template = KeyTemplate(key, signature, owner, skip=_is_client)
        find = _client_finder(client, signature, owner)
        identity = f"{function.__module__}.{owner}"

        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            fallback = fallback_of(find(bound.arguments))
            entry = _entry_key(fallback, identity, template.render(bound.arguments))

            def whole() -> R:
                with stale_served_outside():
                    return function(*args, **kwargs)

            with critical_block() if critical else contextlib.nullcontext():
                served: R = fallback.read(entry, whole, fresh_for=ttl, operation=owner)
            if freshness(served) is None:
                # The cache serialises the live result later, off the caller's path:
                # the caller gets its own copy, so changing it never changes the entry.
                return copy.deepcopy(served)
            return served

        return run

    return decorate


def _check_ttl(ttl: object) -> None:
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl):
        raise ValueError(f"resilient_query: ttl must be a finite number of seconds, got {ttl!r}")
    if ttl < 0:
        raise ValueError(f"resilient_query: ttl must not be negative, got {ttl!r}")


def _entry_key(fallback: Fallback, identity: str, rendered: str) -> str:
    call = [identity, rendered]
    if fallback.cache is None:  # nothing is kept; the key still names one flight
        return cache_key("-", "-", _KIND, call)
    return fallback.cache.key(_KIND, call)


def _is_client(value: object) -> bool:
    return isinstance(value, Salesforce)  # ResilientClient is one to isinstance


def _client_finder(
    given: ClientSource | None, signature: inspect.Signature, owner: str
) -> Callable[[Mapping[str, Any]], ResilientClient]:
    if isinstance(given, ResilientClient):
        return lambda _arguments: given
    if isinstance(given, str):
        return _named_client(given, signature, owner)
    if given is not None:
        if not callable(given):
            msg = f"resilient_query(client=...) of {owner}: expected a ResilientClient or a"
            raise TypeError(f"{msg} function returning one, got {type(given).__name__}")
        source = given
        return lambda _arguments: _checked(source(), owner, "client=...")
    receiver = receiver_of(signature)
    return lambda arguments: _from_arguments(arguments, receiver, owner)


def _named_client(
    name: str, signature: inspect.Signature, owner: str
) -> Callable[[Mapping[str, Any]], ResilientClient]:
    where = f"client={name!r}"
    if name in signature.parameters:
        return lambda arguments: _checked(arguments[name], owner, where)
    receiver = receiver_of(signature)
    if receiver is None:
        msg = f"resilient_query({where}) of {owner}: names no parameter of {owner}"
        raise ValueError(f"{msg}, and {owner} is not a method")
    return lambda arguments: _checked(getattr(arguments[receiver], name), owner, where)


def _from_arguments(
    arguments: Mapping[str, Any], receiver: str | None, owner: str
) -> ResilientClient:
    for value in arguments.values():
        if isinstance(value, ResilientClient):
            return value
    if receiver is not None:
        held = vars(arguments[receiver]) if hasattr(arguments[receiver], "__dict__") else {}
        found = {id(v): v for v in held.values() if isinstance(v, ResilientClient)}
        if len(found) == 1:
            return next(iter(found.values()))
        if len(found) > 1:
            msg = f"resilient_query: {owner}'s {receiver} holds several ResilientClients"
            raise TypeError(f"{msg}; name one with resilient_query(client=...)")
    plain = any(isinstance(v, Salesforce) for v in arguments.values())
    hint = " (a plain simple_salesforce.Salesforce is not enough: wrap it)" if plain else ""
    msg = (
        f"resilient_query: no ResilientClient among {owner}'s arguments"
        f"{' or its attributes' if receiver else ''}{hint}; pass one, or name it with "
        "resilient_query(client=...)"
    )
    raise TypeError(msg)


def _checked(found: object, owner: str, where: str) -> ResilientClient:
    if not isinstance(found, ResilientClient):
        msg = f"resilient_query({where}) of {owner}: expected a ResilientClient"
        raise TypeError(f"{msg}, got {type(found).__name__}")
    return found
