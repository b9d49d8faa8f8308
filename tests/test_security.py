"""Nothing secret leaks: not into logs, events, errors, reprs, store keys or CLI output.

A representative set of calls runs through faults (session expiry, auth failure,
500s, lock errors) with known secret values; every place a secret could end up is
then scanned for them. Also: no pickle-family import anywhere in the package.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from cryptography.fernet import Fernet

from sfresilience import Event, ResilientClient, Settings, set_testing
from sfresilience._auth import refresh_token_login
from sfresilience._store import RedisStore
from sfresilience._store._base import Store, StoreUnavailable
from sfresilience.testing import FakeSalesforce
from sfresilience.testing.wire.tls import ThrowawayCA


SRC = Path(__file__).resolve().parents[1] / "src" / "sfresilience"
FORBIDDEN_MODULES = frozenset({"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill"})
REDIS_PASSWORD = "r3dis-Pa55-zq8"


def imported_modules(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            yield node.module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            yield str(node.args[0].value)


def test_no_pickle_marshal_or_shelve_import_in_the_package() -> None:
    """No module of the package imports a deserializer that can run code."""
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20  # the scan saw the package
    found = [
        f"{path.relative_to(SRC)}: {name}"
        for path in files
        for name in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if name.split(".")[0] in FORBIDDEN_MODULES
    ]
    assert [] == found


def test_the_import_scan_would_see_a_pickle_import() -> None:
    tree = ast.parse("import os\nfrom pickle import loads\nimportlib.import_module('marshal')")
    assert {"os", "pickle", "marshal"} == set(imported_modules(tree))


# --- private Redis servers, secured ---------------------------------------------------


# What conftest.py's `start_redis` fixture returns (conftest cannot be imported by name).
StartRedis = Callable[..., contextlib.AbstractContextManager[Any]]


@pytest.fixture(scope="module")
def auth_redis(start_redis: StartRedis) -> Iterator[int]:
    with start_redis("--requirepass", REDIS_PASSWORD, password=REDIS_PASSWORD) as server:
        yield server.port


# --- the secrets scan ----------------------------------------------------------------


class Capture:
    """Everything a user or an operator could see of a run, as text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def event(self, event: Event) -> None:
        self.texts.extend((repr(event), str(event)))

    def error(self, error: BaseException) -> None:
        self.texts.extend((str(error), repr(error), *getattr(error, "__notes__", [])))
        classification = getattr(error, "classification", None)
        if classification is not None:
            self.texts.append(repr(classification))
        if error.__cause__ is not None:
            self.error(error.__cause__)

    def attempt(self, call: Callable[[], object]) -> None:
        try:
            call()
        except Exception as error:  # noqa: BLE001  (scanned, not swallowed)
            self.error(error)


def faulty_run(fake: FakeSalesforce, client: ResilientClient, capture: Capture) -> None:
    """Calls through session expiry, 500s, a lock error and a failed re-login."""
    account = fake.client().query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    capture.attempt(lambda: client.query("SELECT Id FROM Account LIMIT 2"))
    fake.faults.expire_sessions()
    capture.attempt(lambda: client.query("SELECT Id FROM Contact LIMIT 2"))
    fake.faults.server_errors(count=2)
    capture.attempt(lambda: client.query("SELECT Id FROM Contact LIMIT 2"))
    fake.faults.server_errors(count=50)
    capture.attempt(lambda: client.query("SELECT Id FROM Contact LIMIT 2"))
    fake.faults.clear()
    with fake.locked(account):
        capture.attempt(lambda: client.Account.update(account, {"Name": "x"}))
    capture.attempt(lambda: client.query("SELECT Bogus__c FROM Account"))
    fake.faults.revoke_refresh_tokens()
    fake.faults.expire_sessions()
    capture.attempt(lambda: client.query("SELECT Id FROM Account LIMIT 1"))


def store_keys(port: int) -> list[str]:
    with redis.Redis(port=port, password=REDIS_PASSWORD) as server:
        return [key.decode("utf-8", "replace") for key in server.scan_iter(count=1000)]


