"""An in-memory Salesforce org: seeded records, CRUD, SOQL and a little SOSL.

Pure Python with no I/O. One re-entrant lock guards all data so the fake HTTP
server can call an `Org` from many threads at once.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from .catalog import compile_soql, global_entry, known, writable
from .errors import ApiError, entity_is_deleted, no_such_column, not_found, required_missing
from .ids import BASE62, ID_RE, base62, id_checksum
from .objects import OBJECTS, SCHEMA
from .schema import Field, Record, SObject, attributes, derive, external_key
from .seed import account_rows, contact_rows, opportunity_rows
from .soql import Path, Query, comparable, compile_where, order, parse_datetime, utc_today
from .sosl import SOSL_RE, default_targets, search_fields, search_target, split_top
from .values import coerce, render_datetime


_SEEDED_AT: Final = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
# Writes happen "after" every seeded record so LastModifiedDate only grows.
_FIRST_WRITE_AT: Final = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class QueryResult:
    """Records shaped as REST returns them; for COUNT() only the count."""

    records: list[dict[str, object]]
    total_size: int


def _replication_window(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Both ends in UTC with the seconds dropped, as getUpdated/getDeleted read them."""

    def minute(moment: dt.datetime) -> dt.datetime:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).replace(second=0, microsecond=0)

    low, high = minute(start), minute(end)
    if low >= high:
        raise ApiError(
            400,
            "INVALID_REPLICATION_DATE",
            "startDate must chronologically precede endDate by more than one minute",
        )
    return low, high


