"""The SOQL the fake Salesforce understands: lexer and parser.

The syntax tree lives in `soql_ast`, name resolution in `soql_bind` and evaluation in
`soql_eval`; this module re-exports what the rest of the org uses. The module knows
nothing about the org's data: names are resolved through a `Catalog`.
"""

from __future__ import annotations

from typing import Literal, cast

from .soql_ast import (
    AGGREGATES,
    DATE_FUNCTIONS,
    Aggregate,
    AggregateName,
    BoolOp,
    Catalog,
    Compare,
    DateFunction,
    DateLiteral,
    Expr,
    FieldRef,
    Includes,
    InList,
    Kind,
    Like,
    Not,
    Operand,
    OrderItem,
    Path,
    Query,
    SelectItem,
    SemiJoin,
    SoqlError,
    Subquery,
    Value,
    ValueKind,
    date_literal,
    error_message,
    malformed,
)
from .soql_bind import bind
from .soql_eval import (
    Getter,
    Predicate,
    apply_function,
    comparable,
    compile_where,
    order,
    parse_datetime,
    utc_today,
)
from .soql_lex import KEYWORDS, Token, tokenize


__all__ = [
    "Aggregate",
    "Catalog",
    "DateFunction",
    "DateLiteral",
    "FieldRef",
    "Getter",
    "Kind",
    "Operand",
    "Path",
    "Predicate",
    "Query",
    "SelectItem",
    "SoqlError",
    "Subquery",
    "apply_function",
    "bind",
    "comparable",
    "compile_where",
    "date_literal",
    "error_message",
    "order",
    "parse",
    "parse_datetime",
    "tokenize",
    "utc_today",
]


