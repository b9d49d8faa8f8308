"""Single-flight: concurrent identical reads in one process make one API call."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any


class _Flight:
    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class SingleFlight:
    """The first caller of a key runs the call; the others wait and share its outcome.

    Followers get a deep copy of the leader's result, so one caller mutating
    its records never changes another's.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self.shared = 0

    def run(self, key: str, call: Callable[[], Any]) -> Any:
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
            else:
                self.shared += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return copy.deepcopy(flight.result)
        try:
            flight.result = call()
        except BaseException as error:
            flight.error = error
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()
        return flight.result
