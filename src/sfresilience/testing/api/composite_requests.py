"""`/composite` and `/composite/batch`: subrequests run through the REST handlers.

`/composite` runs up to 25 subrequests in order; later ones use earlier results
through references (`@{refAccount.id}`, `@{refQuery.records[0].Id}`) in their urls and
bodies. A reference to a failed subrequest answers `PROCESSING_HALTED`; with
`allOrNone` the org is rolled back and every subrequest but the failing one answers
`PROCESSING_HALTED`. `/composite/batch` runs up to 25 independent subrequests; with
`haltOnError` the ones after a failure answer 412 `BATCH_PROCESSING_HALTED`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import unquote

from ..org.errors import ApiError
from ..org.store import Org
from ..wire.http import HttpRequest, HttpResponse
from .responses import RespondError, error, json_response


__all__ = ["MAX_SUBREQUESTS", "Dispatch", "Subrequests"]

Dispatch = Callable[[HttpRequest, str, list[str]], HttpResponse]

_CREATED: Final = 201
MAX_SUBREQUESTS: Final = 25
_DATA_URL = re.compile(r"/services/data/v(\d+\.\d)(?:/(.*))?")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_HALTED_MESSAGE: Final = (
    "The transaction was rolled back since another operation in the same transaction failed."
)


def _too_many_subrequests() -> HttpResponse:
    return error(
        400,
        "INVALID_INPUT",
        f"A composite request can hold at most {MAX_SUBREQUESTS} subrequests",
    )


class _UnresolvedError(Exception):
    def __init__(self, expression: str, reference: str) -> None:
        super().__init__(expression)
        self.expression = expression
        self.reference = reference


class Subrequests:
    """Runs composite subrequests against `dispatch` (the REST router) over one org."""

    def __init__(self, org: Org, dispatch: Dispatch) -> None:
        self.org = org
        self._dispatch = dispatch

    # --- /composite -------------------------------------------------------------

    def composite(self, body: dict[str, Any], version: str) -> HttpResponse:
        """Answer POST /composite: subrequests in order, with references."""
        subrequests = body.get("compositeRequest")
        if not isinstance(subrequests, list) or not all(isinstance(s, dict) for s in subrequests):
            return error(400, "JSON_PARSER_ERROR", "compositeRequest must be a list of subrequests")
        if len(subrequests) > MAX_SUBREQUESTS:
            return _too_many_subrequests()
        all_or_none = body.get("allOrNone") is True
        snapshot = self.org.snapshot() if all_or_none else None
        bodies: dict[str, Any] = {}
        responses: list[dict[str, Any]] = []
        first_failure: int | None = None
        for index, sub in enumerate(subrequests):
            reference = str(sub.get("referenceId", ""))
            if first_failure is not None and all_or_none:
                responses.append(_halted(reference, _HALTED_MESSAGE))
                continue
            response = self._subrequest(sub, bodies, reference, version)
            responses.append(response)
            if response["httpStatusCode"] >= 400:  # noqa: PLR2004
                first_failure = index if first_failure is None else first_failure
            else:
                bodies[reference] = response["body"]
        if snapshot is not None and first_failure is not None:
            self.org.restore(snapshot)
            responses = [
                r if i == first_failure else _halted(r["referenceId"], _HALTED_MESSAGE)
                for i, r in enumerate(responses)
            ]
        return json_response(200, {"compositeResponse": responses})

    def _subrequest(
        self, sub: dict[str, Any], bodies: dict[str, Any], reference: str, version: str
    ) -> dict[str, Any]:
        try:
            url = _resolve(str(sub.get("url", "")), bodies)
            payload = _resolve_json(sub.get("body"), bodies)
        except _UnresolvedError as problem:
            message = (
                f"Invalid reference specified. No value for {problem.expression} found in"
                f" {problem.reference}."
            )
            return _halted(reference, message)
        status, headers, answer = self._call(
            str(sub.get("method", "GET")).upper(), url, payload, version
        )
        return {
            "body": answer,
            "httpHeaders": headers,
            "httpStatusCode": status,
            "referenceId": reference,
        }

    def _call(
        self, method: str, url: str, payload: Any, version: str
    ) -> tuple[int, dict[str, str], Any]:
        """Run one subrequest through the REST router: (status, headers, JSON body)."""
        path, _, query = url.partition("?")
        match = _DATA_URL.fullmatch(path)
        if match is None:
            return 404, {}, _not_found_body()
        sub_version, rest = match.group(1), match.group(2) or ""
        parts = [unquote(part) for part in rest.strip("/").split("/")]
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = {"content-type": "application/json"}
        request = HttpRequest(method, url, path, query, headers, body)
        try:
            response = self._dispatch(request, sub_version or version, parts)
        except ApiError as problem:
            return problem.status, {}, problem.body()
        except RespondError as respond:
            response = respond.response
        answer = json.loads(response.body) if response.body else None
        location: dict[str, str] = {}
        if response.status == _CREATED and isinstance(answer, dict) and "id" in answer:
            location = {
                "Location": f"/services/data/v{sub_version}/sobjects/{parts[-1]}/{answer['id']}"
            }
        return response.status, location, answer

    # --- composite batch ----------------------------------------------------------

    def batch(self, body: dict[str, Any], version: str) -> HttpResponse:
        """Answer POST /composite/batch: independent subrequests, `haltOnError`."""
        subrequests = body.get("batchRequests")
        if not isinstance(subrequests, list) or not all(isinstance(s, dict) for s in subrequests):
            return error(400, "JSON_PARSER_ERROR", "batchRequests must be a list of subrequests")
        if len(subrequests) > MAX_SUBREQUESTS:
            return _too_many_subrequests()
        halt_on_error = body.get("haltOnError") is True
        halted = False
        has_errors = False
        results: list[dict[str, Any]] = []
        for sub in subrequests:
            if halted:
                halt = [
                    {
                        "errorCode": "BATCH_PROCESSING_HALTED",
                        "message": "Batch processing halted per request",
                    }
                ]
                results.append({"statusCode": 412, "result": halt})
                continue
            url = str(sub.get("url", ""))
            url = url if url.startswith("/services/data/") else "/services/data/" + url.lstrip("/")
            method = str(sub.get("method", "GET")).upper()
            status, _headers, answer = self._call(method, url, sub.get("richInput"), version)
            results.append({"statusCode": status, "result": answer})
            if status >= 400:  # noqa: PLR2004
                has_errors = True
                halted = halt_on_error
        return json_response(200, {"hasErrors": has_errors, "results": results})


def _not_found_body() -> list[dict[str, str]]:
    return [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


def _halted(reference: str, message: str) -> dict[str, Any]:
    return {
        "body": [{"errorCode": "PROCESSING_HALTED", "message": message}],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference,
    }


def _lookup(value: Any, path: str, expression: str, reference: str) -> Any:
    for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        name, index = step
        if name and isinstance(value, dict):
            value = value.get(name)
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            value = None
        if value is None:
            raise _UnresolvedError(expression, reference)
    return value


def _reference_value(match: re.Match[str], bodies: dict[str, Any]) -> Any:
    reference, path = match.group(1), match.group(2)
    expression = reference + path
    if reference not in bodies:
        raise _UnresolvedError(expression, reference)
    return _lookup(bodies[reference], path, expression, reference)


def _resolve(text: str, bodies: dict[str, Any]) -> str:
    return _REFERENCE.sub(lambda m: str(_reference_value(m, bodies)), text)


def _resolve_json(value: Any, bodies: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        return _reference_value(whole, bodies) if whole else _resolve(value, bodies)
    if isinstance(value, dict):
        return {key: _resolve_json(item, bodies) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_json(item, bodies) for item in value]
    return value
