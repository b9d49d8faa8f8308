"""What to do about a failure: pure decisions, no sockets, no sleeping, no clock.

The faces (the client wrapper, decorators, context managers) gather the facts
about a failed attempt into an :class:`Attempt`, ask :func:`decide`, and carry
out the :class:`Retry`, :class:`QueueBehind`, :class:`Refresh` or
:class:`GiveUp` they get back.
"""

from ._backoff import backoff_delay
from ._contention import ContentionMap, contended_records, record_key
from ._decide import (
    Attempt,
    Decision,
    GiveUp,
    QueueBehind,
    Refresh,
    Retry,
    RetryPolicy,
    decide,
)


__all__ = [
    "Attempt",
    "ContentionMap",
    "Decision",
    "GiveUp",
    "QueueBehind",
    "Refresh",
    "Retry",
    "RetryPolicy",
    "backoff_delay",
    "contended_records",
    "decide",
    "record_key",
]
