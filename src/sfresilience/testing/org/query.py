"""Running bound SOQL over the org's tables: filter, order, page, shape as REST does."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .catalog import Schema
from .errors import ApiError
from .schema import Record, SObject, attributes
from .soql import Path, Query, comparable, compile_where, order
from .sosl import SOSL_RE, default_targets, search_fields, search_target, split_top


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
        where = compile_where(bound.where, self.today()) if bound.where else None
        rows: list[Record] = []
        for record in self.tables[obj.name].values():
            if record.get("IsDeleted") and not include_deleted:
                continue
            if extra is not None and not extra(record):
                continue
            if where is None or where(self.getter(obj, record)):
                rows.append(record)

        def read(record: Record, path: Path) -> object:
            return self.read(obj, record, path)

        if bound.aggregates:
            rows = [self._aggregate(obj, bound, rows)]
        rows = order(rows, bound.order_by, read)
        start = bound.offset or 0
        stop = None if bound.limit is None else start + bound.limit
        rows = rows[start:stop]
        if bound.aggregates:
            return QueryResult(rows, len(rows))
        if bound.count:
            return QueryResult([], len(rows))
        paths = [ref.parts for ref in bound.fields]
        records = [self._shape(obj, row, paths, version) for row in rows]
        return QueryResult(records, len(records))

    def _aggregate(self, obj: SObject, bound: Query, rows: list[Record]) -> Record:
        """The single AggregateResult row of COUNT(field) / COUNT_DISTINCT(field)."""
        result: Record = {"attributes": {"type": "AggregateResult"}}
        unnamed = 0
        for item in bound.aggregates:
            kind = item.field.kind or "string"
            values = [self.read(obj, row, item.field.parts) for row in rows]
            present = [value for value in values if value is not None]
            if item.function == "COUNT_DISTINCT":
                present = list({comparable(kind, value) for value in present})
            if item.alias is None:
                result[f"expr{unnamed}"] = len(present)
                unnamed += 1
            else:
                result[item.alias] = len(present)
        return result

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

    def getter(self, obj: SObject, record: Record) -> Callable[[Path], object]:
        def get(path: Path) -> object:
            return self.read(obj, record, path)

        return get

    # -- shaping ---------------------------------------------------------------

    def _shape(self, obj: SObject, record: Record, paths: Iterable[Path], version: str) -> Record:
        shaped: Record = {"attributes": attributes(obj.name, record["Id"], version)}
        for path in paths:
            self._place(shaped, obj, record, path, version)
        return shaped

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
