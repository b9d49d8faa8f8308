"""Exponential backoff whose jitter survives the cap."""

from __future__ import annotations


# 2**64 already dwarfs any sensible cap; beyond it the float maths would overflow.
_MAX_DOUBLINGS = 64


def backoff_delay(retry: int, *, initial: float, maximum: float, jitter: float) -> float:
    """Seconds to wait before retry number *retry* (1 for the first retry).

    The ceiling doubles from *initial* up to *maximum*; the delay is drawn from
    the upper half of the ceiling ("equal jitter"). At the cap, clients still
    spread over ``[maximum / 2, maximum]`` instead of all waking at exactly
    ``maximum`` (the herd that ``min(cap, base * 2**n + jitter)`` produces),
    and no retry ever fires immediately.

    Args:
        retry: 1-based number of the retry about to happen.
        initial: ceiling of the first retry's delay, seconds.
        maximum: ceiling of any delay, seconds.
        jitter: a uniform random number in ``[0, 1)``.
    """
    doublings = min(max(retry - 1, 0), _MAX_DOUBLINGS)
    ceiling = min(maximum, initial * 2.0**doublings)
    return ceiling / 2 + ceiling / 2 * jitter
