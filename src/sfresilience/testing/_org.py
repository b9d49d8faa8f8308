"""An in-memory Salesforce org: schema, seeded records, CRUD, SOQL and a little SOSL.

Pure Python with no I/O. One re-entrant lock guards all data so the fake HTTP
server can call an `Org` from many threads at once.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from sfresilience.testing._soql import (
    Kind,
    Path,
    Query,
    SoqlError,
    bind,
    comparable,
    compile_where,
    order,
    parse,
    parse_datetime,
    utc_today,
)


Record = dict[str, object]

_NOT_FOUND = "The requested resource does not exist"
_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_SUFFIX: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_RE: Final = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
_KINDS: Final[dict[str, Kind]] = {
    "id": "id",
    "reference": "id",
    "string": "string",
    "email": "string",
    "phone": "string",
    "picklist": "string",
    "textarea": "string",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "int": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
}
_TEXT_TYPES: Final = frozenset({"string", "email", "phone", "textarea"})
_SEEDED_AT: Final = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
# Writes happen "after" every seeded record so LastModifiedDate only grows.
_FIRST_WRITE_AT: Final = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


class ApiError(Exception):
    """A Salesforce REST error: rendered by the server as [{"message", "errorCode", "fields"}]."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields or [])

    def body(self) -> list[dict[str, object]]:
        """The JSON array Salesforce sends for this error."""
        return [
            {
                "message": self.message,
                "errorCode": self.error_code,
                "fields": list(self.fields),
            }
        ]


@dataclass(frozen=True)
class QueryResult:
    """Records shaped as REST returns them; for COUNT() only the count."""

    records: list[dict[str, object]]
    total_size: int


@dataclass(frozen=True)
class _Field:
    name: str
    label: str
    type: str
    length: int = 0
    createable: bool = True
    updateable: bool = True
    required: bool = False
    external_id: bool = False
    reference_to: str | None = None
    relationship_name: str | None = None

    @property
    def kind(self) -> Kind:
        return _KINDS[self.type]

    @property
    def nillable(self) -> bool:
        return not self.required and self.type not in {"id", "boolean"}

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "length": self.length,
            "nillable": self.nillable,
            "externalId": self.external_id,
            "updateable": self.updateable,
            "createable": self.createable,
            "custom": self.name.endswith("__c"),
            "unique": False,
            "referenceTo": [self.reference_to] if self.reference_to else [],
            "relationshipName": self.relationship_name,
        }


