"""Where the guard meets the wire: a transport adapter on the client's session.

simple-salesforce sends everything through one ``requests.Session``: REST,
sObjects, composite, Apex REST, Bulk and Bulk 2.0, and the login. Wrapping the
session's adapters is the one place that sees each request before it leaves
(to admit or refuse it, sending nothing) and each answer (to read
``Sforce-Limit-Info``), so every call kind is counted, one reservation per
HTTP request however many requests one method makes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter

from .._classify import ErrorCategory, classify
from .._decorators import current_caller, is_critical
from .._modes import Modes
from ._guard import BudgetGuard
from ._usage import parse_daily_limits, parse_limit_info, usage_from_limits


_DATA_VERSION = re.compile(r"^/services/data/v(\d+\.\d+)(/.*)?$")
# Counted towards the allocation: the data API, Apex REST, Bulk 1.0 and the SOAP
# APIs except the partner endpoint simple-salesforce logs in on.
_COUNTED_PREFIXES = ("/services/apexrest/", "/services/async/", "/services/soap/")
_UNCOUNTED_PREFIXES = ("/services/soap/u/",)
_FALLBACK_VERSION = "59.0"


class Kind(enum.Enum):
    UNCOUNTED = "uncounted"
    COUNTED = "counted"
    HEALTH = "health"
    """``/limits``: counted, and always critical."""


def request_kind(path: str) -> Kind:
    """Whether a request to *path* uses the allocation (pure)."""
    if path.startswith("/services/data/v"):
        if "limits" in path:
            match = _DATA_VERSION.match(path)
            if match and (match.group(2) or "").rstrip("/") == "/limits":
                return Kind.HEALTH
        return Kind.COUNTED
    lowered = path.lower()
    if lowered.startswith(_UNCOUNTED_PREFIXES):
        return Kind.UNCOUNTED
    if lowered.startswith(_COUNTED_PREFIXES):
        return Kind.COUNTED
    return Kind.UNCOUNTED


def _path(url: str) -> str:
    """The path of *url*, cheaply (``urlsplit`` costs more than the rest of admission)."""
    start = url.find("/", url.find("//") + 2)
    if start < 0:
        return "/"
    end = url.find("?", start)
    return url[start:] if end < 0 else url[start:end]


def _spent_allocation(response: requests.Response) -> bool:
    """A 403 saying the daily total is spent (not the concurrency limit)."""
    if response.status_code != 403:  # noqa: PLR2004
        return False
    return classify(response).category is ErrorCategory.API_LIMIT_EXCEEDED


def _unwrapped(inner: BaseAdapter) -> BaseAdapter:
    return inner


class BudgetAdapter(BaseAdapter):
    """Admits each counted request (modes, then budget) and reads each answer."""

    def __init__(self, inner: BaseAdapter, modes: Modes, budget: BudgetGuard) -> None:
        super().__init__()
        self.inner = inner
        self.modes = modes
        self.budget = budget
        # The last counted request and its send options, for a rare /limits probe.
        self._last: requests.PreparedRequest | None = None
        self._last_data_url = ""
        self._options: tuple[Any, Any, Any, Any] = (None, True, None, None)

    def send(  # noqa: PLR0917  (requests' adapter signature)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        kind = request_kind(_path(url))
        if kind is Kind.UNCOUNTED:
            return self.inner.send(
                request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
        critical = kind is Kind.HEALTH or is_critical()
        self.modes.check(critical=critical)
        sent = self.budget.acquire(critical=critical, label=current_caller())
        if self._last is None:
            self.budget.probe = self._probe  # the adapter (scheme) that carries the calls
        self._last, self._options = request, (timeout, verify, cert, proxies)
        if "/services/data/v" in url:
            self._last_data_url = url
        try:
            response = self.inner.send(
                request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
        except BaseException:
            self.budget.unanswered()
            raise
        usage = self._usage(response, kind, stream=stream)
        self.budget.answered(sent, usage, source="limits" if kind is Kind.HEALTH else "header")
        return response

    def close(self) -> None:
        self.inner.close()

    def __reduce__(self) -> tuple[Any, ...]:
        # A copied or unpickled session leaves the guard behind (it holds locks
        # and a live ledger); wrapping the copy installs a guard of its own.
        return (_unwrapped, (self.inner,))

    def _usage(
        self, response: requests.Response, kind: Kind, *, stream: bool
    ) -> tuple[int, int] | None:
        usage = parse_limit_info(response.headers.get("Sforce-Limit-Info"))
        if kind is Kind.HEALTH and response.status_code == 200 and not stream:  # noqa: PLR2004
            usage = self._daily_limits(response) or usage
        if _spent_allocation(response):
            limit = usage[1] if usage else self.budget.known_limit()
            if limit is not None:
                usage = (max(limit, usage[0] if usage else 0), limit)
        return usage

    def _daily_limits(self, response: requests.Response) -> tuple[int, int] | None:
        try:
            limits = parse_daily_limits(response.json())
        except ValueError:
            return None
        self.budget.note_daily_limits(limits)
        return usage_from_limits(limits)

    def _probe(self) -> tuple[int, int] | None:
        """One ``GET /limits`` around the guard: the budget asks only when its numbers are stale."""
        last = self._last
        if last is None:
            return None
        split = urlsplit(last.url or "")
        found = _DATA_VERSION.match(urlsplit(self._last_data_url).path)
        version = found.group(1) if found else _FALLBACK_VERSION
        authorization = last.headers.get("Authorization")
        request = requests.Request(
            "GET",
            f"{split.scheme}://{split.netloc}/services/data/v{version}/limits/",
            headers={"Authorization": authorization} if authorization else {},
        ).prepare()
        timeout, verify, cert, proxies = self._options
        try:
            response = self.inner.send(
                request, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
        except requests.RequestException:
            return None
        return self._usage(response, Kind.HEALTH, stream=False)