class _Parser:
    def __init__(self, soql: str, tokens: list[Token], start: int = 0) -> None:
        self.soql = soql
        self.tokens = tokens
        self.index = start

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.peek()
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.peek()
        return malformed(self.soql, token.offset, f"unexpected token: {token.text}")

    def accept(self, *words: str) -> Token | None:
        if self.peek().is_keyword(*words):
            return self.advance()
        return None

    def expect(self, *words: str) -> Token:
        token = self.accept(*words)
        if token is None:
            raise self.unexpected()
        return token

    def at_punct(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "punct" and token.text == text

    def accept_punct(self, text: str) -> bool:
        if self.at_punct(text):
            self.advance()
            return True
        return False

    def expect_punct(self, text: str) -> None:
        if not self.accept_punct(text):
            raise self.unexpected()

    def name(self) -> Token:
        token = self.peek()
        if token.kind != "ident" or token.text.upper() in KEYWORDS:
            raise self.unexpected()
        return self.advance()

    def field(self) -> FieldRef:
        token = self.name()
        return FieldRef(tuple(token.text.split(".")), token.offset)

    def alias(self) -> str | None:
        token = self.peek()
        if token.kind == "ident" and token.text.upper() not in KEYWORDS and "." not in token.text:
            return self.advance().text
        return None

    def integer(self) -> int:
        token = self.peek()
        if token.kind != "number" or not isinstance(token.value, int) or token.value < 0:
            raise self.unexpected()
        self.advance()
        return token.value

    def is_call(self, *names: str) -> bool:
        """Whether a function call `NAME(` of one of `names` starts here."""
        token = self.peek()
        return token.kind == "ident" and token.text.upper() in names and self.at_punct("(", 1)

    # -- the statement -----------------------------------------------------------

    def query(self, *, nested: bool = False) -> Query:
        self.expect("SELECT")
        count, select, macro = self.select_list()
        self.expect("FROM")
        sobject = self.name()
        where = self.condition() if self.accept("WHERE") else None
        if self.accept("WITH"):
            # Sharing and field-level security are not modelled: accept and ignore.
            self.expect("SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE")
        group_by = self.group_by() if self.peek().is_keyword("GROUP") else ()
        having = self.condition() if group_by and self.accept("HAVING") else None
        order_by = self.order_by() if self.accept("ORDER") else ()
        limit_token = self.peek()
        limit = self.integer() if self.accept("LIMIT") else None
        offset = self.integer() if self.accept("OFFSET") else None
        for_update = self.locking(order_by)
        if not nested and self.peek().kind != "eof":
            raise self.unexpected()
        fields = tuple(item for item in select if isinstance(item, FieldRef))
        aggregates = tuple(item for item in select if isinstance(item, Aggregate))
        return Query(
            fields,
            count,
            sobject.text,
            sobject.offset,
            where,
            order_by,
            limit,
            offset,
            aggregates,
            select=select,
            group_by=group_by,
            having=having,
            for_update=for_update,
            fields_macro=macro,
            limit_offset=limit_token.offset,
        )

    def locking(self, order_by: tuple[OrderItem, ...]) -> bool:
        """`FOR VIEW`, `FOR REFERENCE` (accepted) or `FOR UPDATE` (locks the records)."""
        start = self.accept("FOR")
        if start is None:
            return False
        mode = self.expect("VIEW", "REFERENCE", "UPDATE").text.upper()
        if mode == "UPDATE" and order_by:
            raise malformed(
                self.soql, start.offset, "ORDER BY is not allowed in a query that uses locking"
            )
        return mode == "UPDATE"

    def select_list(self) -> tuple[bool, tuple[SelectItem, ...], str | None]:
        if self.is_call("COUNT") and self.at_punct(")", 2):
            self.index += 3
            return True, (), None
        items: list[SelectItem] = []
        macro = None
        while True:
            if self.is_call("FIELDS"):
                self.index += 2
                macro = self.expect("ALL", "STANDARD", "CUSTOM").text.upper()
                self.expect_punct(")")
            else:
                items.append(self.select_item())
            if not self.accept_punct(","):
                break
        return False, tuple(items), macro

    def select_item(self) -> SelectItem:
        token = self.peek()
        if self.at_punct("("):
            self.advance()
            inner = self.query(nested=True)
            self.expect_punct(")")
            return Subquery(inner, token.offset)
        if token.is_keyword("TYPEOF"):
            raise malformed(self.soql, token.offset, "TYPEOF is not supported by this fake org")
        if self.is_call(*AGGREGATES):
            return self.aggregate(allow_empty=False)
        if self.is_call(*DATE_FUNCTIONS):
            function = self.date_function()
            return DateFunction(function.function, function.field, self.alias())
        if self.is_call("TOLABEL"):
            self.index += 2
            field = self.field()
            self.expect_punct(")")
            return FieldRef(field.parts, field.offset, label=True, alias=self.alias())
        return self.field()

    def aggregate(self, *, allow_empty: bool) -> Aggregate:
        """`SUM(field) [alias]` and the others; `COUNT()` where `allow_empty`."""
        token = self.advance()
        function = cast("AggregateName", token.text.upper())
        self.advance()
        if allow_empty and function == "COUNT" and self.accept_punct(")"):
            return Aggregate(function, None, None, token.offset)
        field = self.field()
        self.expect_punct(")")
        return Aggregate(function, field, self.alias(), token.offset)

    def date_function(self) -> DateFunction:
        function = self.advance().text.upper()
        self.advance()
        if self.is_call("CONVERTTIMEZONE"):
            raise self.unexpected()
        field = self.field()
        self.expect_punct(")")
        return DateFunction(function, field)

    def group_by(self) -> tuple[FieldRef | DateFunction, ...]:
        self.expect("GROUP")
        self.expect("BY")
        if self.is_call("ROLLUP", "CUBE"):
            token = self.peek()
            raise malformed(
                self.soql,
                token.offset,
                f"GROUP BY {token.text.upper()} is not supported by this fake org",
            )
        items: list[FieldRef | DateFunction] = [self.group_item()]
        while self.accept_punct(","):
            items.append(self.group_item())
        return tuple(items)

    def group_item(self) -> FieldRef | DateFunction:
        return self.date_function() if self.is_call(*DATE_FUNCTIONS) else self.field()

    def operand(self) -> Operand:
        """A field, a date function or (in HAVING and ORDER BY) an aggregate."""
        if self.is_call(*AGGREGATES):
            return self.aggregate(allow_empty=True)
        if self.is_call(*DATE_FUNCTIONS):
            return self.date_function()
        return self.field()

    def order_by(self) -> tuple[OrderItem, ...]:
        self.expect("BY")
        items = [self.order_item()]
        while self.accept_punct(","):
            items.append(self.order_item())
        return tuple(items)

    def order_item(self) -> OrderItem:
        field = self.operand()
        descending = self.accept("ASC", "DESC")
        is_descending = descending is not None and descending.text.upper() == "DESC"
        nulls_first = not is_descending
        if self.accept("NULLS"):
            nulls_first = self.expect("FIRST", "LAST").text.upper() == "FIRST"
        return OrderItem(field, is_descending, nulls_first)

    # -- conditions ----------------------------------------------------------------

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
        field = self.operand()
        token = self.peek()
        if token.kind == "op":
            self.advance()
            return Compare(field, token.text, self.value())
        chooser = self.accept("INCLUDES", "EXCLUDES")
        if chooser is not None:
            self.expect_punct("(")
            choices = [self.value()]
            while self.accept_punct(","):
                choices.append(self.value())
            self.expect_punct(")")
            return Includes(field, tuple(choices), chooser.text.upper() == "EXCLUDES")
        if self.accept("LIKE"):
            pattern = self.value()
            if pattern.kind != "string":
                raise self.unexpected(self.tokens[self.index - 1])
            return Like(field, pattern)
        negated = self.accept("NOT") is not None
        self.expect("IN")
        self.expect_punct("(")
        if self.peek().is_keyword("SELECT"):
            inner = self.query(nested=True)
            self.expect_punct(")")
            if not isinstance(field, FieldRef):
                raise self.unexpected(token)
            return SemiJoin(field, inner, negated)
        values = [self.value()]
        while self.accept_punct(","):
            values.append(self.value())
        self.expect_punct(")")
        return InList(field, tuple(values), negated)

    def value(self) -> Value:
        token = self.advance()
        if token.kind in {"string", "number", "date", "datetime"}:
            kind = cast("ValueKind", token.kind)
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
    return _Parser(soql, tokenize(soql)).query()
