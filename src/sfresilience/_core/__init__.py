"""What to do about a failure: pure decisions, no sockets, no sleeping, no clock.

The faces (the client wrapper, decorators, context managers) gather the facts
about a failed attempt into an :class:`Attempt`, ask :func:`decide`, and carry
out the :class:`Retry`, :class:`Refresh` or :class:`GiveUp` they get back.
"""

from ._backoff import backoff_delay
from ._decide import Attempt, Decision, GiveUp, Refresh, Retry, RetryPolicy, decide


__all__ = [
    "Attempt",
    "Decision",
    "GiveUp",
    "Refresh",
    "Retry",
    "RetryPolicy",
    "backoff_delay",
    "decide",
]
