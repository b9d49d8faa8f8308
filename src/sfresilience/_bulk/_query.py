"""``query_all`` over a Bulk 2.0 query job: the same records, streamed, for a few calls.

A REST ``query_all`` of N records costs ``N / 2000`` calls (one per page); a
Bulk 2.0 query job costs a handful (create, a few polls, one per
``max_records`` page). The records are read row by row from the streamed CSV,
so a large result never sits in memory whole, and come out in the shape
``query_all`` gives: ``attributes``, the fields typed by the object's describe
(numbers, booleans, ``None`` for empty), parent fields nested.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from typing import Any

import requests
from simple_salesforce.bulk2 import Operation, _Bulk2Client


_FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)
_INTEGER_TYPES = frozenset({"int", "long"})
_FLOAT_TYPES = frozenset({"double", "currency", "percent"})
PAGE_SIZE = 50_000  # simple-salesforce's DEFAULT_QUERY_PAGE_SIZE


def object_of(soql: str) -> str | None:
    """The sObject a SOQL query reads (its first ``FROM``), or None."""
    found = _FROM.search(soql)
    return found.group(1) if found else None


def stream_query(
    client: _Bulk2Client,
    soql: str,
    *,
    include_deleted: bool,
    wait: Callable[[str], None],
    describe: Mapping[str, Any],
    record_url: Callable[[str, str], str],
    page_size: int = PAGE_SIZE,
) -> Iterator[dict[str, Any]]:
    """Run *soql* as a Bulk 2.0 query job and yield its records one at a time."""
    operation = Operation.query_all if include_deleted else Operation.query
    job_id = str(client.create_job(operation, soql)["id"])
    wait(job_id)
    shape = _Shape(client.object_name, describe, record_url)
    locator = ""
    while True:
        response = _page(client, job_id, locator, page_size)
        with closing(response):
            locator = response.headers.get("Sforce-Locator", "") or ""
            for row in _rows(response):
                yield shape.record(row)
        if not locator or locator == "null":
            return


def _page(client: _Bulk2Client, job_id: str, locator: str, page_size: int) -> requests.Response:
    params: dict[str, Any] = {"maxRecords": page_size}
    if locator:
        params["locator"] = locator
    headers = client._get_headers(client.JSON_CONTENT_TYPE, client.CSV_CONTENT_TYPE)  # noqa: SLF001
    url = client._construct_request_url(job_id, True) + "/results"  # noqa: SLF001, FBT003
    return client.session.request("GET", url, headers=headers, params=params, stream=True)


def ingest_results(
    client: _Bulk2Client, job_id: str, kind: str, delimiter: str
) -> Iterator[dict[str, str]]:
    """A load job's ``failedResults`` / ``unprocessedrecords`` rows, streamed."""
    headers = client._get_headers(client.JSON_CONTENT_TYPE, client.CSV_CONTENT_TYPE)  # noqa: SLF001
    url = client._construct_request_url(job_id, False) + "/" + kind  # noqa: SLF001, FBT003
    response = client.session.request("GET", url, headers=headers, stream=True)
    with closing(response):
        yield from _rows(response, delimiter)


def _rows(response: requests.Response, delimiter: str = ",") -> Iterator[dict[str, str]]:
    """The CSV's rows, read from the socket as they arrive."""
    response.raw.decode_content = True
    response.raw.auto_close = False  # else TextIOWrapper reads on after EOF closed it
    text = io.TextIOWrapper(response.raw, encoding="utf-8", newline="")  # type: ignore[type-var]
    reader = csv.reader(text, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    for values in reader:
        yield dict(zip(header, values, strict=False))


class _Shape:
    """Turns a CSV row into the record REST ``query_all`` would have returned."""

    def __init__(
        self,
        object_name: str,
        describe: Mapping[str, Any],
        record_url: Callable[[str, str], str],
    ) -> None:
        self.object_name = object_name
        fields = [field for field in describe.get("fields", ()) if isinstance(field, Mapping)]
        self.types = {str(f.get("name")).lower(): str(f.get("type")) for f in fields}
        self.parents = {
            str(f["relationshipName"]).lower(): str(f["referenceTo"][0])
            for f in fields
            if f.get("relationshipName") and f.get("referenceTo")
        }
        self.record_url = record_url

    def record(self, row: Mapping[str, str]) -> dict[str, Any]:
        record: dict[str, Any] = {"attributes": self._attributes(self.object_name, row.get("Id"))}
        parents: dict[str, dict[str, Any]] = {}
        for column, text in row.items():
            name, dot, field = column.partition(".")
            if dot:
                parents.setdefault(name, {})[field] = text or None
            else:
                record[column] = self._typed(column, text)
        for name, fields in parents.items():
            record[name] = self._parent(name, fields)
        return record

    def _attributes(self, object_name: str, record_id: str | None) -> dict[str, str]:
        attributes = {"type": object_name}
        if record_id:
            attributes["url"] = self.record_url(object_name, record_id)
        return attributes

    def _parent(self, name: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        if all(value is None for value in fields.values()):
            return None  # no parent: REST gives null for the whole relationship
        parent_type = self.parents.get(name.lower(), name)
        return {"attributes": self._attributes(parent_type, fields.get("Id")), **fields}

    def _typed(self, column: str, text: str) -> Any:
        if text == "":
            return None
        kind = self.types.get(column.lower())
        if kind == "boolean":
            return text.lower() == "true"
        if kind in _INTEGER_TYPES:
            return int(text)
        if kind in _FLOAT_TYPES:
            return float(text)
        if kind == "datetime" and text.endswith("Z"):
            return text[:-1] + "+0000"  # REST writes the offset, Bulk CSV a Z
        return text


def switch_to_bulk(first_page: Mapping[str, Any], threshold: int | None) -> bool:
    """Whether a ``query_all`` whose first page is *first_page* should go Bulk."""
    if threshold is None or first_page.get("done", True):
        return False
    return int(first_page.get("totalSize") or 0) > threshold
