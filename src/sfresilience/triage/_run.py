"""Running the triage: connect, ask the org, Trust, limits and the timeline, each in time.

The org is asked first (its answer names the instance); then Trust, the limits
and the timeline are asked at once. Every step has *timeout* seconds: a step
still waiting then is reported as such, so the command answers within a few
seconds when everything is down.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from simple_salesforce.api import Salesforce

from .._auth import _token_response, login_from_env, sf_cli_login
from .._budget import Admission, Budget
from .._budget import install as install_budget
from .._decorators import caller, critical
from .._session import install_timeouts
from .._settings import Settings
from .._store import Store, StoreUnavailable, shared_store
from .._timeline import Timeline
from .._trust_status import remembered_instance_key
from ._checks import (
    Check,
    OrgProbe,
    check_auth,
    check_instance_status,
    check_limits,
    check_recent_errors,
    check_trust_incidents,
    read_instance,
)
from ._decide import Context, Verdict, decide, next_steps
from ._status import StatusSource, TrustV1


__all__ = ["Report", "Target", "run_triage"]

T = TypeVar("T")
_INSTANCE_TTL = 30 * 24 * 3600.0  # org migrations are rare; re-learnt on every healthy run
_LABEL = "sfresilience triage"
_CLI_SECONDS = 20.0
"""Seconds each ``sf`` CLI run may take (``org display``, then ``show-access-token``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Report:
    """The triage's answer: ``{"verdict", "checks", "next"}``."""

    verdict: Verdict
    checks: tuple[Check, ...]
    next: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "checks": [check.to_json() for check in self.checks],
            "next": list(self.next),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """Which org: the ``SF_*`` variables (``target_org`` None) or an ``sf`` CLI alias."""

    target_org: str | None = None
    sf_executable: str = "sf"


def run_triage(
    target: Target,
    settings: Settings,
    *,
    timeout: float = 5.0,
    status: StatusSource | None = None,
    clock: Callable[[], float] = time.time,
) -> Report:
    """The five checks, the decision tree, the next commands."""
    store = shared_store(settings.redis_url) if settings.redis_url else None
    session = requests.Session()
    install_timeouts(session, (timeout, timeout))
    admissions: list[Admission] = []
    connect, relogin, label = _connections(target, session, settings, store, admissions)
    # The sf CLI is a Node program that may refresh the org's auth: its runs get
    # their own budget on top of the org's.
    budget = timeout + (2 * _CLI_SECONDS if target.target_org is not None else 0.0)
    probe = _within(
        budget,
        lambda: _critically(lambda: check_auth(connect, relogin)),
        _probe_timed_out(budget),
    )
    instance = _remember(store, label, probe.instance)
    source = status or TrustV1(settings.status_url)
    timeline = Timeline(store, clock=clock) if store is not None else None
    health_box = _start(lambda: read_instance(source, instance, timeout=timeout))
    limits_box = _start(
        lambda: _critically(lambda: check_limits(probe, _read_limits, _budget(admissions)))
    )
    errors_box = _start(lambda: check_recent_errors(timeline, now=clock()))
    deadline = time.monotonic() + timeout
    health = health_box.result(deadline, f"Trust gave no answer within {timeout:g} s: unknown")
    checks = (
        check_trust_incidents(health),
        check_instance_status(health),
        limits_box.result(
            deadline, Check("api_limits", "unknown", f"/limits gave no answer within {timeout:g} s")
        ),
        probe.check,
        errors_box.result(
            deadline,
            Check("recent_errors", "unknown", f"the store gave no answer within {timeout:g} s"),
        ),
    )
    verdict = decide(checks)
    _note_trust(timeline, checks[0])
    context = Context(
        settings.status_url, instance, redis=store is not None, target_org=target.target_org
    )
    return Report(verdict, checks, tuple(next_steps(verdict, context)))


def _note_trust(timeline: Timeline | None, trust: Check) -> None:
    """A Trust incident seen goes into the fleet's timeline, for the postmortem."""
    if timeline is None or trust.status not in {"fail", "warn"}:
        return
    timeline.record("trust_incident", detail=trust.detail)
    timeline.flush()  # a store that is down keeps it for later; the verdict stands


# Connecting ------------------------------------------------------------------


def _connections(
    target: Target,
    session: requests.Session,
    settings: Settings,
    store: Store | None,
    admissions: list[Admission],
) -> tuple[Callable[[], Salesforce], Callable[[], Salesforce] | None, str]:
    """How to reach the org, how to log in again, and a label for its memory."""

    def guarded(sf: Salesforce) -> Salesforce:
        # The budget guard's fleet view of this org (and its modes) come with the client.
        admissions.append(install_budget(sf, settings, store=store))
        return sf

    if target.target_org is not None:
        login = sf_cli_login(
            target.target_org, executable=target.sf_executable, timeout=_CLI_SECONDS
        )

        def from_cli() -> Salesforce:
            token, instance = login()
            return guarded(Salesforce(session_id=token, instance=instance, session=session))

        return from_cli, None, f"sf:{target.target_org}"
    kwargs, _ = login_from_env(session)
    label = str(kwargs.get("instance_url") or kwargs.get("username") or "org")
    relogin = _refresh_at_instance(session, guarded)
    return (lambda: guarded(Salesforce(**kwargs))), relogin, _host(label)


def _refresh_at_instance(
    session: requests.Session, guarded: Callable[[Salesforce], Salesforce]
) -> Callable[[], Salesforce] | None:
    """Trade ``SF_REFRESH_TOKEN`` at the org's own token endpoint (its My Domain)."""
    env = os.environ
    instance_url, token, key = (
        env.get("SF_INSTANCE_URL"),
        env.get("SF_REFRESH_TOKEN"),
        env.get("SF_CONSUMER_KEY"),
    )
    if not (instance_url and token and key):
        return None

    def relogin() -> Salesforce:
        data = {"grant_type": "refresh_token", "client_id": key, "refresh_token": token}
        secret = env.get("SF_CONSUMER_SECRET")
        if secret:
            data["client_secret"] = secret
        url = f"{instance_url.rstrip('/')}/services/oauth2/token"
        session_id, instance = _token_response(session.post(url, data=data))
        return guarded(Salesforce(session_id=session_id, instance=instance, session=session))

    return relogin


def _read_limits(sf: Salesforce) -> dict[str, Any]:
    limits: Any = sf.limits()
    return limits if isinstance(limits, dict) else {}


def _budget(admissions: list[Admission]) -> Budget | None:
    if not admissions:
        return None
    try:
        return admissions[-1].budget.snapshot()
    except StoreUnavailable:
        return None


def _critically(work: Callable[[], T]) -> T:
    # Triage is critical work: it runs in critical-only mode, from the reserve.
    with critical(), caller(_LABEL):
        return work()


def _host(label: str) -> str:
    return urlsplit(label).netloc or label


# Remembering the instance ----------------------------------------------------


def _remember(store: Store | None, label: str, instance: str | None) -> str | None:
    """Keep the instance key while the org answers; recall it when it does not."""
    if store is None:
        return instance
    key = remembered_instance_key(label)
    try:
        if instance is not None:
            store.set(key, instance.encode(), ttl=_INSTANCE_TTL)
            return instance
        remembered = store.get(key)
    except StoreUnavailable:
        return instance
    return remembered.decode() if remembered else None


# Time budgets ----------------------------------------------------------------


class _Box:
    """A result computed on a daemon thread, waited for at most so long."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self._value: Any = None
        self._done = threading.Event()
        self._work = work
        # Daemon: a check stuck on a dead socket must not keep the command from exiting.
        threading.Thread(target=self._run, daemon=True, name="sfresilience-triage").start()

    def _run(self) -> None:
        try:
            self._value = self._work()
        except Exception:  # noqa: BLE001, S110  (the fallback tells what is not known)
            pass
        finally:
            self._done.set()

    def result(self, deadline: float, fallback: T) -> Any:
        """The value, or *fallback* when it is not there by *deadline* (monotonic)."""
        waited = self._done.wait(max(0.0, deadline - time.monotonic()))
        return self._value if waited and self._value is not None else fallback


def _start(work: Callable[[], Any]) -> _Box:
    return _Box(work)


def _within(timeout: float, work: Callable[[], T], fallback: T) -> T:
    return _start(work).result(time.monotonic() + timeout, fallback)  # type: ignore[no-any-return]


def _probe_timed_out(timeout: float) -> OrgProbe:
    detail = f"Salesforce gave no answer within {timeout:g} s"
    return OrgProbe(Check("auth", "unknown", detail, "unreachable"), None, None)
