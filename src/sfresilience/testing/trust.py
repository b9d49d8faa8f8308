"""A fake of the Salesforce Trust status API v1, served on loopback for tests.

``FakeTrust`` answers the read endpoints of ``https://api.status.salesforce.com/v1``
with the shapes of a real 2020 capture (instance, incident and maintenance objects).
Tests script incidents and maintenances on it and read them back over HTTP:

    with FakeTrust(instances=("NA137",), clock=clock) as trust:
        incident_id = trust.open_incident("NA137", severity="minor")
        requests.get(f"{trust.url}/v1/instances/NA137/status", timeout=5)

Served routes (GET only; query parameters not listed here, such as
``childProducts`` or ``productKey``, are accepted and ignored):

- ``/v1/instances/{key}/status``: one instance with its current status and recent
  history (ongoing events, events that ended in the last 30 days, and upcoming
  maintenances).
- ``/v1/instances/{key}/status/preview``: one instance, ongoing events only.
- ``/v1/instances/status/preview``: an array of every instance, ongoing events only.
- ``/v1/incidents/active``: an array of ongoing incidents (``[]`` when none).
- ``/v1/incidents``: recent incidents (ongoing, or ended in the last 30 days),
  newest first; filters ``instance`` and ``service``; ``limit`` and ``offset``.
- ``/v1/maintenances``: every maintenance, latest planned start first; filters
  ``instance`` and ``service``; ``limit`` and ``offset``.

An unknown instance key answers 404 ``{"message": "Instance not found"}``. Instance
keys match case-insensitively.

Modelling choices (the real service documents none of these; see
``salesforce-facts.md`` §1):

- An incident is ongoing while any of its ``IncidentImpacts`` has ``endTime: null``;
  ``resolve_incident`` ends them all.
- A maintenance is ongoing by the clock (``plannedStartTime <= now <
  plannedEndTime``) unless ``start_maintenance`` or ``end_maintenance`` forced it
  on or off. Its ``message.eventStatus`` reads ``"scheduled"``, ``"inProgress"`` or
  ``"completed"`` accordingly (values unverified).
- The instance ``status`` comes from the most severe ongoing event: major incident,
  then minor incident, then maintenance, then informational incident. It is
  ``*_CORE`` if that event is core (core wins a tie), and ``OK`` when nothing is
  ongoing.

Standard library only. It is served by the fakes' shared ``HttpServer`` (``_http``),
which keeps keep-alive clients free of Nagle stalls. Methods other than GET, POST,
PUT, DELETE and PATCH answer 501 and are not logged.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from email.utils import formatdate
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from ._trust_model import (
    _DEFAULT_IMPACT_TYPE,
    _METHODS,
    _RANK,
    _SETTABLE_KEYS,
    _SEVERITIES,
    _STATUS_PREFIX,
    HISTORY_WINDOW,
    Severity,
    _BadRequestError,
    _default_instance,
    _Event,
    _Impact,
    _Incident,
    _instance_filter,
    _Maintenance,
    _NotFoundError,
    _page,
    _utc_now,
)
from .wire.http import HttpRequest, HttpResponse, HttpServer


__all__ = ["FakeTrust"]


class FakeTrust:
    """The Trust status API v1 on ``127.0.0.1``, scripted from the test's thread.

    Every scripting method is thread-safe. Timestamps come from ``clock`` (a
    callable returning a ``datetime``; naive values are taken as UTC), which
    defaults to the real UTC time.
    """

    def __init__(
        self,
        instances: Iterable[str] = ("NA137",),
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._clock = clock if clock is not None else _utc_now
        self._lock = threading.RLock()  # guards the scripted state and the log
        # Serialises start/stop/unreachable/reachable; never taken by handlers, so
        # stop() can join handler threads while holding it.
        self._lifecycle = threading.Lock()
        self._instances: dict[str, dict[str, Any]] = {}
        self._incidents: dict[int, _Incident] = {}
        self._maintenances: dict[int, _Maintenance] = {}
        self._next_id = {"incident": 5968, "impact": 6428, "event": 9100, "mnt": 430}
        self.request_log: list[tuple[str, str, int]] = []
        """Each request served, as ``(method, path with query string, status)``."""
        self._server: HttpServer | None = None  # set while started
        for key in instances:
            self.add_instance(key)

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        """Listen on an OS-chosen port and serve from daemon threads."""
        with self._lifecycle:
            if self._server is not None:
                raise RuntimeError("FakeTrust is already running")
            server = HttpServer(self._handle, name="fake-trust")
            server.start()
            self._server = server
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and close every socket."""
        with self._lifecycle:
            server, self._server = self._server, None
            if server is not None:
                server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether `start()` was called and `stop()` not since."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The TCP port, kept across ``unreachable()``/``reachable()``."""
        return self._running_server().port

    @property
    def url(self) -> str:
        """The API base, e.g. ``http://127.0.0.1:PORT``; append ``/v1/...``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_reachable(self) -> bool:
        """Whether the server is currently accepting connections."""
        server = self._server
        return server is not None and server.listening

    def unreachable(self) -> None:
        """Close the listening socket and every open connection: connects are refused.

        Keep-alive connections of clients are dropped too, so pooled sessions fail
        on their next request instead of being answered.
        """
        with self._lifecycle:
            self._running_server().pause()

    def reachable(self) -> None:
        """Listen again on the same port after ``unreachable()``."""
        with self._lifecycle:
            self._running_server().resume()

    def _running_server(self) -> HttpServer:
        server = self._server
        if server is None:
            raise RuntimeError("FakeTrust is not started")
        return server

    # -- scripting -----------------------------------------------------------

    def add_instance(self, key: str, **fields: Any) -> None:
        """Add an instance (or update one) with instance-object fields overridden.

        ``fields`` use the JSON names (``location``, ``environment``,
        ``releaseVersion``, ``isActive``, ``Products``, ``Tags``, ...);
        ``status``, ``Incidents`` and ``Maintenances`` are derived.
        """
        bad = sorted(set(fields) - _SETTABLE_KEYS)
        if bad:
            raise TypeError(f"cannot set instance fields {bad}")
        with self._lock:
            record = self._instances.setdefault(key.upper(), _default_instance(key))
            record.update(copy.deepcopy(fields))

    def instance_status(self, key: str) -> str:
        """The ``status`` enum the instance currently reports."""
        with self._lock:
            return self._status(self._instance(key)["key"], self._clock())

    def open_incident(
        self,
        instance: str | Iterable[str],
        *,
        severity: Severity = "major",
        is_core: bool = True,
        service: str = "coreService",
        type: str | None = None,  # noqa: A002  (the impact's JSON field name)
        message: str | Mapping[str, Any] | None = None,
        affects_all: bool = True,
    ) -> int:
        """Open an ongoing incident on one or more instances and return its id.

        ``type`` is the impact type (default by severity, e.g.
        ``"serviceDisruption"``). ``message`` is the incident's ``message`` dict;
        a string becomes ``{"subject": ...}`` next to the usual null keys.
        """
        if severity not in _SEVERITIES:
            raise ValueError(f"severity must be one of {_SEVERITIES}")
        keys = [instance] if isinstance(instance, str) else list(instance)
        body: dict[str, Any] = {
            "pathToResolution": None,
            "actionPlan": None,
            "rootCause": None,
        }
        if isinstance(message, str):
            body["subject"] = message
        elif message is not None:
            body = dict(message)
        with self._lock:
            now = self._clock()
            instance_keys = [self._instance(key)["key"] for key in keys]
            incident_id = self._new_id("incident")
            impact = _Impact(
                id=self._new_id("impact"),
                start=now,
                end=None,
                type=type if type is not None else _DEFAULT_IMPACT_TYPE[severity],
                severity=severity,
                created=now,
                updated=now,
            )
            self._incidents[incident_id] = _Incident(
                id=incident_id,
                external_id=f"{8_593_854 + incident_id - 5968:08d}",
                message=body,
                is_core=is_core,
                affects_all=affects_all,
                created=now,
                updated=now,
                instance_keys=instance_keys,
                service_keys=[service],
                impacts=[impact],
            )
            return incident_id

    def update_incident(
        self,
        incident_id: int,
        message: str,
        *,
        type: str = "update",  # noqa: A002  (the event's JSON field name)
    ) -> int:
        """Post an ``IncidentEvent`` with free-text ``message``; return its id."""
        with self._lock:
            incident = self._incident(incident_id)
            now = self._clock()
            event = _Event(self._new_id("event"), type, message, now)
            incident.events.append(event)
            incident.updated = now
            return event.id

    def resolve_incident(self, incident_id: int) -> None:
        """End every ongoing impact now; the incident stays in recent history."""
        with self._lock:
            incident = self._incident(incident_id)
            now = self._clock()
            for impact in incident.impacts:
                if impact.end is None:
                    impact.end = impact.end_created = impact.updated = now
            incident.updated = now

    def schedule_maintenance(
        self,
        instance: str | Iterable[str],
        *,
        start: datetime,
        end: datetime,
        name: str = "Scheduled Maintenance",
        availability: str = "read-only",
        is_core: bool = True,
        service: str = "coreService",
        maintenance_type: str = "generalMaintenance",
    ) -> int:
        """Plan a maintenance window and return its id.

        It is ongoing while the clock is within ``[start, end)``, unless forced by
        ``start_maintenance`` or ``end_maintenance``.
        """
        if end <= start:
            raise ValueError("end must be after start")
        keys = [instance] if isinstance(instance, str) else list(instance)
        with self._lock:
            now = self._clock()
            instance_keys = [self._instance(key)["key"] for key in keys]
            maintenance_id = self._new_id("mnt")
            self._maintenances[maintenance_id] = _Maintenance(
                id=maintenance_id,
                impact_id=self._new_id("impact"),
                external_id=f"MNT-{maintenance_id:06d}",
                name=name,
                maintenance_type=maintenance_type,
                availability=availability,
                planned_start=start,
                planned_end=end,
                is_core=is_core,
                created=now,
                updated=now,
                instance_keys=instance_keys,
                service_keys=[service],
                events=[_Event(self._new_id("event"), "scheduled", name, now)],
            )
            return maintenance_id

    def start_maintenance(self, maintenance_id: int) -> None:
        """Force the maintenance ongoing now, whatever its planned window."""
        with self._lock:
            maintenance = self._maintenance(maintenance_id)
            now = self._clock()
            maintenance.forced = "started"
            maintenance.actual_start, maintenance.actual_end = now, None
            maintenance.updated = now

    def end_maintenance(self, maintenance_id: int) -> None:
        """Force the maintenance over now, whatever its planned window."""
        with self._lock:
            maintenance = self._maintenance(maintenance_id)
            now = self._clock()
            maintenance.forced = "ended"
            if maintenance.actual_start is None:
                maintenance.actual_start = min(now, maintenance.planned_start)
            maintenance.actual_end = maintenance.updated = now

    def clear(self) -> None:
        """Forget every incident, maintenance and logged request; keep instances."""
        with self._lock:
            self._incidents.clear()
            self._maintenances.clear()
            self.request_log.clear()

    # -- state helpers (call with the lock held) -----------------------------

    def _new_id(self, kind: str) -> int:
        self._next_id[kind] += 1
        return self._next_id[kind]

    def _instance(self, key: str) -> dict[str, Any]:
        try:
            return self._instances[key.upper()]
        except KeyError:
            raise KeyError(f"unknown instance {key!r}; add_instance() it") from None

    def _incident(self, incident_id: int) -> _Incident:
        try:
            return self._incidents[incident_id]
        except KeyError:
            raise KeyError(f"unknown incident {incident_id}") from None

    def _maintenance(self, maintenance_id: int) -> _Maintenance:
        try:
            return self._maintenances[maintenance_id]
        except KeyError:
            raise KeyError(f"unknown maintenance {maintenance_id}") from None

    def _incidents_of(self, key: str | None, service: str | None) -> list[_Incident]:
        return [
            incident
            for incident in sorted(self._incidents.values(), key=lambda i: -i.id)
            if (key is None or key in incident.instance_keys)
            and (service is None or service in incident.service_keys)
        ]

    def _maintenances_of(self, key: str | None, service: str | None) -> list[_Maintenance]:
        return [
            maintenance
            for maintenance in sorted(
                self._maintenances.values(),
                key=lambda m: (m.planned_start, m.id),
                reverse=True,
            )
            if (key is None or key in maintenance.instance_keys)
            and (service is None or service in maintenance.service_keys)
        ]

    @staticmethod
    def _incident_recent(incident: _Incident, now: datetime) -> bool:
        if incident.ongoing_severity() is not None:
            return True
        last_end = incident.last_end()
        return last_end is not None and last_end >= now - HISTORY_WINDOW

    @staticmethod
    def _maintenance_recent(maintenance: _Maintenance, now: datetime) -> bool:
        if maintenance.phase(now) != "completed":
            return True
        return maintenance.end_time() >= now - HISTORY_WINDOW

    def _status(self, key: str, now: datetime) -> str:
        worst: tuple[int, bool] = (0, False)
        for incident in self._incidents_of(key, None):
            severity = incident.ongoing_severity()
            if severity is not None:
                worst = max(worst, (_RANK[severity], incident.is_core))
        for maintenance in self._maintenances_of(key, None):
            if maintenance.phase(now) == "inProgress":
                worst = max(worst, (_RANK["maintenance"], maintenance.is_core))
        rank, is_core = worst
        if rank == 0:
            return "OK"
        severity = next(name for name, value in _RANK.items() if value == rank)
        return f"{_STATUS_PREFIX[severity]}_{'CORE' if is_core else 'NONCORE'}"

    def _instance_json(
        self, record: dict[str, Any], now: datetime, *, ongoing_only: bool
    ) -> dict[str, Any]:
        key = record["key"]
        incidents = [
            incident.to_json()
            for incident in self._incidents_of(key, None)
            if (
                incident.ongoing_severity() is not None
                if ongoing_only
                else self._incident_recent(incident, now)
            )
        ]
        maintenances = [
            maintenance.to_json(now)
            for maintenance in self._maintenances_of(key, None)
            if (
                maintenance.phase(now) == "inProgress"
                if ongoing_only
                else self._maintenance_recent(maintenance, now)
            )
        ]
        derived = {
            "status": self._status(key, now),
            "Incidents": incidents,
            "Maintenances": maintenances,
        }
        return {**record, **derived}  # the record's keys, already in wire order

    # -- HTTP ------------------------------------------------------------------

    def _handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request in JSON; runs on the connection's server thread."""
        if request.method not in _METHODS:
            return HttpResponse(HTTPStatus.NOT_IMPLEMENTED.value)
        status, payload = self._respond(request.method, request.target)
        return HttpResponse(
            status.value,
            json.dumps(payload, separators=(",", ":")).encode(),
            "application/json;charset=utf-8",
            (("Date", formatdate(usegmt=True)),),
        )

    def _respond(self, method: str, target: str) -> tuple[HTTPStatus, object]:
        """Answer one request and log it; runs on a server thread."""
        payload: object
        with self._lock:
            if method != "GET":
                status, payload = (
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    {"message": "Method not allowed"},
                )
            else:
                try:
                    status, payload = HTTPStatus.OK, self._route(target)
                except _NotFoundError as error:
                    status, payload = HTTPStatus.NOT_FOUND, {"message": str(error)}
                except _BadRequestError as error:
                    status, payload = HTTPStatus.BAD_REQUEST, {"message": str(error)}
                except Exception as error:  # noqa: BLE001  (show the test a 500)
                    status = HTTPStatus.INTERNAL_SERVER_ERROR
                    payload = {"message": f"FakeTrust error: {error!r}"}
            self.request_log.append((method, target, status.value))
            return status, payload

    def _route(self, target: str) -> object:
        split = urlsplit(target)
        parts = [unquote(part) for part in split.path.strip("/").split("/")]
        query = {name: values[-1] for name, values in parse_qs(split.query).items()}
        now = self._clock()
        match parts:
            case ["v1", "instances", "status", "preview"]:
                return [
                    self._instance_json(record, now, ongoing_only=True)
                    for record in self._instances.values()
                ]
            case ["v1", "instances", key, "status", *rest] if rest in ([], ["preview"]):
                record = self._instances.get(key.upper())
                if record is None:
                    raise _NotFoundError("Instance not found")
                return self._instance_json(record, now, ongoing_only=bool(rest))
            case ["v1", "incidents", "active"]:
                return [
                    incident.to_json()
                    for incident in self._incidents_of(None, None)
                    if incident.ongoing_severity() is not None
                ]
            case ["v1", "incidents"]:
                incidents = [
                    incident.to_json()
                    for incident in self._incidents_of(
                        _instance_filter(query), query.get("service")
                    )
                    if self._incident_recent(incident, now)
                ]
                return _page(incidents, query)
            case ["v1", "maintenances"]:
                maintenances = [
                    maintenance.to_json(now)
                    for maintenance in self._maintenances_of(
                        _instance_filter(query), query.get("service")
                    )
                ]
                return _page(maintenances, query)
            case _:
                raise _NotFoundError("Not found")
