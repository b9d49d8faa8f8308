"""FakeSalesforce built from an Org and small option objects; the flat keywords still work."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import SalesforceError

from sfresilience.testing import FakeSalesforce, Identity, Limits, Locking, Org, ServerOptions


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_option_object_reaches_the_running_fake() -> None:
    with FakeSalesforce(
        org=Org(contacts=7),
        identity=Identity(username="etl@example.com", password="pw", security_token="tok"),
        limits=Limits(api_limit=3),
        locking=Locking(wait=0.05),
        server=ServerOptions(max_api_version="60.0"),
    ) as fake:
        sf: Any = fake.client()
        assert 7 == sf.query("SELECT COUNT() FROM Contact")["totalSize"]
        versions = requests.get(f"{fake.url}/services/data/", timeout=5).json()
        assert "60.0" == versions[-1]["version"]
        sf.query("SELECT Id FROM Account LIMIT 1")
        sf.query("SELECT Id FROM Account LIMIT 1")
        with pytest.raises(SalesforceError) as caught:
            sf.query("SELECT Id FROM Account LIMIT 1")
        assert 403 == caught.value.status
        assert (0.05, "etl@example.com") == (fake.lock_wait, fake.username)


def test_a_flat_keyword_wins_over_its_option_object() -> None:
    fake = FakeSalesforce(limits=Limits(api_limit=5, query_batch_size=300), api_limit=7)
    assert (7, 300) == (fake.api_limit, fake.query_batch_size)
    assert 7 == fake.options.limits.api_limit


def test_the_old_keywords_still_build_the_same_fake() -> None:
    fake = FakeSalesforce(
        contacts=3, username="old@example.com", lock_error_status=400, session_ttl=60.0
    )
    assert 3 == len(fake.org.records("Contact"))
    assert ("old@example.com", 400) == (fake.username, fake.lock_error_status)
    assert 60.0 == fake.options.server.session_ttl


def test_a_fixed_port() -> None:
    port = _free_port()
    with FakeSalesforce(server=ServerOptions(port=port)) as fake:
        assert port == fake.port


def test_an_org_and_its_own_keywords_are_refused_together() -> None:
    with pytest.raises(TypeError, match="contacts"):
        FakeSalesforce(org=Org(), contacts=5)


def test_an_unknown_keyword_is_refused() -> None:
    with pytest.raises(TypeError, match="contact_count"):
        FakeSalesforce(contact_count=5)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Limits(query_batch_size=0), "query_batch_size"),
        (lambda: Limits(api_limit=-1), "api_limit"),
        (lambda: Locking(error_status=404), "lock_error_status"),
        (lambda: Locking(wait=-1.0), "wait"),
        (lambda: ServerOptions(max_api_version="latest"), "max_api_version"),
        (lambda: ServerOptions(port=70_000), "port"),
    ],
)
def test_each_option_object_checks_its_values(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()
