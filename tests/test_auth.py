"""Ways to build and re-authenticate a client: environment, refresh tokens, the sf CLI."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from sfresilience import ErrorCategory, ResilientClient, Settings
from sfresilience._auth import login_from_env, login_host, sf_cli_login
from sfresilience.exceptions import ConfigurationError
from sfresilience.testing import FakeSalesforce
from sfresilience.testing.wire.routing import mount


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as org:
        yield org


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("SF_"):
            monkeypatch.delenv(name)
    return monkeypatch


def fake_sf_cli(directory: Path, *, display: Mapping[str, object], token: str) -> Path:
    """An `sf` executable answering like the real CLI's --json envelopes.

    It reads the current token from token.txt beside it, so a test can hand it a
    new one, the way the real CLI refreshes its stored auth.
    """
    (directory / "token.txt").write_text(token, encoding="utf-8")
    script = directory / "sf"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        f"display = json.loads({json.dumps(display)!r})\n"
        "token = (pathlib.Path(__file__).parent / 'token.txt').read_text()\n"
        "if display.get('accessToken') == 'TOKEN':\n"
        "    display['accessToken'] = token\n"
        "args = sys.argv[1:]\n"
        "if not display:\n"
        "    print(json.dumps({'status': 1, 'message': 'No authorization information found'}))\n"
        "    sys.exit(1)\n"
        "if args[:2] == ['org', 'display']:\n"
        "    print(json.dumps({'status': 0, 'result': display}))\n"
        "elif args[:3] == ['org', 'auth', 'show-access-token']:\n"
        "    print(json.dumps({'status': 0, 'result': {'accessToken': token}}))\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


class TestFromEnv:
    def test_username_password_token(
        self, fake: FakeSalesforce, clean_env: pytest.MonkeyPatch
    ) -> None:
        """SF_USERNAME, SF_PASSWORD and SF_SECURITY_TOKEN log in through SOAP."""
        clean_env.setenv("SF_USERNAME", fake.username)
        clean_env.setenv("SF_PASSWORD", fake.password)
        clean_env.setenv("SF_SECURITY_TOKEN", fake.security_token)
        client = ResilientClient.from_env(settings=Settings(), session=fake.session())
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]

    def test_access_token_with_refresh_token(
        self, fake: FakeSalesforce, clean_env: pytest.MonkeyPatch
    ) -> None:
        """SF_ACCESS_TOKEN builds a session-id client that SF_REFRESH_TOKEN can renew."""
        clean_env.setenv("SF_ACCESS_TOKEN", fake.issue_session())
        clean_env.setenv("SF_INSTANCE_URL", fake.instance_url)
        clean_env.setenv("SF_CONSUMER_KEY", fake.consumer_key)
        clean_env.setenv("SF_CONSUMER_SECRET", fake.consumer_secret)
        clean_env.setenv("SF_REFRESH_TOKEN", fake.issue_refresh_token())
        client = ResilientClient.from_env(settings=Settings(), session=fake.session())
        fake.faults.expire_sessions()
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
        assert 1 == client.logins

    def test_wrong_password_is_auth_failed(
        self, fake: FakeSalesforce, clean_env: pytest.MonkeyPatch
    ) -> None:
        """A refused login raises simple-salesforce's error, classified AUTH_FAILED, once."""
        clean_env.setenv("SF_USERNAME", fake.username)
        clean_env.setenv("SF_PASSWORD", "wrong")
        with pytest.raises(SalesforceAuthenticationFailed) as caught:
            ResilientClient.from_env(settings=Settings(), session=fake.session())
        assert ErrorCategory.AUTH_FAILED is caught.value.classification.category  # type: ignore[attr-defined]
        assert 1 == len([r for r in fake.request_log if "/Soap/" in r.path])

    @pytest.mark.parametrize(
        "variables",
        [
            pytest.param({}, id="nothing"),
            pytest.param({"SF_USERNAME": "u"}, id="username-only"),
            pytest.param({"SF_ACCESS_TOKEN": "t"}, id="token-without-instance"),
        ],
    )
    def test_incomplete_credentials_say_what_is_missing(
        self, fake: FakeSalesforce, clean_env: pytest.MonkeyPatch, variables: dict[str, str]
    ) -> None:
        """Missing variables raise ConfigurationError naming what to set."""
        for name, value in variables.items():
            clean_env.setenv(name, value)
        with pytest.raises(ConfigurationError, match="SF_"):
            login_from_env(fake.session())

    def test_jwt_variables_choose_the_jwt_flow(self, clean_env: pytest.MonkeyPatch) -> None:
        """SF_CONSUMER_KEY with SF_PRIVATE_KEY_FILE selects the JWT bearer keywords."""
        clean_env.setenv("SF_USERNAME", "u@example.com")
        clean_env.setenv("SF_CONSUMER_KEY", "key")
        clean_env.setenv("SF_PRIVATE_KEY_FILE", "/keys/server.key")
        clean_env.setenv("SF_DOMAIN", "test")
        kwargs, refresh = login_from_env(session=None)  # type: ignore[arg-type]
        assert refresh is None
        assert {"username", "consumer_key", "privatekey_file", "domain", "session"} == set(kwargs)
        assert "test" == kwargs["domain"]


