"""What a Bulk API 2.0 job is: ids, timestamps, the job records and their JSON infos."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..org.ids import base62, id_checksum
from ..org.jobs import Progress
from ..org.values import render_datetime
from ..wire.http import HttpResponse
from .csvdata import DELIMITERS, LINE_ENDINGS
from .responses import error, json_response


__all__ = [
    "IngestJob",
    "Job",
    "JobFactory",
    "JobIds",
    "QueryJob",
    "bulk_timestamp",
    "csv_options",
    "invalid_job",
    "invalid_state",
    "job_list",
]


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


def invalid_job(message: str) -> HttpResponse:
    return error(400, "INVALIDJOB", f"InvalidJob : {message}")


@dataclass
class Job:
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
class IngestJob(Job):
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
class QueryJob(Job):
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


class JobFactory:
    """The fields every new job starts with: a fresh id, the time, the creating user."""

    def __init__(self, ids: JobIds, now: Callable[[], dt.datetime], user_id: str) -> None:
        self.ids = ids
        self.now = now
        self.user_id = user_id

    def base(
        self, prefix: str, operation: str, sobject: str, version: str, options: tuple[str, str]
    ) -> dict[str, Any]:
        """Keyword arguments for a new `IngestJob` / `QueryJob`."""
        return {
            "id": self.ids.new(prefix),
            "operation": operation,
            "sobject": sobject,
            "version": version,
            "created": bulk_timestamp(self.now()),
            "created_by": self.user_id,
            "delimiter": options[0],
            "line_ending": options[1],
        }

    def stamp(self) -> str:
        """Now, as a job's `systemModstamp`."""
        return bulk_timestamp(self.now())


def job_list(jobs: Mapping[str, Job], lock: threading.Lock, job_type: str) -> HttpResponse:
    """The body of GET /jobs/ingest or /jobs/query: every job's info and `jobType`."""
    with lock:
        records = [job.info() | {"jobType": job_type} for job in jobs.values()]
    return json_response(200, {"done": True, "records": records, "nextRecordsUrl": None})


def invalid_state(state: str, wanted: str) -> HttpResponse:
    return error(
        400,
        "INVALIDJOBSTATE",
        f"InvalidJobState : Job in state {state} can't move to {wanted or 'an empty state'}",
    )


def csv_options(body: dict[str, Any]) -> tuple[str, str] | HttpResponse:
    delimiter = str(body.get("columnDelimiter") or "COMMA")
    line_ending = str(body.get("lineEnding") or "LF")
    if delimiter not in DELIMITERS:
        return invalid_job(f"Invalid column delimiter: {delimiter}")
    if line_ending not in LINE_ENDINGS:
        return invalid_job(f"Invalid line ending: {line_ending}")
    if str(body.get("contentType") or "CSV") != "CSV":
        return invalid_job(f"Invalid content type: {body.get('contentType')}")
    return delimiter, line_ending