@dataclass(frozen=True)
class _SObject:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[_Field, ...]
    writable: bool = True
    children: tuple[tuple[str, str, str], ...] = ()
    by_name: dict[str, _Field] = field(init=False, repr=False, compare=False)
    by_relationship: dict[str, _Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {item.name.lower(): item for item in self.fields}
        by_relationship = {
            item.relationship_name.lower(): item for item in self.fields if item.relationship_name
        }
        object.__setattr__(self, "by_name", by_name)
        object.__setattr__(self, "by_relationship", by_relationship)

    def field(self, name: str) -> _Field | None:
        return self.by_name.get(name.lower())

    @property
    def soft_deletes(self) -> bool:
        return "isdeleted" in self.by_name


def _id_field() -> _Field:
    return _Field("Id", "Record ID", "id", 18, createable=False, updateable=False)


def _user_lookup(name: str, label: str, relationship: str, *, writable: bool = False) -> _Field:
    return _Field(
        name,
        label,
        "reference",
        18,
        createable=writable,
        updateable=writable,
        reference_to="User",
        relationship_name=relationship,
    )


def _audit_fields() -> tuple[_Field, ...]:
    return (
        _user_lookup("OwnerId", "Owner ID", "Owner", writable=True),
        _read_only("CreatedDate", "Created Date", "datetime"),
        _user_lookup("CreatedById", "Created By ID", "CreatedBy"),
        _read_only("LastModifiedDate", "Last Modified Date", "datetime"),
        _user_lookup("LastModifiedById", "Last Modified By ID", "LastModifiedBy"),
        _read_only("SystemModstamp", "System Modstamp", "datetime"),
        _read_only("IsDeleted", "Deleted", "boolean"),
    )


def _account_lookup() -> _Field:
    return _Field(
        "AccountId",
        "Account ID",
        "reference",
        18,
        reference_to="Account",
        relationship_name="Account",
    )


def _external_id() -> _Field:
    return _Field("External_Id__c", "External Id", "string", 255, external_id=True)


def _read_only(name: str, label: str, kind: str, length: int = 0) -> _Field:
    return _Field(name, label, kind, length, createable=False, updateable=False)


_SCHEMA: Final[tuple[_SObject, ...]] = (
    _SObject(
        "Account",
        "Account",
        "Accounts",
        "001",
        (
            _id_field(),
            _Field("Name", "Account Name", "string", 255, required=True),
            _Field("Industry", "Industry", "picklist", 255),
            _Field("AnnualRevenue", "Annual Revenue", "currency"),
            _Field("NumberOfEmployees", "Employees", "int"),
            _Field("BillingCity", "Billing City", "string", 40),
            _Field("BillingCountry", "Billing Country", "string", 80),
            _Field("Rating", "Account Rating", "picklist", 255),
            _external_id(),
            *_audit_fields(),
        ),
        children=(
            ("Contact", "AccountId", "Contacts"),
            ("Opportunity", "AccountId", "Opportunities"),
        ),
    ),
    _SObject(
        "Contact",
        "Contact",
        "Contacts",
        "003",
        (
            _id_field(),
            _Field("FirstName", "First Name", "string", 40),
            _Field("LastName", "Last Name", "string", 80, required=True),
            _read_only("Name", "Full Name", "string", 121),
            _Field("Email", "Email", "email", 80),
            _Field("Phone", "Business Phone", "phone", 40),
            _Field("Title", "Title", "string", 128),
            _account_lookup(),
            _external_id(),
            *_audit_fields(),
        ),
    ),
    _SObject(
        "Opportunity",
        "Opportunity",
        "Opportunities",
        "006",
        (
            _id_field(),
            _Field("Name", "Name", "string", 120, required=True),
            _Field("StageName", "Stage", "picklist", 255, required=True),
            _Field("Amount", "Amount", "currency"),
            _Field("CloseDate", "Close Date", "date", required=True),
            _Field("Probability", "Probability (%)", "percent"),
            _account_lookup(),
            *_audit_fields(),
        ),
    ),
    _SObject(
        "Organization",
        "Organization",
        "Organizations",
        "00D",
        (
            _id_field(),
            _read_only("Name", "Name", "string", 80),
            _read_only("InstanceName", "Instance Name", "string", 5),
            _read_only("IsSandbox", "Is Sandbox", "boolean"),
            _read_only("OrganizationType", "Edition", "picklist", 40),
            _read_only("NamespacePrefix", "Namespace Prefix", "string", 15),
        ),
        writable=False,
    ),
    _SObject(
        "User",
        "User",
        "Users",
        "005",
        (
            _id_field(),
            _read_only("Username", "Username", "string", 80),
            _read_only("Name", "Full Name", "string", 121),
            _read_only("Email", "Email", "email", 128),
            _read_only("IsActive", "Active", "boolean"),
        ),
        writable=False,
    ),
)
_OBJECTS: Final[dict[str, _SObject]] = {obj.name.lower(): obj for obj in _SCHEMA}
_SEARCHABLE: Final = ("Account", "Contact", "Opportunity")

_COMPANY_WORDS: Final = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Wonka",
    "Gringotts",
    "Oceanic",
    "Massive",
    "Aperture",
)
_COMPANY_KINDS: Final = (
    "Corporation",
    "Industries",
    "Holdings",
    "Labs",
    "Systems",
    "Partners",
    "Group",
    "Logistics",
)
_INDUSTRIES: Final = (
    "Technology",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Energy",
    "Education",
    None,
)
_CITIES: Final = (
    ("San Francisco", "USA"),
    ("New York", "USA"),
    ("London", "United Kingdom"),
    ("Paris", "France"),
    ("Berlin", "Germany"),
    ("Tokyo", "Japan"),
    ("Sydney", "Australia"),
    (None, None),
)
_RATINGS: Final = ("Hot", "Warm", "Cold", None)
_FIRST_NAMES: Final = (
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Guido",
    None,
)
_LAST_NAMES: Final = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "van Rossum",
)
_TITLES: Final = ("CEO", "CTO", "VP Sales", "Engineer", "Buyer", "Analyst", None)
_STAGES: Final = (
    ("Prospecting", 10.0),
    ("Qualification", 20.0),
    ("Needs Analysis", 20.0),
    ("Value Proposition", 50.0),
    ("Proposal/Price Quote", 75.0),
    ("Negotiation/Review", 90.0),
    ("Closed Won", 100.0),
    ("Closed Lost", 0.0),
)
_SOSL_RE: Final = re.compile(
    r"\s*FIND\s*\{(?P<term>(?:\\.|[^\\}])*)\}\s*"
    r"(?:IN\s+(?P<scope>ALL|NAME|EMAIL|PHONE)\s+FIELDS\s*)?"
    r"(?:RETURNING\s+(?P<returning>.+?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_RETURNING_RE: Final = re.compile(r"\s*(?P<object>\w+)\s*(?:\((?P<inner>.*)\))?\s*$", re.DOTALL)
_INNER_RE: Final = re.compile(
    r"(?P<fields>.*?)(?P<rest>\s(?:WHERE|ORDER\s+BY|LIMIT|OFFSET)\s.*)?$",
    re.IGNORECASE | re.DOTALL,
)
_NAME_FIELDS: Final = frozenset({"Name", "FirstName", "LastName"})
_ORPHAN_EVERY: Final = 10


def _base62(number: int, width: int) -> str:
    digits: list[str] = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits)).rjust(width, "0")


