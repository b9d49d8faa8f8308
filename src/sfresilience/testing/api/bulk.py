"""Bulk API 1.0 (`/services/async/XX.X/job/...`), JSON jobs, as simple-salesforce's `bulk` uses it.

A job is created `Open`; each `POST .../batch` adds a batch (`Queued`) of JSON records,
or of one SOQL query for `query`/`queryAll` jobs. A batch is processed the first time
a client looks at it (its state or its results), then reads `Completed` (or `Failed`
with a `stateMessage`). DML results are SaveResult-like rows with per-record errors;
query results are listed by id and served as JSON records whose date and datetime
fields are epoch milliseconds, as the real API sends them. Errors use the async API's
own `{"exceptionCode", "exceptionMessage"}` shape. In read-only maintenance
(`faults.read_only()`) every POST (a job, a batch, a state change) is refused 400
`INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE`, as the REST and Bulk 2.0 paths
refuse writes; Salesforce documents neither the Bulk 1.0 code nor the status, and bulk
reads are refused too in read-only mode, hence every POST, query jobs included.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from ..org.errors import ApiError
from ..org.jobs import ASYNC_DISABLED_MESSAGE, BulkJobs, Progress
from ..org.rows import OPERATIONS, RowWriter
from ..org.store import Org
from ..wire.http import HttpRequest, HttpResponse
from .bulk2_jobs import JobIds, bulk_timestamp
from .bulk_formats import (
    csv_records,
    csv_save_results,
    epoch_dates,
    json_list,
    json_object,
    parse_csv_batch,
    parse_xml_job,
    render,
    wants_json,
)
from .outages import READ_ONLY_MESSAGE


__all__ = ["BulkV1Api", "async_error"]

_QUERY_OPERATIONS: Final = frozenset({"query", "queryAll"})


def async_error(
    code: str, message: str, status: int = 400, *, json_format: bool = True
) -> HttpResponse:
    """The async API's error: `{"exceptionCode", "exceptionMessage"}` or its XML `<error>`."""
    payload = {"exceptionCode": code, "exceptionMessage": message}
    return render(status, "error", payload, json_format=json_format)


@dataclass
class _Batch:
    id: str
    job_id: str
    created: str
    records: list[dict[str, Any]] | str
    state: str = "Queued"
    modstamp: str = ""
    message: str | None = None
    processed: int = 0
    failed: int = 0
    millis: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    query_results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    query_header: list[str] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "apexProcessingTime": 0,
            "apiActiveProcessingTime": self.millis,
            "createdDate": self.created,
            "id": self.id,
            "jobId": self.job_id,
            "numberRecordsFailed": self.failed,
            "numberRecordsProcessed": self.processed,
            "state": self.state,
            "systemModstamp": self.modstamp or self.created,
            "totalProcessingTime": self.millis,
        }
        if self.message is not None:
            info["stateMessage"] = self.message
        return info


@dataclass
class _ClassicJob:
    id: str
    operation: str
    sobject: str
    version: str
    created: str
    created_by: str
    concurrency: str
    external_id: str | None
    content_type: str = "JSON"
    state: str = "Open"
    modstamp: str = ""
    batches: dict[str, _Batch] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        batches = list(self.batches.values())

        def count(state: str) -> int:
            return sum(1 for batch in batches if batch.state == state)

        millis = sum(batch.millis for batch in batches)
        return {
            "apexProcessingTime": 0,
            "apiActiveProcessingTime": millis,
            "apiVersion": float(self.version),
            "assignmentRuleId": None,
            "concurrencyMode": self.concurrency,
            "contentType": self.content_type,
            "createdById": self.created_by,
            "createdDate": self.created,
            "externalIdFieldName": self.external_id,
            "fastPathEnabled": False,
            "id": self.id,
            "numberBatchesCompleted": count("Completed"),
            "numberBatchesFailed": count("Failed"),
            "numberBatchesInProgress": count("InProgress"),
            "numberBatchesQueued": count("Queued"),
            "numberBatchesTotal": len(batches),
            "numberRecordsFailed": sum(batch.failed for batch in batches),
            "numberRecordsProcessed": sum(batch.processed for batch in batches),
            "numberRetries": 0,
            "object": self.sobject,
            "operation": self.operation,
            "state": self.state,
            "systemModstamp": self.modstamp or self.created,
            "totalProcessingTime": millis,
        }