class Org:
    """A deterministic, thread-safe, in-memory Salesforce org."""

    def __init__(
        self,
        *,
        accounts: int = 20,
        contacts: int = 200,
        opportunities: int = 50,
        seed: int = 0,
        instance_name: str = "NA137",
        org_name: str = "Fake Org",
        is_sandbox: bool = False,
        today: Callable[[], dt.date] | None = None,
    ) -> None:
        """Seed a deterministic org.

        `today` is the clock SOQL date literals (TODAY, LAST_N_DAYS:n, ...) resolve
        against; it defaults to the current UTC date. Writes are stamped by a separate
        deterministic clock that starts at 2024-06-01T00:00:00Z and ticks one second
        per write: pass `today=lambda: datetime.date(2024, 6, 1)` for records written
        in a test to match `CreatedDate = TODAY`.
        """
        self._lock = threading.RLock()
        self._today = today or utc_today
        self._deleted_at: dict[str, str] = {}
        self._rng = random.Random(seed)
        self._pod = BASE62[self._rng.randrange(1, 10)] + BASE62[self._rng.randrange(36, 62)]
        self._counters = {obj.name: self._rng.randrange(62**4, 62**5) for obj in SCHEMA}
        self._tables: dict[str, dict[str, Record]] = {obj.name: {} for obj in SCHEMA}
        self._writes = 0
        self.instance_name = instance_name
        self.org_name = org_name
        self.is_sandbox = is_sandbox
        self.org_id = self._new_id(OBJECTS["organization"])
        self.user_id = self._new_id(OBJECTS["user"])
        self._seed_singletons()
        account_ids = self._seed("Account", account_rows(self._rng, accounts))
        self._seed("Contact", contact_rows(self._rng, contacts, account_ids))
        self._seed("Opportunity", opportunity_rows(self._rng, opportunities, account_ids))

    # -- seeding ---------------------------------------------------------------

    def _new_id(self, obj: SObject) -> str:
        self._counters[obj.name] += 1
        id15 = f"{obj.key_prefix}{self._pod}0{base62(self._counters[obj.name], 9)}"
        return id15 + id_checksum(id15)

    def _seeded_time(self) -> str:
        seconds = self._rng.randrange(365 * 24 * 3600)
        return render_datetime(_SEEDED_AT + dt.timedelta(seconds=seconds))

    def _insert(self, sobject: str, values: Record, created: str) -> str:
        obj = OBJECTS[sobject.lower()]
        record_id = self._new_id(obj)
        record: Record = dict.fromkeys(item.name for item in obj.fields)
        record.update(values)
        record["Id"] = record_id
        if obj.soft_deletes:
            record.update(
                OwnerId=self.user_id,
                CreatedDate=created,
                CreatedById=self.user_id,
                LastModifiedDate=created,
                LastModifiedById=self.user_id,
                SystemModstamp=created,
                IsDeleted=False,
            )
        derive(obj, record)
        self._tables[obj.name][record_id] = record
        return record_id

    def _seed_singletons(self) -> None:
        organization: Record = {
            "Id": self.org_id,
            "Name": self.org_name,
            "InstanceName": self.instance_name,
            "IsSandbox": self.is_sandbox,
            "OrganizationType": "Enterprise Edition",
            "NamespacePrefix": None,
        }
        user: Record = {
            "Id": self.user_id,
            "Username": "integration@fake-org.example.com",
            "Name": "Integration User",
            "Email": "integration@fake-org.example.com",
            "IsActive": True,
        }
        self._tables["Organization"][self.org_id] = organization
        self._tables["User"][self.user_id] = user

    def _seed(self, sobject: str, rows: Iterable[Record]) -> list[str]:
        return [self._insert(sobject, values, self._seeded_time()) for values in rows]

    # -- schema ----------------------------------------------------------------

    def sobject_names(self) -> list[str]:
        """Canonical names of every sObject this org knows."""
        return [obj.name for obj in SCHEMA]

    def describe_global(self, version: str) -> dict[str, object]:
        """The body of GET /sobjects."""
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [global_entry(obj, version) for obj in SCHEMA],
        }

    def describe(self, sobject: str, version: str) -> dict[str, object]:
        """The body of GET /sobjects/X/describe; unknown objects are NOT_FOUND."""
        obj = known(sobject)
        description = global_entry(obj, version)
        description["fields"] = [item.describe() for item in obj.fields]
        description["childRelationships"] = [
            {
                "childSObject": child,
                "field": lookup,
                "relationshipName": name,
                "cascadeDelete": True,
            }
            for child, lookup, name in obj.children
        ]
        description["recordTypeInfos"] = []
        return description

    # -- reads -----------------------------------------------------------------

    def get(
        self, sobject: str, record_id: str, fields: list[str] | None, version: str
    ) -> dict[str, object]:
        """One live record by id, optionally only some fields."""
        obj = known(sobject)
        selected = _select(obj, fields)
        with self._lock:
            record = self._live(obj, record_id)
            return _shape_flat(obj, record, selected, version)

    def get_by_external_id(
        self,
        sobject: str,
        field: str,
        value: str,
        fields: list[str] | None,
        version: str,
    ) -> dict[str, object]:
        """One live record by an external id field (or Id)."""
        obj = known(sobject)
        key = external_key(obj, field)
        selected = _select(obj, fields)
        with self._lock:
            matches = self._matching(obj, key, value)
            if not matches:
                raise not_found()
            return _shape_flat(obj, matches[0], selected, version)

    def records(self, sobject: str) -> list[dict[str, object]]:
        """Copies of every stored record, deleted ones included, for assertions."""
        obj = known(sobject)
        with self._lock:
            return [dict(record) for record in self._tables[obj.name].values()]

    def lock_keys(self, sobject: str, record_id: str) -> list[str]:
        """Ids a write to this record must lock: the record and its parent account."""
        obj = OBJECTS.get(sobject.lower())
        with self._lock:
            record = self._find(obj, record_id) if obj else None
            if record is None:
                return [record_id]
            keys = [str(record["Id"])]
            parent = record.get("AccountId")
            if parent:
                keys.append(str(parent))
            return keys

    # -- writes ----------------------------------------------------------------

    def create(self, sobject: str, data: dict[str, object]) -> str:
        """Insert a record and return its new 18-character id."""
        obj = writable(sobject, "insert")
        with self._lock:
            values = self._validated(obj, data, creating=True)
            missing = [
                item.name
                for item in obj.fields
                if item.required and values.get(item.name) in {None, ""}
            ]
            if missing:
                raise required_missing(missing)
            return self._insert(obj.name, values, self._tick())

    def update(self, sobject: str, record_id: str, data: dict[str, object]) -> None:
        """Change fields of a live record."""
        obj = writable(sobject, "update")
        with self._lock:
            record = self._live(obj, record_id, deleted=entity_is_deleted)
            self._apply(obj, record, data)

    def upsert(
        self, sobject: str, field: str, value: str, data: dict[str, object]
    ) -> tuple[str, bool]:
        """Update the record whose external id is `value`, or create it."""
        obj = writable(sobject, "upsert")
        key = external_key(obj, field)
        with self._lock:
            matches = self._matching(obj, key, value)
            if matches:
                self._apply(obj, matches[0], data)
                return str(matches[0]["Id"]), False
            if key.name == "Id":
                raise not_found()
            return self.create(obj.name, {**data, key.name: value}), True

    def delete(self, sobject: str, record_id: str) -> None:
        """Soft-delete a record; deleting an account also deletes its children."""
        obj = writable(sobject, "delete")
        with self._lock:
            record = self._live(obj, record_id, deleted=entity_is_deleted)
            stamp = self._tick()
            self._soft_delete(record, stamp)
            for child, lookup, _name in obj.children:
                for row in self._tables[child].values():
                    if row[lookup] == record["Id"] and not row["IsDeleted"]:
                        self._soft_delete(row, stamp)

    def _soft_delete(self, record: Record, stamp: str) -> None:
        record.update(
            IsDeleted=True,
            LastModifiedDate=stamp,
            LastModifiedById=self.user_id,
            SystemModstamp=stamp,
        )
        self._deleted_at[str(record["Id"])] = stamp

    # -- replication (SFType.deleted / SFType.updated) -------------------------

    def deleted_between(
        self, sobject: str, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[str, str]]:
        """(id, deletedDate) of records deleted in [start, end), oldest first.

        The body of GET /sobjects/X/deleted/?start=&end=. As in Salesforce the
        seconds of `start` and `end` are ignored, naive datetimes are UTC, and `start`
        must precede `end` (else 400 INVALID_REPLICATION_DATE).
        """
        obj = known(sobject)
        low, high = _replication_window(start, end)
        with self._lock:
            found = [
                (parse_datetime(stamp), record_id, stamp)
                for record_id, stamp in self._deleted_at.items()
                if record_id in self._tables[obj.name]
            ]
        return [
            (record_id, stamp) for moment, record_id, stamp in sorted(found) if low <= moment < high
        ]

    def updated_between(self, sobject: str, start: dt.datetime, end: dt.datetime) -> list[str]:
        """Ids of live records created or changed (by SystemModstamp) in [start, end).

        The ids of GET /sobjects/X/updated/?start=&end=, oldest change first; the
        window follows the same rules as `deleted_between`.
        """
        obj = known(sobject)
        low, high = _replication_window(start, end)
        if obj.field("SystemModstamp") is None:
            return []
        with self._lock:
            found = [
                (parse_datetime(str(record["SystemModstamp"])), str(record["Id"]))
                for record in self._tables[obj.name].values()
                if not record["IsDeleted"]
            ]
        return [record_id for moment, record_id in sorted(found) if low <= moment < high]

    def _tick(self) -> str:
        self._writes += 1
        return render_datetime(_FIRST_WRITE_AT + dt.timedelta(seconds=self._writes))

    def _apply(self, obj: SObject, record: Record, data: Mapping[str, object]) -> None:
        values = self._validated(obj, data, creating=False)
        missing = [
            name
            for name, value in values.items()
            if obj.by_name[name.lower()].required and value in {None, ""}
        ]
        if missing:
            raise required_missing(missing)
        record.update(values)
        stamp = self._tick()
        record.update(LastModifiedDate=stamp, LastModifiedById=self.user_id, SystemModstamp=stamp)
        derive(obj, record)

    def _validated(self, obj: SObject, data: Mapping[str, object], *, creating: bool) -> Record:
        resolved: list[tuple[Field, object]] = []
        for name, value in data.items():
            if name == "attributes":
                continue
            found = obj.field(name)
            if found is None:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on sobject of type {obj.name}",
                    [name],
                )
            resolved.append((found, value))
        forbidden = [
            item.name
            for item, _value in resolved
            if not (item.createable if creating else item.updateable)
        ]
        if forbidden:
            raise ApiError(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {', '.join(forbidden)}. Please check "
                "the security settings of this field and verify that it is "
                "read/write for your profile or permission set.",
                forbidden,
            )
        return {item.name: self._coerced(item, value) for item, value in resolved}

    def _coerced(self, item: Field, value: object) -> object:
        if value is None:
            return None
        if item.type == "reference":
            return self._reference(item, value)
        coerced = coerce(item, value)
        if isinstance(coerced, str) and item.length and len(coerced) > item.length:
            raise ApiError(
                400,
                "STRING_TOO_LONG",
                f"{item.label}: data value too large: {coerced} (max length={item.length})",
                [item.name],
            )
        return coerced

    def _reference(self, item: Field, value: object) -> str:
        parent = OBJECTS[(item.reference_to or "").lower()]
        text = value if isinstance(value, str) else str(value)
        if not ID_RE.fullmatch(text):
            raise ApiError(
                400,
                "MALFORMED_ID",
                f"{parent.label} ID: id value of incorrect type: {text}",
                [item.name],
            )
        found = self._find(parent, text)
        if found is None or found.get("IsDeleted"):
            raise ApiError(
                400,
                "INVALID_CROSS_REFERENCE_KEY",
                "invalid cross reference id",
                [item.name],
            )
        return str(found["Id"])

    # -- lookups ---------------------------------------------------------------

    def _find(self, obj: SObject, record_id: str) -> Record | None:
        """The stored record for a 15- or 18-character id, deleted or not."""
        if not ID_RE.fullmatch(record_id) or not record_id.startswith(obj.key_prefix):
            return None
        id18 = record_id[:15] + id_checksum(record_id[:15])
        return self._tables[obj.name].get(id18)

    def _live(
        self,
        obj: SObject,
        record_id: str,
        *,
        deleted: Callable[[], ApiError] = not_found,
    ) -> Record:
        """The live record, else MALFORMED_ID, `deleted()` if soft-deleted, or NOT_FOUND."""
        if not ID_RE.fullmatch(record_id) or not record_id.startswith(obj.key_prefix):
            raise ApiError(
                400,
                "MALFORMED_ID",
                f"{obj.label} ID: id value of incorrect type: {record_id}",
                ["Id"],
            )
        record = self._find(obj, record_id)
        if record is None:
            raise not_found()
        if record.get("IsDeleted"):
            raise deleted()
        return record

    def _matching(self, obj: SObject, key: Field, value: str) -> list[Record]:
        if key.name == "Id":
            found = self._find(obj, value)
            live = found is not None and not found.get("IsDeleted")
            return [found] if found is not None and live else []
        wanted = value.casefold()
        return [
            record
            for record in self._tables[obj.name].values()
            if not record.get("IsDeleted")
            and isinstance(record[key.name], str)
            and str(record[key.name]).casefold() == wanted
        ]

    def _read(self, obj: SObject, record: Record | None, path: Path) -> object:
        """The value at a field path, following lookups to parent records."""
        for part in path[:-1]:
            if record is None:
                return None
            lookup = obj.by_relationship[part.lower()]
            obj = OBJECTS[(lookup.reference_to or "").lower()]
            parent_id = record[lookup.name]
            record = self._tables[obj.name].get(str(parent_id)) if parent_id else None
        return None if record is None else record[path[-1]]

    # -- SOQL and SOSL ---------------------------------------------------------

    def query(self, soql: str, *, include_deleted: bool, version: str) -> QueryResult:
        """Run a SELECT; deleted records only appear with include_deleted (queryAll)."""
        bound = compile_soql(soql)
        with self._lock:
            return self._run(bound, version, None, include_deleted=include_deleted)

    def _run(
        self,
        bound: Query,
        version: str,
        extra: Callable[[Record], bool] | None,
        *,
        include_deleted: bool,
    ) -> QueryResult:
        obj = OBJECTS[bound.sobject.lower()]
        where = compile_where(bound.where, self._today()) if bound.where else None
        rows: list[Record] = []
        for record in self._tables[obj.name].values():
            if record.get("IsDeleted") and not include_deleted:
                continue
            if extra is not None and not extra(record):
                continue
            if where is None or where(self._getter(obj, record)):
                rows.append(record)

        def read(record: Record, path: Path) -> object:
            return self._read(obj, record, path)

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
            values = [self._read(obj, row, item.field.parts) for row in rows]
            present = [value for value in values if value is not None]
            if item.function == "COUNT_DISTINCT":
                present = list({comparable(kind, value) for value in present})
            if item.alias is None:
                result[f"expr{unnamed}"] = len(present)
                unnamed += 1
            else:
                result[item.alias] = len(present)
        return result

    def _getter(self, obj: SObject, record: Record) -> Callable[[Path], object]:
        def get(path: Path) -> object:
            return self._read(obj, record, path)

        return get

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
            target[head] = record[head]
            return
        lookup = obj.by_relationship[head.lower()]
        parent_obj = OBJECTS[(lookup.reference_to or "").lower()]
        parent_id = record[lookup.name]
        parent = self._tables[parent_obj.name].get(str(parent_id))
        if parent is None:
            target[head] = None
            return
        existing = target.get(head)
        nested: Record = (
            existing
            if isinstance(existing, dict)
            else {"attributes": attributes(parent_obj.name, parent_id, version)}
        )
        target[head] = nested
        self._place(nested, parent_obj, parent, path[1:], version)

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
        queries = [compile_soql(soql) for soql in targets] if targets else default_targets()
        results: list[dict[str, object]] = []
        with self._lock:
            for bound in queries:
                obj = OBJECTS[bound.sobject.lower()]
                fields = search_fields(obj, scope)

                def hit(record: Record, fields: list[str] = fields) -> bool:
                    return any(
                        term in str(record[name]).casefold()
                        for name in fields
                        if record[name] is not None
                    )

                results.extend(self._run(bound, version, hit, include_deleted=False).records)
        return results


def _select(obj: SObject, fields: list[str] | None) -> list[str]:
    if fields is None:
        return [item.name for item in obj.fields]
    selected = []
    for name in fields:
        found = obj.field(name.strip())
        if found is None:
            raise no_such_column(name.strip(), obj.name)
        selected.append(found.name)
    return selected


def _shape_flat(obj: SObject, record: Record, fields: list[str], version: str) -> dict[str, object]:
    shaped: Record = {"attributes": attributes(obj.name, record["Id"], version)}
    shaped.update((name, record[name]) for name in fields)
    return shaped
