"""The library's own errors.

Salesforce's errors are *not* here: they reach you as simple-salesforce's own
exception types (or ``requests``' for network failures), unchanged, with a
``.classification`` attribute added. The errors below are raised only when
sfresilience itself decides not to call Salesforce, or when it is misused::

    SFResilienceError
    ├── CriticalOnlyBlocked      critical-only mode refused non-critical work
    ├── BudgetExhausted          the API-budget guard refused the call
    ├── FallbackUnavailable      Salesforce is unavailable and nothing is cached
    ├── CircuitOpen              the breaker is open: Salesforce is known to be down
    ├── LockWaitTimeout          a write queued behind its record's lock past its deadline
    ├── WriteRefused             a write during an outage, maintenance or fallback mode
    └── ConfigurationError       (also a ValueError) a knob has an impossible value
"""

from __future__ import annotations


__all__ = [
    "BudgetExhausted",
    "CircuitOpen",
    "ConfigurationError",
    "CriticalOnlyBlocked",
    "FallbackUnavailable",
    "LockWaitTimeout",
    "SFResilienceError",
    "WriteRefused",
]


class SFResilienceError(Exception):
    """Base of every error sfresilience raises on its own account.

    The fail-fast ones (refusals, not failures) carry a ``.classification``
    from the classifier's own-error table, marked not retryable.
    """

    def __getattr__(self, name: str) -> object:
        # Only reached when no classification was set on the error itself.
        from ._classify import classify  # noqa: PLC0415  (keeps this module's namespace its own)
        from ._classify._table import own_error_key  # noqa: PLC0415

        if name == "classification" and own_error_key(self) is not None:
            return classify(self)
        raise AttributeError(name)


class CriticalOnlyBlocked(SFResilienceError):
    """Critical-only mode is on and this work is not marked critical."""


class BudgetExhausted(SFResilienceError):
    """The org's daily API allocation is (nearly) spent; the call was not sent."""


class FallbackUnavailable(SFResilienceError):
    """A read was to be served from the fallback cache, and it holds nothing usable.

    ``reason`` says why the read was not sent (e.g. ``SF_FALLBACK_MODE=true``)
    and ``cache`` why nothing could be served (a miss, too old, unavailable).
    """

    def __init__(self, message: str, *, reason: str = "", cache: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.cache = cache


class CircuitOpen(SFResilienceError):
    """Recent calls failed as unavailable; calls are refused until a probe succeeds.

    Raised for a read when nothing usable is cached; ``reason`` describes the breaker.
    """

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class WriteRefused(SFResilienceError):
    """A write was not sent: Salesforce is down or in maintenance, or fallback mode is on.

    Never a silent drop: ``mode`` names the mode (``"fallback"``, ``"breaker"``,
    ``"maintenance"``) and the message why; nothing reached Salesforce.
    """

    def __init__(self, message: str, *, mode: str) -> None:
        super().__init__(message)
        self.mode = mode


class LockWaitTimeout(SFResilienceError):
    """A write waited behind other writes of the same record until its deadline; it was not sent.

    Carries a ``ROW_LOCK`` ``.classification`` like the lock errors it stands for.
    """


class ConfigurationError(SFResilienceError, ValueError):
    """A setting has a value that cannot work."""