class BulkV1Api:
    """`/services/async/<version>/job/...` over one org and its shared `BulkJobs`."""

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
        self._jobs: dict[str, _ClassicJob] = {}
        self._lock = threading.Lock()

    def handle(self, request: HttpRequest, version: str, parts: list[str]) -> HttpResponse:
        """Answer `/services/async/<version>/<parts>`."""
        as_json = wants_json(request)
        refused = self._refused(request, parts, as_json=as_json)
        if refused is not None:
            return refused
        method = request.method
        if len(parts) == 1:
            if method != "POST":
                return async_error("InvalidUrl", f"{method} is not supported here", 405)
            return self._create_job(request, version, as_json=as_json)
        job = self._jobs.get(parts[1])
        if job is None:
            return async_error("InvalidJob", f"Invalid job id: {parts[1]}", json_format=as_json)
        return self._job_route(request, job, parts[2:])

    def _refused(
        self, request: HttpRequest, parts: list[str], *, as_json: bool
    ) -> HttpResponse | None:
        if self.jobs.refuses():
            return async_error("FeatureNotEnabled", ASYNC_DISABLED_MESSAGE, json_format=as_json)
        if not parts or parts[0] != "job":
            return async_error("InvalidUrl", "unknown resource", 404, json_format=as_json)
        if request.method == "POST" and self.jobs.read_only():
            return async_error(
                "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
                READ_ONLY_MESSAGE,
                json_format=as_json,
            )
        return None

    def _job_route(self, request: HttpRequest, job: _ClassicJob, parts: list[str]) -> HttpResponse:
        method = request.method
        as_json = job.content_type == "JSON"
        parts = ["job", job.id, *parts]
        if len(parts) == 2:  # noqa: PLR2004
            if method == "POST":
                return self._job(request, job)
            return render(200, "jobInfo", job.info(), json_format=as_json)
        if len(parts) == 3 and parts[2] == "batch":  # noqa: PLR2004
            if method == "POST":
                return self._add_batch(request, job)
            batches = {"batchInfo": [b.info() for b in self._advanced(job)]}
            return render(200, "batchInfoList", batches, json_format=as_json)
        batch_id = parts[3] if len(parts) >= 4 and parts[2] == "batch" else ""  # noqa: PLR2004
        batch = job.batches.get(batch_id)
        if batch is None:
            return async_error("InvalidBatch", f"Invalid batch id: {batch_id}", json_format=as_json)
        self._advance(job, batch)
        return self._batch_resource(job, batch, parts[4:])

    def _create_job(self, request: HttpRequest, version: str, *, as_json: bool) -> HttpResponse:
        body = json_object(request.body) if as_json else parse_xml_job(request.body)
        if body is None:
            what = "JSON" if as_json else "a jobInfo XML document"
            return async_error(
                "InvalidJob", f"Unable to parse the job: send {what}", json_format=as_json
            )
        operation = str(body.get("operation", ""))
        if operation not in OPERATIONS | _QUERY_OPERATIONS:
            return async_error("InvalidJob", f"Invalid operation: {operation}", json_format=as_json)
        try:
            obj = (
                self.org.schema.known(str(body.get("object", "")))
                if operation in _QUERY_OPERATIONS
                else self.org.schema.writable(str(body.get("object", "")), operation)
            )
        except ApiError:
            message = f"Unable to find object: {body.get('object', '')}"
            return async_error("InvalidJob", message, json_format=as_json)
        content_type = str(body.get("contentType") or ("JSON" if as_json else "XML"))
        if content_type not in {"JSON", "CSV"}:
            message = "The fake serves JSON and CSV jobs only (contentType JSON or CSV)"
            return async_error("InvalidJob", message, json_format=as_json)
        mode = body.get("concurrencyMode")
        job = _ClassicJob(
            id=self._ids.new("750"),
            operation=operation,
            sobject=obj.name,
            version=version,
            created=bulk_timestamp(self._now()),
            created_by=self.org.user_id,
            concurrency="Serial" if mode in {1, "1", "Serial"} else "Parallel",
            external_id=str(body["externalIdFieldName"])
            if operation == "upsert" and body.get("externalIdFieldName")
            else None,
            content_type=content_type,
        )
        with self._lock:
            self._jobs[job.id] = job
        return render(201, "jobInfo", job.info(), json_format=content_type == "JSON")

    def _job(self, request: HttpRequest, job: _ClassicJob) -> HttpResponse:
        as_json = job.content_type == "JSON"
        parsed = json_object(request.body) if wants_json(request) else parse_xml_job(request.body)
        wanted = str((parsed or {}).get("state", ""))
        if wanted not in {"Closed", "Aborted"} or job.state != "Open":
            message = f"Job {job.id} is {job.state}, can't be {wanted}"
            return async_error("InvalidJobState", message, json_format=as_json)
        job.state = wanted
        job.modstamp = bulk_timestamp(self._now())
        if wanted == "Aborted":
            for batch in job.batches.values():
                with batch.lock:
                    if batch.state == "Queued":
                        batch.state = "NotProcessed"
                        batch.progress.done = True
        return render(200, "jobInfo", job.info(), json_format=as_json)

    def _add_batch(self, request: HttpRequest, job: _ClassicJob) -> HttpResponse:
        as_json = job.content_type == "JSON"
        if job.state != "Open":
            message = f"Job {job.id} is {job.state}, no batches can be added"
            return async_error("InvalidJobState", message, json_format=as_json)
        if job.operation in _QUERY_OPERATIONS:
            records: list[dict[str, Any]] | str = request.body.decode("utf-8", errors="replace")
        elif not as_json:
            records = parse_csv_batch(request.body)
        else:
            parsed = json_list(request.body)
            if parsed is None:
                message = "Records must be a JSON array of objects"
                return async_error("InvalidBatch", message, json_format=as_json)
            records = parsed
        if self.jobs.batches_exhausted():
            return async_error(
                "ExceededQuota", "ApiBatchItems Limit exceeded.", json_format=as_json
            )
        self.jobs.count_batch()
        batch = _Batch(
            id=self._ids.new("751"),
            job_id=job.id,
            created=bulk_timestamp(self._now()),
            records=records,
        )
        with self._lock:
            job.batches[batch.id] = batch
        return render(201, "batchInfo", batch.info(), json_format=as_json)

    def _advanced(self, job: _ClassicJob) -> list[_Batch]:
        batches = list(job.batches.values())
        for batch in batches:
            self._advance(job, batch)
        return batches

    def _advance(self, job: _ClassicJob, batch: _Batch) -> None:
        with batch.lock:
            if batch.state not in {"Queued", "InProgress"}:
                return
            outcome = self.jobs.poll(batch.progress)
            if outcome in {"held", "waiting"}:
                batch.state = "InProgress"
            elif outcome == "failed":
                batch.state = "Failed"
                batch.message = batch.progress.failure
            elif outcome == "run":
                self._process(job, batch)
            batch.modstamp = bulk_timestamp(self._now())

    def _process(self, job: _ClassicJob, batch: _Batch) -> None:
        started = time.perf_counter()
        if isinstance(batch.records, str):
            self._run_query(job, batch, batch.records)
        else:
            for record in batch.records:
                values = {k: v for k, v in record.items() if k != "attributes"}
                result = self.rows.write(job.operation, job.sobject, values, job.external_id)
                batch.results.append(
                    {
                        "success": result.success,
                        "created": result.created,
                        "id": result.record_id,
                        "errors": []
                        if result.error is None
                        else [_v1_error(result.error.as_json())],
                    }
                )
            batch.processed = len(batch.records)
            batch.failed = sum(1 for row in batch.results if not row["success"])
            batch.state = "Completed"
        batch.millis = int((time.perf_counter() - started) * 1000)

    def _run_query(self, job: _ClassicJob, batch: _Batch, soql: str) -> None:
        try:
            result = self.org.query(
                soql, include_deleted=job.operation == "queryAll", version=job.version
            )
        except ApiError as problem:
            batch.state = "Failed"
            batch.message = (
                f"InvalidBatch : Failed to process query: {problem.error_code}: {problem.message}"
            )
            return
        obj = self.org.schema.known(job.sobject)
        if job.content_type == "JSON":
            records = [epoch_dates(obj, record) for record in result.records]
        else:
            records = result.records
            batch.query_header = [
                ".".join(ref.parts) for ref in self.org.schema.compile(soql).fields
            ]
        batch.query_results[self._ids.new("752")] = records
        batch.processed = len(records)
        batch.state = "Completed"

    def _batch_resource(  # noqa: PLR0911 - a router
        self, job: _ClassicJob, batch: _Batch, rest: list[str]
    ) -> HttpResponse:
        as_json = job.content_type == "JSON"
        if not rest:
            return render(200, "batchInfo", batch.info(), json_format=as_json)
        if batch.state != "Completed":
            message = f"Batch not completed: {batch.state}"
            return async_error("InvalidBatch", message, json_format=as_json)
        if rest == ["result"]:
            if job.operation in _QUERY_OPERATIONS:
                return render(200, "result-list", list(batch.query_results), json_format=as_json)
            return _json(200, batch.results) if as_json else csv_save_results(batch.results)
        if len(rest) == 2 and rest[0] == "result" and rest[1] in batch.query_results:  # noqa: PLR2004
            records = batch.query_results[rest[1]]
            return _json(200, records) if as_json else csv_records(batch.query_header, records)
        if rest == ["request"] and as_json:
            return _json(200, batch.records if isinstance(batch.records, list) else [])
        return async_error("InvalidBatch", "Results not found", 404, json_format=as_json)


def _json(status: int, payload: Any) -> HttpResponse:
    return render(status, "json", payload, json_format=True)


def _v1_error(entry: dict[str, object]) -> dict[str, object]:
    return {
        "message": entry["message"],
        "fields": entry["fields"],
        "statusCode": entry["statusCode"],
    }
