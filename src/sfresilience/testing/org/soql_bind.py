"""Binding parsed SOQL to a schema: canonical names, kinds, and the checks Salesforce makes
before it runs a query (grouping, FIELDS() limits, subquery and semi-join rules)."""

from __future__ import annotations

import dataclasses
from typing import Final

from .soql_ast import (
    Aggregate,
    BoolOp,
    Catalog,
    Compare,
    DateFunction,
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
    error_message,
)


_TYPE_NAMES: Final[dict[Kind, str]] = {
    "string": "string",
    "id": "id",
    "number": "double",
    "boolean": "boolean",
    "date": "date",
    "datetime": "dateTime",
    "address": "address",
}
_ACCEPTS: Final[dict[Kind, ValueKind]] = {
    "string": "string",
    "id": "string",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "address": "null",
}
FIELDS_LIMIT: Final = 200


class _Binder:
    def __init__(self, soql: str, catalog: Catalog, sobject: str, *, depth: int = 0) -> None:
        self.soql = soql
        self.catalog = catalog
        self.sobject = sobject
        self.depth = depth

    def malformed(self, offset: int, detail: str) -> SoqlError:
        return SoqlError("MALFORMED_QUERY", error_message(self.soql, offset, detail))

    def invalid_field(self, offset: int, detail: str) -> SoqlError:
        return SoqlError("INVALID_FIELD", error_message(self.soql, offset, detail))

    def field(self, ref: FieldRef) -> FieldRef:
        current = self.sobject
        canonical: list[str] = []
        for part in ref.parts[:-1]:
            relationship = self.catalog.resolve_relationship(current, part)
            if relationship is None:
                raise self.invalid_field(
                    ref.offset,
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
                ref.offset,
                f"No such column '{ref.parts[-1]}' on entity '{current}'. If you are "
                "attempting to use a custom field, be sure to append the '__c' after "
                "the custom field name. Please reference your WSDL or the describe "
                "call for the appropriate names.",
            )
        canonical.append(resolved[0])
        bound = dataclasses.replace(ref, parts=tuple(canonical), kind=resolved[1])
        if ref.label and not self.catalog.is_picklist(self.sobject, bound.parts):
            raise self.malformed(ref.offset, "toLabel() can only be used on picklist fields")
        return bound

    def operand(self, item: Operand) -> Operand:
        match item:
            case FieldRef():
                return self.field(item)
            case DateFunction(function, field):
                bound = self.field(field)
                if bound.kind not in {"date", "datetime"}:
                    raise self.malformed(
                        field.offset,
                        f"{function} can only be used on date or dateTime fields: "
                        f"{'.'.join(bound.parts)}",
                    )
                return dataclasses.replace(item, field=bound)
            case Aggregate(function, field):
                if field is None:
                    return item
                bound = self.field(field)
                if function in {"SUM", "AVG"} and bound.kind != "number":
                    raise self.malformed(
                        field.offset,
                        f"field {bound.parts[-1]} does not support aggregate operator {function}",
                    )
                if bound.kind == "address":
                    raise self.malformed(
                        field.offset, f"field {bound.parts[-1]} can not be aggregated"
                    )
                return dataclasses.replace(item, field=bound)

    def value(self, field: Operand, value: Value) -> Value:
        kind = field.kind
        assert kind is not None  # noqa: S101  (bound operands always carry a kind)
        if value.kind in {"null", _ACCEPTS[kind]}:
            return value
        if value.kind == "dateliteral" and kind in {"date", "datetime"}:
            return value
        quoting = "be" if kind in {"string", "id"} else "not be"
        name = field.parts[-1] if isinstance(field, FieldRef) else _operand_name(field)
        detail = (
            f"value of filter criterion for field '{name}' must be of "
            f"type {_TYPE_NAMES[kind]} and should {quoting} enclosed in quotes"
        )
        raise SoqlError("INVALID_FIELD", error_message(self.soql, value.offset, detail))

    def expr(self, expr: Expr, *, having: bool = False) -> Expr:  # noqa: PLR0911 - one per kind
        match expr:
            case Compare(field, op, value):
                bound = self.condition_operand(field, having=having)
                return Compare(bound, op, self.value(bound, value))
            case InList(field, values, negated):
                bound = self.condition_operand(field, having=having)
                checked = tuple(self.value(bound, item) for item in values)
                return InList(bound, checked, negated)
            case SemiJoin(field, inner, negated):
                return self.semi_join(field, inner, negated)
            case Includes(field, values, negated):
                bound = self.condition_operand(field, having=having)
                is_multi = isinstance(bound, FieldRef) and self.catalog.is_multipicklist(
                    self.sobject, bound.parts
                )
                if not is_multi:
                    detail = "includes or excludes operator only valid on multipicklist field"
                    message = error_message(self.soql, bound.offset, detail)
                    raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", message)
                return Includes(bound, tuple(self.value(bound, item) for item in values), negated)
            case Like(field, pattern):
                bound = self.condition_operand(field, having=having)
                if bound.kind != "string":
                    name = _operand_name(bound)
                    detail = f"invalid operator on field: {name}"
                    message = error_message(self.soql, bound.offset, detail)
                    raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", message)
                return Like(bound, pattern)
            case BoolOp(op, items):
                return BoolOp(op, tuple(self.expr(item, having=having) for item in items))
            case Not(item):
                return Not(self.expr(item, having=having))

    def condition_operand(self, item: Operand, *, having: bool) -> Operand:
        bound = self.operand(item)
        if isinstance(bound, Aggregate) and not having:
            raise self.malformed(
                bound.offset, "Aggregate functions are not allowed in a WHERE clause; use HAVING"
            )
        if isinstance(bound, FieldRef) and bound.kind == "address":
            raise self.invalid_field(
                bound.offset, f"field '{bound.parts[-1]}' can not be filtered in a query call"
            )
        return bound

    def semi_join(self, field: FieldRef, inner: Query, negated: bool) -> SemiJoin:
        bound = self.field(field)
        if self.depth > 0:
            raise self.malformed(field.offset, "Nesting of semi join sub-selects is not supported")
        if bound.kind != "id":
            raise self.malformed(
                field.offset,
                "The left operand of a semi join must be an id or reference field: "
                + bound.parts[-1],
            )
        query = _bind(self.soql, inner, self.catalog, depth=self.depth + 1)
        plain = [item for item in query.select if isinstance(item, FieldRef)]
        if query.count or len(query.select) != 1 or len(plain) != 1 or plain[0].kind != "id":
            raise self.malformed(
                inner.sobject_offset,
                "A semi join sub-select must select exactly one id or reference field",
            )
        return SemiJoin(bound, query, negated)

    def subquery(self, item: Subquery) -> Subquery:
        inner = item.query
        if self.depth > 0:
            raise self.malformed(
                item.offset, "Nested subqueries are not supported by this fake org"
            )
        child = self.catalog.resolve_child(self.sobject, inner.sobject)
        if child is None:
            detail = (
                f"Didn't understand relationship '{inner.sobject}' in FROM part of query "
                "call. If you are attempting to use a custom relationship, be sure to "
                "append the '__r' after the custom relationship name. Please reference "
                "your WSDL or the describe call for the appropriate names."
            )
            raise self.invalid_field(inner.sobject_offset, detail)
        name, child_object, lookup = child
        renamed = dataclasses.replace(inner, sobject=child_object)
        bound = _bind(self.soql, renamed, self.catalog, depth=self.depth + 1)
        if bound.grouped or bound.count:
            raise self.malformed(item.offset, "Aggregate queries are not supported in subqueries")
        return Subquery(dataclasses.replace(bound, relationship=(lookup, name)), item.offset)


