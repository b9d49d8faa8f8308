"""`triage --target-org ALIAS` through the real `sf` CLI, logged in to the fake org over TLS.

The CLI (npm ``@salesforce/cli``, pinned with its lockfile in ``.ci/sf-cli``) is
installed once into a cache directory keyed by the lockfile, so a warm run costs
nothing; the install is skipped, with the reason shown, only where npm or its
registry cannot be reached.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sfresilience.testing import FakeSalesforce, FakeTrust


SF_CLI_SPEC = Path(__file__).parent.parent / ".ci" / "sf-cli"
_UNREACHABLE = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "ENETUNREACH")


def _cache_root() -> Path:
    configured = os.environ.get("SFRESILIENCE_SF_CLI_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sfresilience"


def _install(npm: str) -> Path:
    """The sf CLI's bin directory, installed by ``npm ci`` unless the cache has it."""
    lock = (SF_CLI_SPEC / "package-lock.json").read_bytes()
    target = _cache_root() / f"sf-cli-{hashlib.sha256(lock).hexdigest()[:16]}"
    bin_dir = target / "node_modules" / ".bin"
    if (bin_dir / "sf").exists():
        return bin_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".sf-cli-"))
    for name in ("package.json", "package-lock.json"):
        shutil.copy(SF_CLI_SPEC / name, staging / name)
    done = subprocess.run(  # noqa: S603  (fixed argv)
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=staging,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        if any(code in done.stderr for code in _UNREACHABLE):
            pytest.skip(f"the npm registry is not reachable: {done.stderr.strip()[-300:]}")
        pytest.fail(f"npm ci of @salesforce/cli failed:\n{done.stderr[-2000:]}")
    try:
        staging.rename(target)  # atomic: a half-installed CLI is never found
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another run installed it first
    return bin_dir


@pytest.fixture(scope="session")
def sf_bin() -> Path:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed, so the sf CLI cannot be (apt-get install npm)")
    return _install(npm)


@pytest.fixture(scope="module")
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(tls=True, trust=FakeTrust(), contacts=5) as fake:
        yield fake


@pytest.fixture(scope="module")
def logged_in(
    org: FakeSalesforce, sf_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The environment of a machine whose sf CLI alone knows the org, as alias ``fake``."""
    env = {
        **org.env(),  # NODE_EXTRA_CA_CERTS: the CLI trusts the fake's CA; SF_ACCESS_TOKEN
        "PATH": f"{sf_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path_factory.mktemp("home")),
        "SF_DISABLE_TELEMETRY": "true",
        "SF_AUTOUPDATE_DISABLE": "true",
    }
    login = _sf(
        env,
        *("org", "login", "access-token", "--instance-url", org.instance_url),
        *("--no-prompt", "--alias", "fake"),
    )
    assert login.returncode == 0, login.stdout + login.stderr
    for name in ("SF_ACCESS_TOKEN", "SF_INSTANCE_URL"):
        del env[name]  # only the sf CLI knows the org now
    return env


def _sf(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  (the sf CLI found on the test's PATH)
        [shutil.which("sf", path=env["PATH"]) or "sf", *arguments, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _triage(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "sfresilience.cli", "triage", "--target-org", "fake", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stderr == ""
    document: dict[str, Any] = json.loads(done.stdout)
    assert done.returncode == 0, document
    return document


def _displayed_token(env: dict[str, str]) -> str:
    shown = _sf(env, "org", "display", "--target-org", "fake")
    return str(json.loads(shown.stdout)["result"]["accessToken"])


def test_a_redacted_token_is_read_with_show_access_token(
    org: FakeSalesforce, logged_in: dict[str, str]
) -> None:
    """This release prints ``[REDACTED]`` in ``org display``; triage still logs in."""
    env = logged_in
    assert _displayed_token(env).startswith("[REDACTED]")
    document = _triage(env)
    assert "healthy" == document["verdict"]
    checks = {check["name"]: check for check in document["checks"]}
    assert "ok" == checks["auth"]["status"]
    assert org.org.instance_name in str(document)


def test_a_displayed_token_is_used_as_it_is(logged_in: dict[str, str]) -> None:
    """Older releases (or SF_TEMP_SHOW_SECRETS) print the token itself."""
    env = {**logged_in, "SF_TEMP_SHOW_SECRETS": "true"}
    assert _displayed_token(env).startswith("00D")
    document = _triage(env)
    assert "healthy" == document["verdict"]
