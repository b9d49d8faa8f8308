"""What classify() costs on typical, adversarial and huge bodies; its accuracy on real payloads."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from _report import Report, median_seconds
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfresilience import classify
from sfresilience._classify import ErrorCategory


CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"
LOCK_BODY = (
    b'[{"message":"unable to obtain exclusive access to this record or 1 records: '
    b'0035e00000AbCdEAAV","errorCode":"UNABLE_TO_LOCK_ROW","fields":[]}]'
)
MAINTENANCE = (
    b"<!DOCTYPE html><html><head><title>Salesforce - Maintenance</title></head><body>"
    b"<h1>We are down for maintenance.</h1><p>Sorry for the inconvenience.</p></body></html>"
)
LOG_LINE = (
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='login.salesforce.com', "
    "port=443): Max retries exceeded with url: /services/oauth2/token (Caused by "
    "NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to "
    "establish a new connection: [Errno -2] Name or service not known'))"
)
# Shapes that made the old scanners rescan the rest of the text from every "<".
ADVERSARIAL = ("<message ", "<faultcode ", "<title ", "<script ", "<!-- ", "<", "errorCode ")
SIZE = 64 * 1024


def _typical() -> list[tuple[str, Callable[[], object]]]:
    error = SalesforceMalformedRequest(
        "https://acme.my.salesforce.com/services/data/v59.0/query/",
        400,
        "query",
        json.loads(LOCK_BODY),
    )
    response = requests.Response()
    response.status_code = 503
    response._content = MAINTENANCE  # noqa: SLF001 - a read response, as requests leaves it
    response.headers["Content-Type"] = "text/html"
    return [
        ("REST error bytes, status 500", lambda: classify(status=500, body=LOCK_BODY)),
        ("simple-salesforce exception", lambda: classify(error)),
        ("maintenance page response", lambda: classify(response)),
        ("network error log line", lambda: classify(LOG_LINE)),
    ]


def _once(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _right(case: dict[str, Any]) -> bool:
    given, expected = case["input"], case["expected"]
    if "text" in given:
        results = [classify(given["text"]), classify(Exception(given["text"]))]
    else:
        results = [
            classify(
                status=given.get("status"), body=given.get("body"), headers=given.get("headers")
            )
        ]
    return all(
        r.category is ErrorCategory(expected["category"])
        and ("code" not in expected or r.error_code == expected["code"])
        for r in results
    )


def _accuracy(name: str) -> tuple[int, int]:
    cases = json.loads((CORPUS / f"{name}.json").read_text("utf-8"))
    return sum(_right(case) for case in cases), len(cases)


def run(report: Report) -> None:
    rounds = report.rounds
    report.section(
        "classify()",
        f"Typical bodies: median of {rounds} calls. Adversarial and huge bodies: median of "
        "5 calls each (64 KiB of a shape repeated without its closing `>`).",
    )
    typical = [(name, median_seconds(rounds, call)) for name, call in _typical()]
    report.table(("typical body", "median"), [(n, f"{t * 1e6:.1f} µs") for n, t in typical])
    worst_typical = max(t for _, t in typical)
    report.target("classify, typical body (slowest form)", worst_typical * 1e3, 1.0, "ms")

    rows = []
    for shape in ADVERSARIAL:
        body = (shape * (SIZE // len(shape) + 1))[:SIZE]
        for label, value in (
            (f"`{shape.strip()}` x 64 KiB, str", body),
            (f"`{shape.strip()}` x 64 KiB, html", "<html>" + body),
        ):
            rows.append(
                (
                    label,
                    statistics.median(
                        _once(lambda v=value: classify(status=500, body=v)) for _ in range(5)
                    ),
                )
            )
    report.table(("adversarial body", "median"), [(n, f"{t * 1e3:.2f} ms") for n, t in rows])
    report.target(
        "classify, worst 64 KiB adversarial body", max(t for _, t in rows) * 1e3, 50.0, "ms"
    )

    size = 5_000_000 if report.quick else 50_000_000
    huge_text = "x" * size + "UNABLE_TO_LOCK_ROW"
    huge_bytes = b"<html><body>" + b"y" * size + b"</body></html>"
    huge = [
        (
            "str",
            statistics.median(
                _once(lambda: classify(status=500, body=huge_text)) for _ in range(5)
            ),
        ),
        (
            "bytes",
            statistics.median(
                _once(lambda: classify(status=500, body=huge_bytes)) for _ in range(5)
            ),
        ),
    ]
    report.table(
        (f"{size // 1_000_000} MB body", "median"), [(n, f"{t * 1e3:.2f} ms") for n, t in huge]
    )
    report.target(
        f"classify, {size // 1_000_000} MB body", max(t for _, t in huge) * 1e3, 50.0, "ms"
    )

    for name in ("cases", "holdout"):
        right, total = _accuracy(name)
        label = "tuning set" if name == "cases" else "held-out set (not seen while tuning)"
        report.target(
            f"real-payload corpus, {label}", 100 * right / total, 95.0, "%", lower_is_better=False
        )
