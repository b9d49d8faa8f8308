"""Ways to log in again: environment credentials, OAuth refresh tokens, the sf CLI.

Every login here fails with simple-salesforce's ``SalesforceAuthenticationFailed``
so that the classifier files it under AUTH_FAILED like any other refused login.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import requests
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from ._redact import redact
from ._session import Login
from .exceptions import ConfigurationError


T = TypeVar("T")

_NO_INSTANCE_URL = (
    "the token response has no instance_url, so there is no instance to call; "
    "check the connected app and the token endpoint's domain"
)


def refresh_token_login(
    *,
    session: requests.Session,
    consumer_key: str,
    refresh_token: str,
    consumer_secret: str | None = None,
    domain: str = "login",
) -> Login:
    """A login that trades an OAuth refresh token for a new access token."""
    # A partial of a module function, not a closure: a client wrapped with it
    # can be copied and pickled.
    return functools.partial(
        _trade_refresh_token, session, consumer_key, refresh_token, consumer_secret, domain
    )


def _trade_refresh_token(
    session: requests.Session,
    consumer_key: str,
    refresh_token: str,
    consumer_secret: str | None,
    domain: str,
) -> tuple[str, str]:
    data = {
        "grant_type": "refresh_token",
        "client_id": consumer_key,
        "refresh_token": refresh_token,
    }
    if consumer_secret:
        data["client_secret"] = consumer_secret
    response = session.post(f"https://{login_host(domain)}/services/oauth2/token", data=data)
    return _token_response(response)


# Hosts that are Salesforce login hosts already (My Domain, Experience Cloud,
# Government Cloud), so *domain* is not a prefix of ``salesforce.com``.
_HOST_SUFFIXES = (".salesforce.com", ".force.com", ".site.com", ".salesforce.mil")


def login_host(domain: str) -> str:
    """The host OAuth tokens are asked of, for *domain* in any form people write it.

    simple-salesforce's own convention is the part before ``.salesforce.com``
    (``login``, ``test``, ``acme.my``); a My Domain host (``acme.my.salesforce.com``,
    ``acme--uat.sandbox.my.salesforce.com``), with ``https://`` or a trailing ``/``,
    is used as it is.
    """
    host = domain.strip().removeprefix("https://").removeprefix("http://").rstrip("/")
    if host.lower().endswith(_HOST_SUFFIXES):
        return host
    return f"{host}.salesforce.com"


def _token_response(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        raise SalesforceAuthenticationFailed(
            response.status_code, redact(response.text[:300])
        ) from None
    if (
        response.status_code != 200  # noqa: PLR2004
        or not isinstance(body, dict)
        or not isinstance(body.get("access_token"), str)
    ):
        error = body.get("error", response.status_code) if isinstance(body, dict) else ""
        error = error or "NO_ACCESS_TOKEN"
        description = body.get("error_description", "") if isinstance(body, dict) else ""
        raise SalesforceAuthenticationFailed(error, redact(str(description)))
    instance_url = body.get("instance_url")
    if not isinstance(instance_url, str) or not _host(instance_url):
        raise SalesforceAuthenticationFailed("NO_INSTANCE_URL", _NO_INSTANCE_URL)
    return str(body["access_token"]), _host(instance_url)


def sf_cli_login(target_org: str, *, executable: str = "sf", timeout: float = 60.0) -> Login:
    """A login that asks an installed ``sf`` CLI for the org's current token.

    Each CLI run may take *timeout* seconds: a CLI stuck on a keychain prompt
    must not hold every thread waiting for the refresh.
    """

    return functools.partial(_ask_sf_cli, target_org, executable, timeout)


def _ask_sf_cli(target_org: str, executable: str, timeout: float) -> tuple[str, str]:
    display = _run_sf(executable, ["org", "display", "--target-org", target_org], timeout)
    token = str(display.get("accessToken", ""))
    if not token or token.startswith("[REDACTED]"):
        # Newer CLIs redact the token in `org display` (2026-05).
        shown = _run_sf(
            executable,
            ["org", "auth", "show-access-token", "--target-org", target_org],
            timeout,
        )
        token = str(shown.get("accessToken", ""))
    if not token:
        raise SalesforceAuthenticationFailed("SF_CLI", f"no access token for {target_org}")
    return token, _host(str(display.get("instanceUrl", "")))


def _run_sf(executable: str, arguments: list[str], timeout: float) -> dict[str, Any]:
    path = shutil.which(executable)
    if path is None:
        raise SalesforceAuthenticationFailed("SF_CLI", f"the {executable!r} CLI is not on PATH")
    try:
        completed = subprocess.run(  # noqa: S603  (fixed argv, no shell)
            [path, *arguments, "--json"],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except (subprocess.TimeoutExpired, OSError) as error:
        raise SalesforceAuthenticationFailed("SF_CLI", redact(str(error))) from error
    try:
        envelope = json.loads(completed.stdout)
    except ValueError:
        raise SalesforceAuthenticationFailed(
            "SF_CLI",
            redact(completed.stderr.strip()[:300] or "no JSON from the sf CLI"),
        ) from None
    result = envelope.get("result") if isinstance(envelope, dict) else None
    if completed.returncode != 0 or not isinstance(result, dict):
        message = envelope.get("message", "sf CLI failed") if isinstance(envelope, dict) else ""
        raise SalesforceAuthenticationFailed("SF_CLI", redact(str(message)))
    return result


def _host(instance_url: str) -> str:
    return urlsplit(instance_url).netloc or instance_url


def login_from_env(session: requests.Session) -> tuple[dict[str, Any], Login | None]:
    """simple-salesforce keywords from ``SF_*`` variables, and a refresh if needed.

    With ``SF_ACCESS_TOKEN`` the keywords build a session-id client and the
    second value logs in again through ``SF_REFRESH_TOKEN`` when one is given.
    Otherwise the keywords carry credentials and simple-salesforce logs in.
    """
    env = {k: v for k, v in os.environ.items() if k.startswith("SF_") and v}
    domain = env.get("SF_DOMAIN", "login")
    if "SF_ACCESS_TOKEN" in env:
        return _access_token_login(env, session, domain)
    base: dict[str, Any] = {"session": session, "domain": domain}
    if {"SF_USERNAME", "SF_CONSUMER_KEY", "SF_PRIVATE_KEY_FILE"} <= env.keys():
        return base | {
            "username": env["SF_USERNAME"],
            "consumer_key": env["SF_CONSUMER_KEY"],
            "privatekey_file": env["SF_PRIVATE_KEY_FILE"],
        }, None
    if {"SF_USERNAME", "SF_PASSWORD"} <= env.keys():
        kwargs = base | {
            "username": env["SF_USERNAME"],
            "password": env["SF_PASSWORD"],
            "security_token": env.get("SF_SECURITY_TOKEN", ""),
        }
        if "SF_CONSUMER_KEY" in env and "SF_CONSUMER_SECRET" in env:
            del kwargs["security_token"]
            kwargs |= {
                "consumer_key": env["SF_CONSUMER_KEY"],
                "consumer_secret": env["SF_CONSUMER_SECRET"],
            }
        return kwargs, None
    if {"SF_CONSUMER_KEY", "SF_CONSUMER_SECRET"} <= env.keys() and domain not in {
        "login",
        "test",
    }:
        return base | {
            "consumer_key": env["SF_CONSUMER_KEY"],
            "consumer_secret": env["SF_CONSUMER_SECRET"],
        }, None
    raise ConfigurationError(
        "no Salesforce credentials in the environment: set SF_USERNAME with "
        "SF_PASSWORD (and SF_SECURITY_TOKEN), or SF_USERNAME with SF_CONSUMER_KEY "
        "and SF_PRIVATE_KEY_FILE, or SF_ACCESS_TOKEN with SF_INSTANCE_URL"
    )


def _access_token_login(
    env: dict[str, str], session: requests.Session, domain: str
) -> tuple[dict[str, Any], Login | None]:
    if "SF_INSTANCE_URL" not in env:
        raise ConfigurationError("SF_ACCESS_TOKEN needs SF_INSTANCE_URL beside it")
    kwargs = {
        "session_id": env["SF_ACCESS_TOKEN"],
        "instance_url": env["SF_INSTANCE_URL"],
        "session": session,
    }
    refresh = None
    if "SF_REFRESH_TOKEN" in env and "SF_CONSUMER_KEY" in env:
        refresh = refresh_token_login(
            session=session,
            consumer_key=env["SF_CONSUMER_KEY"],
            consumer_secret=env.get("SF_CONSUMER_SECRET"),
            refresh_token=env["SF_REFRESH_TOKEN"],
            domain=domain,
        )
    return kwargs, refresh


class checked_login(Generic[T]):  # noqa: N801  (used like a function)
    """*login* (simple-salesforce's own), with its crash on a token response that
    has no ``instance_url`` (``None.replace``) raised as an authentication failure.

    A class, not a closure, so that a wrapped client still pickles.
    """

    __slots__ = ("_login",)

    def __init__(self, login: Callable[[], T]) -> None:
        self._login = login

    def __call__(self) -> T:
        try:
            return self._login()
        except AttributeError as error:
            if not _raised_in_simple_salesforce_login(error):
                raise
            raise SalesforceAuthenticationFailed("NO_INSTANCE_URL", _NO_INSTANCE_URL) from error

    def __reduce__(self) -> tuple[Any, ...]:
        return (checked_login, (self._login,))


def _raised_in_simple_salesforce_login(error: BaseException) -> bool:
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None:
        return False
    return frame.tb_frame.f_globals.get("__name__") == "simple_salesforce.login"
