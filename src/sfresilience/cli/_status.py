"""``sfresilience status``: the effective mode and why, the API budget by caller,
the breaker (as clients post it) and the fallback cache's health.

Read from the same places the clients read: the environment, the fleet switch
and the budget ledger in Redis (keyed by the org of the ``SF_*`` credentials).
It makes no call to Salesforce when ``SF_ACCESS_TOKEN`` is given.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import requests
from rich.console import Console
from rich.table import Table
from rich.text import Text
from simple_salesforce.api import Salesforce

from .._auth import login_from_env
from .._budget import Budget, org_key
from .._budget import install as install_budget
from .._fallback._wiring import board_key
from .._modes import (
    CRITICAL_ONLY,
    FALLBACK,
    EnvToggle,
    FleetSwitch,
    Mode,
    ModeReason,
    Modes,
    with_reasons,
)
from .._redact import redact
from .._settings import Settings, load_settings
from .._store import RedisStore, Store, StoreUnavailable
from ..exceptions import ConfigurationError


def run(*, as_json: bool) -> int:
    """Print the status; 1 when a mode is on or the budget passed a threshold."""
    settings = load_settings()
    notes: list[str] = []
    store: Store | None = None
    if settings.redis_url:
        store = RedisStore.from_url(settings.redis_url)
        try:
            store.ping()
        except StoreUnavailable as error:
            notes.append(f"Redis unreachable, fleet state unknown: {redact(str(error))}")
            store = None
    else:
        notes.append("SFRESILIENCE_REDIS_URL is unset: no fleet switch or fleet budget to read")
    sf = _client(notes)
    mode, budget = _read(settings, store, notes, sf)
    breaker = _breaker(store, sf, notes)
    mode = with_reasons(mode, [*_fallback_reasons(store), *_breaker_reason(breaker)])
    document = _document(mode, budget, notes)
    document["breaker"] = breaker
    document["cache"] = _cache(settings, store)
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        _render(document, Console())
    unhealthy = mode.effective != "normal" or (budget is not None and budget.level != "normal")
    return 1 if unhealthy or (store is None and settings.redis_url) else 0


def _read(
    settings: Settings, store: Store | None, notes: list[str], sf: Salesforce | None
) -> tuple[Mode, Budget | None]:
    if sf is not None and store is not None:
        admission = install_budget(sf, settings, store=store)
        try:
            return admission.mode_snapshot(), admission.budget.snapshot()
        except StoreUnavailable as error:
            notes.append(f"Redis failed while reading: {redact(str(error))}")
    sources: list[Any] = [EnvToggle("SF_CRITICAL_ONLY", CRITICAL_ONLY)]
    if store is not None:
        sources.append(FleetSwitch(store, CRITICAL_ONLY))
    return Modes(sources).snapshot(), None


def _fallback_reasons(store: Store | None) -> list[ModeReason]:
    sources: list[Any] = [EnvToggle("SF_FALLBACK_MODE", FALLBACK)]
    if store is not None:
        sources.append(FleetSwitch(store, FALLBACK))
    return [reason for source in sources for reason in source.reasons()]


def _breaker(store: Store | None, sf: Salesforce | None, notes: list[str]) -> dict[str, Any] | None:
    """The fleet's last breaker change for the org (clients post it); None: not known."""
    if store is None or sf is None:
        return None
    try:
        raw = store.get(board_key(org_key(sf)))
    except StoreUnavailable as error:
        notes.append(f"Redis failed while reading the breaker: {redact(str(error))}")
        return None
    if raw is None:
        return {"state": "closed", "detail": "no client reports an open breaker", "since": None}
    try:
        found: dict[str, Any] = json.loads(raw)
    except ValueError:
        return {"state": "unknown", "detail": "unreadable breaker record", "since": None}
    return found


def _breaker_reason(breaker: dict[str, Any] | None) -> list[ModeReason]:
    if breaker is None or breaker.get("state") not in {"open", "half-open"}:
        return []
    since = breaker.get("since")
    when = datetime.fromtimestamp(since, UTC) if isinstance(since, int | float) else None
    return [ModeReason(FALLBACK, "breaker", str(breaker.get("detail")), when)]


def _cache(settings: Settings, store: Store | None) -> dict[str, Any]:
    encrypted = settings.cache_key is not None
    if not settings.redis_url:
        backend, health = "embedded", "in each process (not visible from here)"
    else:
        backend = "redis"
        health = "reachable" if store is not None else "unavailable (Redis unreachable)"
    return {
        "backend": backend,
        "health": health,
        "ttl": settings.cache_ttl,
        "encrypted": encrypted,
    }


def _client(notes: list[str]) -> Salesforce | None:
    """A client of the org named by ``SF_*`` (for its budget ledger), or None."""
    try:
        kwargs, _ = login_from_env(requests.Session())
        return Salesforce(**kwargs)
    except ConfigurationError:
        notes.append("no SF_* credentials: the budget is per org, so it is not shown")
    except Exception as error:  # noqa: BLE001  (a refused login is a note here, not a crash)
        notes.append(f"could not log in to read the org's budget: {redact(str(error))[:200]}")
    return None


def _document(mode: Mode, budget: Budget | None, notes: list[str]) -> dict[str, Any]:
    return {
        "mode": {
            "effective": mode.effective,
            "reasons": [
                {
                    "mode": reason.mode,
                    "source": reason.source,
                    "detail": reason.detail,
                    "since": reason.since.isoformat() if reason.since else None,
                }
                for reason in mode.reasons
            ],
        },
        "budget": None if budget is None else _budget(budget),
        "notes": notes,
    }


def _budget(budget: Budget) -> dict[str, Any]:
    return {
        "used": budget.used,
        "limit": budget.limit,
        "remaining": budget.remaining,
        "fraction": budget.fraction,
        "level": budget.level,
        "source": budget.source,
        "age": budget.age,
        "by_caller": dict(sorted(budget.by_caller.items(), key=lambda item: -item[1])),
    }


def _render(document: dict[str, Any], console: Console) -> None:
    mode = document["mode"]
    style = "bold green" if mode["effective"] == "normal" else "bold red"
    console.print(Text.assemble("mode: ", (mode["effective"], style)))
    for reason in mode["reasons"]:
        since = f" since {reason['since']}" if reason["since"] else ""
        line = f"  {reason['mode']} ← {reason['source']}: {reason['detail']}{since}"
        console.print(Text(line))
    budget = document["budget"]
    if budget is not None:
        console.print(Text(_budget_line(budget)))
        if budget["by_caller"]:
            table = Table(
                "caller", "calls", title="API calls by caller (24 h)", title_justify="left"
            )
            for name, calls in budget["by_caller"].items():
                table.add_row(Text(name), f"{calls:,}")
            console.print(table)
    breaker = document.get("breaker")
    if breaker is not None:
        console.print(Text(f"breaker: {breaker['state']} ({breaker['detail']})"))
    cache = document["cache"]
    sealed = "encrypted" if cache["encrypted"] else "not encrypted"
    console.print(
        Text(f"cache: {cache['backend']}, {cache['health']}; ttl {cache['ttl']:g} s, {sealed}")
    )
    for note in document["notes"]:
        console.print(Text(f"note: {note}", style="dim"))


def _budget_line(budget: dict[str, Any]) -> str:
    if budget["used"] is None or budget["limit"] is None:
        return "budget: not read yet (no client has reported the org's usage)"
    return (
        f"budget: {budget['used']:,} of {budget['limit']:,} daily API calls "
        f"({budget['fraction']:.0%}, {budget['level']}; from {budget['source']}, "
        f"{budget['age']:.0f} s ago)"
    )