def _operand_name(item: Operand) -> str:
    match item:
        case FieldRef(parts):
            return ".".join(parts)
        case DateFunction(function, field):
            return f"{function}({'.'.join(field.parts)})"
        case Aggregate(function, field):
            return f"{function}({'' if field is None else '.'.join(field.parts)})"


def _key(item: Operand) -> tuple[object, ...]:
    """What makes two operands the same expression (aliases aside)."""
    match item:
        case FieldRef(parts):
            return ("field", parts)
        case DateFunction(function, field):
            return ("function", function, field.parts)
        case Aggregate(function, field):
            return ("aggregate", function, None if field is None else field.parts)


def _check_grouping(binder: _Binder, query: Query) -> None:
    grouped = {_key(item) for item in query.group_by}
    for item in query.select:
        if isinstance(item, Subquery):
            raise binder.malformed(item.offset, "Subqueries are not allowed in aggregate queries")
        if isinstance(item, FieldRef | DateFunction) and _key(item) not in grouped:
            name = _operand_name(item)
            raise binder.malformed(item.offset, f"Field must be grouped or aggregated: {name}")
    for order_item in query.order_by:
        key = order_item.field
        if not isinstance(key, Aggregate) and _key(key) not in grouped:
            detail = f"Ordered field must be grouped or aggregated: {_operand_name(key)}"
            raise binder.malformed(key.offset, detail)


