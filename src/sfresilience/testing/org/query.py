"""Running bound SOQL over the org's tables: filter, order, page, shape as REST does."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from .catalog import Schema
from .errors import ApiError
from .schema import Record, SObject, attributes
from .soql import (
    Aggregate,
    DateFunction,
    FieldRef,
    Operand,
    Path,
    Query,
    SelectItem,
    Subquery,
    apply_function,
    comparable,
    compile_where,
    order,
)
from .sosl import SOSL_RE, default_targets, search_fields, search_target, split_top


_T = TypeVar("_T")


@dataclass(frozen=True)
class QueryResult:
    """Records shaped as REST returns them; for COUNT() only the count.

    `locked` are the ids a `FOR UPDATE` query must lock for the call.
    """

    records: list[dict[str, object]]
    total_size: int
    locked: tuple[str, ...] = ()


class QueryRunner:
    """Evaluates queries against `tables`; the caller holds the org's lock."""

    def __init__(
        self,
        schema: Schema,
        tables: dict[str, dict[str, Record]],
        today: Callable[[], dt.date],
    ) -> None:
        self.schema = schema
        self.tables = tables
        self.today = today

    def run(
        self,
        bound: Query,
        version: str,
        extra: Callable[[Record], bool] | None = None,
        *,
        include_deleted: bool,
    ) -> QueryResult:
        obj = self.schema[bound.sobject]
        rows = self._matching(obj, bound, extra, include_deleted=include_deleted)
        if bound.grouped:
            grouped = self._grouped(obj, bound, rows)
            return QueryResult(grouped, len(grouped))

        def read(record: Record, operand: Operand) -> object:
            return self.value(obj, record, operand)

        rows = _page(order(rows, bound.order_by, read), bound)
        if bound.count:
            return QueryResult([], len(rows))
        children: dict[object, dict[object, list[Record]]] = {
            item.query.relationship: self._children(
                item.query, rows, include_deleted=include_deleted
            )
            for item in bound.select
            if isinstance(item, Subquery)
        }
        records = [self._shape(obj, row, bound.select, version, children) for row in rows]
        locked = tuple(str(row["Id"]) for row in rows) if bound.for_update else ()
        return QueryResult(records, len(records), locked)

    def _matching(
        self,
        obj: SObject,
        bound: Query,
        extra: Callable[[Record], bool] | None,
        *,
        include_deleted: bool,
    ) -> list[Record]:
        where = (
            compile_where(bound.where, self.today(), self._semi_join_ids) if bound.where else None
        )
        rows: list[Record] = []
        for record in self.tables[obj.name].values():
            if record.get("IsDeleted") and not include_deleted:
                continue
            if extra is not None and not extra(record):
                continue
            if where is None or where(self.getter(obj, record)):
                rows.append(record)
        return rows

    def _semi_join_ids(self, inner: Query) -> frozenset[object]:
        """The 15-character ids a semi-join's sub-select yields."""
        obj = self.schema[inner.sobject]
        key = inner.fields[0]
        rows = self._matching(obj, inner, None, include_deleted=False)
        values = (self.value(obj, row, key) for row in rows)
        return frozenset(str(value)[:15] for value in values if value is not None)

    def _children(
        self, inner: Query, parents: list[Record], *, include_deleted: bool
    ) -> dict[object, list[Record]]:
        """A subquery's child rows for each parent id, filtered, ordered and paged."""
        assert inner.relationship is not None  # noqa: S101  (bound subqueries carry it)
        lookup = inner.relationship[0]
        wanted = {row["Id"] for row in parents}
        obj = self.schema[inner.sobject]
        by_parent: dict[object, list[Record]] = {}
        for row in self._matching(obj, inner, None, include_deleted=include_deleted):
            if row[lookup] in wanted:
                by_parent.setdefault(row[lookup], []).append(row)

        def read(record: Record, operand: Operand) -> object:
            return self.value(obj, record, operand)

        return {
            parent: _page(order(rows, inner.order_by, read), inner)
            for parent, rows in by_parent.items()
        }

    # -- aggregate queries -----------------------------------------------------

    def _grouped(self, obj: SObject, bound: Query, rows: list[Record]) -> list[Record]:
        groups: dict[tuple[object, ...], list[Record]] = {}
        if not bound.group_by:
            groups[()] = rows
        for row in rows if bound.group_by else ():
            key = tuple(
                _group_key(item.kind, self.value(obj, row, item)) for item in bound.group_by
            )
            groups.setdefault(key, []).append(row)

        def read(group: list[Record], operand: Operand) -> object:
            return self.group_value(obj, group, operand)

        having = compile_where(bound.having, self.today()) if bound.having else None
        kept = [
            group
            for group in groups.values()
            if having is None or having(functools.partial(read, group))
        ]
        kept = _page(order(kept, bound.order_by, read), bound)
        return [self._aggregate_row(obj, bound, group) for group in kept]

    def _aggregate_row(self, obj: SObject, bound: Query, group: list[Record]) -> Record:
        """One AggregateResult: grouped fields by name, the rest by alias or exprN."""
        result: Record = {"attributes": {"type": "AggregateResult"}}
        unnamed = 0
        for item in bound.select:
            assert not isinstance(item, Subquery)  # noqa: S101  (the binder refuses them)
            value = self.group_value(obj, group, item)
            if isinstance(item, FieldRef) and item.label:
                value = self._label(obj, item, value)
            if item.alias is not None:
                result[item.alias] = value
            elif isinstance(item, FieldRef):
                result[item.parts[-1]] = value
            else:
                result[f"expr{unnamed}"] = value
                unnamed += 1
        return result

    def group_value(self, obj: SObject, group: list[Record], operand: Operand) -> object:
        if isinstance(operand, Aggregate):
            return self._aggregate(obj, group, operand)
        return self.value(obj, group[0], operand) if group else None

    def _aggregate(self, obj: SObject, rows: list[Record], item: Aggregate) -> object:
        if item.field is None:
            return len(rows)
        field = item.field
        kind = field.kind or "string"
        present = [value for row in rows if (value := self.read(obj, row, field.parts)) is not None]
        function = item.function
        if function == "COUNT":
            return len(present)
        if function == "COUNT_DISTINCT":
            return len({comparable(kind, value) for value in present})
        if not present:
            return None
        if function in {"SUM", "AVG"}:
            total = sum(float(value) for value in present)  # type: ignore[arg-type,misc]
            return total if function == "SUM" else total / len(present)
        pick = min if function == "MIN" else max
        return pick(present, key=lambda value: comparable(kind, value))  # type: ignore[arg-type,return-value]

    # -- values ----------------------------------------------------------------

    def value(self, obj: SObject, record: Record, operand: Operand) -> object:
        """A row's value for a field path or a date function."""
        if isinstance(operand, DateFunction):
            return apply_function(operand, self.read(obj, record, operand.field.parts))
        if isinstance(operand, FieldRef):
            return self.read(obj, record, operand.parts)
        message = "aggregate functions need an aggregate query"
        raise ApiError(400, "MALFORMED_QUERY", message)

    def _label(self, obj: SObject, ref: FieldRef, value: object) -> object:
        for part in ref.parts[:-1]:
            obj = self.schema[obj.by_relationship[part.lower()].reference or ""]
        found = obj.field(ref.parts[-1])
        return value if found is None or value is None else found.label_of(value)

    # -- reading paths ---------------------------------------------------------

    def parent(
        self, obj: SObject, record: Record, relationship: str
    ) -> tuple[SObject, Record] | None:
        """The live-or-deleted parent record a lookup points at, with its object."""
        lookup = obj.by_relationship[relationship.lower()]
        parent_id = record[lookup.name]
        if not parent_id:
            return None
        parent_obj = self.schema.by_prefix(str(parent_id))
        if parent_obj is None:
            return None
        found = self.tables[parent_obj.name].get(str(parent_id))
        return None if found is None else (parent_obj, found)

    def read(self, obj: SObject, record: Record | None, path: Path) -> object:
        """The value at a field path, following lookups to parent records."""
        for part in path[:-1]:
            if record is None:
                return None
            found = self.parent(obj, record, part)
            if found is None:
                return None
            obj, record = found
        return None if record is None else obj.read(record, path[-1])

    def getter(self, obj: SObject, record: Record) -> Callable[[Operand], object]:
        def get(operand: Operand) -> object:
            return self.value(obj, record, operand)

        return get

    # -- shaping ---------------------------------------------------------------

    def _shape(
        self,
        obj: SObject,
        record: Record,
        select: Iterable[SelectItem],
        version: str,
        children: Mapping[object, dict[object, list[Record]]],
    ) -> Record:
        shaped: Record = {"attributes": attributes(obj.name, record["Id"], version)}
        for item in select:
            if isinstance(item, Subquery):
                inner = item.query
                assert inner.relationship is not None  # noqa: S101  (bound subqueries carry it)
                rows = children[inner.relationship].get(record["Id"], [])
                shaped[inner.relationship[1]] = self._nested(inner, rows, version)
            elif isinstance(item, FieldRef) and item.label:
                value = self.read(obj, record, item.parts)
                shaped[item.alias or item.parts[-1]] = self._label(obj, item, value)
            elif isinstance(item, FieldRef):
                self._place(shaped, obj, record, item.parts, version)
        return shaped

    def _nested(self, inner: Query, rows: list[Record], version: str) -> Record | None:
        """A subquery's answer inside its parent: null when there are no rows."""
        if not rows:
            return None
        obj = self.schema[inner.sobject]
        records = [self._shape(obj, row, inner.select, version, {}) for row in rows]
        return {"totalSize": len(records), "done": True, "records": records}

    def _place(
        self, target: Record, obj: SObject, record: Record, path: Path, version: str
    ) -> None:
        """Copy one field path into `target`, nesting parents as REST does."""
        head = path[0]
        if len(path) == 1:
            target[head] = obj.read(record, head)
            return
        found = self.parent(obj, record, head)
        if found is None:
            target[head] = None
            return
        parent_obj, parent = found
        existing = target.get(head)
        nested: Record = (
            existing
            if isinstance(existing, dict)
            else {"attributes": attributes(parent_obj.name, parent["Id"], version)}
        )
        target[head] = nested
        self._place(nested, parent_obj, parent, path[1:], version)

    # -- SOSL ------------------------------------------------------------------

    def search(self, sosl: str, version: str) -> list[dict[str, object]]:
        """Minimal SOSL: FIND {text} [IN x FIELDS] [RETURNING Obj(fields ...), ...]."""
        match = SOSL_RE.fullmatch(sosl)
        if match is None:
            raise ApiError(
                400,
                "MALFORMED_SEARCH",
                "No search term found. The search term must be enclosed in braces.",
            )
        term = re.sub(r"\\(.)", r"\1", match["term"]).strip(' "*').casefold()
        scope = (match["scope"] or "ALL").upper()
        targets = [search_target(item) for item in split_top(match["returning"])]
        schema = self.schema
        queries = [schema.compile(soql) for soql in targets] if targets else default_targets(schema)
        results: list[dict[str, object]] = []
        for bound in queries:
            obj = schema[bound.sobject]
            fields = search_fields(obj, scope)

            def hit(record: Record, fields: list[str] = fields) -> bool:
                return any(
                    term in str(record[name]).casefold()
                    for name in fields
                    if record[name] is not None
                )

            results.extend(self.run(bound, version, hit, include_deleted=False).records)
        return results


def _page(rows: list[_T], query: Query) -> list[_T]:
    start = query.offset or 0
    stop = None if query.limit is None else start + query.limit
    return rows[start:stop]


def _group_key(kind: object, value: object) -> object:
    """Text groups ignore case, as Salesforce's GROUP BY does."""
    return value.casefold() if isinstance(value, str) and kind == "string" else value
