"""One org's schema: the standard objects plus a test's own, and the names SOQL resolves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from .errors import ApiError, not_found
from .ids import base62
from .objects import STANDARD
from .schema import PICKLIST_TYPES, ChildRelationship, Field, SObject
from .soql import Kind, Query, SoqlError, bind, parse


class Schema:
    """The org's sObjects by name and key prefix, with every lookup's child relationship.

    Also the `Catalog` the SOQL binder resolves names through.
    """

    def __init__(
        self,
        objects: Iterable[SObject] = (),
        fields: Mapping[str, Iterable[Field]] | None = None,
    ) -> None:
        extended = {obj.name.lower(): obj for obj in STANDARD}
        for sobject, extra in (fields or {}).items():
            base = extended.get(sobject.lower())
            if base is None:
                raise ValueError(f"no standard object {sobject!r} to add fields to")
            extended[base.name.lower()] = base.with_fields(extra)
        custom = 0
        for declared in objects:
            if declared.name.lower() in extended:
                raise ValueError(f"object {declared.name!r} is declared twice")
            obj = declared
            if not obj.key_prefix:
                obj = replace(obj, key_prefix=f"a0{base62(custom, 1)}")
                custom += 1
            extended[obj.name.lower()] = obj
        self.objects: dict[str, SObject] = extended
        self._children: dict[str, list[ChildRelationship]] = {name: [] for name in extended}
        for obj in extended.values():
            for item in obj.fields:
                self._register_lookup(obj, item)
        for key, obj in extended.items():
            named = tuple(
                (child.child, child.field, child.name)
                for child in self._children[key]
                if child.name is not None
            )
            extended[key] = replace(obj, children=named)
        self._by_prefix = {obj.key_prefix: obj for obj in extended.values()}

    def _register_lookup(self, obj: SObject, item: Field) -> None:
        for target in item.targets:
            parent = self.objects.get(target.lower())
            if parent is None:
                raise ValueError(f"{obj.name}.{item.name} points at unknown object {target!r}")
            self._children[parent.name.lower()].append(
                ChildRelationship(obj.name, item.name, item.child_relationship, item.cascade_delete)
            )

    def __iter__(self) -> Iterator[SObject]:
        return iter(self.objects.values())

    def get(self, name: str) -> SObject | None:
        return self.objects.get(name.lower())

    def __getitem__(self, name: str) -> SObject:
        return self.objects[name.lower()]

    def by_prefix(self, record_id: str) -> SObject | None:
        return self._by_prefix.get(record_id[:3])

    def children(self, sobject: str) -> list[ChildRelationship]:
        return self._children[sobject.lower()]

    def child(self, sobject: str, relationship: str) -> ChildRelationship | None:
        wanted = relationship.lower()
        for item in self._children[sobject.lower()]:
            if item.name is not None and item.name.lower() == wanted:
                return item
        return None

    def known(self, sobject: str) -> SObject:
        obj = self.get(sobject)
        if obj is None:
            raise not_found()
        return obj

    def writable(self, sobject: str, operation: str) -> SObject:
        obj = self.known(sobject)
        if not obj.writable:
            raise ApiError(
                400,
                "INVALID_TYPE_FOR_OPERATION",
                f"entity type {obj.name} does not support {operation}",
            )
        return obj

    # -- the SOQL binder's catalog -------------------------------------------------

    def resolve_object(self, name: str) -> str | None:
        obj = self.get(name)
        return obj.name if obj else None

    def resolve_field(self, sobject: str, name: str) -> tuple[str, Kind] | None:
        found = self[sobject].field(name)
        return (found.name, found.kind) if found else None

    def resolve_relationship(self, sobject: str, name: str) -> tuple[str, str] | None:
        lookup = self[sobject].by_relationship.get(name.lower())
        if lookup is None or lookup.relationship_name is None:
            return None
        return lookup.relationship_name, lookup.reference or ""

    def resolve_child(self, sobject: str, name: str) -> tuple[str, str, str] | None:
        found = self.child(sobject, name)
        if found is None or found.name is None:
            return None
        return found.name, found.child, found.field

    def field_at(self, sobject: str, path: tuple[str, ...]) -> Field | None:
        """The field a (canonical) path ends at."""
        obj = self[sobject]
        for part in path[:-1]:
            lookup = obj.by_relationship[part.lower()]
            obj = self[lookup.reference or ""]
        return obj.field(path[-1])

    def is_picklist(self, sobject: str, path: tuple[str, ...]) -> bool:
        found = self.field_at(sobject, path)
        return found is not None and found.type in PICKLIST_TYPES

    def is_multipicklist(self, sobject: str, path: tuple[str, ...]) -> bool:
        found = self.field_at(sobject, path)
        return found is not None and found.type == "multipicklist"

    def field_names(self, sobject: str, which: str) -> list[str]:
        """The fields FIELDS(ALL|STANDARD|CUSTOM) selects, in describe order."""
        fields = self[sobject].fields
        if which == "CUSTOM":
            return [item.name for item in fields if item.custom]
        if which == "STANDARD":
            return [item.name for item in fields if not item.custom]
        return [item.name for item in fields]

    def compile(self, soql: str) -> Query:
        try:
            return bind(soql, parse(soql), self)
        except SoqlError as error:
            raise ApiError(400, error.error_code, error.message) from None
        except RecursionError:
            # Salesforce caps query length and nesting; a query this deep is refused.
            raise ApiError(400, "MALFORMED_QUERY", "the query is nested too deeply") from None


# The standard objects alone, for callers without an org at hand. An org's own objects
# are only in its `Org.schema`: prefer `org.schema.known(...)` and friends.
_STANDARD_SCHEMA = Schema()


def known(sobject: str) -> SObject:
    """A standard object by name, else NOT_FOUND (see `Schema.known`)."""
    return _STANDARD_SCHEMA.known(sobject)


def writable(sobject: str, operation: str) -> SObject:
    """A writable standard object (see `Schema.writable`)."""
    return _STANDARD_SCHEMA.writable(sobject, operation)