def _id_checksum(id15: str) -> str:
    """The 3-character suffix that makes an id case-insensitively unique."""
    suffix = []
    for start in range(0, 15, 5):
        chunk = id15[start : start + 5]
        bits = sum(1 << index for index, char in enumerate(chunk) if char.isupper())
        suffix.append(_ID_SUFFIX[bits])
    return "".join(suffix)


def _render_datetime(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def _not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", _NOT_FOUND)


def _entity_is_deleted() -> ApiError:
    """What an update or delete of a record in the recycle bin gets."""
    return ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")


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


def _version_path(version: str) -> str:
    return version if version.startswith("v") else f"v{version}"


def _record_url(sobject: str, record_id: object, version: str) -> str:
    return f"/services/data/{_version_path(version)}/sobjects/{sobject}/{record_id}"


def _attributes(sobject: str, record_id: object, version: str) -> Record:
    return {"type": sobject, "url": _record_url(sobject, record_id, version)}


def _no_such_column(name: str, entity: str) -> ApiError:
    return ApiError(
        400,
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use "
        "a custom field, be sure to append the '__c' after the custom field name. "
        "Please reference your WSDL or the describe call for the appropriate names.",
        [name],
    )


class _Catalog:
    """Name resolution for the SOQL binder, straight from the static schema."""

    def resolve_object(self, name: str) -> str | None:
        obj = _OBJECTS.get(name.lower())
        return obj.name if obj else None

    def resolve_field(self, sobject: str, name: str) -> tuple[str, Kind] | None:
        found = _OBJECTS[sobject.lower()].field(name)
        return (found.name, found.kind) if found else None

    def resolve_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:
        lookup = _OBJECTS[sobject.lower()].by_relationship.get(name.lower())
        if lookup is None or lookup.relationship_name is None:
            return None
        return lookup.relationship_name, lookup.reference_to or ""


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
        self._pod = _BASE62[self._rng.randrange(1, 10)] + _BASE62[self._rng.randrange(36, 62)]
        self._counters = {obj.name: self._rng.randrange(62**4, 62**5) for obj in _SCHEMA}
        self._tables: dict[str, dict[str, Record]] = {obj.name: {} for obj in _SCHEMA}
        self._writes = 0
        self.instance_name = instance_name
        self.org_name = org_name
        self.is_sandbox = is_sandbox
        self.org_id = self._new_id(_OBJECTS["organization"])
        self.user_id = self._new_id(_OBJECTS["user"])
        self._seed_singletons()
        account_ids = self._seed_accounts(accounts)
        self._seed_contacts(contacts, account_ids)
        self._seed_opportunities(opportunities, account_ids)

    # -- seeding ---------------------------------------------------------------

    def _new_id(self, obj: _SObject) -> str:
        self._counters[obj.name] += 1
        id15 = f"{obj.key_prefix}{self._pod}0{_base62(self._counters[obj.name], 9)}"
        return id15 + _id_checksum(id15)

    def _seeded_time(self) -> str:
        seconds = self._rng.randrange(365 * 24 * 3600)
        return _render_datetime(_SEEDED_AT + dt.timedelta(seconds=seconds))

    def _insert(self, sobject: str, values: Record, created: str) -> str:
        obj = _OBJECTS[sobject.lower()]
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
        _derive(obj, record)
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

    def _seed_accounts(self, count: int) -> list[str]:
        rng = self._rng
        seen: set[str] = set()
        ids = []
        for index in range(count):
            name = f"{rng.choice(_COMPANY_WORDS)} {rng.choice(_COMPANY_KINDS)}"
            if name in seen:
                name = f"{name} {index + 1}"
            seen.add(name)
            city, country = rng.choice(_CITIES)
            values: Record = {
                "Name": name,
                "Industry": rng.choice(_INDUSTRIES),
                "AnnualRevenue": float(rng.randrange(1, 1000) * 100_000),
                "NumberOfEmployees": rng.randrange(1, 50_000),
                "BillingCity": city,
                "BillingCountry": country,
                "Rating": rng.choice(_RATINGS),
                "External_Id__c": f"ACC-{index + 1:06d}",
            }
            ids.append(self._insert("Account", values, self._seeded_time()))
        return ids

    def _seed_contacts(self, count: int, account_ids: list[str]) -> None:
        rng = self._rng
        parents = _round_robin(account_ids, skip_every=_ORPHAN_EVERY)
        for index in range(count):
            first = rng.choice(_FIRST_NAMES)
            last = rng.choice(_LAST_NAMES)
            handle = f"{first or 'x'}.{last}".lower().replace(" ", "")
            values: Record = {
                "FirstName": first,
                "LastName": last,
                "Email": f"{handle}{index + 1}@example.com",
                "Phone": f"+1 415 555 {index % 10_000:04d}",
                "Title": rng.choice(_TITLES),
                "AccountId": next(parents),
                "External_Id__c": f"CON-{index + 1:06d}",
            }
            self._insert("Contact", values, self._seeded_time())

    def _seed_opportunities(self, count: int, account_ids: list[str]) -> None:
        rng = self._rng
        for index in range(count):
            stage, probability = rng.choice(_STAGES)
            account = account_ids[index % len(account_ids)] if account_ids else None
            close = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(365))
            values: Record = {
                "Name": f"Deal {index + 1}",
                "StageName": stage,
                "Amount": float(rng.randrange(1, 500) * 1000),
                "CloseDate": close.isoformat(),
                "Probability": probability,
                "AccountId": account,
            }
            self._insert("Opportunity", values, self._seeded_time())

    # -- schema ----------------------------------------------------------------

    def sobject_names(self) -> list[str]:
        """Canonical names of every sObject this org knows."""
        return [obj.name for obj in _SCHEMA]

    def describe_global(self, version: str) -> dict[str, object]:
        """The body of GET /sobjects."""
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [_global_entry(obj, version) for obj in _SCHEMA],
        }

    def describe(self, sobject: str, version: str) -> dict[str, object]:
        """The body of GET /sobjects/X/describe; unknown objects are NOT_FOUND."""
        obj = _known(sobject)
        description = _global_entry(obj, version)
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
        obj = _known(sobject)
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
        obj = _known(sobject)
        key = _external_key(obj, field)
        selected = _select(obj, fields)
        with self._lock:
            matches = self._matching(obj, key, value)
            if not matches:
                raise _not_found()
            return _shape_flat(obj, matches[0], selected, version)

    def records(self, sobject: str) -> list[dict[str, object]]:
        """Copies of every stored record, deleted ones included, for assertions."""
        obj = _known(sobject)
        with self._lock:
            return [dict(record) for record in self._tables[obj.name].values()]

    def lock_keys(self, sobject: str, record_id: str) -> list[str]:
        """Ids a write to this record must lock: the record and its parent account."""
        obj = _OBJECTS.get(sobject.lower())
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
        obj = _writable(sobject, "insert")
        with self._lock:
            values = self._validated(obj, data, creating=True)
            missing = [
                item.name
                for item in obj.fields
                if item.required and values.get(item.name) in {None, ""}
            ]
            if missing:
                raise _required_missing(missing)
            return self._insert(obj.name, values, self._tick())

    def update(self, sobject: str, record_id: str, data: dict[str, object]) -> None:
        """Change fields of a live record."""
        obj = _writable(sobject, "update")
        with self._lock:
            record = self._live(obj, record_id, deleted=_entity_is_deleted)
            self._apply(obj, record, data)

    def upsert(
        self, sobject: str, field: str, value: str, data: dict[str, object]
    ) -> tuple[str, bool]:
        """Update the record whose external id is `value`, or create it."""
        obj = _writable(sobject, "upsert")
        key = _external_key(obj, field)
        with self._lock:
            matches = self._matching(obj, key, value)
            if matches:
                self._apply(obj, matches[0], data)
                return str(matches[0]["Id"]), False
            if key.name == "Id":
                raise _not_found()
            return self.create(obj.name, {**data, key.name: value}), True

    def delete(self, sobject: str, record_id: str) -> None:
        """Soft-delete a record; deleting an account also deletes its children."""
        obj = _writable(sobject, "delete")
        with self._lock:
            record = self._live(obj, record_id, deleted=_entity_is_deleted)
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
        obj = _known(sobject)
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
        obj = _known(sobject)
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
        return _render_datetime(_FIRST_WRITE_AT + dt.timedelta(seconds=self._writes))

    def _apply(self, obj: _SObject, record: Record, data: Mapping[str, object]) -> None:
        values = self._validated(obj, data, creating=False)
        missing = [
            name
            for name, value in values.items()
            if obj.by_name[name.lower()].required and value in {None, ""}
        ]
        if missing:
            raise _required_missing(missing)
        record.update(values)
        stamp = self._tick()
        record.update(LastModifiedDate=stamp, LastModifiedById=self.user_id, SystemModstamp=stamp)
        _derive(obj, record)

    def _validated(self, obj: _SObject, data: Mapping[str, object], *, creating: bool) -> Record:
        resolved: list[tuple[_Field, object]] = []
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

    def _coerced(self, item: _Field, value: object) -> object:
        if value is None:
            return None
        if item.type == "reference":
            return self._reference(item, value)
        coerced = _coerce(item, value)
        if isinstance(coerced, str) and item.length and len(coerced) > item.length:
            raise ApiError(
                400,
                "STRING_TOO_LONG",
                f"{item.label}: data value too large: {coerced} (max length={item.length})",
                [item.name],
            )
        return coerced

    def _reference(self, item: _Field, value: object) -> str:
        parent = _OBJECTS[(item.reference_to or "").lower()]
        text = value if isinstance(value, str) else str(value)
        if not _ID_RE.fullmatch(text):
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

    def _find(self, obj: _SObject, record_id: str) -> Record | None:
        """The stored record for a 15- or 18-character id, deleted or not."""
        if not _ID_RE.fullmatch(record_id) or not record_id.startswith(obj.key_prefix):
            return None
        id18 = record_id[:15] + _id_checksum(record_id[:15])
        return self._tables[obj.name].get(id18)

    def _live(
        self,
        obj: _SObject,
        record_id: str,
        *,
        deleted: Callable[[], ApiError] = _not_found,
    ) -> Record:
        """The live record, else MALFORMED_ID, `deleted()` if soft-deleted, or NOT_FOUND."""
        if not _ID_RE.fullmatch(record_id) or not record_id.startswith(obj.key_prefix):
            raise ApiError(
                400,
                "MALFORMED_ID",
                f"{obj.label} ID: id value of incorrect type: {record_id}",
                ["Id"],
            )
        record = self._find(obj, record_id)
        if record is None:
            raise _not_found()
        if record.get("IsDeleted"):
            raise deleted()
        return record

    def _matching(self, obj: _SObject, key: _Field, value: str) -> list[Record]:
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

    def _read(self, obj: _SObject, record: Record | None, path: Path) -> object:
        """The value at a field path, following lookups to parent records."""
        for part in path[:-1]:
            if record is None:
                return None
            lookup = obj.by_relationship[part.lower()]
            obj = _OBJECTS[(lookup.reference_to or "").lower()]
            parent_id = record[lookup.name]
            record = self._tables[obj.name].get(str(parent_id)) if parent_id else None
        return None if record is None else record[path[-1]]

    # -- SOQL and SOSL ---------------------------------------------------------

    def query(self, soql: str, *, include_deleted: bool, version: str) -> QueryResult:
        """Run a SELECT; deleted records only appear with include_deleted (queryAll)."""
        bound = _bound(soql)
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
        obj = _OBJECTS[bound.sobject.lower()]
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

    def _aggregate(self, obj: _SObject, bound: Query, rows: list[Record]) -> Record:
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

    def _getter(self, obj: _SObject, record: Record) -> Callable[[Path], object]:
        def get(path: Path) -> object:
            return self._read(obj, record, path)

        return get

    def _shape(self, obj: _SObject, record: Record, paths: Iterable[Path], version: str) -> Record:
        shaped: Record = {"attributes": _attributes(obj.name, record["Id"], version)}
        for path in paths:
            self._place(shaped, obj, record, path, version)
        return shaped

    def _place(
        self, target: Record, obj: _SObject, record: Record, path: Path, version: str
    ) -> None:
        """Copy one field path into `target`, nesting parents as REST does."""
        head = path[0]
        if len(path) == 1:
            target[head] = record[head]
            return
        lookup = obj.by_relationship[head.lower()]
        parent_obj = _OBJECTS[(lookup.reference_to or "").lower()]
        parent_id = record[lookup.name]
        parent = self._tables[parent_obj.name].get(str(parent_id))
        if parent is None:
            target[head] = None
            return
        existing = target.get(head)
        nested: Record = (
            existing
            if isinstance(existing, dict)
            else {"attributes": _attributes(parent_obj.name, parent_id, version)}
        )
        target[head] = nested
        self._place(nested, parent_obj, parent, path[1:], version)

    def search(self, sosl: str, version: str) -> list[dict[str, object]]:
        """Minimal SOSL: FIND {text} [IN x FIELDS] [RETURNING Obj(fields ...), ...]."""
        match = _SOSL_RE.fullmatch(sosl)
        if match is None:
            raise ApiError(
                400,
                "MALFORMED_SEARCH",
                "No search term found. The search term must be enclosed in braces.",
            )
        term = re.sub(r"\\(.)", r"\1", match["term"]).strip(' "*').casefold()
        scope = (match["scope"] or "ALL").upper()
        targets = [_search_target(item) for item in _split_top(match["returning"])]
        queries = [_bound(soql) for soql in targets] if targets else _default_targets()
        results: list[dict[str, object]] = []
        with self._lock:
            for bound in queries:
                obj = _OBJECTS[bound.sobject.lower()]
                fields = _search_fields(obj, scope)

                def hit(record: Record, fields: list[str] = fields) -> bool:
                    return any(
                        term in str(record[name]).casefold()
                        for name in fields
                        if record[name] is not None
                    )

                results.extend(self._run(bound, version, hit, include_deleted=False).records)
        return results


