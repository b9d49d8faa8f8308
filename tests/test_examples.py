"""The examples run, end to end, as a user would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


EXAMPLES = Path(__file__).parent.parent / "examples"


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    """Run examples/*name* with ``--fake`` as a user would; it must exit 0."""
    completed = subprocess.run(  # noqa: S603
        [sys.executable, str(EXAMPLES / name), "--fake"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert 0 == completed.returncode, completed.stderr
    return completed


def test_sync_contacts_runs_against_the_fake_org() -> None:
    """The sync example rides through injected faults and updates the 50 dirty Contacts."""
    completed = run_example("sync_contacts.py")
    assert "read 2500, updated 50, rejected 0" in completed.stdout
    assert "retrying" in completed.stderr  # the injected faults really happened


def test_web_backend_keeps_serving_pages_through_an_outage() -> None:
    """Pages read before the outage are served from the cache, marked; the breaker opens."""
    completed = run_example("web_backend.py")
    lines = dict(line.split(": ", 1) for line in completed.stdout.splitlines() if ": " in line)
    assert lines["account, first visit"] == "200 OK 1 account live"
    for visit in range(1, 6):
        served = lines[f"contacts during the outage ({visit})"]
        assert served.startswith("200 OK 4 contacts cached"), served
        assert "(Salesforce UNAVAILABLE" in served
    for visit in (6, 7):
        assert "(breaker open after 5 UNAVAILABLE" in lines[f"contacts during the outage ({visit})"]
    assert "(fresh: inside its ttl)" in lines["account during the outage"]
    assert lines["contacts never read before"].startswith("503 Service Unavailable")
    assert "Salesforce answered 3 requests, all before the outage" in completed.stdout
