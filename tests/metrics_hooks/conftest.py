"""The fake org both metrics hooks are tested against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sfresilience.testing import FakeSalesforce


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(contacts=30, lock_hold=0.02, lock_wait=0.005) as fake:
        yield fake
