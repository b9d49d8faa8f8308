"""A pytest plugin: every ``simple_salesforce.Salesforce`` a test suite builds is wrapped.

For running another project's own suite (simple-salesforce's, first of all) with
``ResilientClient`` in place of each client it builds, to show the wrapper is a
drop-in there too. ``nox -s peer -- /path/to/simple-salesforce`` loads it as::

    PYTHONPATH=tests/peer pytest -p wrap_salesforce /path/to/simple-salesforce

``Salesforce(...)`` and ``Salesforce.__new__(Salesforce)`` both return a
``ResilientClient`` around a real ``Salesforce``. The wrapper runs in testing
mode unless ``SFRESILIENCE_PEER_RETRIES=1``, in which case it keeps its full
retry policy and only the waiting is skipped.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from simple_salesforce.api import Salesforce

from sfresilience import Event, EventKind, ResilientClient, Settings, set_testing


wrapped_clients = 0
classified: list[str] = []


def _note(event: Event) -> None:
    if event.kind is EventKind.CLASSIFIED:
        classified.append(event.operation)


def _no_wait(_seconds: float) -> None:
    """Retries keep their order and count; only the waiting is skipped."""


def _wrapping_new(cls: type[Salesforce], *args: Any, **kwargs: Any) -> Any:
    global wrapped_clients  # noqa: PLW0603  (a count for the summary line)
    sf = object.__new__(cls)
    if cls is not Salesforce:
        return sf  # a subclass of the suite's own: leave it as it is
    if args or kwargs:
        # type() will not call __init__ on what __new__ returns, since that
        # is a ResilientClient; call it here on the real client.
        cls.__init__(sf, *args, **kwargs)
    wrapped_clients += 1
    return ResilientClient(sf, settings=Settings(), sleep=_no_wait, on_event=_note)


def pytest_configure(config: pytest.Config) -> None:
    Salesforce.__new__ = _wrapping_new  # type: ignore[method-assign,assignment]
    if os.environ.get("SFRESILIENCE_PEER_RETRIES") != "1":
        restore = set_testing(True)
        config.add_cleanup(lambda: restore.__exit__(None, None, None))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(
        f"sfresilience: {wrapped_clients} Salesforce clients built, each one wrapped; "
        f"{len(classified)} failed calls classified by the guard"
    )
