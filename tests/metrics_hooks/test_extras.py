"""Each hook needs its optional library, and says which extra installs it."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("missing", "hook", "message"),
    [
        (
            "prometheus_client",
            "PrometheusHook",
            "PrometheusHook needs prometheus_client: pip install 'sfresilience[prometheus]'",
        ),
        (
            "opentelemetry.metrics",
            "OpenTelemetryHook",
            "OpenTelemetryHook needs opentelemetry: pip install 'sfresilience[otel]'",
        ),
    ],
)
def test_without_its_library_a_hook_names_the_extra(missing: str, hook: str, message: str) -> None:
    """``import sfresilience.metrics`` works without either; building the hook says what to do."""
    done = subprocess.run(  # noqa: S603  (our own interpreter)
        [
            sys.executable,
            "-c",
            (
                f"import sys; sys.modules[{missing!r}] = None\n"  # as if not installed
                "import sfresilience.metrics\n"
                f"sfresilience.metrics.{hook}()"
            ),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert 1 == done.returncode
    assert f"ModuleNotFoundError: {message}" == done.stderr.strip().splitlines()[-1]
