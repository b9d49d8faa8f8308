"""Bulk API 2.0: ingest jobs (`/jobs/ingest`) and query jobs (`/jobs/query`).

An ingest job is created `Open`, takes CSV through `PUT .../batches`, and is closed
with `PATCH {"state": "UploadComplete"}`. Like every fake Bulk job it is processed
the first time a client looks at it afterwards (see `org.jobs`): each row goes
through `RowWriter`, so locks, validation and accounting are the org's own, and the
job lands in `JobComplete` with `successfulResults/`, `failedResults/` and
`unprocessedrecords/` CSVs (or in `Failed`, with an `errorMessage`, when the upload
itself is bad). Query jobs live in `bulk2_query`, the job records in `bulk2_jobs`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Final

from ..org.errors import ApiError
from ..org.jobs import ASYNC_DISABLED_MESSAGE, BulkJobs
from ..org.rows import OPERATIONS, RowWriter, type_error
from ..org.schema import SObject
from ..org.store import Org
from ..wire.http import HttpRequest, HttpResponse
from .bulk2_jobs import (
    IngestJob,
    JobFactory,
    JobIds,
    csv_options,
    invalid_job,
    invalid_state,
    job_list,
)
from .bulk2_query import QueryJobs
from .csvdata import NULL_MARKER, read_rows, write_csv
from .responses import error, json_body, json_response, method_not_allowed, not_found


__all__ = ["Bulk2Api"]

_CSV: Final = "text/csv"
_INGEST_RESULTS: Final = {
    "successfulresults": "successful",
    "failedresults": "failed",
    "unprocessedrecords": "unprocessed",
}


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
        self._factory = JobFactory(ids or JobIds(), now, org.user_id)
        self._queries = QueryJobs(org, jobs, self._factory)
        self._ingest: dict[str, IngestJob] = {}
        self._lock = threading.Lock()

    def handle(self, request: HttpRequest, version: str, parts: list[str]) -> HttpResponse:
        """Answer `/jobs/<parts>`."""
        if self.jobs.refuses():
            return error(400, "FeatureNotEnabled", ASYNC_DISABLED_MESSAGE)
        kind, rest = (parts[0], parts[1:]) if parts else ("", [])
        if kind == "ingest":
            return self._ingest_route(request, version, rest)
        if kind == "query":
            return self._queries.handle(request, version, rest)
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
                return job_list(self._ingest, self._lock, "V2Ingest")
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
            return invalid_job(f"Invalid operation: {operation}")
        options = csv_options(body)
        if isinstance(options, HttpResponse):
            return options
        try:
            obj = self.org.schema.writable(str(body.get("object", "")), operation)
        except ApiError:
            return invalid_job(f"Unable to find object: {body.get('object', '')}")
        external_id = body.get("externalIdFieldName")
        if operation == "upsert" and not external_id:
            return invalid_job("External ID was blank for upsert")
        job = IngestJob(
            **self._factory.base("750", operation, obj.name, version, options),
            state="Open",
            external_id=str(external_id) if operation == "upsert" else None,
        )
        with self._lock:
            self._ingest[job.id] = job
        return json_response(200, job.created_info())

    def _ingest_job(self, request: HttpRequest, job: IngestJob) -> HttpResponse:
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
                return invalid_state(job.state, wanted)
            job.state = wanted
            job.modstamp = self._factory.stamp()
            if wanted == "Aborted" and not job.progress.done:
                job.progress.done = True
                self._parse_uploads(job)
                job.unprocessed = [list(row) for row in job.rows]
        return json_response(200, job.created_info() | {"state": job.state})

    def _upload(self, request: HttpRequest, job: IngestJob) -> HttpResponse:
        with job.lock:
            if job.state != "Open":
                return invalid_state(job.state, "Open")
            job.uploads.append(request.body.decode("utf-8-sig", errors="replace"))
        return HttpResponse(201)

    def _advance_ingest(self, job: IngestJob) -> None:
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
            job.modstamp = self._factory.stamp()

    def _fail(self, job: IngestJob, message: str) -> None:
        job.state = "Failed"
        job.error_message = message
        job.unprocessed = [list(row) for row in job.rows]

    def _parse_uploads(self, job: IngestJob) -> str | None:
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

    def _process_ingest(self, job: IngestJob) -> None:
        started = time.perf_counter()
        problem = self._parse_uploads(job) or _unknown_field(
            self.org.schema.known(job.sobject), job.header
        )
        if problem is not None:
            self._fail(job, problem)
            return
        self.jobs.count_ingest(len(job.rows))
        for row in job.rows:
            self._write_row(job, row)
        job.processed = len(job.rows)
        job.millis = int((time.perf_counter() - started) * 1000)
        job.state = "JobComplete"

    def _write_row(self, job: IngestJob, row: list[str]) -> None:
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
                type_error(self.org.schema.known(job.sobject), values)
                if result.error.code == "JSON_PARSER_ERROR"
                else None
            )
            error = problem or result.error
            job.failed.append([result.record_id or "", error.bulk_text(), *row])
        else:
            created = "true" if result.created else "false"
            job.successful.append([result.record_id or "", created, *row])

    def _ingest_results(self, job: IngestJob, kind: str) -> HttpResponse:
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


def _line_ending_problem(text: str, line_ending: str) -> str | None:
    crlf = "\r\n" in text
    if (line_ending == "LF" and crlf) or (line_ending == "CRLF" and "\n" in text and not crlf):
        return (
            "ClientInputError : LineEnding is invalid on user data. Current LineEnding"
            f" setting is {line_ending}"
        )
    return None


def _unknown_field(obj: SObject, header: list[str]) -> str | None:
    for name in header:
        if obj.field(name) is None:
            return f"InvalidBatch : Field name not found : {name}"
    return None
