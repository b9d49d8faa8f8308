"""The SOQL subset the fake Salesforce understands: lexer, parser, binder, evaluator.

The module knows nothing about the org's data: names are resolved through a
`Catalog`, and values are read through a `Getter`, so the org stays the only
owner of records and locking.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar


Kind = Literal["string", "id", "number", "boolean", "date", "datetime"]
ValueKind = Literal["string", "number", "boolean", "null", "date", "datetime", "dateliteral"]
Path = tuple[str, ...]
Getter = Callable[[Path], object]
Predicate = Callable[[Getter], bool]
T = TypeVar("T")

_KEYWORDS = frozenset(
    {
        "AND",
        "ASC",
        "BY",
        "DESC",
        "FALSE",
        "FIRST",
        "FROM",
        "GROUP",
        "HAVING",
        "IN",
        "LAST",
        "LIKE",
        "LIMIT",
        "NOT",
        "NULL",
        "NULLS",
        "OFFSET",
        "OR",
        "ORDER",
        "SELECT",
        "TRUE",
        "WHERE",
        "WITH",
    }
)
_TOKEN_RE = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
    |(?P<number>[+-]?\d+(?:\.\d+)?)(?!\w)
    |(?P<dateliteral>[A-Za-z_]\w*:\d+)(?!\w)
    |(?P<ident>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    |(?P<string>')
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_TYPE_NAMES: dict[Kind, str] = {
    "string": "string",
    "id": "id",
    "number": "double",
    "boolean": "boolean",
    "date": "date",
    "datetime": "dateTime",
}
_ACCEPTS: dict[Kind, ValueKind] = {
    "string": "string",
    "id": "string",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
}


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
class Token:
    """One lexeme with its decoded value and its offset in the query text."""

    kind: str
    text: str
    offset: int
    value: object = None
    like: str | None = None

    def is_keyword(self, *words: str) -> bool:
        """Whether this is one of the given keywords, ignoring case."""
        return self.kind == "ident" and self.text.upper() in words


@dataclass(frozen=True)
class FieldRef:
    """A field path as written; after binding, canonical names and a kind."""

    parts: Path
    offset: int
    kind: Kind | None = None


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
class Value:
    """A literal; `like` is the regex a LIKE pattern compiles to."""

    kind: ValueKind
    value: object
    offset: int
    like: str | None = None


@dataclass(frozen=True)
class Compare:
    """`field op value`."""

    field: FieldRef
    op: str
    value: Value


@dataclass(frozen=True)
class InList:
    """`field [NOT] IN (values)`."""

    field: FieldRef
    values: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class Like:
    """`field LIKE 'pattern'`."""

    field: FieldRef
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


Expr = Compare | InList | Like | BoolOp | Not


@dataclass(frozen=True)
class Aggregate:
    """`COUNT(field)` or `COUNT_DISTINCT(field)` in the select list, with an alias."""

    function: Literal["COUNT", "COUNT_DISTINCT"]
    field: FieldRef
    alias: str | None


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key."""

    field: FieldRef
    descending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    """A parsed SELECT statement."""

    fields: tuple[FieldRef, ...]
    count: bool
    sobject: str
    sobject_offset: int
    where: Expr | None
    order_by: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    aggregates: tuple[Aggregate, ...] = ()


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


def error_message(soql: str, offset: int, detail: str) -> str:
    """Salesforce's layout: the offending line, a caret, the position, the detail."""
    row = soql.count("\n", 0, offset) + 1
    line_start = soql.rfind("\n", 0, offset) + 1
    column = offset - line_start + 1
    lines = soql.splitlines() or [""]
    line = lines[min(row, len(lines)) - 1]
    caret = " " * (column - 1) + "^"
    return f"\n{line}\n{caret}\nERROR at Row:{row}:Column:{column}\n{detail}"


def _malformed(soql: str, offset: int, detail: str) -> SoqlError:
    return SoqlError("MALFORMED_QUERY", error_message(soql, offset, detail))


