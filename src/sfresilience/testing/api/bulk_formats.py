"""The wire formats of Bulk API 1.0: XML job and batch infos, CSV data, JSON bodies.

Clients such as Data Loader, jsforce and salesforce-bulk speak XML `jobInfo` /
`batchInfo` documents with CSV batches; simple-salesforce speaks JSON throughout. A
job answers in the format of its content: JSON jobs in JSON, CSV jobs in XML.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final
from xml.etree import ElementTree as ET

from ..org.soql import parse_datetime
from ..wire.http import HttpRequest, HttpResponse
from .csvdata import NULL_MARKER, read_rows, to_text, write_csv
from .responses import JSON


_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

__all__ = [
    "ASYNC_NS",
    "BATCH_FIELDS",
    "JOB_FIELDS",
    "XML",
    "csv_records",
    "csv_save_results",
    "epoch_dates",
    "json_list",
    "json_object",
    "parse_csv_batch",
    "parse_xml_job",
    "render",
    "wants_json",
]

ASYNC_NS: Final = "http://www.force.com/2009/06/asyncapi/dataload"
XML: Final = "application/xml"
_CSV: Final = "text/csv"
# The element order of Salesforce's XML documents.
JOB_FIELDS: Final = (
    "id",
    "operation",
    "object",
    "createdById",
    "createdDate",
    "systemModstamp",
    "state",
    "externalIdFieldName",
    "concurrencyMode",
    "contentType",
    "numberBatchesQueued",
    "numberBatchesInProgress",
    "numberBatchesCompleted",
    "numberBatchesFailed",
    "numberBatchesTotal",
    "numberRecordsProcessed",
    "numberRetries",
    "apiVersion",
    "numberRecordsFailed",
    "totalProcessingTime",
    "apiActiveProcessingTime",
    "apexProcessingTime",
)
BATCH_FIELDS: Final = (
    "id",
    "jobId",
    "state",
    "stateMessage",
    "createdDate",
    "systemModstamp",
    "numberRecordsProcessed",
    "numberRecordsFailed",
    "totalProcessingTime",
    "apiActiveProcessingTime",
    "apexProcessingTime",
)


def wants_json(request: HttpRequest) -> bool:
    """Whether the request body (and so the answer) is JSON rather than XML."""
    return "json" in (request.header("content-type") or "").lower()


def parse_xml_job(body: bytes) -> dict[str, str] | None:
    """The fields of a `<jobInfo>` document, or None when it isn't one."""
    # Refusing DOCTYPEs rules out entity-expansion bombs; expat fetches nothing external.
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        return None
    try:
        root = ET.fromstring(body)  # noqa: S314 - DOCTYPE refused above
    except ET.ParseError:
        return None
    if _local(root.tag) != "jobInfo":
        return None
    return {_local(child.tag): (child.text or "").strip() for child in root}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # XML documents carry UTC times with a Z, JSON ones with +0000.
    if text.endswith("+0000") and "T" in text:
        return text[: -len("+0000")] + "Z"
    return text


def _element(tag: str, fields: Mapping[str, Any], order: Sequence[str]) -> ET.Element:
    element = ET.Element(tag)
    for name in order:
        value = fields.get(name)
        if value is not None:
            ET.SubElement(element, name).text = _xml_text(value)
    return element


def _document(element: ET.Element) -> bytes:
    element.set("xmlns", ASYNC_NS)
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        + ET.tostring(element, encoding="unicode").encode()
    )


def render(status: int, kind: str, payload: Any, *, json_format: bool) -> HttpResponse:
    """A jobInfo / batchInfo / batchInfoList / result-list / error answer, JSON or XML."""
    if json_format:
        return HttpResponse(status, json.dumps(payload, separators=(",", ":")).encode(), JSON)
    if kind == "jobInfo":
        element = _element("jobInfo", payload, JOB_FIELDS)
    elif kind == "batchInfo":
        element = _element("batchInfo", payload, BATCH_FIELDS)
    elif kind == "batchInfoList":
        element = ET.Element("batchInfoList")
        for info in payload["batchInfo"]:
            element.append(_element("batchInfo", info, BATCH_FIELDS))
    elif kind == "result-list":
        element = ET.Element("result-list")
        for result_id in payload:
            ET.SubElement(element, "result").text = str(result_id)
    else:
        element = _element("error", payload, ("exceptionCode", "exceptionMessage"))
    return HttpResponse(status, _document(element), XML)


def parse_csv_batch(body: bytes) -> list[dict[str, Any]]:
    """A CSV batch as records: empty cells left out, `#N/A` as null."""
    header, rows = read_rows(body.decode("utf-8-sig", errors="replace"), ",")
    records = []
    for row in rows:
        record: dict[str, Any] = {}
        for name, text in zip(header, row, strict=False):
            if text == NULL_MARKER:
                record[name] = None
            elif text != "":
                record[name] = text
        records.append(record)
    return records


def csv_save_results(results: Sequence[Mapping[str, Any]]) -> HttpResponse:
    """DML results as Bulk 1.0 CSV: `"Id","Success","Created","Error"`."""
    rows = []
    for result in results:
        errors = result["errors"]
        error = ""
        if errors:
            first = errors[0]
            fields = ",".join(first["fields"])
            error = (
                f"{first['statusCode']}:{first['message']}:{fields} --"
                if fields
                else (f"{first['statusCode']}:{first['message']}:--")
            )
        rows.append(
            [result["id"] or "", to_text(result["success"]), to_text(result["created"]), error]
        )
    return HttpResponse(200, write_csv(("Id", "Success", "Created", "Error"), rows), _CSV)


def csv_records(header: Sequence[str], records: Sequence[Mapping[str, Any]]) -> HttpResponse:
    """Query results as CSV, parent fields as `Account.Name` columns."""
    paths = [name.split(".") for name in header]
    rows = [[to_text(_value_at(record, path)) for path in paths] for record in records]
    return HttpResponse(200, write_csv(header, rows), _CSV)


def _value_at(record: Mapping[str, Any], path: Sequence[str]) -> object:
    value: object = record
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def json_object(body: bytes) -> dict[str, Any] | None:
    """The JSON object in *body*, or None."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def json_list(body: bytes) -> list[dict[str, Any]] | None:
    """The JSON array of objects in *body*, or None."""
    try:
        data = json.loads(body or b"[]")
    except ValueError:
        return None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        return None
    return data


def epoch_dates(obj: Any, record: dict[str, Any]) -> dict[str, Any]:
    """A REST-shaped record with date/datetime values as epoch milliseconds."""
    shaped: dict[str, Any] = {}
    for name, value in record.items():
        field_def = obj.field(name) if name != "attributes" else None
        if (
            isinstance(value, str)
            and field_def is not None
            and field_def.type in {"date", "datetime"}
        ):
            moment = parse_datetime(value if field_def.type == "datetime" else value + "T00:00:00Z")
            aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
            shaped[name] = int((aware - _EPOCH).total_seconds() * 1000)
        else:
            shaped[name] = value
    return shaped
