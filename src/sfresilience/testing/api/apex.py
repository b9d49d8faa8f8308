"""Apex REST: `/services/apexrest/...` answered by handlers a test registers."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..wire.http import HttpRequest, HttpResponse
from .responses import error, json_response, parse_json, query_params


__all__ = ["ApexHandler", "ApexRequest", "ApexRoutes"]


@dataclass(frozen=True, slots=True)
class ApexRequest:
    """What an Apex REST handler registered with `apex_route` receives."""

    method: str
    path: str
    params: dict[str, str]
    body: Any


ApexHandler = Callable[[ApexRequest], Any]


@dataclass(frozen=True, slots=True)
class _ApexRoute:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: ApexHandler


class ApexRoutes:
    """The `@RestResource` url mappings registered so far, and their dispatch."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], _ApexRoute] = {}
        self._lock = threading.Lock()

    def add(self, method: str, path: str, handler: ApexHandler) -> None:
        """Map `METHOD path` (case-sensitive, `*` wildcards) to `handler`."""
        method = method.upper()
        pattern = path.strip("/")
        regex = re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
        with self._lock:
            self._routes[method, pattern] = _ApexRoute(method, pattern, regex, handler)

    def _handler(self, method: str, path: str) -> ApexHandler | None:
        with self._lock:
            exact = self._routes.get((method, path))
            if exact is not None:
                return exact.handler
            matches = [
                route
                for route in self._routes.values()
                if route.method == method and route.regex.fullmatch(path)
            ]
        if not matches:
            return None
        return max(matches, key=lambda route: len(route.pattern)).handler

    def handle(self, request: HttpRequest, path: str) -> HttpResponse:
        """Answer a request for `/services/apexrest/<path>`."""
        path = path.strip("/")
        handler = self._handler(request.method, path)
        if handler is None:
            return error(404, "NOT_FOUND", "Could not find a match for URL")
        body = parse_json(request.body) if request.body else None
        try:
            status, payload = _apex_result(
                handler(ApexRequest(request.method, "/" + path, query_params(request), body))
            )
        except Exception as problem:  # noqa: BLE001 - an unhandled Apex exception
            return error(500, "APEX_ERROR", f"{type(problem).__name__}: {problem}")
        if status == 204:  # noqa: PLR2004
            return HttpResponse(204)
        return json_response(status, payload)


def _apex_result(result: Any) -> tuple[int, Any]:
    if not (
        isinstance(result, tuple)
        and len(result) == 2  # noqa: PLR2004
        and isinstance(result[0], int)
        and not isinstance(result[0], bool)
    ):
        return 200, result
    status, payload = result
    if not 200 <= status <= 599:  # noqa: PLR2004
        raise ValueError(f"an Apex REST status must be 200-599, not {status}")
    return status, payload
