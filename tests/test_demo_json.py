"""`sfresilience demo --json`: one JSON document on stdout, nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def test_demo_json_prints_one_document_with_every_step() -> None:
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SF_", "SFRESILIENCE_"))  # embedded defaults only
    }
    done = subprocess.run(
        [sys.executable, "-m", "sfresilience.cli", "demo", "--contacts", "300", "--json"],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    document = json.loads(done.stdout)  # the whole of stdout: nothing else printed
    assert done.returncode == (0 if document["passed"] else 1), done.stderr
    assert document["passed"], [s for s in document["steps"] if not s["passed"]]
    assert 9 == len(document["steps"])
    first = document["steps"][0]
    assert {"title", "passed", "seconds", "requests", "claims"} <= first.keys()
    assert all({"what", "held"} == claim.keys() for claim in first["claims"])
    assert sum(step["requests"] for step in document["steps"]) > 0
    assert isinstance(document["triage"], str)
    assert isinstance(document["postmortem"], dict)
    assert "\x1b[" not in done.stdout  # no live display
