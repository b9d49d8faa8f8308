"""``resilient_query``'s keys: a template over the function's arguments, checked when decorated.

``key="accounts:{region}"`` names parameters of the decorated function; each
call renders it from that call's bound arguments. Plain values (text, numbers,
booleans, None, enums, dates, UUIDs) render as ``format`` renders them;
containers (lists, tuples, dicts, sets) and dataclasses as canonical JSON, so
``{"b": 1, "a": 2}`` and ``{"a": 2, "b": 1}`` give one key and a set one key
whatever its order. An object with no stable text of its own (``object``'s
default repr carries its address) is refused rather than giving a key that never
repeats: name one of its attributes instead (``{account.id}``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import inspect
import json
import re
import string
import uuid
from collections.abc import Callable, Mapping
from typing import Any


_PLAIN = (str, int, float, decimal.Decimal, uuid.UUID, dt.date, dt.time, enum.Enum)
_ROOT = re.compile(r"[^.\[]*")
_RECEIVERS = frozenset({"self", "cls"})


class UnstableKey(TypeError):
    """An argument has no text that is the same from one run to the next."""


def receiver_of(signature: inspect.Signature) -> str | None:
    """The name of a method's ``self``/``cls`` parameter, if the function has one."""
    first = next(iter(signature.parameters.values()), None)
    if first is not None and first.name in _RECEIVERS:
        return first.name
    return None


class KeyTemplate:
    """A key template, checked against *signature* when the function is decorated.

    Args:
        template: the template; None: every argument but the receiver and the
            clients, as canonical JSON.
        signature: the decorated function's.
        owner: the function's name, for errors.
        skip: arguments left out of a template-less key (the clients).
    """

    def __init__(
        self,
        template: str | None,
        signature: inspect.Signature,
        owner: str,
        skip: Callable[[object], bool] = lambda _value: False,
    ) -> None:
        self.template = template
        self._owner = owner
        self._skip = skip
        self._receiver = receiver_of(signature)
        if template is not None:
            _check(template, signature, owner)

    def render(self, arguments: Mapping[str, Any]) -> str:
        """The key of one call, from its bound arguments (defaults applied)."""
        if self.template is None:
            chosen = {
                name: value
                for name, value in arguments.items()
                if name != self._receiver and not self._skip(value)
            }
            return canonical(chosen, f"the arguments of {self._owner}")
        return _Formatter(self._owner).vformat(self.template, (), arguments)


def _check(template: str, signature: inspect.Signature, owner: str) -> None:
    names = list(signature.parameters)
    known = ", ".join(names) or "none"
    try:
        fields = [
            (field, spec)
            for _, field, spec, _ in string.Formatter().parse(template)
            if field is not None
        ]
    except ValueError as error:
        msg = f"resilient_query(key={template!r}) of {owner}: not a valid template ({error})"
        raise ValueError(msg) from None
    for field, spec in fields:
        root = _ROOT.match(field).group()  # type: ignore[union-attr]  # matches any text
        if root not in names:
            what = "{}" if not root else f"{{{root}}}"
            msg = (
                f"resilient_query(key={template!r}) of {owner}: {what} names no parameter "
                f"of {owner} (its parameters: {known})"
            )
            raise ValueError(msg)
        if spec and "{" in spec:
            msg = f"resilient_query(key={template!r}) of {owner}: nested fields are not supported"
            raise ValueError(msg)


class _Formatter(string.Formatter):
    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._field = ""

    def get_field(self, field_name: str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        self._field = field_name
        return super().get_field(field_name, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _PLAIN) and not isinstance(value, bool):
            return format(value, format_spec)
        text = canonical(value, f"{{{self._field}}} of {self._owner}")
        return format(text, format_spec)


def canonical(value: Any, where: str) -> str:
    """*value* as canonical JSON: sorted keys, sets sorted, dataclasses as dicts."""
    return json.dumps(_normal(value, where), sort_keys=True, separators=(",", ":"))


def _normal(value: Any, where: str) -> Any:  # noqa: PLR0911  (one return per kind of value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return _normal(value.value, where)
    if isinstance(value, Mapping):
        return {str(_normal(k, where)): _normal(v, where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(item, where) for item in value]
    if isinstance(value, set | frozenset):
        items = [_normal(item, where) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return {field.name: _normal(getattr(value, field.name), where) for field in fields}
    if isinstance(value, _PLAIN):
        return str(value)
    if _default_repr(value):
        msg = (
            f"resilient_query: {where} is a {type(value).__name__}, which has no stable text "
            "to key on; name one of its attributes in the key (e.g. {account.id})"
        )
        raise UnstableKey(msg)
    return repr(value)


def _default_repr(value: object) -> bool:
    """Whether *value*'s repr is ``object``'s own (which carries its address)."""
    own: object = type(value).__repr__
    return own is object.__repr__
