"""Classification of real payloads gathered from public trackers, docs and fixtures.

``tests/corpus/cases.json`` is the set the classifier was tuned on;
``tests/corpus/holdout.json`` holds about a fifth of the cases, gathered in
batches and picked by a hash of the case id before any tuning on that batch;
each batch's held-out cases were first run only after its tuning ended (first
runs: 23/23, 2/4, 2/2 and 2/2; the misses of the second batch were fixed after).
Each case is the payload as it appeared (a status/body/headers triple, or the
text a log or tracker kept), the expected category (and code where the payload
names or implies one), and the public URL it came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sfresilience._classify import Classification, ErrorCategory, classify


CORPUS = Path(__file__).parent / "corpus"
TARGET = 0.95
# Wording-only messages naming no code and no wording the tables hold; kept
# honest as known misses rather than tuned for.
KNOWN_MISSES = {
    "airbyte-implementation-restriction": "Apex/SOQL wording without a code",
    "dlrs-no-locking-rows": "Apex QueryException wording without a code",
}


def _load(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((CORPUS / f"{name}.json").read_text("utf-8"))
    return cases


TUNING = _load("cases")
HOLDOUT = _load("holdout")


def _classifications(case: dict[str, Any]) -> list[Classification]:
    """Text is read both as a body and as the text of a re-raised exception."""
    given = case["input"]
    if "text" in given:
        return [classify(given["text"]), classify(Exception(given["text"]))]
    return [
        classify(status=given.get("status"), body=given.get("body"), headers=given.get("headers"))
    ]


def _right(case: dict[str, Any]) -> bool:
    expected = case["expected"]
    return all(
        result.category is ErrorCategory(expected["category"])
        and ("code" not in expected or result.error_code == expected["code"])
        for result in _classifications(case)
    )


def _params(cases: list[dict[str, Any]]) -> list[Any]:
    return [
        pytest.param(
            case,
            id=case["id"],
            marks=[pytest.mark.xfail(reason=KNOWN_MISSES[case["id"]], strict=True)]
            if case["id"] in KNOWN_MISSES
            else [],
        )
        for case in cases
    ]


@pytest.mark.parametrize("case", _params(TUNING + HOLDOUT))
def test_real_payload(case: dict[str, Any]) -> None:
    """Each real payload classifies as the runbook expects (code too, where known)."""
    actual = [(r.category.value, r.error_code) for r in _classifications(case)]

    assert _right(case), (case["expected"], actual, case["source"])


@pytest.mark.parametrize(("cases", "name"), [(TUNING, "tuning"), (HOLDOUT, "holdout")])
def test_accuracy_meets_target(cases: list[dict[str, Any]], name: str) -> None:
    """Each set, taken as a whole, classifies at least 95 % right."""
    accuracy = sum(_right(case) for case in cases) / len(cases)

    assert accuracy >= TARGET, f"{name}: {accuracy:.1%}"


def test_corpus_is_large_sourced_and_split() -> None:
    """At least 100 cases, each with a public source, unique ids, ~20 % held out."""
    cases = TUNING + HOLDOUT
    ids = [case["id"] for case in cases]
    unsourced = [case["id"] for case in cases if not case["source"].startswith("https://")]
    share = len(HOLDOUT) / len(cases)

    assert (len(cases) >= 100, len(ids) == len(set(ids)), unsourced, 0.15 <= share <= 0.25) == (
        True,
        True,
        [],
        True,
    )


def test_known_misses_are_in_the_corpus() -> None:
    """Every known miss names a case that exists (no stale exemptions)."""
    ids = {case["id"] for case in TUNING + HOLDOUT}

    assert set(KNOWN_MISSES) <= ids