def _read_string(soql: str, start: int) -> tuple[Token, int]:
    """Decode a quoted literal from the quote at `start`; return it and the end."""
    chars: list[str] = []
    pattern: list[str] = []
    index = start + 1
    while index < len(soql):
        char = soql[index]
        if char == "'":
            text = soql[start : index + 1]
            token = Token("string", text, start, "".join(chars), "".join(pattern))
            return token, index + 1
        if char == "\\":
            escaped = soql[index + 1 : index + 2]
            if escaped in _ESCAPES:
                decoded = _ESCAPES[escaped]
            elif escaped in {"'", '"', "\\", "%", "_"}:
                decoded = escaped
            else:
                raise _malformed(
                    soql,
                    index,
                    f"Invalid string literal '{soql[start + 1 : index + 2]}'. "
                    f"Illegal character sequence '\\{escaped}' in string literal.",
                )
            chars.append(decoded)
            pattern.append(re.escape(decoded))
            index += 2
            continue
        chars.append(char)
        pattern.append({"%": ".*", "_": "."}.get(char, re.escape(char)))
        index += 1
    raise _malformed(soql, len(soql), "mismatched character '<EOF>' expecting '''")


def tokenize(soql: str) -> list[Token]:
    """Split a query into tokens, ending with an <EOF> token."""
    tokens: list[Token] = []
    position = 0
    while position < len(soql):
        match = _TOKEN_RE.match(soql, position)
        if match is None:
            raise _malformed(soql, position, f"unexpected token: {soql[position]}")
        kind = match.lastgroup or ""
        if kind == "string":
            token, position = _read_string(soql, position)
            tokens.append(token)
            continue
        text = match.group()
        if kind != "ws":
            tokens.append(Token(kind, text, position, _literal_value(kind, text)))
        position = match.end()
    # Salesforce points one column past the end for a missing token.
    tokens.append(Token("eof", "<EOF>", len(soql.rstrip()) + 1))
    return tokens


def _literal_value(kind: str, text: str) -> object:
    if kind == "number":
        return float(text) if "." in text else int(text)
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "datetime":
        return dt.datetime.fromisoformat(text)
    return None