def _round_robin(ids: list[str], *, skip_every: int) -> Iterator[str | None]:
    """Cycle through ids, yielding None every `skip_every`-th time.

    The Nones make private contacts, so queries meet empty lookups.
    """
    position = 0
    while True:
        for index in range(skip_every):
            if index == skip_every - 1 or not ids:
                yield None
            else:
                yield ids[position % len(ids)]
                position += 1


def _derive(obj: _SObject, record: Record) -> None:
    """Recompute formula-like fields after a write."""
    if obj.name == "Contact":
        parts = [record.get("FirstName"), record.get("LastName")]
        record["Name"] = " ".join(str(part) for part in parts if part)


def _known(sobject: str) -> _SObject:
    obj = _OBJECTS.get(sobject.lower())
    if obj is None:
        raise _not_found()
    return obj


def _writable(sobject: str, operation: str) -> _SObject:
    obj = _known(sobject)
    if not obj.writable:
        raise ApiError(
            400,
            "INVALID_TYPE_FOR_OPERATION",
            f"entity type {obj.name} does not support {operation}",
        )
    return obj


def _external_key(obj: _SObject, name: str) -> _Field:
    found = obj.field(name)
    if found is None or not (found.external_id or found.name == "Id"):
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {name}",
        )
    return found


def _select(obj: _SObject, fields: list[str] | None) -> list[str]:
    if fields is None:
        return [item.name for item in obj.fields]
    selected = []
    for name in fields:
        found = obj.field(name.strip())
        if found is None:
            raise _no_such_column(name.strip(), obj.name)
        selected.append(found.name)
    return selected


