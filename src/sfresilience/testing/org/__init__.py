"""The org itself: schema, record store, SOQL and SOSL, record locks. No I/O."""

from .custom import CustomObject
from .errors import ApiError
from .query import QueryResult
from .schema import Field, SObject, ValidationRule
from .store import Org


__all__ = ["ApiError", "CustomObject", "Field", "Org", "QueryResult", "SObject", "ValidationRule"]
