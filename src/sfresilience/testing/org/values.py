"""Checking JSON values against a field's type and storing them in canonical form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final

from .errors import ApiError
from .schema import Field
from .soql import Kind, parse_datetime


def render_datetime(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "+0000"


def _json_error(item: Field, value: object) -> ApiError:
    token = "VALUE_STRING" if isinstance(value, str) else "VALUE_OTHER"
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {item.type} from {token} value {value} "
        "or request may be missing a required field",
    )


def coerce(item: Field, value: object) -> object:
    """Check a JSON value against a field's type and store it in canonical form."""
    if isinstance(value, dict | list):
        raise _json_error(item, value)
    converter = _CONVERTERS[item.kind]
    try:
        return converter(item, value)
    except (TypeError, ValueError):
        raise _json_error(item, value) from None


def _to_string(_item: Field, value: object) -> object:
    if isinstance(value, bool):
        raise TypeError
    return value if isinstance(value, str) else str(value)


def _to_number(item: Field, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError
    number = float(value)
    if item.type == "int":
        if not number.is_integer():
            raise ValueError
        return int(number)
    return number


def _to_boolean(_item: Field, value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise TypeError


def _to_date(_item: Field, value: object) -> object:
    if not isinstance(value, str):
        raise TypeError
    return dt.date.fromisoformat(value[:10]).isoformat()


def _to_datetime(_item: Field, value: object) -> object:
    if not isinstance(value, str):
        raise TypeError
    moment = parse_datetime(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return render_datetime(moment)


def _to_id(_item: Field, _value: object) -> object:
    raise TypeError


_CONVERTERS: Final[dict[Kind, Callable[[Field, object], object]]] = {
    "string": _to_string,
    "number": _to_number,
    "boolean": _to_boolean,
    "date": _to_date,
    "datetime": _to_datetime,
    "id": _to_id,
}
