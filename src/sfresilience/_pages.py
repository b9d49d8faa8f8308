"""Read the pages of a SOQL query answer, refusing shapes Salesforce never sends.

``query_all`` follows ``nextRecordsUrl`` until ``done``. A page without a list of
records, without ``done``, or pointing back to a page already read would make it
fail with a bare ``TypeError`` / ``KeyError``, or page forever. Such a page fails
as simple-salesforce's ``SalesforceGeneralError`` carrying a ``.classification``
(``UNKNOWN``, not retryable), like any answer the library cannot use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simple_salesforce.exceptions import SalesforceGeneralError

from ._classify import classify
from ._redact import redact


__all__ = ["PageWalk"]

# How much of a malformed page its error quotes.
_QUOTED = 300


class PageWalk:
    """The pages of one query, read in order: each page's records and the next page's URL."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._seen: set[str] = set()

    def read(self, page: object) -> tuple[list[Any], str | None]:
        """*page*'s records, and the URL of the page after it (``None`` on the last one)."""
        if not isinstance(page, Mapping):
            raise self._malformed(page, "is not a JSON object")
        records = page.get("records")
        if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
            raise self._malformed(page, "has no list of records")
        done = page.get("done")
        if not isinstance(done, bool):
            raise self._malformed(page, "does not say whether it is the last page ('done')")
        if done:
            return records, None
        return records, self._next_url(page)

    def _next_url(self, page: Mapping[str, Any]) -> str:
        next_url = page.get("nextRecordsUrl")
        if not isinstance(next_url, str) or not next_url:
            raise self._malformed(page, "is not the last page but has no nextRecordsUrl")
        if next_url in self._seen:
            raise self._malformed(page, f"points back to a page already read ({next_url})")
        self._seen.add(next_url)
        self._url = next_url
        return next_url

    def _malformed(self, page: object, problem: str) -> SalesforceGeneralError:
        content = f"the query page {problem}: {redact(repr(page)[:_QUOTED])}"
        error = SalesforceGeneralError(self._url, 200, "query", content.encode())
        error.classification = classify(error)  # type: ignore[attr-defined]
        return error
