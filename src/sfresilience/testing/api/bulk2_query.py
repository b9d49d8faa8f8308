"""Bulk API 2.0 query jobs (`/jobs/query`): SOQL run as a job, results as paged CSV.

A query job is created `UploadComplete` (bad SOQL is refused at once with the REST
error), runs the first time a client looks at it, and once `JobComplete` serves its
CSV in pages of `maxRecords` with `Sforce-Locator` (`null` on the last page) and
`Sforce-NumberOfRecords`; parent fields are columns such as `Account.Name`.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from typing import Final

from ..org.jobs import BulkJobs
from ..org.soql_ast import Query, Subquery
from ..org.store import Org
from ..wire.http import HttpRequest, HttpResponse
from .bulk2_jobs import JobFactory, QueryJob, csv_options, invalid_job, invalid_state, job_list
from .csvdata import to_text, write_csv
from .responses import error, json_body, json_response, method_not_allowed, not_found, query_params


__all__ = ["QueryJobs"]

_CSV: Final = "text/csv"
_QUERY_OPERATIONS: Final = frozenset({"query", "queryAll"})


class QueryJobs:
    """Every query job of one org, and the handler of `/jobs/query/...`."""

    def __init__(self, org: Org, jobs: BulkJobs, factory: JobFactory) -> None:
        self.org = org
        self.jobs = jobs
        self._factory = factory
        self._query: dict[str, QueryJob] = {}
        self._lock = threading.Lock()

    def handle(  # noqa: PLR0911 - a router
        self, request: HttpRequest, version: str, parts: list[str]
    ) -> HttpResponse:
        method = request.method
        if not parts or parts == [""]:
            if method == "POST":
                return self._create_query(request, version)
            if method == "GET":
                return job_list(self._query, self._lock, "V2Query")
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
            return invalid_job(f"Invalid operation: {operation}")
        options = csv_options(body)
        if isinstance(options, HttpResponse):
            return options
        soql = str(body.get("query", ""))
        bound = self.org.schema.compile(soql)
        unsupported = _unsupported(bound)
        if unsupported is not None:
            return invalid_job(f"Bulk API 2.0 doesn't support {unsupported} in queries")
        self.jobs.count_query_job()
        job = QueryJob(
            **self._factory.base(
                "750", operation, self.org.schema.known(bound.sobject).name, version, options
            ),
            state="UploadComplete",
            soql=soql,
            header=[".".join(ref.parts) for ref in bound.fields],
        )
        with self._lock:
            self._query[job.id] = job
        return json_response(200, job.info())

    def _abort_query(self, request: HttpRequest, job: QueryJob) -> HttpResponse:
        wanted = str(json_body(request).get("state", ""))
        with job.lock:
            if wanted != "Aborted" or job.state not in {"UploadComplete", "InProgress"}:
                return invalid_state(job.state, wanted)
            job.state = "Aborted"
            job.progress.done = True
        return json_response(200, job.info())

    def _advance_query(self, job: QueryJob) -> None:
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
            job.modstamp = self._factory.stamp()

    def _run_query(self, job: QueryJob) -> None:
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

    def _query_results(self, request: HttpRequest, job: QueryJob) -> HttpResponse:
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


def _unsupported(bound: Query) -> str | None:
    """What of `bound` the Bulk 2.0 query docs list as unsupported, if anything."""
    if bound.count or bound.aggregates:
        return "aggregate functions such as COUNT()"
    if bound.group_by:
        return "GROUP BY"
    if bound.offset is not None:
        return "OFFSET"
    if any(isinstance(item, Subquery) for item in bound.select):
        return "parent-to-child relationship queries"
    return None
