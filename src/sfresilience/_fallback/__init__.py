"""Serving reads through an outage: the breaker, single-flight and the fallback decision."""

from ._breaker_cell import BreakerCell
from ._flight import SingleFlight
from ._outage import Fallback


__all__ = ["BreakerCell", "Fallback", "SingleFlight"]
