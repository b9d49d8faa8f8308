"""The SOQL syntax tree: what the parser builds, the binder resolves and the runner reads."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal, Protocol


Kind = Literal["string", "id", "number", "boolean", "date", "datetime", "address"]
ValueKind = Literal["string", "number", "boolean", "null", "date", "datetime", "dateliteral"]
Path = tuple[str, ...]
AggregateName = Literal["COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"]
AGGREGATES: frozenset[str] = frozenset({"COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX"})
DATE_FUNCTIONS: frozenset[str] = frozenset(
    {
        "CALENDAR_MONTH",
        "CALENDAR_QUARTER",
        "CALENDAR_YEAR",
        "DAY_IN_MONTH",
        "DAY_IN_WEEK",
        "DAY_IN_YEAR",
        "DAY_ONLY",
        "FISCAL_MONTH",
        "FISCAL_QUARTER",
        "FISCAL_YEAR",
        "HOUR_IN_DAY",
        "WEEK_IN_MONTH",
        "WEEK_IN_YEAR",
    }
)


# Fixed date literals: (unit, offset of the first unit from the current one, units).
_FIXED_LITERALS: dict[str, tuple[str, int, int]] = {
    "YESTERDAY": ("day", -1, 1),
    "TODAY": ("day", 0, 1),
    "TOMORROW": ("day", 1, 1),
    "LAST_WEEK": ("week", -1, 1),
    "THIS_WEEK": ("week", 0, 1),
    "NEXT_WEEK": ("week", 1, 1),
    "LAST_MONTH": ("month", -1, 1),
    "THIS_MONTH": ("month", 0, 1),
    "NEXT_MONTH": ("month", 1, 1),
    "LAST_90_DAYS": ("day", -90, 91),
    "NEXT_90_DAYS": ("day", 1, 90),
    "LAST_QUARTER": ("quarter", -1, 1),
    "THIS_QUARTER": ("quarter", 0, 1),
    "NEXT_QUARTER": ("quarter", 1, 1),
    "LAST_YEAR": ("year", -1, 1),
    "THIS_YEAR": ("year", 0, 1),
    "NEXT_YEAR": ("year", 1, 1),
}
_N_LITERAL_RE = re.compile(
    r"(?:(?P<dir>LAST|NEXT)_N_(?P<unit>DAYS|WEEKS|MONTHS|QUARTERS|YEARS)"
    r"|N_(?P<ago>DAYS|WEEKS|MONTHS|QUARTERS|YEARS)_AGO):(?P<n>\d+)",
    re.IGNORECASE,
)
_MONTHS_PER: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}


class SoqlError(Exception):
    """A query Salesforce would reject; the org turns it into a 400 ApiError."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class FieldRef:
    """A field path as written; after binding, canonical names and a kind.

    `label` marks `toLabel(field)`; `alias` is the name a grouped query gives it.
    """

    parts: Path
    offset: int
    kind: Kind | None = None
    label: bool = False
    alias: str | None = None


