"""REST API versions: the `/services/data/` list and which versions are served."""

from __future__ import annotations

import json
import re

from ..wire.http import HttpResponse
from .responses import error, not_found


__all__ = ["FIRST_VERSION", "max_version", "unsupported_version", "versions_body"]

FIRST_VERSION = 31
_VERSION = re.compile(r"(\d+)\.0")


def _season(version: int) -> str:
    offset = version - 20
    season = ("Winter", "Spring", "Summer")[offset % 3]
    return f"{season} '{11 + offset // 3:02d}"


def versions_body(last: int) -> bytes:
    """The body of GET /services/data/: every version from 31.0 to `last`."""
    return json.dumps(
        [
            {"label": _season(v), "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
            for v in range(FIRST_VERSION, last + 1)
        ]
    ).encode()


def max_version(version: str) -> int:
    """The major number of a `max_api_version` such as "66.0"; ValueError if bad."""
    match = _VERSION.fullmatch(version)
    if match is None or int(match.group(1)) < FIRST_VERSION:
        raise ValueError(f"max_api_version must look like '66.0' and be >= {FIRST_VERSION}.0")
    return int(match.group(1))


def unsupported_version(major: int, minor: int, last: int) -> HttpResponse | None:
    """410 for a retired version, 404 above the newest, None when served."""
    if major < FIRST_VERSION and minor == 0:
        return error(410, "UNSUPPORTED_API_VERSION", "API version is no longer supported")
    if major > last or minor != 0:
        return not_found()
    return None
