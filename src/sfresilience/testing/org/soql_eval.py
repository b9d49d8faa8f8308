"""Evaluating bound SOQL: comparisons with SOQL's null and case rules, date literals,
date functions, semi-joins and ORDER BY."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .soql_ast import (
    BoolOp,
    Compare,
    DateFunction,
    DateLiteral,
    Expr,
    Includes,
    InList,
    Kind,
    Like,
    Not,
    Operand,
    OrderItem,
    Query,
    SemiJoin,
    Value,
)


Getter = Callable[[Operand], object]
Predicate = Callable[[Getter], bool]
T = TypeVar("T")
_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def parse_datetime(text: str) -> dt.datetime:
    """Parse Salesforce's `2024-01-31T10:15:00.000+0000` (or any ISO form)."""
    # fromisoformat reads Salesforce's +0000 offsets since 3.11, far faster than strptime.
    return dt.datetime.fromisoformat(text)


def comparable(kind: Kind, raw: object) -> object:
    """The value SOQL compares: text ignores case, ids compare on 15 chars."""
    if kind == "string":
        return str(raw).casefold()
    if kind == "id":
        return str(raw)[:15]
    if kind == "number":
        return float(raw)  # type: ignore[arg-type]
    if kind == "boolean":
        return bool(raw)
    if kind == "date":
        return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    return raw if isinstance(raw, dt.datetime) else parse_datetime(str(raw))


def _kind(field: Operand) -> Kind:
    kind = field.kind
    assert kind is not None  # noqa: S101  (only bound queries are compiled)
    return kind


def _day_of(kind: Kind, raw: object) -> dt.date:
    """The UTC calendar day of a date or datetime value."""
    value = comparable(kind, raw)
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).date()
    assert isinstance(value, dt.date)  # noqa: S101  (binder allows only date kinds)
    return value


_RANGE_CHECKS: dict[str, Callable[[dt.date, dt.date, dt.date], bool]] = {
    "=": lambda day, first, last: first <= day <= last,
    "!=": lambda day, first, last: not first <= day <= last,
    "<>": lambda day, first, last: not first <= day <= last,
    "<": lambda day, first, _last: day < first,
    ">": lambda day, _first, last: day > last,
    "<=": lambda day, _first, last: day <= last,
    ">=": lambda day, first, _last: day >= first,
}


def _compare_range(field: Operand, op: str, literal: DateLiteral, today: dt.date) -> Predicate:
    """A date literal is a range: = within it, < before its start, > after its end."""
    kind = _kind(field)
    first, last = literal.bounds(today)
    check = _RANGE_CHECKS[op]
    null_result = op in {"!=", "<>"}

    def predicate(get: Getter) -> bool:
        actual = get(field)
        if actual is None:
            return null_result
        return check(_day_of(kind, actual), first, last)

    return predicate


def _compare(field: Operand, op: str, value: Value, today: dt.date) -> Predicate:
    if isinstance(value.value, DateLiteral):
        return _compare_range(field, op, value.value, today)
    if value.kind == "null":
        wants_null = op == "="
        if op not in {"=", "!=", "<>"}:
            return lambda _get: False
        return lambda get: (get(field) is None) == wants_null
    kind = _kind(field)
    target = comparable(kind, value.value)
    check = _COMPARATORS[op]
    # SOQL treats null as a value: a null field is "not equal" to any literal.
    null_result = op in {"!=", "<>"}

    def predicate(get: Getter) -> bool:
        actual = get(field)
        if actual is None:
            return null_result
        return check(comparable(kind, actual), target)

    return predicate


def _in_list(field: Operand, values: tuple[Value, ...], negated: bool, today: dt.date) -> Predicate:
    kind = _kind(field)
    ranges = [item.value.bounds(today) for item in values if isinstance(item.value, DateLiteral)]
    targets = {
        comparable(kind, item.value) for item in values if item.kind not in {"null", "dateliteral"}
    }
    has_null = any(item.kind == "null" for item in values)

    def found_in(actual: object) -> bool:
        if comparable(kind, actual) in targets:
            return True
        if not ranges:
            return False
        day = _day_of(kind, actual)
        return any(first <= day <= last for first, last in ranges)

    def predicate(get: Getter) -> bool:
        actual = get(field)
        found = has_null if actual is None else found_in(actual)
        return found != negated

    return predicate


def _like(field: Operand, pattern: Value) -> Predicate:
    regex = re.compile(pattern.like or "", re.IGNORECASE | re.DOTALL)

    def predicate(get: Getter) -> bool:
        actual = get(field)
        return actual is not None and regex.fullmatch(str(actual)) is not None

    return predicate