def _check_ungrouped(binder: _Binder, query: Query) -> None:
    for item in query.select:
        if isinstance(item, DateFunction):
            detail = f"Field must be grouped or aggregated: {_operand_name(item)}"
            raise binder.malformed(item.offset, detail)
        if isinstance(item, FieldRef) and item.alias is not None:
            raise binder.malformed(item.offset, f"unexpected token: {item.alias}")
    for order_item in query.order_by:
        if isinstance(order_item.field, Aggregate):
            raise binder.malformed(
                order_item.field.offset, "Aggregate functions in ORDER BY need an aggregate query"
            )


def _check_unsortable(binder: _Binder, query: Query) -> None:
    """Compound address fields can be selected but not grouped or sorted."""
    used: list[tuple[Operand, str]] = [(item, "grouped") for item in query.group_by]
    used += [(item.field, "sorted") for item in query.order_by]
    for item, verb in used:
        if isinstance(item, FieldRef) and item.kind == "address":
            detail = f"field '{item.parts[-1]}' can not be {verb} in a query call"
            raise binder.invalid_field(item.offset, detail)


def _expand_fields(binder: _Binder, query: Query) -> tuple[SelectItem, ...]:
    if query.fields_macro is None:
        return query.select
    if query.fields_macro != "STANDARD" and (query.limit is None or query.limit > FIELDS_LIMIT):
        raise binder.malformed(
            query.limit_offset, "The SOQL FIELDS function must have a LIMIT of at most 200"
        )
    names = binder.catalog.field_names(binder.sobject, query.fields_macro)
    expanded = tuple(FieldRef((name,), query.sobject_offset) for name in names)
    return expanded + query.select


def _bind(soql: str, query: Query, catalog: Catalog, *, depth: int) -> Query:
    sobject = catalog.resolve_object(query.sobject)
    if sobject is None:
        detail = (
            f"sObject type '{query.sobject}' is not supported. If you are attempting "
            "to use a custom object, be sure to append the '__c' after the entity "
            "name. Please reference your WSDL or the describe call for the "
            "appropriate names."
        )
        raise SoqlError("INVALID_TYPE", error_message(soql, query.sobject_offset, detail))
    binder = _Binder(soql, catalog, sobject, depth=depth)
    select: list[SelectItem] = []
    seen: set[Path] = set()
    for item in _expand_fields(binder, query):
        if isinstance(item, Subquery):
            select.append(binder.subquery(item))
            continue
        bound = binder.operand(item)
        if isinstance(bound, FieldRef):
            if bound.parts in seen and not bound.label:
                continue
            seen.add(bound.parts)
        select.append(bound)
    bound_query = dataclasses.replace(
        query,
        sobject=sobject,
        select=tuple(select),
        fields=tuple(item for item in select if isinstance(item, FieldRef)),
        aggregates=tuple(item for item in select if isinstance(item, Aggregate)),
        group_by=tuple(binder.operand(item) for item in query.group_by),  # type: ignore[misc]
        where=None if query.where is None else binder.expr(query.where),
        having=None if query.having is None else binder.expr(query.having, having=True),
        order_by=tuple(
            OrderItem(binder.operand(item.field), item.descending, item.nulls_first)
            for item in query.order_by
        ),
    )
    _check_unsortable(binder, bound_query)
    if bound_query.count and bound_query.group_by:
        raise binder.malformed(query.sobject_offset, "COUNT() can not be used with GROUP BY")
    if bound_query.grouped:
        _check_grouping(binder, bound_query)
    else:
        _check_ungrouped(binder, bound_query)
    return bound_query


def bind(soql: str, query: Query, catalog: Catalog) -> Query:
    """Resolve names to canonical case and check the query as Salesforce would."""
    return _bind(soql, query, catalog, depth=0)
