"""classify() does bounded, linear work on any body: checked by structure, not by timing.

Timings live in benchmarks/bench_classify.py. Here: every regular expression of
the classifier is free of the two shapes that make a scan super-linear, input
is cut before anything parses it, and walks and nested bodies share one budget.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from sfresilience._classify import ErrorCategory, classify
from sfresilience._classify._parse import MAX_BUDGET, MAX_NODES, MAX_TEXT, parse_body


C = ErrorCategory
_PARSER: Any = importlib.import_module("re._parser")
_CONSTANTS: Any = importlib.import_module("re._constants")
_MODULES = (
    "_clients",
    "_codes",
    "_families",
    "_markup",
    "_network",
    "_parse",
    "_resolve",
    "_rules",
    "_table",
    "_text",
    "_wording",
)
_SINGLE_CHARACTER = {"IN", "ANY", "LITERAL", "NOT_LITERAL", "CATEGORY"}


def _modules() -> Iterator[ModuleType]:
    for name in _MODULES:
        yield importlib.import_module(f"sfresilience._classify.{name}")


def _patterns() -> Iterator[tuple[str, re.Pattern[str]]]:
    for module in _modules():
        for name, value in vars(module).items():
            values = value if isinstance(value, tuple) else (value,)
            for item in values:
                candidates = item if isinstance(item, tuple) else (item,)
                for pattern in candidates:
                    if isinstance(pattern, re.Pattern):
                        yield f"{module.__name__}.{name}", pattern


def _items(tree: Any) -> Iterator[tuple[str, Any]]:
    """Every (opcode, argument) node of a parsed pattern, depth first."""
    for op, av in tree:
        yield str(op), av
        if str(op) in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            yield from _items(av[2])
        elif str(op) == "SUBPATTERN":
            yield from _items(av[3])
        elif str(op) == "BRANCH":
            for branch in av[1]:
                yield from _items(branch)
        elif str(op) in {"ASSERT", "ASSERT_NOT", "ATOMIC_GROUP"}:
            yield from _items(av[1] if str(op) != "ATOMIC_GROUP" else av)


def _unbounded(op: str, av: Any) -> bool:
    return op in {"MAX_REPEAT", "MIN_REPEAT"} and av[1] == _CONSTANTS.MAXREPEAT


def _excludes_open_tag(sub: Any) -> bool:
    """A single-character repeat that can never step over a ``<``."""
    if len(sub) != 1:
        return False
    op, av = str(sub[0][0]), sub[0][1]
    if op == "NOT_LITERAL":
        return bool(av == ord("<"))
    if op == "IN":
        negated = bool(av) and str(av[0][0]) == "NEGATE"
        return negated and any(str(o) == "LITERAL" and a == ord("<") for o, a in av)
    return False


PATTERNS = sorted(set(_patterns()), key=lambda item: item[0])


def test_the_classifier_has_patterns_to_check() -> None:
    """The structural checks below see the classifier's expressions (not an empty list)."""
    assert len(PATTERNS) >= 20


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_no_nested_unbounded_repeat(name: str, pattern: re.Pattern[str]) -> None:
    """No ``(x+)*`` shape: an unbounded repeat holds only a single-character test."""
    tree = _PARSER.parse(pattern.pattern, pattern.flags)
    nested = [
        name
        for op, av in _items(tree)
        if _unbounded(op, av) and any(str(inner) not in _SINGLE_CHARACTER for inner, _ in av[2])
    ]

    assert nested == []


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_tag_patterns_stop_at_the_next_tag(name: str, pattern: re.Pattern[str]) -> None:
    """A pattern that starts at ``<`` never scans past the next ``<``.

    Otherwise ``finditer`` rescans the rest of the text from every ``<``: the
    quadratic that made 64 KiB of ``<message `` take seconds.
    """
    tree = list(_PARSER.parse(pattern.pattern, pattern.flags))
    starts_at_tag = bool(tree) and str(tree[0][0]) == "LITERAL" and tree[0][1] == ord("<")
    overreaching = [
        op for op, av in _items(tree) if _unbounded(op, av) and not _excludes_open_tag(av[2])
    ]

    assert (starts_at_tag and overreaching) in (False, [])


def test_a_50_mb_body_is_cut_before_parsing() -> None:
    """Only the first MAX_TEXT characters of a huge body are ever looked at."""
    body = "x" * 50_000_000 + "UNABLE_TO_LOCK_ROW"

    parsed = parse_body(body)

    assert (MAX_BUDGET - parsed.budget, parsed.errors) == (MAX_TEXT, [])


def test_huge_bytes_are_cut_before_decoding() -> None:
    """Bytes are sliced before they are decoded, so a 50 MB body costs one window."""
    body = b"<html><title>Down</title>" + b"y" * 50_000_000

    parsed = parse_body(body)

    assert MAX_BUDGET - parsed.budget <= MAX_TEXT


def test_nested_bodies_share_one_budget() -> None:
    """Thousands of subrequest bodies of 64 KiB each read no more than the budget."""
    chunk = "z" * MAX_TEXT
    body = {"compositeResponse": [{"body": chunk, "httpStatusCode": 500} for _ in range(1000)]}

    parsed = parse_body(body)

    assert (parsed.budget, parsed.nodes <= MAX_NODES) == (0, True)


def test_walks_stop_after_max_nodes() -> None:
    """A wide, deep literal is walked for at most MAX_NODES nodes."""
    body = [[{"errorCode": "X", "message": "m"} for _ in range(500)] for _ in range(20)]

    parsed = parse_body(body)

    assert parsed.nodes <= MAX_NODES


ADVERSARIAL = [
    "<message ",
    "<title ",
    "<script ",
    "<!-- ",
    "<faultcode ",
    "<",
    "errorCode ",
    "error=",
]


@pytest.mark.parametrize("shape", ADVERSARIAL)
def test_adversarial_bodies_still_classify(shape: str) -> None:
    """64 KiB of an unterminated shape is still read as what its status says."""
    body = (shape * (65536 // len(shape) + 1))[:65536]

    actual = (classify(status=500, body=body).category, classify(status=503, body=body).category)

    assert actual == (C.SERVER_ERROR, C.UNAVAILABLE)


def test_truncated_json_still_yields_its_codes() -> None:
    """JSON cut off mid-way (a log's length limit) is read as text."""
    body = json.dumps([{"message": "locked", "errorCode": "UNABLE_TO_LOCK_ROW"}] * 10)[:-30]

    actual = classify(status=500, body=body).error_code

    assert actual == "UNABLE_TO_LOCK_ROW"
