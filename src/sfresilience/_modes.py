"""The modes a client can be in, and every reason each one is on.

A mode is on while any of its sources says so; ``client.mode`` lists them all,
each with where it came from and since when, so nothing overrides silently.
Sources are small objects with a ``reasons()`` method: the environment, a
fleet-wide switch in the store, a setting pinned in code, and the budget guard
now; the breaker and maintenance detection plug in the same way.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol

from pydantic import TypeAdapter, ValidationError

from ._store import Store
from .exceptions import ConfigurationError, CriticalOnlyBlocked


ModeName = Literal["normal", "critical-only", "fallback"]
Source = Literal["env", "settings", "fleet switch", "budget guard", "breaker", "maintenance"]

CRITICAL_ONLY: ModeName = "critical-only"
FALLBACK: ModeName = "fallback"
_PRECEDENCE: tuple[ModeName, ...] = (FALLBACK, CRITICAL_ONLY)  # the strongest first
_FLEET_TTL = 7 * 24 * 3600.0  # a switch set without a duration still lapses


@dataclasses.dataclass(frozen=True, slots=True)
class ModeReason:
    """One reason a mode is on."""

    mode: ModeName
    source: Source
    detail: str
    since: datetime | None
    """When it switched on (None: not known, e.g. a setting fixed in code)."""

    def __str__(self) -> str:
        when = f" since {self.since:%Y-%m-%d %H:%M:%SZ}" if self.since else ""
        return f"{self.source}: {self.detail}{when}"


@dataclasses.dataclass(frozen=True, slots=True)
class Mode:
    """``client.mode``: the mode calls run in, and every reason for it."""

    effective: ModeName
    reasons: tuple[ModeReason, ...]

    def __str__(self) -> str:
        if not self.reasons:
            return self.effective
        return f"{self.effective} ({'; '.join(str(r) for r in self.reasons)})"


class ReasonSource(Protocol):
    """Something that can switch a mode on."""

    def active(self) -> bool:
        """Cheap: whether any reason is on (asked on every call)."""
        ...

    def reasons(self) -> Iterable[ModeReason]: ...


# The environment -------------------------------------------------------------

_BOOL = TypeAdapter(bool)


class EnvToggle:
    """A ``true``/``false`` variable read at every call; a flip takes effect on the next one."""

    def __init__(
        self, variable: str, mode: ModeName, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.variable = variable
        self.mode = mode
        self._clock = clock
        self._raw: str | None = None
        self._on = False
        self._since: float | None = None

    def is_on(self) -> bool:
        raw = os.environ.get(self.variable)
        if raw != self._raw:
            self._update(raw)
        return self._on

    active = is_on

    def _update(self, raw: str | None) -> None:
        on = False
        if raw is not None and raw.strip():
            try:
                on = _BOOL.validate_python(raw.strip())
            except ValidationError as error:
                problem = error.errors(include_url=False)[0]["msg"]
                msg = (
                    f"invalid sfresilience configuration: {self.variable}: {problem} (got {raw!r})"
                )
                raise ConfigurationError(msg) from None
        if on and not self._on:
            self._since = self._clock()
        self._raw, self._on = raw, on

    def reasons(self) -> Iterable[ModeReason]:
        if not self.is_on():
            return ()
        since = datetime.fromtimestamp(self._since, UTC) if self._since else None
        return (ModeReason(self.mode, "env", f"{self.variable}=true", since),)


@dataclasses.dataclass(frozen=True, slots=True)
class Pinned:
    """A mode switched on in code (``Settings(critical_only=True)``)."""

    mode: ModeName
    detail: str

    def active(self) -> bool:
        return True

    def reasons(self) -> Iterable[ModeReason]:
        return (ModeReason(self.mode, "settings", self.detail, None),)


# The fleet switch ------------------------------------------------------------


def _switch_key(mode: ModeName) -> str:
    return f"mode:{mode}"


def set_fleet_switch(
    store: Store,
    mode: ModeName,
    *,
    on: bool,
    reason: str = "",
    duration: float | None = None,
    clock: Callable[[], float] = time.time,
) -> None:
    """Switch *mode* on or off for every process sharing *store* (``sfresilience mode``)."""
    if not on:
        store.delete(_switch_key(mode))
        return
    now = clock()
    record = {"reason": reason, "since": now, "until": now + duration if duration else None}
    store.set(_switch_key(mode), json.dumps(record).encode(), ttl=duration or _FLEET_TTL)


class FleetSwitch:
    """The switch in the store, re-read at most every *refresh* seconds (off the hot path)."""

    def __init__(
        self,
        store: Store,
        mode: ModeName,
        *,
        refresh: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.mode = mode
        self._refresh = refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._read_at = -float("inf")
        self._reason: ModeReason | None = None

    def current(self) -> ModeReason | None:
        now = self._clock()
        if now - self._read_at >= self._refresh:
            with self._lock:
                self._reason = self._read()
                self._read_at = now
        return self._reason

    def _read(self) -> ModeReason | None:
        raw = self.store.get(_switch_key(self.mode))
        if raw is None:
            return None
        try:
            record = json.loads(raw)
            since = datetime.fromtimestamp(float(record["since"]), UTC)
            detail = str(record.get("reason") or "switched on fleet-wide")
            until = record.get("until")
        except (ValueError, TypeError, KeyError):
            # An unreadable switch is still a switch someone set: keep it on, and say so.
            return ModeReason(self.mode, "fleet switch", "unreadable switch record", None)
        if until:
            detail += f" (until {datetime.fromtimestamp(float(until), UTC):%H:%M:%SZ})"
        return ModeReason(self.mode, "fleet switch", detail, since)

    def active(self) -> bool:
        return self.current() is not None

    def reasons(self) -> Iterable[ModeReason]:
        found = self.current()
        return (found,) if found else ()


# Putting them together -----------------------------------------------------


class Modes:
    """Every source of every mode, asked together."""

    def __init__(self, sources: Sequence[ReasonSource]) -> None:
        self.sources = tuple(sources)

    def snapshot(self, extra: Iterable[ModeReason] = ()) -> Mode:
        reasons = tuple(r for source in self.sources for r in source.reasons()) + tuple(extra)
        on = {reason.mode for reason in reasons}
        effective: ModeName = next((mode for mode in _PRECEDENCE if mode in on), "normal")
        return Mode(effective, reasons)

    def check(self, *, critical: bool) -> None:
        """Raise :class:`CriticalOnlyBlocked` for non-critical work while a reason says so."""
        if critical:
            return
        for source in self.sources:
            if source.active():
                break
        else:
            return
        reasons = [r for source in self.sources for r in source.reasons()]
        blocking = [r for r in reasons if r.mode == CRITICAL_ONLY]
        if blocking:
            named = "; ".join(str(reason) for reason in blocking)
            msg = f"critical-only mode is on ({named}); this work is not marked critical"
            msg += " and was not sent"
            raise CriticalOnlyBlocked(msg)


def with_reasons(mode: Mode, extra: Iterable[ModeReason]) -> Mode:
    """*mode* with more reasons (the fallback layer's), its effective mode recomputed."""
    reasons = (*mode.reasons, *extra)
    on = {reason.mode for reason in reasons}
    effective: ModeName = next((m for m in _PRECEDENCE if m in on), "normal")
    return Mode(effective, reasons)
