"""The REST data API: query and queryAll with paging, search, sObjects, records.

`RestApi.handle` answers `/services/data/vXX.X/<parts>` once the server has
authenticated, counted and version-checked the request. Writes go through the
record locks (`LockedWrites`); `ApiError`s raised by the org become Salesforce's
JSON error answers in the server.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..org import ApiError, Org
from ..org.locks import LockedWrites
from ..wire.http import HttpRequest, HttpResponse
from .recent import RecentlyViewed
from .responses import (
    RespondError,
    error,
    json_body,
    json_response,
    method_not_allowed,
    not_found,
    query_params,
)
from .tooling import ToolingApi


__all__ = ["RestApi"]

_NEXT_PATH = re.compile(r"(01g[0-9A-Za-z]{15})-(\d+)")
_BATCH_SIZE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)
_MAX_CURSORS = 500
# Nothing is ever purged from the fake's delete log: deletions are available from
# before the org's first record.
_EARLIEST_DATE_AVAILABLE = "2023-01-01T00:00:00.000+0000"
_REPLICATION_DATE_MESSAGE = (
    "start and end must be ISO 8601 date-times, such as 2024-06-01T00:00:00+00:00"
)


@dataclass
class _Cursor:
    records: list[dict[str, Any]]
    total_size: int
    batch_size: int


class RestApi:
    """The REST data API over one `Org`.

    `batch_size()` is the records per query page (read per query, so a test may
    change it on a running fake); `limits()` is the body of GET /limits.
    """

    def __init__(
        self,
        org: Org,
        writes: LockedWrites,
        *,
        batch_size: Callable[[], int],
        limits: Callable[[], dict[str, dict[str, int]]],
        tooling: ToolingApi,
        recent: RecentlyViewed,
    ) -> None:
        self.org = org
        self._tooling = tooling
        self._recent = recent
        self._writes = writes
        self._batch_size = batch_size
        self._limits = limits
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._cursor_lock = threading.Lock()
        self._cursor_ids = itertools.count(1)
        self._mounted: dict[str, Callable[[HttpRequest, str, list[str]], HttpResponse]] = {}

    def mount(
        self, head: str, handler: Callable[[HttpRequest, str, list[str]], HttpResponse]
    ) -> None:
        """Answer `/services/data/vXX.X/<head>/...` with `handler(request, version, rest)`."""
        self._mounted[head] = handler

    def handle(  # noqa: PLR0911 - a router
        self, request: HttpRequest, version: str, parts: list[str]
    ) -> HttpResponse:
        """Answer `/services/data/vXX.X/<parts>` (parts already URL-decoded)."""
        head, rest = parts[0], parts[1:]
        params = query_params(request)
        if head == "sobjects":
            return self._sobjects(request, params, version, rest)
        if head == "tooling":
            return self._tooling.handle(request, version, rest)
        mounted = self._mounted.get(head)
        if mounted is not None:
            return mounted(request, version, rest)
        if request.method != "GET":
            return not_found()
        if head in {"query", "queryAll"} and len(rest) <= 1:
            if rest:
                return self._query_more(rest[0], version, head)
            return self._query(request, params, version, include_deleted=head == "queryAll")
        reader = self._readers.get(head) if not rest else None
        if reader is None:
            return not_found()
        return reader(params, version)

    @property
    def _readers(self) -> dict[str, Callable[[dict[str, str], str], HttpResponse]]:
        """The plain GET resources: `/<name>` answered from the parameters alone."""
        return {
            "": lambda _params, version: json_response(200, _resources(version)),
            "search": self._search,
            "limits": lambda _params, _version: json_response(200, self._limits()),
            "recent": lambda params, version: json_response(
                200, self._recent.items(params, version)
            ),
        }

    def _search(self, params: dict[str, str], version: str) -> HttpResponse:
        search = params.get("q")
        if not search:
            return error(400, "MALFORMED_SEARCH", "No search term found")
        return json_response(200, {"searchRecords": self.org.search(search, version)})

    def _query(
        self,
        request: HttpRequest,
        params: dict[str, str],
        version: str,
        *,
        include_deleted: bool,
    ) -> HttpResponse:
        soql = params.get("q")
        if not soql:
            return error(400, "MALFORMED_QUERY", "A query string has to be specified")
        result = self.org.query(soql, include_deleted=include_deleted, version=version)
        if result.locked:
            # FOR UPDATE: the call is the transaction, so it takes (and holds for
            # `lock_hold`) the returned records' locks, as a write would.
            self._writes.run(list(result.locked), lambda: None)
        batch_size = self._batch_size()
        options = request.header("sforce-query-options")
        if options:
            requested = _BATCH_SIZE.search(options)
            if requested is not None:
                batch_size = min(2000, max(200, int(requested.group(1))))
        records = result.records
        if len(records) <= batch_size:
            return json_response(
                200, {"totalSize": result.total_size, "done": True, "records": records}
            )
        locator = f"01gFAKE{next(self._cursor_ids):011d}"
        cursor = _Cursor(records, result.total_size, batch_size)
        with self._cursor_lock:
            self._cursors[locator] = cursor
            while len(self._cursors) > _MAX_CURSORS:
                self._cursors.popitem(last=False)
        endpoint = "queryAll" if include_deleted else "query"
        return json_response(
            200, _page(cursor, locator, 0, f"/services/data/v{version}/{endpoint}")
        )

    def _query_more(self, identifier: str, version: str, endpoint: str) -> HttpResponse:
        match = _NEXT_PATH.fullmatch(identifier)
        with self._cursor_lock:
            cursor = self._cursors.get(match.group(1)) if match else None
        if match is None or cursor is None:
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        prefix = f"/services/data/v{version}/{endpoint}"
        return json_response(200, _page(cursor, match.group(1), int(match.group(2)), prefix))

    def _sobjects(  # noqa: C901, PLR0911 - a router
        self,
        request: HttpRequest,
        params: dict[str, str],
        version: str,
        parts: list[str],
    ) -> HttpResponse:
        method = request.method
        org = self.org
        if not parts or parts == [""]:
            if method == "GET":
                return json_response(200, org.describe_global(version))
            return method_not_allowed(method, "GET,HEAD")
        sobject = parts[0]
        if len(parts) == 1:
            return self._sobject(request, version, sobject)
        if len(parts) == 2 and parts[1] in {"deleted", "updated"}:  # noqa: PLR2004
            if method == "GET":
                return json_response(200, self._replication(sobject, parts[1], params))
            return method_not_allowed(method, "GET,HEAD")
        if len(parts) == 2 and parts[1] == "describe":  # noqa: PLR2004
            if method == "GET":
                return json_response(200, org.describe(sobject, version))
            return method_not_allowed(method, "GET,HEAD")
        if len(parts) in {3, 4} and parts[1:3] == ["describe", "layouts"]:
            if method == "GET":
                record_type = parts[3] if len(parts) == 4 and parts[3] else None  # noqa: PLR2004
                return json_response(200, org.describe_layouts(sobject, version, record_type))
            return method_not_allowed(method, "GET,HEAD")
        if len(parts) == 2:  # noqa: PLR2004
            return self._record(request, params, version, sobject, parts[1])
        if len(parts) == 3:  # noqa: PLR2004
            return self._external(
                request,
                params=params,
                version=version,
                sobject=sobject,
                field=parts[1],
                value=parts[2],
            )
        return not_found()

    def _sobject(self, request: HttpRequest, version: str, sobject: str) -> HttpResponse:
        method = request.method
        if method == "GET":
            basic = self.org.describe_basic(sobject, version)
            return json_response(200, {"objectDescribe": basic, "recentItems": []})
        if method == "POST":
            record_id = self.org.create(sobject, json_body(request))
            return json_response(201, {"id": record_id, "success": True, "errors": []})
        return method_not_allowed(method, "GET,HEAD,POST")

    def _replication(self, sobject: str, kind: str, params: dict[str, str]) -> dict[str, Any]:
        start, end = _replication_date(params, "start"), _replication_date(params, "end")
        covered = _render_minute(end)
        if kind == "updated":
            ids = self.org.updated_between(sobject, start, end)
            return {"ids": ids, "latestDateCovered": covered}
        deleted = self.org.deleted_between(sobject, start, end)
        return {
            "deletedRecords": [
                {"id": record_id, "deletedDate": deleted_date}
                for record_id, deleted_date in deleted
            ],
            "earliestDateAvailable": _EARLIEST_DATE_AVAILABLE,
            "latestDateCovered": covered,
        }

    def _record(
        self,
        request: HttpRequest,
        params: dict[str, str],
        version: str,
        sobject: str,
        record_id: str,
    ) -> HttpResponse:
        method = request.method
        org = self.org
        if method == "GET":
            return json_response(200, org.get(sobject, record_id, _fields(params), version))
        if method == "PATCH":
            data = json_body(request)
            self._writes.run(
                org.lock_keys(sobject, record_id),
                lambda: org.update(sobject, record_id, data),
            )
            return HttpResponse(204)
        if method == "DELETE":
            self._writes.run(
                org.lock_keys(sobject, record_id),
                lambda: org.delete(sobject, record_id),
            )
            return HttpResponse(204)
        return method_not_allowed(method, "GET,HEAD,PATCH,DELETE")

    def _external(
        self,
        request: HttpRequest,
        *,
        params: dict[str, str],
        version: str,
        sobject: str,
        field: str,
        value: str,
    ) -> HttpResponse:
        method = request.method
        org = self.org
        if method == "GET":
            return json_response(
                200,
                org.get_by_external_id(sobject, field, value, _fields(params), version),
            )
        if method == "PATCH":
            data = json_body(request)
            try:
                existing = org.get_by_external_id(sobject, field, value, ["Id"], version)
            except ApiError as problem:
                if problem.status != 404:  # noqa: PLR2004
                    raise
                keys: list[str] = []
            else:
                keys = org.lock_keys(sobject, str(existing["Id"]))
            record_id, created = self._writes.run(
                keys, lambda: org.upsert(sobject, field, value, data)
            )
            if created:
                return json_response(
                    201,
                    {"id": record_id, "success": True, "errors": [], "created": True},
                )
            return HttpResponse(204)
        return method_not_allowed(method, "GET,HEAD,PATCH")


def _replication_date(params: dict[str, str], name: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(params[name])
    except (KeyError, ValueError) as problem:
        raise RespondError(
            error(400, "INVALID_REPLICATION_DATE", _REPLICATION_DATE_MESSAGE)
        ) from problem


def _render_minute(moment: dt.datetime) -> str:
    """`moment` in UTC (naive: already UTC) to the minute, as Salesforce renders it."""
    utc = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:00.000+0000")


def _fields(params: dict[str, str]) -> list[str] | None:
    fields = params.get("fields")
    if not fields:
        return None
    return [f.strip() for f in fields.split(",") if f.strip()]


def _page(cursor: _Cursor, locator: str, offset: int, prefix: str) -> dict[str, Any]:
    records = cursor.records
    end = offset + cursor.batch_size
    page: dict[str, Any] = {"totalSize": cursor.total_size, "done": end >= len(records)}
    if end < len(records):
        page["nextRecordsUrl"] = f"{prefix}/{locator}-{end}"
    page["records"] = records[offset:end]
    return page


def _resources(version: str) -> dict[str, str]:
    base = f"/services/data/v{version}"
    names = ("sobjects", "query", "queryAll", "search", "limits", "recent", "tooling")
    return {name: f"{base}/{name}" for name in names}
