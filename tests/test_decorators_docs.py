"""The code in docs/fallback.md and docs/tenacity.md runs as shown, against the fake org."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sfresilience import ResilientClient, Settings, freshness
from sfresilience._fallback import fallback_of
from sfresilience.testing import FakeSalesforce


DOCS = Path(__file__).parent.parent / "docs"
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def block(page: str, containing: str) -> dict[str, Any]:
    """The names defined by the page's one Python block that contains *containing*."""
    (source,) = [b for b in _BLOCK.findall((DOCS / page).read_text()) if containing in b]
    names: dict[str, Any] = {}
    exec(compile(source, page, "exec"), names)  # noqa: S102  (our own docs)
    return names


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(accounts=0, contacts=0) as fake:
        fake.org.create("Account", {"Name": "Acme", "BillingState": "CA"})
        yield fake


def test_the_resilient_query_example_serves_through_an_outage(org: FakeSalesforce) -> None:
    pages_class = block("fallback.md", "class AccountPages")["AccountPages"]
    client = ResilientClient(
        org.client(), settings=Settings(retry_attempts=1), sleep=lambda _s: None
    )
    pages = pages_class(client)
    live = pages.accounts("CA")
    assert fallback_of(client).flush(5)
    org.faults.outage()
    served = pages.accounts("CA")  # inside its ttl=600: not even tried
    found = freshness(served)
    assert found is not None
    assert ([{"Id": live[0]["Id"], "Name": "Acme"}], False) == (served, found.stale)


def test_the_tenacity_example_retries_a_plain_client(org: FakeSalesforce) -> None:
    load = block("tenacity.md", "def load")["load"]
    org.faults.server_errors(2, status=503)
    load.retry.sleep = lambda _seconds: None  # tenacity's own hook: no real waiting
    assert 1 == load(org.client())["totalSize"]
    assert 3 == load.statistics["attempt_number"]
