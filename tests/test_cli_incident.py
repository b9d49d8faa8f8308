"""`sfresilience incident` as a real subprocess: a lock storm and an expired session, told.

Traffic goes through unmodified simple-salesforce to a FakeSalesforce over TLS;
the timeline is in a real redis-server; the webhook is a real local HTTP server.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from simple_salesforce.exceptions import SalesforceGeneralError

from sfresilience import ResilientClient, Settings, caller
from sfresilience._fallback import fallback_of
from sfresilience._store import RedisStore, shared_store
from sfresilience._timeline import timeline_for
from sfresilience.exceptions import WriteRefused
from sfresilience.testing import FakeSalesforce


TOKEN_PATH = "/services/T0001/B0001/webhookSecretPart123"


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(tls=True, accounts=1, contacts=6, lock_wait=0.0) as fake:
        yield fake


def sfresilience(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (our own command)
        [sys.executable, "-m", "sfresilience.cli", *arguments],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def lock_storm_and_expired_session(org: FakeSalesforce, redis_url: str) -> None:
    """Writes that meet a held lock and give up; a session that expires and is refreshed."""
    settings = Settings(redis_url=redis_url, retry_attempts=3)
    client = ResilientClient(org.client(), settings=settings, sleep=lambda _: None)
    contacts = [str(c["Id"]) for c in org.org.records("Contact")][:4]
    with caller("nightly-sync"), org.locked(*contacts):
        for contact in contacts:
            with pytest.raises(SalesforceGeneralError, match="UNABLE_TO_LOCK_ROW"):
                client.Contact.update(contact, {"Title": "stormy"})
    org.faults.expire_sessions()
    with caller("web"):
        assert client.query("SELECT Id FROM Contact")["totalSize"] == 6
    timeline_for(shared_store(redis_url)).flush()


def test_the_update_tells_the_lock_storm_and_the_refresh(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    lock_storm_and_expired_session(org, redis_url)
    env = {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}

    done = sfresilience(env, "incident", "--json")
    assert done.returncode == 1, done.stderr  # trouble a moment ago: ongoing
    document = json.loads(done.stdout)
    incident, update = document["incident"], document["update"]
    assert incident["state"] == "ongoing"
    errors = {e["category"]: e["count"] for e in incident["errors"]}
    assert errors["ROW_LOCK"] == 4 * 3  # counted, one entry per window, not per call
    assert errors["SESSION_EXPIRED"] == 1
    assert incident["impact"]["failed"] == 4
    assert incident["impact"]["session_refreshes"] == 1
    assert incident["impact"]["recovered"] >= 1
    assert incident["severity"] == "P3"  # row locks are P4 until calls fail
    assert update["severity"] == "P3"
    assert "ROW_LOCK (UNABLE_TO_LOCK_ROW) x12" in update["error"]
    assert "Contact.update" in update["error"]
    assert "4 call(s) failed after retries" in update["impact"]
    assert "Ongoing since" in update["status"]
    assert "(in 120 min)" in update["next_update"]
    assert "Writes to locked records queued and retried" in update["current_action"]
    assert document["posted"] is False

    text = sfresilience(env, "incident")
    for field in ("*P-level:* P3", "*Status:*", "*Error:*", "*Impact:*", "*Current action:*"):
        assert field in text.stdout
    assert "*Next update:*" in text.stdout


def test_an_outage_ridden_out_from_the_cache_is_told(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = Settings(redis_url=redis_url, retry_attempts=1)
    # A store of its own: the breaker it opens is shared per store and org in this
    # process, and must not stay open for the tests that follow.
    store = RedisStore.from_url(redis_url)
    client = ResilientClient(org.client(), settings=settings, store=store, sleep=lambda _: None)
    soql = "SELECT Id FROM Contact LIMIT 3"
    client.query(soql)
    assert fallback_of(client).flush(5)
    org.faults.server_errors(status=503)
    for _ in range(8):
        client.query(soql)  # served from the cache; the breaker opens after a few
    with pytest.raises(WriteRefused):
        client.Contact.create({"LastName": "Late"})
    timeline_for(store).flush()

    env = {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}
    document = json.loads(sfresilience(env, "incident", "--json").stdout)
    impact = document["incident"]["impact"]
    assert impact["served_from_cache"] == 8
    assert impact["writes_refused"] == 1
    assert document["incident"]["severity"] in {"P1", "P2"}
    update = document["update"]
    assert "8 served from cache, 1 write(s) refused" in update["impact"]
    assert update["current_action"].startswith("Circuit breaker open: calls to Salesforce stopped")
    assert "reads served from the fallback cache" in update["current_action"]


def test_a_quiet_fleet_is_exit_0(
    org: FakeSalesforce, redis_url: str, redis_client: redis.Redis
) -> None:
    done = sfresilience({**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}, "incident", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["incident"]["state"] == "quiet"


def test_without_redis_one_line_says_what_to_set(org: FakeSalesforce) -> None:
    done = sfresilience(org.env(), "incident")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "set SFRESILIENCE_REDIS_URL" in done.stderr


@pytest.mark.parametrize("since", ["yesterday", "0m", "9d", "2999-01-01T00:00"])
def test_a_bad_since_is_one_line(since: str, redis_url: str) -> None:
    done = sfresilience({"SFRESILIENCE_REDIS_URL": redis_url}, "incident", "--since", since)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--since" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_iso_since_is_read_as_utc(redis_url: str, redis_client: redis.Redis) -> None:
    done = sfresilience(
        {"SFRESILIENCE_REDIS_URL": redis_url}, "incident", "--json", "--since", "2026-01-01T00:00"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["incident"]["since"] == 1767225600.0


# Posting to a Slack incoming webhook ------------------------------------------


class Webhook:
    """A local HTTP server answering like Slack's incoming webhooks."""

    def __init__(self, status: int, body: str) -> None:
        self.status, self.body = status, body
        self.received: list[dict[str, Any]] = []
        webhook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                webhook.received.append(json.loads(self.rfile.read(length)))
                answer = webhook.body.encode()
                self.send_response(webhook.status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{TOKEN_PATH}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def storm(org: FakeSalesforce, redis_url: str, redis_client: redis.Redis) -> dict[str, str]:
    lock_storm_and_expired_session(org, redis_url)
    return {**org.env(), "SFRESILIENCE_REDIS_URL": redis_url}


def test_post_sends_the_update_and_slack_accepts(storm: dict[str, str]) -> None:
    hook = Webhook(200, "ok")
    try:
        env = {**storm, "SFRESILIENCE_SLACK_WEBHOOK_URL": hook.url}
        done = sfresilience(env, "incident", "--post", "--json")
    finally:
        hook.close()
    assert json.loads(done.stdout)["posted"] is True, done.stderr
    assert done.returncode == 1  # posted, and the incident is still ongoing
    (payload,) = hook.received
    assert payload["text"].startswith("*:rotating_light: [P3]")
    assert "*Impact:* 4 call(s) failed" in payload["text"]
    assert payload["blocks"][0]["text"]["text"] == payload["text"]


@pytest.mark.parametrize(
    ("status", "body", "told"),
    [
        (400, "invalid_payload", "HTTP 400 invalid_payload: Slack could not read the message"),
        (404, "no_service", "HTTP 404 no_service: the webhook was removed or disabled"),
        (410, "channel_is_archived", "HTTP 410 channel_is_archived"),
        (500, "rollup_error", "HTTP 500 rollup_error"),
    ],
)
def test_a_refusing_webhook_is_one_clear_line(
    storm: dict[str, str], status: int, body: str, told: str
) -> None:
    hook = Webhook(status, body)
    try:
        done = sfresilience(
            {**storm, "SFRESILIENCE_SLACK_WEBHOOK_URL": hook.url}, "incident", "--post"
        )
    finally:
        hook.close()
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert "refused the update" in done.stderr
    assert told in done.stderr
    assert "webhookSecretPart123" not in done.stderr + done.stdout  # the path is the secret
    assert "*P-level:*" in done.stdout  # the on-call can still paste it by hand


def test_an_unreachable_webhook_is_one_clear_line(storm: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}{TOKEN_PATH}"
    done = sfresilience({**storm, "SFRESILIENCE_SLACK_WEBHOOK_URL": url}, "incident", "--post")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"could not reach the Slack webhook at http://127.0.0.1:{port}" in done.stderr
    assert "webhookSecretPart123" not in done.stderr


def test_post_without_a_webhook_says_what_to_set(storm: dict[str, str]) -> None:
    done = sfresilience(storm, "incident", "--post")
    assert done.returncode == 1
    assert "SFRESILIENCE_SLACK_WEBHOOK_URL" in done.stderr
    assert done.stderr.count("\n") == 1


def test_a_webhook_that_is_not_a_url_is_a_bad_setting(redis_url: str) -> None:
    env = {
        "SFRESILIENCE_REDIS_URL": redis_url,
        "SFRESILIENCE_SLACK_WEBHOOK_URL": "hooks.slack.com/services/T/B/webhookSecretPart123",
    }
    done = sfresilience(env, "incident", "--post")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "SFRESILIENCE_SLACK_WEBHOOK_URL must be an https:// URL" in done.stderr
    assert "webhookSecretPart123" not in done.stderr