@pytest.mark.redis
def test_no_secret_reaches_logs_events_errors_reprs_or_store_keys(
    auth_redis: int, caplog: pytest.LogCaptureFixture, private_key_pem: bytes
) -> None:
    redis_url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{auth_redis}/0"
    capture = Capture()
    caplog.set_level(logging.DEBUG)
    with FakeSalesforce(accounts=2, contacts=4, lock_wait=0.0) as fake, set_testing(True):
        refresh_token = fake.issue_refresh_token()
        settings = Settings(redis_url=redis_url)
        sf = fake.client()
        client = ResilientClient(
            sf,
            settings=settings,
            refresh=refresh_token_login(
                session=sf.session,
                consumer_key=fake.consumer_key,
                consumer_secret=fake.consumer_secret,
                refresh_token=refresh_token,
            ),
            on_event=capture.event,
            store=RedisStore.from_url(redis_url),
        )
        session_id = client.session_id
        faulty_run(fake, client, capture)
        capture.attempt(
            lambda: ResilientClient.from_credentials(
                username=fake.username,
                password=fake.password + "-wrong",
                security_token=fake.security_token,
                instance_url=fake.instance_url,
                session=fake.session(),
                settings=settings,
                on_event=capture.event,
            )
        )
        capture.texts.extend((repr(settings), str(settings), repr(client.budget)))
        secrets = {
            "session id": session_id,
            "refresh token": refresh_token,
            "password": fake.password,
            "security token": fake.security_token,
            "consumer secret": fake.consumer_secret,
            "private key": private_key_pem.decode().splitlines()[1],
            "redis password": REDIS_PASSWORD,
        }
    capture.texts.extend(record.getMessage() for record in caplog.records)
    capture.texts.extend(caplog.text.splitlines())
    keys = store_keys(auth_redis)
    assert capture.texts
    assert keys  # the run did write shared state
    leaks = [
        (name, text[:200])
        for name, secret in secrets.items()
        for text in [*capture.texts, *keys]
        if secret and secret in text
    ]
    assert [] == leaks


def test_the_scan_would_find_a_leak() -> None:
    capture = Capture()
    capture.error(RuntimeError("Bearer 00Dxx!abc"))
    assert any("00Dxx!abc" in text for text in capture.texts)


@pytest.mark.redis
def test_cli_output_never_shows_a_redis_password(auth_redis: int) -> None:
    """`demo` on a password-protected Redis, and with a malformed URL: no password shown."""
    good = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{auth_redis}/0"
    bad = f"http://:{REDIS_PASSWORD}@cache:6379/0"
    cache_key = Fernet.generate_key().decode()  # a real key: a malformed one is refused
    outputs = []
    for url, expected in ((good, 0), (bad, 2)):
        environment = {
            **os.environ,
            "SFRESILIENCE_REDIS_URL": url,
            "SFRESILIENCE_CACHE_KEY": cache_key,
        }
        completed = subprocess.run(
            [sys.executable, "-m", "sfresilience.cli", "demo", "--contacts", "10"],
            capture_output=True,
            text=True,
            timeout=120,
            env=environment,
            check=False,
        )
        assert expected == completed.returncode, completed.stderr[-2000:]
        outputs.append(completed.stdout + completed.stderr)
    assert len(outputs[0].splitlines()) > 20  # the drill ran and said what it did
    for output in outputs:
        assert REDIS_PASSWORD not in output
        assert cache_key not in output


# --- the store against AUTH, ACL users and TLS --------------------------------------

PASSWORD = "adm1n-Pass-77"
APP_PASSWORD = "app-Pass-31"


def exercise(store: Store) -> None:
    """The operations the library's shared state uses, Lua scripts included."""
    store.set("probe", b"value", ttl=30)
    assert b"value" == store.get("probe")
    assert 3 == store.increment("count", 3, ttl=30)
    store.push("log", b"one", limit=5, ttl=30)
    store.push("log", b"two", limit=5, ttl=30)
    assert [b"two", b"one"] == store.newest("log", 2)
    assert store.acquire("lock", b"me", ttl=30)
    assert not store.acquire("lock", b"you", ttl=30)
    assert store.release("lock", b"me")
    for key in ("probe", "count", "log"):
        store.delete(key)
    assert store.get("probe") is None
    store.ping()


