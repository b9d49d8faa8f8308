"""What the incident timeline costs a guarded call: one hook per event, batched writes."""

from __future__ import annotations

import time

from _report import Report

from sfresilience import classify
from sfresilience._events import Event, EventKind
from sfresilience._store import MemoryStore
from sfresilience._timeline import Timeline


LOCK = classify(status=500, body=[{"errorCode": "UNABLE_TO_LOCK_ROW", "message": "locked"}])


def run(report: Report) -> None:
    events = 20_000 if report.quick else 200_000
    report.section(
        "Incident timeline",
        f"{events:,} classified events into one timeline (memory store; a batch is "
        "written every 5 s of wall time, so a burst costs one dictionary update per event).",
    )
    timeline = Timeline(MemoryStore())
    event = Event(EventKind.CLASSIFIED, "Contact.update", 1, LOCK)
    start = time.perf_counter()
    for _ in range(events):
        timeline.hook(event)
    per_event = (time.perf_counter() - start) / events
    start = time.perf_counter()
    timeline.flush()
    flush = time.perf_counter() - start
    report.table(
        ["measure", "value"],
        [
            ["hook, per event", f"{per_event * 1e6:.2f} µs"],
            ["flush of the burst", f"{flush * 1e3:.2f} ms"],
        ],
    )
    # A guarded call on loopback takes about 1 ms: the hook should stay under 2 % of it.
    report.target("timeline hook per event", per_event * 1e6, 20.0, "µs")