class _Parser:
    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = tokenize(soql)
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.peek()
        return _malformed(self.soql, token.offset, f"unexpected token: {token.text}")

    def accept(self, *words: str) -> Token | None:
        if self.peek().is_keyword(*words):
            return self.advance()
        return None

    def expect(self, *words: str) -> Token:
        token = self.accept(*words)
        if token is None:
            raise self.unexpected()
        return token

    def accept_punct(self, text: str) -> bool:
        if self.peek().kind == "punct" and self.peek().text == text:
            self.index += 1
            return True
        return False

    def expect_punct(self, text: str) -> None:
        if not self.accept_punct(text):
            raise self.unexpected()

    def name(self) -> Token:
        token = self.peek()
        if token.kind != "ident" or token.text.upper() in _KEYWORDS:
            raise self.unexpected()
        return self.advance()

    def field(self) -> FieldRef:
        token = self.name()
        return FieldRef(tuple(token.text.split(".")), token.offset)

    def integer(self) -> int:
        token = self.peek()
        if token.kind != "number" or not isinstance(token.value, int):
            raise self.unexpected()
        if token.value < 0:
            raise self.unexpected()
        self.index += 1
        return token.value

    def query(self) -> Query:
        self.expect("SELECT")
        count = self.count()
        fields: list[FieldRef] = []
        aggregates: list[Aggregate] = []
        while not count:
            aggregate = self.aggregate()
            if aggregate is None:
                fields.append(self.field())
            else:
                aggregates.append(aggregate)
            if not self.accept_punct(","):
                break
        self.expect("FROM")
        sobject = self.name()
        if "." in sobject.text:
            raise self.unexpected(sobject)
        where = self.condition() if self.accept("WHERE") else None
        if self.accept("WITH"):
            # Sharing and field-level security are not modelled: accept and ignore.
            self.expect("SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE")
        order_by = self.order_by() if self.accept("ORDER") else ()
        limit = self.integer() if self.accept("LIMIT") else None
        offset = self.integer() if self.accept("OFFSET") else None
        if self.peek().kind != "eof":
            raise self.unexpected()
        ungrouped = [(ref, "Field") for ref in fields]
        ungrouped += [(item.field, "Ordered field") for item in order_by]
        if aggregates and ungrouped:
            ref, what = ungrouped[0]
            detail = f"{what} must be grouped or aggregated: {'.'.join(ref.parts)}"
            raise _malformed(self.soql, ref.offset, detail)
        return Query(
            tuple(fields),
            count,
            sobject.text,
            sobject.offset,
            where,
            order_by,
            limit,
            offset,
            tuple(aggregates),
        )

    def count(self) -> bool:
        """`COUNT()`: the whole select list, answered with totalSize only."""
        following = self.tokens[self.index + 1 : self.index + 3]
        texts = [token.text for token in following]
        if not (self.peek().is_keyword("COUNT") and texts == ["(", ")"]):
            return False
        self.index += 3
        return True

    def aggregate(self) -> Aggregate | None:
        """`COUNT(field) [alias]` or `COUNT_DISTINCT(field) [alias]`, else None."""
        following = self.tokens[self.index + 1]
        if not (self.peek().is_keyword("COUNT", "COUNT_DISTINCT") and following.text == "("):
            return None
        function: Literal["COUNT", "COUNT_DISTINCT"] = (
            "COUNT" if self.advance().text.upper() == "COUNT" else "COUNT_DISTINCT"
        )
        self.index += 1
        field = self.field()
        self.expect_punct(")")
        alias = None
        token = self.peek()
        if token.kind == "ident" and token.text.upper() not in _KEYWORDS and "." not in token.text:
            alias = self.advance().text
        return Aggregate(function, field, alias)

    def order_by(self) -> tuple[OrderItem, ...]:
        self.expect("BY")
        items = [self.order_item()]
        while self.accept_punct(","):
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        field = self.field()
        descending = self.accept("ASC", "DESC")
        is_descending = descending is not None and descending.text.upper() == "DESC"
        nulls_first = not is_descending
        if self.accept("NULLS"):
            nulls_first = self.expect("FIRST", "LAST").text.upper() == "FIRST"
        return OrderItem(field, is_descending, nulls_first)

    def condition(self) -> Expr:
        first = self.unary()
        joiner = self.accept("AND", "OR")
        if joiner is None:
            return first
        op: Literal["AND", "OR"] = "AND" if joiner.text.upper() == "AND" else "OR"
        items = [first, self.unary()]
        while self.accept(op):
            items.append(self.unary())
        # SOQL has no precedence between AND and OR: mixing them needs parentheses.
        if self.peek().is_keyword("AND", "OR"):
            raise self.unexpected()
        return BoolOp(op, tuple(items))

    def unary(self) -> Expr:
        if self.accept("NOT"):
            return Not(self.unary())
        if self.accept_punct("("):
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.simple()

    def simple(self) -> Expr:
        field = self.field()
        token = self.peek()
        if token.kind == "op":
            self.index += 1
            return Compare(field, token.text, self.value())
        if self.accept("LIKE"):
            pattern = self.value()
            if pattern.kind != "string":
                raise self.unexpected(self.tokens[self.index - 1])
            return Like(field, pattern)
        negated = self.accept("NOT") is not None
        self.expect("IN")
        self.expect_punct("(")
        values = [self.value()]
        while self.accept_punct(","):
            values.append(self.value())
        self.expect_punct(")")
        return InList(field, tuple(values), negated)

    def value(self) -> Value:
        token = self.advance()
        if token.kind in {"string", "number", "date", "datetime"}:
            kind: ValueKind = token.kind  # type: ignore[assignment]
            return Value(kind, token.value, token.offset, token.like)
        if token.is_keyword("TRUE", "FALSE"):
            return Value("boolean", token.text.upper() == "TRUE", token.offset)
        if token.is_keyword("NULL"):
            return Value("null", None, token.offset)
        if token.kind in {"ident", "dateliteral"}:
            literal = date_literal(token.text)
            if literal is not None:
                return Value("dateliteral", literal, token.offset)
        raise self.unexpected(token)


