"""`sfresilience fake-org`: a FakeSalesforce in the foreground, for other programs' tests.

Like moto's server mode: start it, read the environment it prints, point the
program under test at it, and stop it with Ctrl-C or SIGTERM (exit 0).
"""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TextIO

from ..testing import FakeSalesforce, FakeTrust, Limits, Org, ServerOptions


__all__ = ["FakeOrgOptions", "run_fake_org"]


@dataclass(frozen=True, kw_only=True)
class FakeOrgOptions:
    """What `fake-org` was asked for (the command line, parsed)."""

    accounts: int = 20
    contacts: int = 200
    opportunities: int = 50
    seed: int = 0
    port: int = 0
    tls: bool = True
    trust: bool = True
    api_limit: int = 15_000
    api_usage: int = 0
    latency: float = 0.0
    server_errors: float = 0.0
    dropped_connections: float = 0.0
    expired_sessions: float = 0.0
    lost_responses: float = 0.0
    slow_drip: float = 0.0
    fault_seed: int = 0
    as_json: bool = False


def _build(options: FakeOrgOptions) -> FakeSalesforce:
    org = Org(
        accounts=options.accounts,
        contacts=options.contacts,
        opportunities=options.opportunities,
        seed=options.seed,
    )
    return FakeSalesforce(
        org=org,
        limits=Limits(api_limit=options.api_limit, api_usage=options.api_usage),
        server=ServerOptions(tls=options.tls, port=options.port),
        trust=FakeTrust(instances=(org.instance_name,)) if options.trust else None,
    )


def _switch_faults(fake: FakeSalesforce, options: FakeOrgOptions) -> None:
    faults, seed = fake.faults, options.fault_seed
    if options.latency:
        faults.latency(options.latency)
    if options.server_errors:
        faults.server_errors(probability=options.server_errors, seed=seed)
    if options.dropped_connections:
        faults.outage(probability=options.dropped_connections, seed=seed)
    if options.expired_sessions:
        faults.expire_sessions(probability=options.expired_sessions, seed=seed)
    if options.lost_responses:
        faults.lose_responses(probability=options.lost_responses, seed=seed)
    if options.slow_drip:
        faults.slow_drip(options.slow_drip)


def _environment(fake: FakeSalesforce) -> dict[str, str]:
    if fake.tls:
        return fake.env()
    # Plain HTTP reaches only clients that accept an http:// base URL (curl, requests);
    # simple-salesforce always speaks https, so it needs the default --tls.
    env = {"SF_INSTANCE_URL": fake.url, "SF_ACCESS_TOKEN": fake.issue_session()}
    if fake.trust is not None:
        env["SFRESILIENCE_STATUS_URL"] = fake.trust.url
    return env


def _announce(env: dict[str, str], *, as_json: bool, out: TextIO) -> None:
    if as_json:
        out.write(json.dumps(env) + "\n")
    else:
        out.writelines(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
    out.flush()


@contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM; the previous handlers come back after."""
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_fake_org(options: FakeOrgOptions, *, out: TextIO | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM; the environment goes to `out` (stdout)."""
    out = out or sys.stdout
    fake = _build(options)
    with _until_signalled() as stop, fake:
        _switch_faults(fake, options)
        _announce(_environment(fake), as_json=options.as_json, out=out)
        print(  # noqa: T201 - the one human line, on stderr
            f"fake org serving at {fake.instance_url}; Ctrl-C or SIGTERM stops it",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    return 0
