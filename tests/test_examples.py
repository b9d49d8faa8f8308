"""The examples run, end to end, as a user would run them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


EXAMPLES = Path(__file__).parent.parent / "examples"


def test_sync_contacts_runs_against_the_fake_org() -> None:
    """The sync example rides through injected faults and updates the 50 dirty Contacts."""
    completed = subprocess.run(  # noqa: S603
        [sys.executable, str(EXAMPLES / "sync_contacts.py"), "--fake"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert 0 == completed.returncode, completed.stderr
    assert "read 2500, updated 50, rejected 0" in completed.stdout
    assert "retrying" in completed.stderr  # the injected faults really happened