def _shape_flat(
    obj: _SObject, record: Record, fields: list[str], version: str
) -> dict[str, object]:
    shaped: Record = {"attributes": _attributes(obj.name, record["Id"], version)}
    shaped.update((name, record[name]) for name in fields)
    return shaped


def _required_missing(names: list[str]) -> ApiError:
    return ApiError(
        400,
        "REQUIRED_FIELD_MISSING",
        f"Required fields are missing: [{', '.join(names)}]",
        names,
    )


def _global_entry(obj: _SObject, version: str) -> dict[str, object]:
    base = f"/services/data/{_version_path(version)}/sobjects/{obj.name}"
    return {
        "name": obj.name,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "keyPrefix": obj.key_prefix,
        "custom": False,
        "queryable": True,
        "retrieveable": True,
        "searchable": obj.name in _SEARCHABLE,
        "createable": obj.writable,
        "updateable": obj.writable,
        "deletable": obj.writable,
        "urls": {
            "sobject": base,
            "describe": f"{base}/describe",
            "rowTemplate": f"{base}/{{ID}}",
        },
    }


def _json_error(item: _Field, value: object) -> ApiError:
    token = "VALUE_STRING" if isinstance(value, str) else "VALUE_OTHER"
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {item.type} from {token} value {value} "
        "or request may be missing a required field",
    )


