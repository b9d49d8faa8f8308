"""The org itself: schema, record store, SOQL and SOSL, record locks. No I/O."""

from .errors import ApiError
from .store import Org, QueryResult


__all__ = ["ApiError", "Org", "QueryResult"]
