"""An in-memory Salesforce org: seeded records, CRUD, describe, SOQL and a little SOSL.

Pure Python with no I/O. One re-entrant lock guards all data so the fake HTTP
server can call an `Org` from many threads at once.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from . import checks
from .catalog import Schema
from .describe import MASTER_RECORD_TYPE, describe, global_entry, record_type_info
from .errors import ApiError, entity_is_deleted, no_such_column, not_found
from .history import TableHistory
from .ids import BASE62, ID_RE, base62, id_checksum
from .layouts import layout, record_type_mapping
from .query import QueryResult, QueryRunner
from .schema import Field, Record, SObject, attributes, external_key
from .seed import account_rows, contact_rows, opportunity_rows
from .soql import utc_today
from .values import render_datetime


__all__ = ["Org", "QueryResult"]

_SEEDED_AT: Final = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
_SEEDED_AT_NAIVE: Final = _SEEDED_AT.replace(tzinfo=None)
# Writes happen "after" every seeded record so LastModifiedDate only grows.
_FIRST_WRITE_AT: Final = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
_SECONDS_PER_YEAR: Final = 365 * 24 * 3600


class Org(TableHistory):
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
        objects: Iterable[SObject] = (),
        fields: Mapping[str, Iterable[Field]] | None = None,
    ) -> None:
        """Seed a deterministic org.

        `objects` are a test's own sObjects (see `CustomObject`) and `fields` its
        custom fields on standard objects (`{"Contact": [Field("Region__c")]}`);
        they are queried, described and written like the standard ones.

        `today` is the clock SOQL date literals (TODAY, LAST_N_DAYS:n, ...) resolve
        against; it defaults to the current UTC date. Writes are stamped by a separate
        deterministic clock that starts at 2024-06-01T00:00:00Z and ticks one second
        per write: pass `today=lambda: datetime.date(2024, 6, 1)` for records written
        in a test to match `CreatedDate = TODAY`.
        """
        self.schema = Schema(objects, fields)
        self._lock = threading.RLock()
        self._today = today or utc_today
        self._deleted_at: dict[str, str] = {}
        self._rng = random.Random(seed)
        self._pod = BASE62[self._rng.randrange(1, 10)] + BASE62[self._rng.randrange(36, 62)]
        self._counters = {
            obj.name: random.Random(f"{seed}:{obj.name}").randrange(62**4, 62**5)
            for obj in self.schema
        }
        self._tables: dict[str, dict[str, Record]] = {obj.name: {} for obj in self.schema}
        self._unique: dict[tuple[str, str], dict[object, str]] = {}
        self._writes = 0
        self.instance_name = instance_name
        self.org_name = org_name
        self.is_sandbox = is_sandbox
        self.org_id = self._new_id(self.schema["Organization"])
        self.user_id = self._new_id(self.schema["User"])
        self._seed_singletons()
        self._record_types = self._seed_record_types()
        self._seed_standard_price_book()
        account_ids = self._seed("Account", account_rows(self._rng, accounts))
        self._seed("Contact", contact_rows(self._rng, contacts, account_ids))
        self._seed("Opportunity", opportunity_rows(self._rng, opportunities, account_ids))
        self._queries = QueryRunner(self.schema, self._tables, self._today)

    # -- seeding ---------------------------------------------------------------

    def _new_id(self, obj: SObject) -> str:
        self._counters[obj.name] += 1
        id15 = f"{obj.key_prefix}{self._pod}0{base62(self._counters[obj.name], 9)}"
        return id15 + id_checksum(id15)

    def _seeded_time(self) -> str:
        seconds = self._rng.randrange(_SECONDS_PER_YEAR)
        # render_datetime's result, without its time-zone round trip: seeding is hot.
        moment = _SEEDED_AT_NAIVE + dt.timedelta(seconds=seconds)
        return moment.isoformat(timespec="milliseconds") + "+0000"

    def _insert(self, obj: SObject, values: Record, created: str) -> str:
        record_id = self._new_id(obj)
        record = obj.template.copy()
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
        if obj.derive is not None:
            obj.derive(record)
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
            "FirstName": "Integration",
            "LastName": "User",
            "Name": "Integration User",
            "Alias": "integ",
            "Email": "integration@fake-org.example.com",
            "IsActive": True,
            "TimeZoneSidKey": "America/Los_Angeles",
        }
        self._tables["Organization"][self.org_id] = organization
        self._tables["User"][self.user_id] = user

    def _seed_record_types(self) -> dict[str, list[tuple[str, str]]]:
        """RecordType rows for every declared record type: {object: [(name, id)]}."""
        kinds = self.schema["RecordType"]
        found: dict[str, list[tuple[str, str]]] = {}
        for obj in self.schema:
            for name in obj.record_types:
                developer = "".join(char if char.isalnum() else "_" for char in name)
                row: Record = {
                    "Name": name,
                    "DeveloperName": developer,
                    "NamespacePrefix": None,
                    "Description": None,
                    "SobjectType": obj.name,
                    "IsActive": True,
                }
                record_id = self._insert(kinds, row, render_datetime(_SEEDED_AT))
                found.setdefault(obj.name, []).append((name, record_id))
        return found

    def _seed_standard_price_book(self) -> None:
        """Every org has the standard price book that price book entries start from."""
        book: Record = {"Name": "Standard Price Book", "IsActive": True, "IsStandard": True}
        self._insert(self.schema["Pricebook2"], book, render_datetime(_SEEDED_AT))

    def _seed(self, sobject: str, rows: Iterable[Record]) -> list[str]:
        obj = self.schema[sobject]
        return [self._insert(obj, values, self._seeded_time()) for values in rows]

    # -- schema ----------------------------------------------------------------

    def sobject_names(self) -> list[str]:
        """Canonical names of every sObject this org knows."""
        return [obj.name for obj in self.schema]

    def describe_global(self, version: str) -> dict[str, object]:
        """The body of GET /sobjects."""
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [global_entry(obj, version) for obj in self.schema],
        }

    def describe_basic(self, sobject: str, version: str) -> dict[str, object]:
        """The `objectDescribe` of GET /sobjects/X: the describeGlobal entry."""
        return global_entry(self.schema.known(sobject), version)

    def describe(self, sobject: str, version: str) -> dict[str, object]:
        """The body of GET /sobjects/X/describe; unknown objects are NOT_FOUND."""
        obj = self.schema.known(sobject)
        return describe(self.schema, obj, version, self._record_type_infos(obj, version))

    def describe_layouts(
        self, sobject: str, version: str, record_type_id: str | None = None
    ) -> dict[str, object]:
        """The body of GET /sobjects/X/describe/layouts/[recordTypeId].

        With several record types the list form carries `"layouts": null`, as
        Salesforce's does; ask for one record type's layout by its id.
        """
        obj = self.schema.known(sobject)
        infos = self._record_type_infos(obj, version)
        if record_type_id is not None:
            wanted = record_type_id[:15]
            if not any(str(info["recordTypeId"])[:15] == wanted for info in infos):
                raise not_found()
            return layout(self.schema, obj)
        return {
            "layouts": None if obj.record_types else [layout(self.schema, obj)],
            "recordTypeMappings": [record_type_mapping(obj, info, version) for info in infos],
            "recordTypeSelectorRequired": [bool(obj.record_types)],
        }

    def _record_type_infos(self, obj: SObject, version: str) -> list[dict[str, object]]:
        declared = [
            record_type_info(obj, version, name, name.replace(" ", "_"), record_id)
            for name, record_id in self._record_types.get(obj.name, [])
        ]
        master = record_type_info(obj, version, "Master", "Master", MASTER_RECORD_TYPE)
        return [*declared, master]

    # -- reads -----------------------------------------------------------------

    def get(
        self, sobject: str, record_id: str, fields: list[str] | None, version: str
    ) -> dict[str, object]:
        """One live record by id, optionally only some fields."""
        obj = self.schema.known(sobject)
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
        obj = self.schema.known(sobject)
        key = external_key(obj, field)
        selected = _select(obj, fields)
        with self._lock:
            matches = self._matching(obj, key, value)
            if not matches:
                raise not_found()
            return _shape_flat(obj, matches[0], selected, version)

    def records(self, sobject: str) -> list[dict[str, object]]:
        """Copies of every stored record, deleted ones included, for assertions."""
        obj = self.schema.known(sobject)
        with self._lock:
            return [dict(record) for record in self._tables[obj.name].values()]

    def lock_keys(self, sobject: str, record_id: str) -> list[str]:
        """Ids a write to this record must lock: the record, its parent account and its
        master records (the parents of lookups that cascade deletes)."""
        obj = self.schema.get(sobject)
        with self._lock:
            record = self._find(obj, record_id) if obj else None
            if obj is None or record is None:
                return [record_id]
            keys = [str(record["Id"])]
            for item in obj.fields:
                if item.type != "reference" or not (
                    item.cascade_delete or item.name == "AccountId"
                ):
                    continue
                parent = record.get(item.name)
                if parent:
                    keys.append(str(parent))
            return keys

    # -- writes ----------------------------------------------------------------

    def create(self, sobject: str, data: dict[str, object]) -> str:
        """Insert a record and return its new 18-character id."""
        obj = self.schema.writable(sobject, "insert")
        with self._lock:
            values = self._validated(obj, data, creating=True)
            for item in obj.fields:
                if item.default is not None and item.name not in values:
                    values[item.name] = item.default
            if obj.record_types and values.get("RecordTypeId") is None:
                values["RecordTypeId"] = self._record_types[obj.name][0][1]
            candidate = obj.template.copy()
            candidate.update(values)
            if obj.derive is not None:
                obj.derive(candidate)
            checks.check_required(obj, candidate)
            checks.check_rules(obj, candidate)
            self._check_unique(obj, candidate, None)
            record_id = self._insert(obj, values, self._tick())
            self._index_unique(obj, self._tables[obj.name][record_id])
            return record_id

    def update(self, sobject: str, record_id: str, data: dict[str, object]) -> None:
        """Change fields of a live record."""
        obj = self.schema.writable(sobject, "update")
        with self._lock:
            record = self._live(obj, record_id, deleted=entity_is_deleted)
            self._apply(obj, record, data)

    def upsert(
        self, sobject: str, field: str, value: str, data: dict[str, object]
    ) -> tuple[str, bool]:
        """Update the record whose external id is `value`, or create it."""
        obj = self.schema.writable(sobject, "upsert")
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
        """Soft-delete a record and, along cascading lookups, its children."""
        obj = self.schema.writable(sobject, "delete")
        with self._lock:
            record = self._live(obj, record_id, deleted=entity_is_deleted)
            self._soft_delete(obj, record, self._tick())

    def hard_delete(self, sobject: str, record_id: str) -> None:
        """Delete a record and its cascading children past the recycle bin (Bulk hardDelete).

        They are gone for good: not in queryAll, not in getDeleted.
        """
        obj = self.schema.writable(sobject, "hardDelete")
        with self._lock:
            record = self._live(obj, record_id, deleted=entity_is_deleted)
            stamp = self._tick()
            self._soft_delete(obj, record, stamp)
            gone = {key for key, at in self._deleted_at.items() if at == stamp}
            for table in self._tables.values():
                for key in gone & table.keys():
                    del table[key]
            for key in gone:
                del self._deleted_at[key]
            self._unique.clear()

    def _soft_delete(self, obj: SObject, record: Record, stamp: str) -> None:
        record.update(
            IsDeleted=True,
            LastModifiedDate=stamp,
            LastModifiedById=self.user_id,
            SystemModstamp=stamp,
        )
        self._deleted_at[str(record["Id"])] = stamp
        for child in self.schema.children(obj.name):
            if not child.cascade_delete:
                continue
            child_obj = self.schema[child.child]
            for row in self._tables[child_obj.name].values():
                if row[child.field] == record["Id"] and not row["IsDeleted"]:
                    self._soft_delete(child_obj, row, stamp)

    def _apply(self, obj: SObject, record: Record, data: Mapping[str, object]) -> None:
        values = self._validated(obj, data, creating=False)
        candidate = dict(record)
        candidate.update(values)
        if obj.derive is not None:
            obj.derive(candidate)
        checks.check_required(obj, candidate, list(values))
        checks.check_rules(obj, candidate)
        self._check_unique(obj, candidate, str(record["Id"]))
        record.update(values)
        stamp = self._tick()
        record.update(LastModifiedDate=stamp, LastModifiedById=self.user_id, SystemModstamp=stamp)
        if obj.derive is not None:
            obj.derive(record)
        self._index_unique(obj, record)

    def _validated(self, obj: SObject, data: Mapping[str, object], *, creating: bool) -> Record:
        resolved = checks.resolve(obj, data, creating=creating)
        return {
            item.name: checks.coerced(item, value, self._find_target) for item, value in resolved
        }

    def _find_target(self, item: Field, record_id: str) -> Record | None:
        """The record a lookup value points at, among the lookup's target objects."""
        target = self.schema.by_prefix(record_id)
        if target is None or target.name not in item.targets:
            return None
        return self._find(target, record_id)

    # -- unique values ----------------------------------------------------------

    def _unique_index(self, obj: SObject, item: Field) -> dict[object, str]:
        """value -> holder id, built on first use; stale entries are re-checked on read."""
        key = (obj.name, item.name)
        index = self._unique.get(key)
        if index is None:
            index = {
                checks.unique_key(item, row[item.name]): str(row["Id"])
                for row in self._tables[obj.name].values()
                if row[item.name] is not None and not row.get("IsDeleted")
            }
            self._unique[key] = index
        return index

    def _check_unique(self, obj: SObject, candidate: Record, own_id: str | None) -> None:
        for item in obj.fields:
            value = candidate.get(item.name)
            if not item.unique or value is None or item.type == "id":
                continue
            wanted = checks.unique_key(item, value)
            holder_id = self._holder(obj, item, wanted)
            if holder_id is not None and holder_id != own_id:
                raise checks.duplicate(item, holder_id)

    def _holder(self, obj: SObject, item: Field, wanted: object) -> str | None:
        """The live record holding `wanted` in a unique field, if any."""
        for attempt in range(2):
            holder_id = self._unique_index(obj, item).get(wanted)
            if holder_id is None:
                return None
            holder = self._tables[obj.name].get(holder_id)
            if (
                holder is not None
                and not holder.get("IsDeleted")
                and checks.unique_key(item, holder[item.name]) == wanted
            ):
                return holder_id
            if attempt == 0:
                # A stale entry (changed, deleted or rolled-back record): rebuild once.
                del self._unique[(obj.name, item.name)]
        return None

    def _index_unique(self, obj: SObject, record: Record) -> None:
        for item in obj.fields:
            if item.unique and item.type != "id" and record[item.name] is not None:
                index = self._unique_index(obj, item)
                index[checks.unique_key(item, record[item.name])] = str(record["Id"])

    def _tick(self) -> str:
        self._writes += 1
        return render_datetime(_FIRST_WRITE_AT + dt.timedelta(seconds=self._writes))

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

    # -- SOQL and SOSL ---------------------------------------------------------

    def query(self, soql: str, *, include_deleted: bool, version: str) -> QueryResult:
        """Run a SELECT; deleted records only appear with include_deleted (queryAll)."""
        bound = self.schema.compile(soql)
        with self._lock:
            return self._queries.run(bound, version, include_deleted=include_deleted)

    def search(self, sosl: str, version: str) -> list[dict[str, object]]:
        """Minimal SOSL: FIND {text} [IN x FIELDS] [RETURNING Obj(fields ...), ...]."""
        with self._lock:
            return self._queries.search(sosl, version)


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
    shaped.update((name, obj.read(record, name)) for name in fields)
    return shaped
