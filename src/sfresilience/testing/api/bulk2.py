"""Bulk API 2.0: ingest jobs (`/jobs/ingest`) and query jobs (`/jobs/query`).

An ingest job is created `Open`, takes CSV through `PUT .../batches`, and is closed
with `PATCH {"state": "UploadComplete"}`. Like every fake Bulk job it is processed
the first time a client looks at it afterwards (see `org.jobs`): each row goes
through `RowWriter`, so locks, validation and accounting are the org's own, and the
job lands in `JobComplete` with `successfulResults/`, `failedResults/` and
`unprocessedrecords/` CSVs (or in `Failed`, with an `errorMessage`, when the upload
itself is bad). A query job is created `UploadComplete` and, once complete, serves
its CSV in pages of `maxRecords` with `Sforce-Locator` / `Sforce-NumberOfRecords`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from ..org.catalog import compile_soql, known, writable
from ..org.errors import ApiError
from ..org.ids import base62, id_checksum
from ..org.jobs import ASYNC_DISABLED_MESSAGE, BulkJobs, Progress
from ..org.rows import OPERATIONS, RowWriter, type_error
from ..org.store import Org
from ..org.values import render_datetime
from ..wire.http import HttpRequest, HttpResponse
from .csvdata import DELIMITERS, LINE_ENDINGS, NULL_MARKER, read_rows, to_text, write_csv
from .responses import error, json_body, json_response, method_not_allowed, not_found, query_params


__all__ = ["Bulk2Api", "JobIds", "bulk_timestamp"]

_CSV: Final = "text/csv"
_INGEST_RESULTS: Final = {
    "successfulresults": "successful",
    "failedresults": "failed",
    "unprocessedrecords": "unprocessed",
}
_QUERY_OPERATIONS: Final = frozenset({"query", "queryAll"})


def bulk_timestamp(moment: dt.datetime) -> str:
    """A job timestamp as the Bulk APIs render it: `2024-06-01T00:00:00.000+0000`."""
    return render_datetime(moment)


class JobIds:
    """18-character ids for jobs (750), batches (751) and v1 query results (752)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new(self, prefix: str) -> str:
        id15 = f"{prefix}Fk0{base62(62**5 + next(self._counter), 9)}"
        return id15 + id_checksum(id15)


def _invalid_job(message: str) -> HttpResponse:
    return error(400, "INVALIDJOB", f"InvalidJob : {message}")


@dataclass
class _Job:
    """What ingest and query jobs share: identity, state, timing, progress."""

    id: str
    operation: str
    sobject: str
    version: str
    created: str
    created_by: str
    delimiter: str
    line_ending: str
    state: str
    modstamp: str = ""
    processed: int = 0
    millis: int = 0
    error_message: str | None = None
    progress: Progress = field(default_factory=Progress)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": self.created_by,
            "createdDate": self.created,
            "systemModstamp": self.modstamp or self.created,
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.version),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.delimiter,
        }

    @property
    def delimiter_char(self) -> str:
        return DELIMITERS[self.delimiter]

    @property
    def line_ending_chars(self) -> str:
        return LINE_ENDINGS[self.line_ending]


@dataclass
class _IngestJob(_Job):
    external_id: str | None = None
    uploads: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    successful: list[list[str]] = field(default_factory=list)
    failed: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)

    def created_info(self) -> dict[str, Any]:
        info = self.info()
        if self.external_id:
            info["externalIdFieldName"] = self.external_id
        info["contentUrl"] = f"services/data/v{self.version}/jobs/ingest/{self.id}/batches"
        return info

    def full_info(self) -> dict[str, Any]:
        info = self.info()
        if self.external_id:
            info["externalIdFieldName"] = self.external_id
        info.update(
            jobType="V2Ingest",
            numberRecordsProcessed=self.processed,
            numberRecordsFailed=len(self.failed),
            retries=0,
            totalProcessingTime=self.millis,
            apiActiveProcessingTime=self.millis,
            apexProcessingTime=0,
        )
        if self.error_message is not None:
            info["errorMessage"] = self.error_message
        return info


@dataclass
class _QueryJob(_Job):
    soql: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def full_info(self) -> dict[str, Any]:
        info = self.info()
        info.update(
            numberRecordsProcessed=self.processed,
            retries=0,
            totalProcessingTime=self.millis,
            isPkChunkingSupported=True,
            jobType="V2Query",
        )
        if self.error_message is not None:
            info["errorMessage"] = self.error_message
        return info


