"""Fixtures for the FakeSalesforce tests: a running fake and a logged-in client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sfresilience.testing import FakeSalesforce


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    """A running fake org with a short lock wait."""
    with FakeSalesforce(lock_wait=0.2) as running:
        yield running


@pytest.fixture
def sf(fake: FakeSalesforce) -> Any:
    """A simple-salesforce client logged in to `fake` with username/password/token."""
    return fake.client()
