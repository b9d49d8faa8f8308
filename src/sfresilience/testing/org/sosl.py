"""Minimal SOSL: FIND {text} [IN x FIELDS] [RETURNING Obj(fields ...), ...]."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from .errors import ApiError
from .schema import TEXT_TYPES, SObject
from .soql import Query


if TYPE_CHECKING:
    from .catalog import Schema

# The objects a FIND without RETURNING searches.
SEARCHABLE: Final = ("Account", "Contact", "Opportunity")


SOSL_RE: Final = re.compile(
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
NAME_FIELDS: Final = frozenset({"Name", "FirstName", "LastName"})


def split_top(text: str | None) -> list[str]:
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


def search_target(item: str) -> str:
    """Turn one RETURNING item into the SOQL that selects its records."""
    match = _RETURNING_RE.fullmatch(item)
    if match is None:
        raise ApiError(400, "MALFORMED_SEARCH", f"unexpected token in RETURNING: {item.strip()}")
    inner = _INNER_RE.fullmatch(match["inner"] or "")
    fields = (inner["fields"] if inner else "").strip() or "Id"
    rest = (inner["rest"] if inner else "") or ""
    return f"SELECT {fields} FROM {match['object']}{rest}"  # noqa: S608  (SOQL, no SQL)


def default_targets(schema: Schema) -> list[Query]:
    return [schema.compile(f"SELECT Id FROM {name}") for name in SEARCHABLE]  # noqa: S608


def search_fields(obj: SObject, scope: str) -> list[str]:
    texts = [item.name for item in obj.fields if item.type in TEXT_TYPES and item.type != "url"]
    if scope == "NAME":
        return [name for name in texts if name in NAME_FIELDS]
    if scope == "EMAIL":
        return [name for name in texts if name == "Email"]
    if scope == "PHONE":
        return [name for name in texts if name == "Phone"]
    return texts
