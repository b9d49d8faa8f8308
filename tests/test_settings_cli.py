"""A bad setting stops the command line with one clear line, whatever the command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def run_cli(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run the `sfresilience` console script's entry point as a user would."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", "from sfresilience.cli import main; main()", *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, **environment},
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SFRESILIENCE_READ_TIMEOUT", "inf"),
        ("SFRESILIENCE_REDIS_URL", "http://:hunter2@cache:6379"),
    ],
)
def test_demo_with_a_bad_variable_says_so_in_one_line(variable: str, value: str) -> None:
    """`sfresilience demo` with a malformed variable: one line naming it, exit 2, no traceback."""
    completed = run_cli("demo", "--contacts", "10", **{variable: value})
    assert 2 == completed.returncode
    lines = completed.stderr.strip().splitlines()
    assert 1 == len(lines), completed.stderr
    assert variable in lines[0]
    assert "Traceback" not in completed.stderr
    assert "hunter2" not in completed.stderr
