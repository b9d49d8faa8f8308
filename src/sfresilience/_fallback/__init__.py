"""Serving reads through an outage: the breaker, single-flight and the fallback decision.

:func:`fallback_of` is how other parts of the library (``resilient_query``)
reach a client's :class:`Fallback`.
"""

from typing import Any

from ._breaker_cell import BreakerCell
from ._flight import SingleFlight
from ._outage import Fallback, stale_served_outside


__all__ = ["BreakerCell", "Fallback", "SingleFlight", "fallback_of", "stale_served_outside"]


def fallback_of(client: Any) -> Fallback:
    """The :class:`Fallback` a :class:`~sfresilience.ResilientClient` reads through.

    Every wrapper of one org on one store shares its breaker and its cache.
    """
    from .._client import ResilientClient  # noqa: PLC0415  (the client builds on this package)

    if not isinstance(client, ResilientClient):
        msg = f"fallback_of needs a ResilientClient, not {type(client).__name__}"
        raise TypeError(msg)
    return client._self_fallback  # noqa: SLF001