class Bulk2Api:
    """`/services/data/vXX.X/jobs/...` over one org and its shared `BulkJobs`."""

    def __init__(
        self,
        org: Org,
        rows: RowWriter,
        jobs: BulkJobs,
        *,
        ids: JobIds | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.org = org
        self.rows = rows
        self.jobs = jobs
        self._ids = ids or JobIds()
        self._now = now
        self._ingest: dict[str, _IngestJob] = {}
        self._query: dict[str, _QueryJob] = {}
        self._lock = threading.Lock()

    def handle(self, request: HttpRequest, version: str, parts: list[str]) -> HttpResponse:
        """Answer `/jobs/<parts>`."""
        if self.jobs.refuses():
            return error(400, "FeatureNotEnabled", ASYNC_DISABLED_MESSAGE)
        kind, rest = (parts[0], parts[1:]) if parts else ("", [])
        if kind == "ingest":
            return self._ingest_route(request, version, rest)
        if kind == "query":
            return self._query_route(request, version, rest)
        return not_found()

    # --- ingest -----------------------------------------------------------------

    def _ingest_route(  # noqa: PLR0911 - a router
        self, request: HttpRequest, version: str, parts: list[str]
    ) -> HttpResponse:
        method = request.method
        if not parts or parts == [""]:
            if method == "POST":
                return self._create_ingest(request, version)
            if method == "GET":
                return self._list(self._ingest)
            return method_not_allowed(method, "GET,HEAD,POST")
        job = self._ingest.get(parts[0])
        if job is None:
            return not_found()
        if len(parts) == 1:
            return self._ingest_job(request, job)
        if len(parts) == 2 and parts[1] == "batches":  # noqa: PLR2004
            if method != "PUT":
                return method_not_allowed(method, "PUT")
            return self._upload(request, job)
        results = _INGEST_RESULTS.get(parts[1].lower()) if len(parts) == 2 else None  # noqa: PLR2004
        if results is None:
            return not_found()
        if method != "GET":
            return method_not_allowed(method, "GET,HEAD")
        self._advance_ingest(job)
        return self._ingest_results(job, results)

    def _create_ingest(self, request: HttpRequest, version: str) -> HttpResponse:
        body = json_body(request)
        operation = str(body.get("operation", ""))
        if operation not in OPERATIONS:
            return _invalid_job(f"Invalid operation: {operation}")
        options = _csv_options(body)
        if isinstance(options, HttpResponse):
            return options
        try:
            obj = writable(str(body.get("object", "")), operation)
        except ApiError:
            return _invalid_job(f"Unable to find object: {body.get('object', '')}")
        external_id = body.get("externalIdFieldName")
        if operation == "upsert" and not external_id:
            return _invalid_job("External ID was blank for upsert")
        job = _IngestJob(
            **self._job_base("750", operation, obj.name, version, options),
            state="Open",
            external_id=str(external_id) if operation == "upsert" else None,
        )
        with self._lock:
            self._ingest[job.id] = job
        return json_response(200, job.created_info())

    def _job_base(
        self, prefix: str, operation: str, sobject: str, version: str, options: tuple[str, str]
    ) -> dict[str, Any]:
        return {
            "id": self._ids.new(prefix),
            "operation": operation,
            "sobject": sobject,
            "version": version,
            "created": bulk_timestamp(self._now()),
            "created_by": self.org.user_id,
            "delimiter": options[0],
            "line_ending": options[1],
        }

    def _ingest_job(self, request: HttpRequest, job: _IngestJob) -> HttpResponse:
        method = request.method
        if method == "GET":
            self._advance_ingest(job)
            return json_response(200, job.full_info())
        if method == "DELETE":
            with self._lock:
                self._ingest.pop(job.id, None)
            return HttpResponse(204)
        if method != "PATCH":
            return method_not_allowed(method, "GET,HEAD,PATCH,DELETE")
        wanted = str(json_body(request).get("state", ""))
        with job.lock:
            allowed = {"Open": {"UploadComplete", "Aborted"}, "UploadComplete": {"Aborted"}}
            if wanted not in allowed.get(job.state, set()) and not (
                wanted == "Aborted" and job.state == "InProgress"
            ):
                return _invalid_state(job.state, wanted)
            job.state = wanted
            job.modstamp = bulk_timestamp(self._now())
            if wanted == "Aborted" and not job.progress.done:
                job.progress.done = True
                self._parse_uploads(job)
                job.unprocessed = [list(row) for row in job.rows]
        return json_response(200, job.created_info() | {"state": job.state})

    def _upload(self, request: HttpRequest, job: _IngestJob) -> HttpResponse:
        with job.lock:
            if job.state != "Open":
                return _invalid_state(job.state, "Open")
            job.uploads.append(request.body.decode("utf-8-sig", errors="replace"))
        return HttpResponse(201)

    def _advance_ingest(self, job: _IngestJob) -> None:
        with job.lock:
            if job.state not in {"UploadComplete", "InProgress"}:
                return
            outcome = self.jobs.poll(job.progress)
            if outcome in {"held", "waiting"}:
                job.state = "InProgress"
            elif outcome == "failed":
                self._parse_uploads(job)
                self._fail(job, job.progress.failure or "")
            elif outcome == "run":
                self._process_ingest(job)
            job.modstamp = bulk_timestamp(self._now())

    def _fail(self, job: _IngestJob, message: str) -> None:
        job.state = "Failed"
        job.error_message = message
        job.unprocessed = [list(row) for row in job.rows]

    def _parse_uploads(self, job: _IngestJob) -> str | None:
        """Read the uploads into `job.header`/`job.rows`; the job-level error, if any."""
        problem: str | None = None
        for text in job.uploads:
            problem = problem or _line_ending_problem(text, job.line_ending)
            header, rows = read_rows(text, job.delimiter_char)
            if not job.header:
                job.header = header
            index = [job.header.index(n) if n in job.header else -1 for n in header]
            if -1 in index:
                job.header += [n for n in header if n not in job.header]
                index = [job.header.index(n) for n in header]
            for row in rows:
                aligned = [""] * len(job.header)
                for position, value in zip(index, row, strict=False):
                    aligned[position] = value
                job.rows.append(aligned)
        return problem

    def _process_ingest(self, job: _IngestJob) -> None:
        started = time.perf_counter()
        problem = self._parse_uploads(job) or _unknown_field(job.sobject, job.header)
        if problem is not None:
            self._fail(job, problem)
            return
        self.jobs.count_ingest(len(job.rows))
        for row in job.rows:
            self._write_row(job, row)
        job.processed = len(job.rows)
        job.millis = int((time.perf_counter() - started) * 1000)
        job.state = "JobComplete"

    def _write_row(self, job: _IngestJob, row: list[str]) -> None:
        values: dict[str, object] = {}
        for name, text in zip(job.header, row, strict=False):
            if text == NULL_MARKER:
                values[name] = None
            elif text != "":
                values[name] = text
        result = self.rows.write(job.operation, job.sobject, values, job.external_id)
        if result.error is not None:
            # CSV is text: a value that doesn't parse as its field's type is reported as
            # Bulk does, naming the field, rather than as a JSON parse error.
            problem = (
                type_error(job.sobject, values)
                if result.error.code == "JSON_PARSER_ERROR"
                else None
            )
            error = problem or result.error
            job.failed.append([result.record_id or "", error.bulk_text(), *row])
        else:
            created = "true" if result.created else "false"
            job.successful.append([result.record_id or "", created, *row])

    def _ingest_results(self, job: _IngestJob, kind: str) -> HttpResponse:
        if kind == "successful":
            header, rows = ["sf__Id", "sf__Created", *job.header], job.successful
        elif kind == "failed":
            header, rows = ["sf__Id", "sf__Error", *job.header], job.failed
        else:
            header, rows = job.header, job.unprocessed
        body = write_csv(
            header, rows, delimiter=job.delimiter_char, line_ending=job.line_ending_chars
        )
        return HttpResponse(200, body, _CSV)

    # --- query --------------------------------------------------------------------

    def _query_route(  # noqa: PLR0911 - a router
        self, request: HttpRequest, version: str, parts: list[str]
    ) -> HttpResponse:
        method = request.method
        if not parts or parts == [""]:
            if method == "POST":
                return self._create_query(request, version)
            if method == "GET":
                return self._list(self._query)
            return method_not_allowed(method, "GET,HEAD,POST")
        job = self._query.get(parts[0])
        if job is None:
            return not_found()
        if len(parts) == 2 and parts[1] == "results" and method == "GET":  # noqa: PLR2004
            self._advance_query(job)
            return self._query_results(request, job)
        if len(parts) != 1:
            return not_found()
        if method == "GET":
            self._advance_query(job)
            return json_response(200, job.full_info())
        if method == "DELETE":
            with self._lock:
                self._query.pop(job.id, None)
            return HttpResponse(204)
        if method == "PATCH":
            return self._abort_query(request, job)
        return method_not_allowed(method, "GET,HEAD,PATCH,DELETE")

    def _create_query(self, request: HttpRequest, version: str) -> HttpResponse:
        body = json_body(request)
        operation = str(body.get("operation", "query"))
        if operation not in _QUERY_OPERATIONS:
            return _invalid_job(f"Invalid operation: {operation}")
        options = _csv_options(body)
        if isinstance(options, HttpResponse):
            return options
        soql = str(body.get("query", ""))
        bound = compile_soql(soql)
        self.jobs.count_query_job()
        job = _QueryJob(
            **self._job_base("750", operation, known(bound.sobject).name, version, options),
            state="UploadComplete",
            soql=soql,
            header=[".".join(ref.parts) for ref in bound.fields],
        )
        with self._lock:
            self._query[job.id] = job
        return json_response(200, job.info())

    def _abort_query(self, request: HttpRequest, job: _QueryJob) -> HttpResponse:
        wanted = str(json_body(request).get("state", ""))
        with job.lock:
            if wanted != "Aborted" or job.state not in {"UploadComplete", "InProgress"}:
                return _invalid_state(job.state, wanted)
            job.state = "Aborted"
            job.progress.done = True
        return json_response(200, job.info())

    def _advance_query(self, job: _QueryJob) -> None:
        with job.lock:
            if job.state not in {"UploadComplete", "InProgress"}:
                return
            outcome = self.jobs.poll(job.progress)
            if outcome in {"held", "waiting"}:
                job.state = "InProgress"
            elif outcome == "failed":
                job.state = "Failed"
                job.error_message = job.progress.failure
            elif outcome == "run":
                self._run_query(job)
            job.modstamp = bulk_timestamp(self._now())

    def _run_query(self, job: _QueryJob) -> None:
        started = time.perf_counter()
        result = self.org.query(
            job.soql, include_deleted=job.operation == "queryAll", version=job.version
        )
        paths = [tuple(name.split(".")) for name in job.header]
        job.rows = [
            [to_text(_value_at(record, path)) for path in paths] for record in result.records
        ]
        job.processed = len(job.rows)
        job.millis = int((time.perf_counter() - started) * 1000)
        self.jobs.count_query_bytes(len(write_csv(job.header, job.rows)))
        job.state = "JobComplete"

    def _query_results(self, request: HttpRequest, job: _QueryJob) -> HttpResponse:
        if job.state != "JobComplete":
            status = "".join(f"_{c}" if c.isupper() else c for c in job.state).strip("_").upper()
            return error(
                412,
                "JOB_NOT_COMPLETE",
                "can only download query results of successfully completed bulk job with"
                f" status: JOB_COMPLETE. Current status: {status}",
            )
        params = query_params(request)
        start = _locator_offset(params.get("locator", ""))
        if start is None:
            return error(400, "INVALID_LOCATOR", "Invalid locator")
        size = _max_records(params.get("maxRecords", ""))
        if size is None:
            return error(400, "INVALIDPARAMETERVALUE", "maxRecords must be a positive integer")
        end = len(job.rows) if size == 0 else min(len(job.rows), start + size)
        page = job.rows[start:end]
        locator = _encode_locator(end) if end < len(job.rows) else "null"
        body = write_csv(
            job.header, page, delimiter=job.delimiter_char, line_ending=job.line_ending_chars
        )
        headers = (("Sforce-Locator", locator), ("Sforce-NumberOfRecords", str(len(page))))
        return HttpResponse(200, body, _CSV, headers)

    # --- shared -----------------------------------------------------------------

    def _list(self, jobs: dict[str, Any]) -> HttpResponse:
        with self._lock:
            records = [job.info() for job in jobs.values()]
        return json_response(200, {"done": True, "records": records, "nextRecordsUrl": None})


def _invalid_state(state: str, wanted: str) -> HttpResponse:
    return error(
        400,
        "INVALIDJOBSTATE",
        f"InvalidJobState : Job in state {state} can't move to {wanted or 'an empty state'}",
    )


def _csv_options(body: dict[str, Any]) -> tuple[str, str] | HttpResponse:
    delimiter = str(body.get("columnDelimiter") or "COMMA")
    line_ending = str(body.get("lineEnding") or "LF")
    if delimiter not in DELIMITERS:
        return _invalid_job(f"Invalid column delimiter: {delimiter}")
    if line_ending not in LINE_ENDINGS:
        return _invalid_job(f"Invalid line ending: {line_ending}")
    if str(body.get("contentType") or "CSV") != "CSV":
        return _invalid_job(f"Invalid content type: {body.get('contentType')}")
    return delimiter, line_ending


def _line_ending_problem(text: str, line_ending: str) -> str | None:
    crlf = "\r\n" in text
    if (line_ending == "LF" and crlf) or (line_ending == "CRLF" and "\n" in text and not crlf):
        return (
            "ClientInputError : LineEnding is invalid on user data. Current LineEnding"
            f" setting is {line_ending}"
        )
    return None


def _unknown_field(sobject: str, header: list[str]) -> str | None:
    obj = known(sobject)
    for name in header:
        if obj.field(name) is None:
            return f"InvalidBatch : Field name not found : {name}"
    return None


def _value_at(record: dict[str, object], path: tuple[str, ...]) -> object:
    value: object = record
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _encode_locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _locator_offset(locator: str) -> int | None:
    if not locator or locator == "null":
        return 0
    try:
        text = base64.b64decode(locator + "=" * (-len(locator) % 4), validate=True).decode()
        return int(text) if text.isdigit() else None
    except (binascii.Error, ValueError):
        return None


def _max_records(text: str) -> int | None:
    if not text:
        return 0
    return int(text) if text.isdigit() and int(text) > 0 else None
