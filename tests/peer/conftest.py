"""Each peer case runs twice: on simple-salesforce's client, and on it wrapped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sfresilience import ResilientClient, Settings
from sfresilience.testing import FakeSalesforce


Build = Callable[..., Any]


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(accounts=5, contacts=30) as org:
        yield org


@pytest.fixture(params=["simple-salesforce", "sfresilience"])
def build(request: pytest.FixtureRequest, fake: FakeSalesforce) -> Build:
    """Builds a client as ``Salesforce(**kwargs)`` would, wrapped on the second run."""

    def build_client(**kwargs: Any) -> Any:
        sf = fake.client(**kwargs)
        if request.param == "sfresilience":
            return ResilientClient(sf, settings=Settings(), sleep=lambda _: None)
        return sf

    return build_client


@pytest.fixture
def sf(build: Build) -> Any:
    return build()
