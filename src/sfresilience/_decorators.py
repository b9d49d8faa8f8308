"""``critical`` and ``caller``: mark work, each as a decorator or a ``with`` block.

Both set a context variable that the transport reads when a request leaves, so
they reach every call made inside them: through any client, in nested
functions, and in asyncio tasks started inside the block.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar, overload


P = ParamSpec("P")
R = TypeVar("R")

UNLABELLED = "unlabelled"
"""The caller label of API calls made outside any ``caller`` block."""

_critical: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "sfresilience_critical", default=False
)
_caller: contextvars.ContextVar[str] = contextvars.ContextVar(
    "sfresilience_caller", default=UNLABELLED
)


def is_critical() -> bool:
    """Whether the running code is marked critical."""
    return _critical.get()


def current_caller() -> str:
    """The caller label API calls made now are counted under."""
    return _caller.get()


@contextlib.contextmanager
def _scope(variable: contextvars.ContextVar[Any], value: object) -> Iterator[None]:
    token = variable.set(value)
    try:
        yield
    finally:
        variable.reset(token)


def _wrap(function: Callable[P, R], variable: contextvars.ContextVar[Any], value: object) -> Any:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            with _scope(variable, value):
                return await function(*args, **kwargs)

        return run_async

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with _scope(variable, value):
            return function(*args, **kwargs)

    return run


class _Marker(contextlib.ContextDecorator):
    """A ``with`` block that also decorates (one fresh scope per use)."""

    def __init__(self, variable: contextvars.ContextVar[Any], value: object) -> None:
        self._variable = variable
        self._value = value
        self._tokens: list[contextvars.Token[Any]] = []

    def __enter__(self) -> None:
        self._tokens.append(self._variable.set(self._value))

    def __exit__(self, *_: object) -> None:
        self._variable.reset(self._tokens.pop())

    def __call__(self, function: Callable[P, R]) -> Callable[P, R]:  # type: ignore[override]
        wrapped: Callable[P, R] = _wrap(function, self._variable, self._value)
        return wrapped


@overload
def critical(function: Callable[P, R], /) -> Callable[P, R]: ...
@overload
def critical() -> _Marker: ...
def critical(function: Callable[P, R] | None = None, /) -> Callable[P, R] | _Marker:
    """Mark work as critical: it may run in critical-only mode and spend the critical reserve.

    ``@critical``, ``@critical()`` or ``with critical():``. Logins and health
    checks (``/limits``) are always critical. Even critical work stops with
    :class:`~sfresilience.exceptions.BudgetExhausted` once the allocation is spent.
    """
    if function is None:
        return _Marker(_critical, True)  # noqa: FBT003  (the context value)
    return _wrap(function, _critical, True)  # type: ignore[no-any-return]  # noqa: FBT003


@overload
def caller(label: str, /) -> _Marker: ...
@overload
def caller(function: Callable[P, R], /) -> Callable[P, R]: ...
def caller(label_or_function: str | Callable[P, R], /) -> _Marker | Callable[P, R]:
    """Count the API calls made inside under a label, for ``client.budget.by_caller``.

    ``with caller("nightly-sync"):``, ``@caller("nightly-sync")``, or bare
    ``@caller``, which labels with the function's qualified name.
    """
    if isinstance(label_or_function, str):
        if not label_or_function.strip():
            msg = "a caller label must not be empty"
            raise ValueError(msg)
        return _Marker(_caller, label_or_function)
    function = label_or_function
    return _wrap(function, _caller, function.__qualname__)  # type: ignore[no-any-return]
