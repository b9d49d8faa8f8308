"""Building blocks every handler shares: JSON answers, Salesforce's error shape, bodies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from ..wire.http import HttpRequest, HttpResponse


__all__ = [
    "HTML",
    "JSON",
    "DropError",
    "RespondError",
    "bearer_token",
    "error",
    "json_body",
    "json_response",
    "method_not_allowed",
    "not_found",
    "parse_json",
    "query_params",
]

JSON = "application/json;charset=UTF-8"
HTML = "text/html;charset=UTF-8"


class RespondError(Exception):
    """Leave request handling early with a ready response."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status)
        self.response = response


class DropError(Exception):
    """Close the connection without answering."""


def json_response(
    status: int, payload: Any, headers: tuple[tuple[str, str], ...] = ()
) -> HttpResponse:
    """`payload` as compact JSON with Salesforce's content type."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HttpResponse(status, body, JSON, headers)


def error(status: int, code: str, message: str, fields: list[str] | None = None) -> HttpResponse:
    """Salesforce's REST error: `[{"message", "errorCode"[, "fields"]}]`."""
    entry: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        entry["fields"] = fields
    return json_response(status, [entry])


def not_found() -> HttpResponse:
    """404 NOT_FOUND, as for an unknown resource."""
    return error(404, "NOT_FOUND", "The requested resource does not exist")


def method_not_allowed(method: str, allowed: str) -> HttpResponse:
    """405 METHOD_NOT_ALLOWED naming the methods the resource takes."""
    return error(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{method}' not allowed. Allowed are {allowed}",
    )


def query_params(request: HttpRequest) -> dict[str, str]:
    """The query string's parameters, first value of each."""
    return {k: v[0] for k, v in parse_qs(request.query, keep_blank_values=True).items()}


def parse_json(body: bytes) -> Any:
    """The JSON in `body`, else answer 400 JSON_PARSER_ERROR."""
    try:
        return json.loads(body)
    except ValueError as problem:
        raise RespondError(
            error(400, "JSON_PARSER_ERROR", f"Unexpected character: {problem}")
        ) from problem


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object (an empty body is `{}`), else answer 400."""
    data = parse_json(request.body or b"{}")
    if not isinstance(data, dict):
        raise RespondError(
            error(
                400,
                "JSON_PARSER_ERROR",
                "Cannot deserialize instance of object from array",
            )
        )
    return data


def bearer_token(request: HttpRequest) -> str | None:
    """The session id of an `Authorization: Bearer|OAuth <token>` header."""
    authorization = request.header("authorization")
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() not in {"bearer", "oauth"} or not token:
        return None
    return token.strip()
