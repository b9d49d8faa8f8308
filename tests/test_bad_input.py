"""Hostile input at every public entry point: only the documented errors, never a crash.

Documented errors are simple-salesforce's exception types carrying a
``.classification``, ``requests``' errors, and ``sfresilience.exceptions``.
Time bounds for the same inputs live in benchmarks, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sfresilience import (
    Classification,
    ErrorCategory,
    Settings,
    caller,
    classify,
    critical,
)
from sfresilience._store import MemoryStore, RedisStore
from sfresilience.exceptions import ConfigurationError


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=40,
)
bodies = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000),
    json_values,
    json_values.map(json.dumps),
    json_values.map(lambda value: json.dumps(value)[: len(json.dumps(value)) // 2]),
)
headers = st.dictionaries(st.text(max_size=30), st.text(max_size=60), max_size=4)


@settings(max_examples=300, deadline=None)
@given(status=st.none() | st.integers(-(2**70), 2**70), body=bodies, headers=headers)
def test_classify_takes_anything(status: int | None, body: object, headers: dict[str, str]) -> None:
    result = classify(status=status, body=body, headers=headers)
    assert isinstance(result, Classification)
    assert isinstance(result.category, ErrorCategory)
    assert "\n" not in result.action


@settings(max_examples=100, deadline=None)
@given(error=st.builds(Exception, st.text(max_size=300)) | st.text() | st.integers())
def test_classify_takes_any_error_object(error: Any) -> None:
    assert isinstance(classify(error), Classification)


def test_classify_survives_deep_nesting_and_huge_bodies() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    nested: object = {"errorCode": "UNABLE_TO_LOCK_ROW", "message": "x"}
    for _ in range(5_000):
        nested = [nested]
    for body in (deep, deep.encode(), nested, "x" * 5_000_000, b"\xff\xfe" * 1_000_000):
        assert isinstance(classify(status=500, body=body), Classification)


# --- Settings from environment strings -------------------------------------------------

VARIABLES = {
    info.validation_alias: name
    for name, info in Settings.model_fields.items()
    if isinstance(info.validation_alias, str)
}
BAD_VALUES = {
    "SFRESILIENCE_REDIS_URL": "http://cache:6379",
    "SFRESILIENCE_BUDGET_WARN": "1.5",
    "SFRESILIENCE_BUDGET_CRITICAL": "nan",
    "SFRESILIENCE_RETRY_ATTEMPTS": "0",
    "SFRESILIENCE_RETRY_DEADLINE": "inf",
    "SFRESILIENCE_QUERY_ALL_DEADLINE": "soon",
    "SFRESILIENCE_BACKOFF_INITIAL": "0",
    "SFRESILIENCE_BACKOFF_MAX": "1e99",
    "SFRESILIENCE_CONNECT_TIMEOUT": "five",
    "SFRESILIENCE_READ_TIMEOUT": "-60",
    "SFRESILIENCE_RETRY_AMBIGUOUS_WRITES": "yes please",
    "SFRESILIENCE_BULK_JOB_DEADLINE": "-5",
    "SFRESILIENCE_BULK_QUERY_THRESHOLD": "lots",
    "SFRESILIENCE_CACHE_TTL": "-1",
    "SFRESILIENCE_CACHE_KEY": "not-a-fernet-key",
    "SFRESILIENCE_CACHE_MAX_ENTRIES": "0",
    "SFRESILIENCE_CACHE_MAX_BYTES": "12",
    "SFRESILIENCE_SLACK_WEBHOOK_URL": "hooks.slack.com/services/T0/B0/secret",
    "SFRESILIENCE_STATUS_URL": "api.status.salesforce.com",
}


def test_every_variable_has_a_bad_value_tried() -> None:
    assert set(VARIABLES) == set(BAD_VALUES)


@settings(max_examples=40, deadline=None)
@given(variable=st.sampled_from(sorted(BAD_VALUES)), value=st.text(max_size=60))
def test_any_string_for_any_variable_builds_or_names_it(variable: str, value: str) -> None:
    try:
        Settings(**{variable: value})  # type: ignore[arg-type]
    except ConfigurationError as error:
        message = str(error)
        assert "\n" not in message
        assert variable in message or "must" in message
    # anything else propagates and fails the test


@pytest.mark.parametrize(("variable", "value"), sorted(BAD_VALUES.items()))
def test_every_bad_value_is_one_line_naming_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings(**{variable: value})  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
    assert variable in str(caught.value)


def run_cli(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "sfresilience.cli", *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **environment},
    )


# The drill sets these four itself (it must run fast), so their variables do not reach it.
DEMO_OVERRIDES = {
    "SFRESILIENCE_RETRY_ATTEMPTS",
    "SFRESILIENCE_RETRY_DEADLINE",
    "SFRESILIENCE_BACKOFF_INITIAL",
    "SFRESILIENCE_BACKOFF_MAX",
}


@pytest.mark.parametrize(
    ("variable", "value"),
    sorted((k, v) for k, v in BAD_VALUES.items() if k not in DEMO_OVERRIDES),
)
def test_demo_with_each_bad_variable_is_one_line_on_stderr(variable: str, value: str) -> None:
    completed = run_cli("demo", "--contacts", "10", **{variable: value})
    assert 2 == completed.returncode
    lines = completed.stderr.strip().splitlines()
    assert 1 == len(lines), completed.stderr
    assert variable in lines[0]
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ("fake-org", "--port", "http"),
        ("fake-org", "--server-errors", "2"),
        ("fake-org", "--latency", "-1"),
        ("demo", "--contacts", "many"),
        ("no-such-command",),
    ],
)
def test_bad_cli_arguments_are_one_line(arguments: tuple[str, ...]) -> None:
    completed = run_cli(*arguments)
    assert 2 == completed.returncode
    assert 1 == len(completed.stderr.strip().splitlines()), completed.stderr
    assert "Traceback" not in completed.stderr


# --- decorators and store keys -----------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(label=st.text(max_size=200))
def test_caller_and_critical_take_any_label(label: str) -> None:
    if not label.strip():  # misuse, refused at once with a plain ValueError
        with pytest.raises(ValueError, match="must not be empty"):
            caller(label)
        return

    @caller(label)
    def labelled() -> int:
        return 1

    with caller(label), critical():
        assert 1 == labelled()

    @critical
    def marked() -> int:
        return 2

    assert 2 == marked()


hostile_keys = st.text(min_size=1, max_size=300) | st.sampled_from(
    ["{", "}", "{}", "{a}{b}", "*", "?", "\n", "\x00", "sfr:other:key", " ", "k" * 10_000]
)


@pytest.mark.redis
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=hostile_keys, value=st.binary(max_size=200))
def test_hostile_store_keys_round_trip_in_memory_and_redis(
    redis_url: str, key: str, value: bytes
) -> None:
    namespace = f"bad-{uuid.uuid4().hex[:8]}"
    for store in (
        MemoryStore(namespace=namespace),
        RedisStore.from_url(redis_url, namespace=namespace),
    ):
        store.set(key, value, ttl=30)
        assert value == store.get(key)
        assert 2 == store.increment(key + "#n", 2, ttl=30)
        store.delete(key)
        assert store.get(key) is None