class TestFromRefreshToken:
    def test_logs_in_and_again_on_expiry(self, fake: FakeSalesforce) -> None:
        """from_refresh_token logs in with the token and trades it again when sessions expire."""
        client = ResilientClient.from_refresh_token(
            consumer_key=fake.consumer_key,
            consumer_secret=fake.consumer_secret,
            refresh_token=fake.issue_refresh_token(),
            settings=Settings(),
            session=fake.session(),
        )
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
        fake.faults.expire_sessions()
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
        assert 1 == client.logins

    def test_revoked_token_fails_at_once(self, fake: FakeSalesforce) -> None:
        """A revoked refresh token is AUTH_FAILED on the first login, without retries."""
        token = fake.issue_refresh_token()
        fake.faults.revoke_refresh_tokens()
        with pytest.raises(SalesforceAuthenticationFailed) as caught:
            ResilientClient.from_refresh_token(
                consumer_key=fake.consumer_key,
                refresh_token=token,
                settings=Settings(),
                session=fake.session(),
            )
        assert ErrorCategory.AUTH_FAILED is caught.value.classification.category  # type: ignore[attr-defined]
        assert 1 == len([r for r in fake.request_log if r.path.endswith("/oauth2/token")])

    @pytest.mark.parametrize(
        ("domain", "host"),
        [
            ("login", "login.salesforce.com"),
            ("test", "test.salesforce.com"),
            ("acme.my", "acme.my.salesforce.com"),
            ("acme.my.salesforce.com", "acme.my.salesforce.com"),
            ("https://acme--uat.sandbox.my.salesforce.com/", "acme--uat.sandbox.my.salesforce.com"),
        ],
    )
    def test_the_token_is_asked_of_the_domain_s_host(
        self, fake: FakeSalesforce, domain: str, host: str
    ) -> None:
        """A My Domain host is used as it is; the short forms get .salesforce.com."""
        session = fake.session()
        asked: list[str] = []
        session.hooks["response"].append(lambda response, **_: asked.append(response.url))
        client = ResilientClient.from_refresh_token(
            consumer_key=fake.consumer_key,
            consumer_secret=fake.consumer_secret,
            refresh_token=fake.issue_refresh_token(),
            domain=domain,
            settings=Settings(),
            session=session,
        )
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
        assert f"https://{host}/services/oauth2/token" == asked[0]