def _coerce(item: _Field, value: object) -> object:
    """Check a JSON value against a field's type and store it in canonical form."""
    if isinstance(value, dict | list):
        raise _json_error(item, value)
    converter = _CONVERTERS[item.kind]
    try:
        return converter(item, value)
    except (TypeError, ValueError):
        raise _json_error(item, value) from None


def _to_string(_item: _Field, value: object) -> object:
    if isinstance(value, bool):
        raise TypeError
    return value if isinstance(value, str) else str(value)


def _to_number(item: _Field, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError
    number = float(value)
    if item.type == "int":
        if not number.is_integer():
            raise ValueError
        return int(number)
    return number


def _to_boolean(_item: _Field, value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise TypeError


def _to_date(_item: _Field, value: object) -> object:
    if not isinstance(value, str):
        raise TypeError
    return dt.date.fromisoformat(value[:10]).isoformat()


def _to_datetime(_item: _Field, value: object) -> object:
    if not isinstance(value, str):
        raise TypeError
    moment = parse_datetime(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return _render_datetime(moment)


def _to_id(_item: _Field, _value: object) -> object:
    raise TypeError


_CONVERTERS: Final[dict[Kind, Callable[[_Field, object], object]]] = {
    "string": _to_string,
    "number": _to_number,
    "boolean": _to_boolean,
    "date": _to_date,
    "datetime": _to_datetime,
    "id": _to_id,
}


def _bound(soql: str) -> Query:
    try:
        return bind(soql, parse(soql), _Catalog())
    except SoqlError as error:
        raise ApiError(400, error.error_code, error.message) from None


def _split_top(text: str | None) -> list[str]:
    """Split on commas that are not inside parentheses."""
    if not text:
        return []
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _search_target(item: str) -> str:
    """Turn one RETURNING item into the SOQL that selects its records."""
    match = _RETURNING_RE.fullmatch(item)
    if match is None:
        raise ApiError(400, "MALFORMED_SEARCH", f"unexpected token in RETURNING: {item.strip()}")
    inner = _INNER_RE.fullmatch(match["inner"] or "")
    fields = (inner["fields"] if inner else "").strip() or "Id"
    rest = (inner["rest"] if inner else "") or ""
    return f"SELECT {fields} FROM {match['object']}{rest}"  # noqa: S608  (SOQL, no SQL)


def _default_targets() -> list[Query]:
    return [_bound(f"SELECT Id FROM {name}") for name in _SEARCHABLE]  # noqa: S608


def _search_fields(obj: _SObject, scope: str) -> list[str]:
    texts = [item.name for item in obj.fields if item.type in _TEXT_TYPES]
    if scope == "NAME":
        return [name for name in texts if name in _NAME_FIELDS]
    if scope == "EMAIL":
        return [name for name in texts if name == "Email"]
    if scope == "PHONE":
        return [name for name in texts if name == "Phone"]
    return texts
