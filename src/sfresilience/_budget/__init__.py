"""The API-budget guard: usage from every answer, thresholds, reservations, per-caller spend."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import requests

from .._events import Hook
from .._modes import CRITICAL_ONLY, EnvToggle, FleetSwitch, Mode, ModeReason, Modes, Pinned
from .._settings import Settings
from .._store import FailoverStore, MemoryStore, Store, Thresholds, shared_store
from ._guard import BudgetGuard, Tuning
from ._held import give_back
from ._snapshot import Budget
from ._tell import since_datetime
from ._transport import BudgetAdapter, request_kind


__all__ = ["Admission", "Budget", "BudgetGuard", "Tuning", "install", "request_kind"]


class Admission:
    """What decides whether a request may leave: the modes, then the budget."""

    def __init__(self, modes: Modes, budget: BudgetGuard) -> None:
        self.modes = modes
        self.budget = budget

    def mode_snapshot(self) -> Mode:
        """``client.mode``: every source's reasons, the budget guard's included."""
        self.budget.refresh()
        since = self.budget.critical_since()
        extra: tuple[ModeReason, ...] = ()
        if since is not None:
            extra = (
                ModeReason(
                    CRITICAL_ONLY,
                    "budget guard",
                    f"API usage reached SFRESILIENCE_BUDGET_CRITICAL "
                    f"({self.budget.thresholds.critical:.0%} of the daily allocation)",
                    since_datetime(since),
                ),
            )
        return self.modes.snapshot(extra)


def org_key(sf: Any) -> str:
    """The org a client talks to: the 15-character org id its session id starts with."""
    session_id = str(vars(sf).get("session_id") or "")
    org_id, bang, _ = session_id.partition("!")
    if bang and len(org_id) >= 15 and org_id.startswith("00D"):  # noqa: PLR2004
        return org_id[:15]
    return str(vars(sf).get("sf_instance") or "unknown-org")


def _existing(adapter: Any) -> BudgetAdapter | None:
    seen = 0
    while adapter is not None and seen < 16:  # noqa: PLR2004  (a chain, never a cycle)
        if isinstance(adapter, BudgetAdapter):
            return adapter
        adapter, seen = getattr(adapter, "inner", None), seen + 1
    return None


def install(
    sf: Any,
    settings: Settings,
    *,
    hooks: Sequence[Hook] = (),
    clock: Callable[[], float] | None = None,
    store: Store | None = None,
    tuning: Tuning | None = None,
) -> Admission:
    """Guard every request *sf*'s session sends; a second install reuses the first."""
    # vars(): Salesforce.__getattr__ would turn a missing name into an SFType.
    session = vars(sf).get("session")
    adapters = session.adapters if isinstance(session, requests.Session) else {}
    for adapter in adapters.values():
        found = _existing(adapter)
        if found is not None:
            return Admission(found.modes, found.budget)
    if store is None:
        # Redis: one view for the fleet. Without it, each client keeps its own
        # ledger (the header still tells it what the rest of the org spends).
        store = shared_store(settings.redis_url) if settings.redis_url else MemoryStore()
    elif not isinstance(store, (MemoryStore, FailoverStore)):
        store = FailoverStore(store)  # a store that can fail must never fail a call
    thresholds = Thresholds(warn=settings.budget_warn, critical=settings.budget_critical)
    extra: dict[str, Any] = {} if clock is None else {"clock": clock}
    budget = BudgetGuard(store, org_key(sf), thresholds, hooks=hooks, tuning=tuning, **extra)
    weakref.finalize(budget, give_back, store, budget.key, thresholds, budget.held)
    sources: list[Any] = [EnvToggle("SF_CRITICAL_ONLY", CRITICAL_ONLY, **extra)]
    if settings.critical_only:  # set in code: it stays on whatever the variable says
        sources.append(Pinned(CRITICAL_ONLY, "Settings(critical_only=True)"))
    sources.append(FleetSwitch(store, CRITICAL_ONLY, **extra))
    modes = Modes(sources)
    if isinstance(session, requests.Session):  # not a user's test double
        for prefix, adapter in list(session.adapters.items()):
            session.mount(prefix, BudgetAdapter(adapter, modes, budget))
    return Admission(modes, budget)