class TestSfCli:
    @pytest.mark.parametrize("redacted", [True, False], ids=["new-cli", "old-cli"])
    def test_from_sf_cli_and_refresh_through_it(
        self, fake: FakeSalesforce, tmp_path: Path, redacted: bool
    ) -> None:
        """The CLI's token is used, fetched with show-access-token when display redacts it."""
        token = fake.issue_session()
        display = {
            "accessToken": "[REDACTED] Use 'sf org auth show-access-token' to view"
            if redacted
            else "TOKEN",
            "instanceUrl": fake.instance_url,
            "username": fake.username,
        }
        sf = fake_sf_cli(tmp_path, display=display, token=token)
        login = sf_cli_login("my-org", executable=str(sf))
        assert (token, fake.instance_url.removeprefix("https://")) == login()

    def test_client_from_sf_cli_logs_in_again_through_the_cli(
        self, fake: FakeSalesforce, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """from_sf_cli uses the CLI's token and asks the CLI again when it expires."""
        display = {"accessToken": "TOKEN", "instanceUrl": fake.instance_url}
        fake_sf_cli(tmp_path, display=display, token=fake.issue_session())
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        client = ResilientClient.from_sf_cli("my-org", settings=Settings(), session=fake.session())
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
        fake.faults.expire_sessions()
        (tmp_path / "token.txt").write_text(fake.issue_session(), encoding="utf-8")
        assert 20 == client.query("SELECT COUNT() FROM Account")["totalSize"]
        assert 1 == client.logins

    def test_cli_failure_is_an_authentication_failure(self, tmp_path: Path) -> None:
        """An org the CLI does not know raises SalesforceAuthenticationFailed with its message."""
        sf = fake_sf_cli(tmp_path, display={}, token="")
        with pytest.raises(SalesforceAuthenticationFailed, match="No authorization"):
            sf_cli_login("unknown", executable=str(sf))()

    def test_missing_cli_is_an_authentication_failure(self) -> None:
        """Without the sf CLI on PATH the login fails with a clear message."""
        with pytest.raises(SalesforceAuthenticationFailed, match="not on PATH"):
            sf_cli_login("my-org", executable="sf-not-installed-here")()


class TestTokenResponses:
    def test_a_token_response_without_instance_url_is_auth_failed(self, canned_http: Any) -> None:
        """An access token with nowhere to use it is classified, with a message that says so."""
        body = {"access_token": "00Dxx0000000001!AQtoken", "token_type": "Bearer"}
        canned_http.answer(canned_http.response(200, json.dumps(body).encode()))
        with pytest.raises(SalesforceAuthenticationFailed) as caught:
            ResilientClient.from_refresh_token(
                consumer_key="key",
                refresh_token="5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJVNAaCTG3hXp1hvKvfFaNJX8Xx",
                settings=Settings(),
                session=mount(requests.Session(), canned_http.url),
            )
        classification = caught.value.classification  # type: ignore[attr-defined]
        assert (ErrorCategory.AUTH_FAILED, "NO_INSTANCE_URL") == (
            classification.category,
            classification.error_code,
        )
        assert "instance_url" in str(caught.value)
        assert 1 == len(canned_http.requests)

    def test_simple_salesforce_s_own_oauth_login_without_instance_url(
        self, canned_http: Any
    ) -> None:
        """The OAuth password flow, whose parser crashes on it, is AUTH_FAILED as well."""
        body = {"access_token": "00Dxx0000000001!AQtoken", "token_type": "Bearer"}
        canned_http.answer(canned_http.response(200, json.dumps(body).encode()))
        with pytest.raises(SalesforceAuthenticationFailed) as caught:
            ResilientClient.from_credentials(
                settings=Settings(),
                username="integration@example.com",
                password="pw",
                consumer_key="key",
                consumer_secret="secret",
                session=mount(requests.Session(), canned_http.url),
            )
        classification = caught.value.classification  # type: ignore[attr-defined]
        assert "NO_INSTANCE_URL" == classification.error_code
        assert ErrorCategory.AUTH_FAILED is classification.category
        assert 1 == len(canned_http.requests)


@settings(max_examples=200, deadline=None)
@given(domain=st.text(max_size=60))
def test_any_domain_gives_one_host_without_a_scheme(domain: str) -> None:
    """login_host never raises, and what it gives is always a Salesforce host."""
    host = login_host(domain)
    assert host.lower().endswith((".salesforce.com", ".force.com", ".site.com", ".salesforce.mil"))
