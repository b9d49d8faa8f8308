"""The private parts of simple-salesforce's Bulk handlers we build on, checked once.

Row resubmission and the watchdog override private methods of simple-salesforce
(``SFBulk2Type._upload_data``, ``_Bulk2Client.wait_for_job``,
``SFBulkType._bulk_operation`` ...). They have kept the same parameters from
1.12.6 to 1.12.10 (the newest at the time of writing). A release that renames
or drops one must not break a caller's load: the handler then falls back to
simple-salesforce's own, still over the guarded session (timeouts, retries,
session refresh, budget), without resubmission or watchdog, and says so once.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping

from simple_salesforce.bulk import SFBulkType
from simple_salesforce.bulk2 import SFBulk2Type, _Bulk2Client

from .._events import logger


_Needs = Mapping[type, Mapping[str, tuple[str, ...]]]

BULK2_NEEDS: _Needs = {
    SFBulk2Type: {
        "__init__": ("object_name", "bulk2_url", "headers", "session"),
        "_upload_data": (
            "operation",
            "data",
            "column_delimiter",
            "line_ending",
            "external_id_field",
            "wait",
        ),
    },
    _Bulk2Client: {
        "__init__": ("object_name", "bulk2_url", "headers", "session"),
        "wait_for_job": ("job_id", "is_query", "wait"),
        "create_job": ("operation", "query", "column_delimiter", "line_ending"),
        "upload_job_data": ("job_id", "data"),
        "close_job": ("job_id",),
        "abort_job": ("job_id", "is_query"),
        "get_job": ("job_id", "is_query"),
        "_get_headers": ("request_content_type", "accept_content_type"),
        "_construct_request_url": ("job_id", "is_query"),
    },
}
BULK1_NEEDS: _Needs = {
    SFBulkType: {
        "__init__": ("object_name", "bulk_url", "headers", "session"),
        "_create_job": ("operation", "use_serial", "external_id_field"),
        "_add_batch": ("job_id", "data", "operation"),
        "_bulk_operation": (
            "operation",
            "data",
            "use_serial",
            "external_id_field",
            "batch_size",
            "wait",
            "bypass_results",
            "include_detailed_results",
        ),
    },
}


def changed(needs: _Needs) -> list[str]:
    """The methods of *needs* that are missing or whose parameters moved."""
    return [
        f"{owner.__name__}.{name}"
        for owner, methods in needs.items()
        for name, params in methods.items()
        if not _takes(owner.__dict__.get(name), params)
    ]


@functools.lru_cache(maxsize=64)
def _takes(method: object, params: tuple[str, ...]) -> bool:
    """Whether *method* exists and its parameters after ``self`` start with *params*."""
    if not callable(method):
        return False
    return tuple(inspect.signature(method).parameters)[1 : 1 + len(params)] == params


def compatible(api: str, needs: _Needs) -> bool:
    """Whether ours can build on simple-salesforce's *api* handler; warns once if not."""
    moved = changed(needs)
    if moved:
        _warn_once(api, ", ".join(moved))
    return not moved


@functools.cache
def _warn_once(api: str, moved: str) -> None:
    logger.warning(
        "simple-salesforce changed %s: client.%s keeps simple-salesforce's own handler"
        " (requests still guarded) without failed-row resubmission or the job watchdog",
        moved,
        api,
    )