@pytest.fixture(scope="module")
def secured(start_redis: StartRedis) -> Iterator[int]:
    with start_redis("--requirepass", PASSWORD, password=PASSWORD) as server:
        port = server.port
        with redis.Redis(port=port, password=PASSWORD) as admin:
            admin.execute_command(
                "ACL", "SETUSER", "app", "on", f">{APP_PASSWORD}",
                "resetkeys", "~sfr:*", "resetchannels", "&sfr:*",
                "-@all", "+@read", "+@write", "+@scripting", "+@connection", "+@keyspace",
                "+@transaction", "+@pubsub",
                "-@dangerous",
            )  # fmt: skip
        yield port


@pytest.mark.redis
def test_a_password_in_the_url_authenticates(secured: int) -> None:
    exercise(RedisStore.from_url(f"redis://:{PASSWORD}@127.0.0.1:{secured}/0"))


@pytest.mark.redis
def test_a_wrong_password_is_store_unavailable_without_the_password(secured: int) -> None:
    store = RedisStore.from_url(f"redis://:wrong-{PASSWORD}@127.0.0.1:{secured}/0")
    with pytest.raises(StoreUnavailable) as caught:
        store.get("probe")
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(caught.value)


@pytest.mark.redis
def test_an_acl_user_confined_to_the_namespace_works(secured: int) -> None:
    url = f"redis://app:{APP_PASSWORD}@127.0.0.1:{secured}/0"
    exercise(RedisStore.from_url(url))
    with redis.Redis.from_url(url) as app, pytest.raises(redis.exceptions.NoPermissionError):
        app.set("outside-the-namespace", b"x")  # the ACL does confine the user


@pytest.mark.redis
def test_settings_accept_the_acl_url_and_hide_its_password(secured: int) -> None:
    url = f"redis://app:{APP_PASSWORD}@127.0.0.1:{secured}/0"
    settings = Settings(redis_url=url)
    assert APP_PASSWORD not in repr(settings)
    assert settings.redis_url is not None
    exercise(RedisStore.from_url(settings.redis_url))


def tls_support(binary: str) -> str | None:
    """Why this redis-server cannot serve TLS, or None when it can."""
    linked = subprocess.run(  # noqa: S603
        ["ldd", binary],  # noqa: S607  (ldd from PATH, as a user runs it)
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    if "libssl" not in linked.stdout:
        return f"{binary} is built without TLS (not linked to libssl)"
    return None


@contextlib.contextmanager
def tls_redis(start_redis: StartRedis) -> Iterator[tuple[Any, ThrowawayCA]]:
    ca = ThrowawayCA()
    chain = str(ca.ca_bundle.parent / "server.pem")  # leaf, CA and key in one PEM
    with start_redis(
        "--port", "0", "--tls-port", "{port}", "--tls-cert-file", chain,
        "--tls-key-file", chain, "--tls-ca-cert-file", str(ca.ca_bundle),
        "--tls-auth-clients", "no", "--requirepass", PASSWORD,
        password=PASSWORD, tls_ca=str(ca.ca_bundle),
    ) as server:  # fmt: skip
        yield server, ca


@pytest.mark.redis
def test_rediss_url_with_the_ca_verifies_and_works(
    start_redis: StartRedis, redis_binary: str
) -> None:
    reason = tls_support(redis_binary)
    if reason is not None:
        pytest.skip(reason)
    with tls_redis(start_redis) as (server, ca):
        port = server.port
        url = f"rediss://:{PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={ca.ca_bundle}"
        exercise(RedisStore.from_url(url))
        untrusted = RedisStore.from_url(f"rediss://:{PASSWORD}@127.0.0.1:{port}/0")
        with pytest.raises(StoreUnavailable):  # no CA given: the certificate is refused
            untrusted.get("probe")