def parse(soql: str) -> Query:
    """Parse a SELECT statement, raising MALFORMED_QUERY on bad syntax."""
    return _Parser(soql).query()


class _Binder:
    def __init__(self, soql: str, catalog: Catalog, sobject: str) -> None:
        self.soql = soql
        self.catalog = catalog
        self.sobject = sobject

    def field(self, ref: FieldRef) -> FieldRef:
        current = self.sobject
        canonical: list[str] = []
        for part in ref.parts[:-1]:
            relationship = self.catalog.resolve_relationship(current, part)
            if relationship is None:
                raise self.invalid_field(
                    ref,
                    f"Didn't understand relationship '{part}' in field path. "
                    "If you are attempting to use a custom relationship, be sure to "
                    "append the '__r' after the custom relationship name. Please "
                    "reference your WSDL or the describe call for the appropriate "
                    "names.",
                )
            canonical.append(relationship[0])
            current = relationship[1]
        resolved = self.catalog.resolve_field(current, ref.parts[-1])
        if resolved is None:
            raise self.invalid_field(
                ref,
                f"No such column '{ref.parts[-1]}' on entity '{current}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after "
                "the custom field name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        canonical.append(resolved[0])
        return FieldRef(tuple(canonical), ref.offset, resolved[1])

    def invalid_field(self, ref: FieldRef, detail: str) -> SoqlError:
        return SoqlError("INVALID_FIELD", error_message(self.soql, ref.offset, detail))

    def value(self, field: FieldRef, value: Value) -> Value:
        assert field.kind is not None  # noqa: S101  (bound fields always carry a kind)
        if value.kind in {"null", _ACCEPTS[field.kind]}:
            return value
        if value.kind == "dateliteral" and field.kind in {"date", "datetime"}:
            return value
        quoting = "be" if field.kind in {"string", "id"} else "not be"
        detail = (
            f"value of filter criterion for field '{field.parts[-1]}' must be of "
            f"type {_TYPE_NAMES[field.kind]} and should {quoting} enclosed in quotes"
        )
        raise SoqlError("INVALID_FIELD", error_message(self.soql, value.offset, detail))

    def expr(self, expr: Expr) -> Expr:
        match expr:
            case Compare(field, op, value):
                bound = self.field(field)
                return Compare(bound, op, self.value(bound, value))
            case InList(field, values, negated):
                bound = self.field(field)
                checked = tuple(self.value(bound, item) for item in values)
                return InList(bound, checked, negated)
            case Like(field, pattern):
                bound = self.field(field)
                if bound.kind != "string":
                    detail = f"invalid operator on field: {bound.parts[-1]}"
                    message = error_message(self.soql, field.offset, detail)
                    raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", message)
                return Like(bound, pattern)
            case BoolOp(op, items):
                return BoolOp(op, tuple(self.expr(item) for item in items))
            case Not(item):
                return Not(self.expr(item))


def bind(soql: str, query: Query, catalog: Catalog) -> Query:
    """Resolve names to canonical case and check literal types against fields."""
    sobject = catalog.resolve_object(query.sobject)
    if sobject is None:
        detail = (
            f"sObject type '{query.sobject}' is not supported. If you are attempting "
            "to use a custom object, be sure to append the '__c' after the entity "
            "name. Please reference your WSDL or the describe call for the "
            "appropriate names."
        )
        message = error_message(soql, query.sobject_offset, detail)
        raise SoqlError("INVALID_TYPE", message)
    binder = _Binder(soql, catalog, sobject)
    fields: dict[Path, FieldRef] = {}
    for ref in query.fields:
        bound = binder.field(ref)
        fields.setdefault(bound.parts, bound)
    order_by = tuple(
        dataclasses.replace(item, field=binder.field(item.field)) for item in query.order_by
    )
    where = None if query.where is None else binder.expr(query.where)
    aggregates = tuple(
        dataclasses.replace(item, field=binder.field(item.field)) for item in query.aggregates
    )
    return dataclasses.replace(
        query,
        aggregates=aggregates,
        fields=tuple(fields.values()),
        sobject=sobject,
        where=where,
        order_by=order_by,
    )


def parse_datetime(text: str) -> dt.datetime:
    """Parse Salesforce's `2024-01-31T10:15:00.000+0000` (or any ISO form)."""
    try:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
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


def _kind(field: FieldRef) -> Kind:
    assert field.kind is not None  # noqa: S101  (only bound queries are compiled)
    return field.kind


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


def _compare_range(field: FieldRef, op: str, literal: DateLiteral, today: dt.date) -> Predicate:
    """A date literal is a range: = within it, < before its start, > after its end."""
    path = field.parts
    kind = _kind(field)
    first, last = literal.bounds(today)
    check = _RANGE_CHECKS[op]
    null_result = op in {"!=", "<>"}

    def predicate(get: Getter) -> bool:
        actual = get(path)
        if actual is None:
            return null_result
        return check(_day_of(kind, actual), first, last)

    return predicate


def _compare(field: FieldRef, op: str, value: Value, today: dt.date) -> Predicate:
    path = field.parts
    if isinstance(value.value, DateLiteral):
        return _compare_range(field, op, value.value, today)
    if value.kind == "null":
        wants_null = op == "="
        if op not in {"=", "!=", "<>"}:
            return lambda _get: False
        return lambda get: (get(path) is None) == wants_null
    kind = _kind(field)
    target = comparable(kind, value.value)
    check = _COMPARATORS[op]
    # SOQL treats null as a value: a null field is "not equal" to any literal.
    null_result = op in {"!=", "<>"}

    def predicate(get: Getter) -> bool:
        actual = get(path)
        if actual is None:
            return null_result
        return check(comparable(kind, actual), target)

    return predicate


def _in_list(
    field: FieldRef, values: tuple[Value, ...], negated: bool, today: dt.date
) -> Predicate:
    path = field.parts
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
        actual = get(path)
        found = has_null if actual is None else found_in(actual)
        return found != negated

    return predicate


def _like(field: FieldRef, pattern: Value) -> Predicate:
    path = field.parts
    regex = re.compile(pattern.like or "", re.IGNORECASE | re.DOTALL)

    def predicate(get: Getter) -> bool:
        actual = get(path)
        return actual is not None and regex.fullmatch(str(actual)) is not None

    return predicate


def utc_today() -> dt.date:
    """Today's date in UTC: the default clock for date literals."""
    return dt.datetime.now(dt.UTC).date()


def compile_where(expr: Expr, today: dt.date | None = None) -> Predicate:
    """Turn a bound condition into a predicate over a record's getter.

    Date literals such as TODAY resolve against `today` (default: the UTC date now).
    """
    day = utc_today() if today is None else today
    match expr:
        case Compare(field, op, value):
            return _compare(field, op, value, day)
        case InList(field, values, negated):
            return _in_list(field, values, negated, day)
        case Like(field, pattern):
            return _like(field, pattern)
        case BoolOp("AND", items):
            parts = [compile_where(item, day) for item in items]
            return lambda get: all(part(get) for part in parts)
        case BoolOp(_, items):
            parts = [compile_where(item, day) for item in items]
            return lambda get: any(part(get) for part in parts)
        case Not(item):
            inner = compile_where(item, day)
            return lambda get: not inner(get)


def order(
    rows: Sequence[T], items: Sequence[OrderItem], read: Callable[[T, Path], object]
) -> list[T]:
    """Sort rows by ORDER BY keys; nulls go first or last regardless of direction."""
    result = list(rows)
    # Stable sorts applied from the last key to the first give a multi-key order.
    for item in reversed(items):
        kind = _kind(item.field)
        path = item.field.parts
        nulls = [row for row in result if read(row, path) is None]
        present = [row for row in result if read(row, path) is not None]
        present.sort(
            key=lambda row: comparable(kind, read(row, path)),  # type: ignore[arg-type,return-value]
            reverse=item.descending,
        )
        result = nulls + present if item.nulls_first else present + nulls
    return result
