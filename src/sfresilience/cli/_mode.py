"""``sfresilience mode critical-only|fallback on|off``: the fleet switch, through Redis.

The switch is the one ``client.mode`` reads (``_modes.set_fleet_switch``); it
carries the reason, who set it and until when, and lands in the timeline.
"""

from __future__ import annotations

import getpass
import json
import re
import socket
import sys
from typing import Final

import typer

from .._modes import CRITICAL_ONLY, FALLBACK, ModeName, set_fleet_switch
from .._redact import redact
from .._settings import Settings, load_settings
from .._store import RedisStore, StoreUnavailable
from .._timeline import Timeline


_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_LONGEST: Final = 7 * 86400.0  # the fleet switch lapses after a week whatever is asked


def parse_duration(text: str) -> float:
    """``90s``, ``30m``, ``2h``, ``1h30m``, ``1d`` → seconds; anything else is a clear error."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(number + unit for number, unit in parts) != compact:
        msg = f"expected a duration such as 30m, 2h or 1h30m (got {text!r})"
        raise typer.BadParameter(msg, param_hint="'--for'")
    seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    if not 0 < seconds <= _LONGEST:
        msg = f"between 1s and 7d (got {text!r})"
        raise typer.BadParameter(msg, param_hint="'--for'")
    return seconds


def who() -> str:
    """``user@host`` of whoever runs the command, for the record."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a bare container)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def run(mode: ModeName, *, on: bool, reason: str, duration: str | None, as_json: bool) -> int:
    """Set or clear the switch fleet-wide; 1 with one line on stderr when it cannot."""
    settings = load_settings()
    seconds = parse_duration(duration) if duration is not None else None
    if not settings.redis_url:
        variable = "SF_FALLBACK_MODE" if mode == FALLBACK else "SF_CRITICAL_ONLY"
        _fail(
            "a fleet-wide switch needs Redis: set SFRESILIENCE_REDIS_URL "
            f"(for a single process, set {variable}=true instead)"
        )
        return 1
    try:
        record = _switch(settings, mode, on=on, reason=reason, seconds=seconds)
    except StoreUnavailable as error:
        _fail(f"the switch was not set: {redact(str(error))}")
        return 1
    if as_json:
        sys.stdout.write(json.dumps(record) + "\n")
    else:
        state = "on" if on else "off"
        until = f" for {duration}" if on and duration else ""
        typer.echo(f"{mode} {state} fleet-wide{until}: {record['reason'] or '(no reason)'}")
    return 0


def _switch(
    settings: Settings, mode: ModeName, *, on: bool, reason: str, seconds: float | None
) -> dict[str, object]:
    # Redis itself, not the failover store: a switch that silently stayed local
    # would tell the on-call it worked when no worker sees it.
    assert settings.redis_url is not None  # noqa: S101  (checked by the caller)
    store = RedisStore.from_url(settings.redis_url)
    store.ping()
    by = who()
    text = redact(reason.strip())
    detail = f"{text} (set by {by})" if text else f"set by {by}"
    set_fleet_switch(store, mode, on=on, reason=detail, duration=seconds)
    timeline = Timeline(store)
    state = "on" if on else "off"
    timeline.record("mode", detail=f"{mode} {state} fleet-wide: {detail}")
    timeline.flush()
    return {"mode": mode, "on": on, "reason": text, "by": by, "for_seconds": seconds}


def _fail(message: str) -> None:
    typer.echo(f"sfresilience mode: {message}", err=True)


__all__ = ["CRITICAL_ONLY", "FALLBACK", "parse_duration", "run", "who"]