@dataclass(frozen=True)
class DateLiteral:
    """A relative date range such as TODAY or LAST_N_DAYS:7, resolved per query."""

    text: str
    unit: str
    offset: int
    count: int

    def bounds(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The first and last day of the range (inclusive), weeks starting on Sunday."""
        if self.unit in {"day", "week"}:
            size = 1 if self.unit == "day" else 7
            anchor = today
            if self.unit == "week":
                anchor -= dt.timedelta(days=(today.weekday() + 1) % 7)
            start = anchor + dt.timedelta(days=self.offset * size)
            return start, start + dt.timedelta(days=self.count * size - 1)
        size = _MONTHS_PER[self.unit]
        month = today.year * 12 + today.month - 1
        first = month - month % size + self.offset * size
        after = first + self.count * size
        end = dt.date(after // 12, after % 12 + 1, 1) - dt.timedelta(days=1)
        return dt.date(first // 12, first % 12 + 1, 1), end


def date_literal(text: str) -> DateLiteral | None:
    """The date literal spelled `text` (case-insensitive), or None if there is none."""
    fixed = _FIXED_LITERALS.get(text.upper())
    if fixed is not None:
        return DateLiteral(text.upper(), *fixed)
    match = _N_LITERAL_RE.fullmatch(text)
    if match is None:
        return None
    n = int(match["n"])
    if match["ago"]:
        return DateLiteral(text.upper(), match["ago"].lower()[:-1], -n, 1)
    unit = match["unit"].lower()[:-1]
    if match["dir"].upper() == "NEXT":
        return DateLiteral(text.upper(), unit, 1, n)
    # LAST_N_DAYS includes today; LAST_N_WEEKS/MONTHS/... stop before the current one.
    return DateLiteral(text.upper(), unit, -n, n + 1 if unit == "day" else n)


@dataclass(frozen=True)
class DateFunction:
    """`CALENDAR_YEAR(CreatedDate)` and the other date functions, with an alias."""

    function: str
    field: FieldRef
    alias: str | None = None

    @property
    def kind(self) -> Kind:
        return "date" if self.function == "DAY_ONLY" else "number"

    @property
    def offset(self) -> int:
        return self.field.offset


@dataclass(frozen=True)
class Aggregate:
    """`COUNT(field)`, `SUM(field)`, ... in the select list, HAVING or ORDER BY.

    `field` is None for the `COUNT()` of a HAVING clause or ORDER BY.
    """

    function: AggregateName
    field: FieldRef | None
    alias: str | None
    offset: int = 0

    @property
    def kind(self) -> Kind:
        if self.function in {"COUNT", "COUNT_DISTINCT", "AVG"} or self.field is None:
            return "number"
        return self.field.kind or "number"


Operand = FieldRef | DateFunction | Aggregate


@dataclass(frozen=True)
class Value:
    """A literal; `like` is the regex a LIKE pattern compiles to."""

    kind: ValueKind
    value: object
    offset: int
    like: str | None = None


@dataclass(frozen=True)
class Compare:
    """`operand op value`."""

    field: Operand
    op: str
    value: Value


@dataclass(frozen=True)
class InList:
    """`operand [NOT] IN (values)`."""

    field: Operand
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class SemiJoin:
    """`field [NOT] IN (SELECT idField FROM Object ...)`: a semi- or anti-join."""

    field: FieldRef
    query: Query
    negated: bool


@dataclass(frozen=True)
class Includes:
    """`multipicklist INCLUDES ('a;b', 'c')` (any value whose parts are all chosen), or EXCLUDES."""

    field: Operand
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    """`field LIKE 'pattern'`."""

    field: Operand
    pattern: Value


@dataclass(frozen=True)
class BoolOp:
    """A run of conditions joined by one of AND or OR."""

    op: Literal["AND", "OR"]
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    """`NOT condition`."""

    item: Expr


Expr = Compare | InList | SemiJoin | Includes | Like | BoolOp | Not


@dataclass(frozen=True)
class Subquery:
    """A parent-to-child subquery in the select list: FROM names a child relationship."""

    query: Query
    offset: int


SelectItem = FieldRef | Aggregate | DateFunction | Subquery


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key."""

    field: Operand
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    """A parsed SELECT statement.

    `fields` are the plain field paths of the select list and `select` every item in
    order; `fields_macro` is the FIELDS(ALL|STANDARD|CUSTOM) the list used, if any;
    `relationship` is set on a bound subquery: (the child's lookup field, the
    relationship name).
    """

    fields: tuple[FieldRef, ...]
    count: bool
    sobject: str
    sobject_offset: int
    where: Expr | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    aggregates: tuple[Aggregate, ...] = ()
    select: tuple[SelectItem, ...] = ()
    group_by: tuple[FieldRef | DateFunction, ...] = ()
    having: Expr | None = None
    for_update: bool = False
    fields_macro: str | None = None
    relationship: tuple[str, str] | None = None
    limit_offset: int = field(default=0, compare=False)

    @property
    def grouped(self) -> bool:
        """Whether rows are AggregateResults (aggregates or GROUP BY)."""
        return bool(self.aggregates or self.group_by)


class Catalog(Protocol):
    """Name resolution the binder needs; every lookup ignores case."""

    def resolve_object(self, name: str) -> str | None:
        """The canonical sObject name, or None when there is no such object."""
        ...

    def resolve_field(self, sobject: str, name: str) -> tuple[str, Kind] | None:
        """The canonical field name and its kind, or None."""
        ...

    def resolve_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:
        """The canonical relationship name and the parent sObject, or None."""
        ...

    def resolve_child(self, sobject: str, name: str) -> tuple[str, str, str] | None:
        """A child relationship: (its canonical name, the child sObject, the lookup field)."""
        ...

    def field_names(self, sobject: str, which: str) -> list[str]:
        """The fields FIELDS(ALL|STANDARD|CUSTOM) stands for."""
        ...

    def is_picklist(self, sobject: str, path: Path) -> bool:
        """Whether the field at `path` (canonical names) is a picklist, for toLabel()."""
        ...

    def is_multipicklist(self, sobject: str, path: Path) -> bool:
        """Whether the field at `path` is a multi-select picklist, for INCLUDES/EXCLUDES."""
        ...


def error_message(soql: str, offset: int, detail: str) -> str:
    """Salesforce's layout: the offending line, a caret, the position, the detail."""
    row = soql.count("\n", 0, offset) + 1
    line_start = soql.rfind("\n", 0, offset) + 1
    column = offset - line_start + 1
    lines = soql.splitlines() or [""]
    line = lines[min(row, len(lines)) - 1]
    caret = " " * (column - 1) + "^"
    return f"\n{line}\n{caret}\nERROR at Row:{row}:Column:{column}\n{detail}"


def malformed(soql: str, offset: int, detail: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", error_message(soql, offset, detail))
