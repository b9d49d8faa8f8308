"""THE DATA: Salesforce's codes -> runbook rules (``docs/errors.md`` renders them).

The rows live in three modules by family; this one puts them in order and indexes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from sfresilience._classify._codes_access import ACCESS_CODES
from sfresilience._classify._codes_platform import PLATFORM_CODES
from sfresilience._classify._codes_requests import REQUEST_CODES
from sfresilience._classify._rules import CodeEntry


# Salesforce's own codes, as they arrive in REST errorCode, collection
# statusCode, Bulk exceptionCode, SOAP sf:exceptionCode/faultcode and the
# OAuth "error" field. Grouped by category; the order of rows of one code
# matters (``when`` rows first).
CODE_TABLE: Final[tuple[CodeEntry, ...]] = (*ACCESS_CODES, *REQUEST_CODES, *PLATFORM_CODES)


def _index(
    table: tuple[CodeEntry, ...],
) -> Mapping[str, tuple[CodeEntry, ...]]:
    by_code: dict[str, list[CodeEntry]] = {}
    for entry in table:
        by_code.setdefault(entry.code, []).append(entry)
    return MappingProxyType({code: tuple(rows) for code, rows in by_code.items()})


CODES: Final = _index(CODE_TABLE)
