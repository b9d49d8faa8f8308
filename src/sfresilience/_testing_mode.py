"""``set_testing``: make every guarded call instant and bounded in users' test suites."""

from __future__ import annotations

import dataclasses
import threading
from types import TracebackType


@dataclasses.dataclass(frozen=True, slots=True)
class TestingMode:
    """What testing mode changes: attempts are capped and backoff is zero."""

    attempts: int


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mode: TestingMode | None = None


_STATE = _State()


def current_testing_mode() -> TestingMode | None:
    """The testing mode in force now, read at call time."""
    return _STATE.mode


class _Restore:
    """Returned by set_testing: ignore it, or use it as a ``with`` block to undo."""

    __slots__ = ("_previous",)

    def __init__(self, previous: TestingMode | None) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with _STATE.lock:
            _STATE.mode = self._previous

    def __repr__(self) -> str:
        return f"<set_testing restore to {self._previous!r}>"


def set_testing(testing: bool, *, attempts: int = 1) -> _Restore:
    """Switch testing mode on or off for the whole process.

    In testing mode no guarded call sleeps, and none makes more than
    *attempts* attempts, so a user's test suite that drives failures through
    ``ResilientClient`` runs instantly. Session refresh still happens: it is
    behaviour, not waiting.

    Works as a statement or, to restore the previous mode afterwards, as a
    ``with`` block; blocks nest::

        sfresilience.set_testing(True)            # for the rest of the run
        with sfresilience.set_testing(True, attempts=3):
            ...                                   # previous mode restored after

    Args:
        testing: ``True`` to switch testing mode on, ``False`` to switch it off.
        attempts: the most attempts any guarded call makes while testing.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    with _STATE.lock:
        previous = _STATE.mode
        _STATE.mode = TestingMode(attempts) if testing else None
    return _Restore(previous)
