"""FakeSalesforce(tls=True): HTTPS on loopback, reachable from any process by env()."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from simple_salesforce.api import Salesforce

from sfresilience.testing import FakeSalesforce, FakeTrust


CURL = shutil.which("curl")
NODE = shutil.which("node")
V = "v59.0"

# Runs in a fresh interpreter that has nothing but `fake.env()` (and PATH): an
# unmodified simple-salesforce client built from instance_url + session_id.
CLIENT_SCRIPT = """
import json, os
from simple_salesforce import Salesforce

sf = Salesforce(
    instance_url=os.environ["SF_INSTANCE_URL"], session_id=os.environ["SF_ACCESS_TOKEN"]
)
first = sf.query("SELECT Id, Name FROM Contact")
everything = sf.query_all("SELECT Id FROM Contact")
created = sf.Contact.create({"LastName": "From-Another-Process"})
print(json.dumps({
    "first_page": len(first["records"]),
    "done": first["done"],
    "total": everything["totalSize"],
    "all": len(everything["records"]),
    "created": created,
}))
"""


@pytest.fixture
def tls_fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(tls=True, contacts=450, query_batch_size=200) as running:
        yield running


def _only(env: dict[str, str]) -> dict[str, str]:
    """`env` and PATH, nothing inherited: no CA bundle of this machine leaks in."""
    return {"PATH": os.environ.get("PATH", ""), **env}


class TestAnotherProcess:
    def test_simple_salesforce_queries_pages_and_creates(self, tls_fake: FakeSalesforce) -> None:
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", CLIENT_SCRIPT],
            env=_only(tls_fake.env()),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert 0 == result.returncode, result.stderr
        seen = json.loads(result.stdout)
        assert (200, False, 450, 450) == (
            seen["first_page"],
            seen["done"],
            seen["total"],
            seen["all"],
        )
        assert seen["created"]["success"]
        stored = tls_fake.org.get("Contact", seen["created"]["id"], ["LastName"], "59.0")
        assert "From-Another-Process" == stored["LastName"]

    def test_resilient_client_from_env(self, tls_fake: FakeSalesforce) -> None:
        script = (
            "from sfresilience import ResilientClient\n"
            "client = ResilientClient.from_env()\n"
            "print(client.query_all('SELECT Id FROM Contact')['totalSize'])\n"
        )
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script],
            env=_only(tls_fake.env()),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "450" == result.stdout.strip(), result.stderr

    @pytest.mark.skipif(CURL is None, reason="curl is not installed")
    def test_curl_queries_pages_and_creates(self, tls_fake: FakeSalesforce) -> None:
        env = tls_fake.env()
        base = env["SF_INSTANCE_URL"]

        def curl(*args: str) -> Any:
            result = subprocess.run(  # noqa: S603 - curl with fixed arguments
                [
                    str(CURL),
                    "--silent",
                    "--show-error",
                    "--fail-with-body",
                    "-H",
                    f"Authorization: Bearer {env['SF_ACCESS_TOKEN']}",
                    *args,
                ],
                env=_only(env),
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            assert 0 == result.returncode, result.stderr
            return json.loads(result.stdout)

        first = curl(
            "--get",
            "--data-urlencode",
            "q=SELECT Id FROM Contact",
            f"{base}/services/data/{V}/query",
        )
        second = curl(base + first["nextRecordsUrl"])
        created = curl(
            "-H",
            "Content-Type: application/json",
            "--data",
            '{"LastName": "From-Curl"}',
            f"{base}/services/data/{V}/sobjects/Contact/",
        )
        assert (450, 200, 200) == (
            first["totalSize"],
            len(first["records"]),
            len(second["records"]),
        )
        assert created["success"]

    @pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
    def test_node_trusts_the_fake_through_node_extra_ca_certs(
        self, tls_fake: FakeSalesforce
    ) -> None:
        script = (
            "const https = require('https');"
            "const url = process.env.SF_INSTANCE_URL + '/services/data/v59.0/query?q='"
            " + encodeURIComponent('SELECT COUNT() FROM Contact');"
            "https.get(url, {headers: {Authorization: 'Bearer ' + process.env.SF_ACCESS_TOKEN}},"
            " (res) => { let body = ''; res.on('data', (c) => body += c);"
            " res.on('end', () => console.log(JSON.parse(body).totalSize)); })"
            ".on('error', (e) => { console.error(e.message); process.exit(1); });"
        )
        result = subprocess.run(  # noqa: S603 - node with a fixed script
            [str(NODE), "-e", script],
            env=_only(tls_fake.env()),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "450" == result.stdout.strip(), result.stderr

    def test_the_ca_bundle_is_what_makes_it_trusted(self, tls_fake: FakeSalesforce) -> None:
        env = tls_fake.env()
        del env["REQUESTS_CA_BUNDLE"]
        script = (
            "import os, requests\n"
            "try:\n"
            "    requests.get(os.environ['SF_INSTANCE_URL'] + '/services/data/', timeout=10)\n"
            "except requests.exceptions.SSLError:\n"
            "    print('untrusted')\n"
        )
        result = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", script],
            env=_only(env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "untrusted" == result.stdout.strip(), result.stderr


class TestInProcess:
    def test_instance_url_is_the_loopback_https_address(self, tls_fake: FakeSalesforce) -> None:
        assert f"https://127.0.0.1:{tls_fake.port}" == tls_fake.instance_url == tls_fake.url

    def test_the_ca_bundle_is_a_pem_certificate(self, tls_fake: FakeSalesforce) -> None:
        assert Path(tls_fake.ca_bundle).read_text().startswith("-----BEGIN CERTIFICATE-----")

    def test_requests_verifies_the_certificate_with_the_bundle(
        self, tls_fake: FakeSalesforce
    ) -> None:
        response = requests.get(
            f"{tls_fake.instance_url}/services/data/", verify=tls_fake.ca_bundle, timeout=10
        )
        assert "31.0" == response.json()[0]["version"]

    def test_the_certificate_names_localhost_too(self, tls_fake: FakeSalesforce) -> None:
        response = requests.get(
            f"https://localhost:{tls_fake.port}/services/data/",
            verify=tls_fake.ca_bundle,
            timeout=10,
        )
        assert 200 == response.status_code

    def test_a_logged_in_client_talks_https(self, tls_fake: FakeSalesforce) -> None:
        sf = tls_fake.client()
        assert f"127.0.0.1:{tls_fake.port}" == sf.sf_instance
        assert 450 == sf.query("SELECT COUNT() FROM Contact")["totalSize"]

    def test_a_direct_client_over_a_routed_session(self, tls_fake: FakeSalesforce) -> None:
        sf: Any = Salesforce(
            instance_url=tls_fake.instance_url,
            session_id=tls_fake.issue_session(),
            session=tls_fake.session(),
        )
        assert sf.Contact.create({"LastName": "Direct"})["success"]

    def test_the_port_and_the_ca_survive_an_outage(self, tls_fake: FakeSalesforce) -> None:
        before = (tls_fake.port, Path(tls_fake.ca_bundle).read_bytes())
        tls_fake.faults.outage()
        tls_fake.faults.restore()
        assert before == (tls_fake.port, Path(tls_fake.ca_bundle).read_bytes())
        assert 1 == tls_fake.client().query("SELECT Id FROM Account LIMIT 1")["totalSize"]


class TestOAuthOnTheSameHost:
    def _token(self, fake: FakeSalesforce, form: dict[str, str]) -> requests.Response:
        return requests.post(
            f"{fake.instance_url}/services/oauth2/token",
            data=form,
            verify=fake.ca_bundle,
            timeout=10,
        )

    def test_refresh_token_grant(self, tls_fake: FakeSalesforce) -> None:
        answer = self._token(
            tls_fake,
            {
                "grant_type": "refresh_token",
                "client_id": tls_fake.consumer_key,
                "client_secret": tls_fake.consumer_secret,
                "refresh_token": tls_fake.issue_refresh_token(),
            },
        ).json()
        assert tls_fake.instance_url == answer["instance_url"]
        sf = Salesforce(
            instance_url=answer["instance_url"],
            session_id=answer["access_token"],
            session=tls_fake.session(),
        )
        assert 1 == sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"]

    def test_jwt_bearer_grant(self, tls_fake: FakeSalesforce, private_key_pem: bytes) -> None:
        claims = {
            "iss": tls_fake.consumer_key,
            "sub": tls_fake.username,
            "aud": tls_fake.instance_url,
            "exp": int(time.time()) + 300,
        }
        assertion = jwt.encode(claims, private_key_pem, algorithm="RS256")
        answer = self._token(
            tls_fake,
            {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion},
        )
        assert (200, tls_fake.instance_url) == (answer.status_code, answer.json()["instance_url"])

    def test_soap_login_answers_the_https_instance(self, tls_fake: FakeSalesforce) -> None:
        tls_fake.client()
        assert 1 == tls_fake.login_count


class TestEnv:
    def test_exactly_the_documented_variables(self, tls_fake: FakeSalesforce) -> None:
        env = tls_fake.env()
        assert {
            "SF_INSTANCE_URL",
            "SF_ACCESS_TOKEN",
            "REQUESTS_CA_BUNDLE",
            "SSL_CERT_FILE",
            "NODE_EXTRA_CA_CERTS",
        } == set(env)
        assert {tls_fake.ca_bundle} == {
            env["REQUESTS_CA_BUNDLE"],
            env["SSL_CERT_FILE"],
            env["NODE_EXTRA_CA_CERTS"],
        }

    def test_the_access_token_is_a_live_session(self, tls_fake: FakeSalesforce) -> None:
        env = tls_fake.env()
        response = requests.get(
            f"{env['SF_INSTANCE_URL']}/services/data/{V}/limits",
            headers={"Authorization": f"Bearer {env['SF_ACCESS_TOKEN']}"},
            verify=env["REQUESTS_CA_BUNDLE"],
            timeout=10,
        )
        assert 200 == response.status_code

    def test_a_paired_trust_adds_the_status_url_and_runs_with_the_org(self) -> None:
        trust = FakeTrust()
        with FakeSalesforce(tls=True, trust=trust) as fake:
            url = fake.env()["SFRESILIENCE_STATUS_URL"]
            assert trust.url == url
            assert 200 == requests.get(f"{url}/v1/instances/NA137/status", timeout=10).status_code
        assert not trust.running

    def test_a_trust_the_test_started_is_left_running(self) -> None:
        with FakeTrust() as trust:
            with FakeSalesforce(tls=True, trust=trust):
                pass
            assert trust.running

    def test_env_needs_tls(self, fake: FakeSalesforce) -> None:
        with pytest.raises(RuntimeError, match="tls=True"):
            fake.env()
        with pytest.raises(RuntimeError, match="tls=True"):
            _ = fake.ca_bundle


def test_stop_closes_open_tls_connections() -> None:
    """A keep-alive HTTPS connection is shut down by stop(), its thread joined."""
    fake = FakeSalesforce(tls=True)
    fake.start()
    session = requests.Session()
    session.get(f"{fake.url}/services/data/", verify=fake.ca_bundle, timeout=5)
    fake.stop()
    alive = [t.name for t in threading.enumerate() if t.name == "fake-salesforce-conn"]
    session.close()
    assert [] == alive