def utc_today() -> dt.date:
    """Today's date in UTC: the default clock for date literals."""
    return dt.datetime.now(dt.UTC).date()


def compile_where(  # noqa: PLR0911 - one return per kind of condition
    expr: Expr,
    today: dt.date | None = None,
    semi: Callable[[Query], frozenset[object]] = lambda _query: frozenset(),
) -> Predicate:
    """Turn a bound condition into a predicate over a record's getter.

    Date literals such as TODAY resolve against `today` (default: the UTC date now);
    `semi(query)` answers a semi-join's subquery with the (15-character) ids it selects.
    """
    day = utc_today() if today is None else today
    match expr:
        case Compare(field, op, value):
            return _compare(field, op, value, day)
        case InList(field, values, negated):
            return _in_list(field, values, negated, day)
        case Like(field, pattern):
            return _like(field, pattern)
        case SemiJoin(field, query, negated):
            return _in_set(field, semi(query), negated)
        case Includes(field, values, negated):
            return _includes(field, values, negated)
        case BoolOp("AND", items):
            parts = [compile_where(item, day, semi) for item in items]
            return lambda get: all(part(get) for part in parts)
        case BoolOp(_, items):
            parts = [compile_where(item, day, semi) for item in items]
            return lambda get: any(part(get) for part in parts)
        case Not(item):
            inner = compile_where(item, day, semi)
            return lambda get: not inner(get)


def order(
    rows: Sequence[T], items: Sequence[OrderItem], read: Callable[[T, Operand], object]
) -> list[T]:
    """Sort rows by ORDER BY keys; nulls go first or last regardless of direction."""
    result = list(rows)
    # Stable sorts applied from the last key to the first give a multi-key order.
    for item in reversed(items):
        kind = _kind(item.field)
        key = item.field
        nulls = [row for row in result if read(row, key) is None]
        present = [row for row in result if read(row, key) is not None]
        present.sort(
            key=lambda row: comparable(kind, read(row, key)),  # type: ignore[arg-type,return-value]
            reverse=item.descending,
        )
        result = nulls + present if item.nulls_first else present + nulls
    return result


def _includes(field: Operand, values: tuple[Value, ...], negated: bool) -> Predicate:
    """Any listed value whose `;`-separated parts are all among the field's choices."""
    wanted = [
        {part.strip().casefold() for part in str(item.value).split(";")}
        for item in values
        if item.value is not None
    ]

    def predicate(get: Getter) -> bool:
        actual = get(field)
        chosen = {part.strip().casefold() for part in str(actual).split(";")} if actual else set()
        found = any(parts <= chosen for parts in wanted)
        return found != negated

    return predicate


def _in_set(field: Operand, ids: frozenset[object], negated: bool) -> Predicate:
    def predicate(get: Getter) -> bool:
        actual = get(field)
        found = actual is not None and str(actual)[:15] in ids
        return found != negated

    return predicate


def date_part(function: str, kind: Kind, raw: object) -> object:
    """A date function's value; datetimes are read in UTC (the fake's only time zone)."""
    if raw is None:
        return None
    value = comparable(kind, raw)
    moment = value if isinstance(value, dt.datetime) else None
    if moment is not None and moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    day = moment.date() if moment is not None else value
    assert isinstance(day, dt.date)  # noqa: S101  (the binder allows date kinds only)
    if function == "HOUR_IN_DAY":
        return moment.hour if moment is not None else 0
    if function == "DAY_ONLY":
        return day.isoformat()
    return _DAY_PARTS[function.removeprefix("FISCAL_").removeprefix("CALENDAR_")](day)


# Fiscal years start in January, so FISCAL_X is CALENDAR_X.
_DAY_PARTS: dict[str, Callable[[dt.date], int]] = {
    "MONTH": lambda day: day.month,
    "QUARTER": lambda day: (day.month - 1) // 3 + 1,
    "YEAR": lambda day: day.year,
    "DAY_IN_MONTH": lambda day: day.day,
    "DAY_IN_WEEK": lambda day: (day.weekday() + 1) % 7 + 1,
    "DAY_IN_YEAR": lambda day: day.timetuple().tm_yday,
    "WEEK_IN_MONTH": lambda day: (day.day - 1) // 7 + 1,
    "WEEK_IN_YEAR": lambda day: (day.timetuple().tm_yday - 1) // 7 + 1,
}


def apply_function(item: DateFunction, raw: object) -> object:
    return date_part(item.function, item.field.kind or "date", raw)
