"""The records FakeTrust keeps (instances, incidents, maintenances) in the Trust API's shapes.

Split from ``trust.py``; see its docstring for the modelling choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal


Severity = Literal["major", "minor", "informational"]

HISTORY_WINDOW: Final = timedelta(days=30)
"""How far back ``/status`` and ``/v1/incidents`` show events that have ended."""

_SEVERITIES: Final = ("major", "minor", "informational")
# Higher ranks win the instance status; maintenance sits between minor and info.
_RANK: Final = {"major": 4, "minor": 3, "maintenance": 2, "informational": 1}
_STATUS_PREFIX: Final = {
    "major": "MAJOR_INCIDENT",
    "minor": "MINOR_INCIDENT",
    "maintenance": "MAINTENANCE",
    "informational": "INFORMATIONAL",
}
_DEFAULT_IMPACT_TYPE: Final = {
    "major": "serviceDisruption",
    "minor": "performanceDegradation",
    "informational": "informational",
}
_DERIVED_KEYS: Final = frozenset({"key", "status", "Incidents", "Maintenances"})
_METHODS: Final = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH"})
"""Methods answered (non-GET with 405); others get a bare 501, unlogged."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    """Format like the Trust API: ``2020-07-29T19:04:35.523Z``."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _default_instance(key: str) -> dict[str, Any]:
    """A new instance record: every key of the instance object in the order the
    real API sends them. ``status``, ``Incidents`` and ``Maintenances`` are
    placeholders, derived when the instance is served.
    """
    prefix = key.upper().rstrip("0123456789")
    location = {"EU": "EMEA", "UM": "EMEA", "AP": "APAC", "JP": "APAC"}.get(prefix, "NA")
    return {
        "key": key.upper(),
        "location": location,
        "environment": "sandbox" if prefix == "CS" else "production",
        "releaseVersion": "Summer '20 Patch 14.5",
        "releaseNumber": "226.14.5",
        "status": "OK",
        "isActive": True,
        "city": "",
        "stateName": "",
        "stateCode": "",
        "countryName": "",
        "countryCode": "",
        "maintenanceWindow": "",
        "Products": [{"key": "Salesforce_Services", "order": 1, "isActive": True}],
        "Incidents": [],
        "Maintenances": [],
        "Tags": [],
    }


# ``_DERIVED_KEYS`` cannot be set with ``add_instance``.
_SETTABLE_KEYS: Final = frozenset(_default_instance("")) - _DERIVED_KEYS


@dataclass
class _Impact:
    id: int
    start: datetime
    end: datetime | None
    type: str
    severity: str
    created: datetime
    updated: datetime
    end_created: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "startTime": _iso(self.start),
            "endTime": _iso(self.end),
            "type": self.type,
            "severity": self.severity,
            "createdAt": _iso(self.created),
            "updatedAt": _iso(self.updated),
            "startTimeCreatedAt": _iso(self.created),
            "startTimeModifiedAt": None,
            "endTimeCreatedAt": _iso(self.end_created),
            "endTimeModifiedAt": None,
        }


@dataclass
class _Event:
    id: int
    type: str
    message: str
    created: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "message": self.message,
            "createdAt": _iso(self.created),
            "updatedAt": _iso(self.created),
        }


@dataclass
class _Incident:
    id: int
    external_id: str
    message: dict[str, Any]
    is_core: bool
    affects_all: bool
    created: datetime
    updated: datetime
    instance_keys: list[str]
    service_keys: list[str]
    impacts: list[_Impact] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)

    def ongoing_severity(self) -> str | None:
        ongoing = [impact.severity for impact in self.impacts if impact.end is None]
        return max(ongoing, key=_RANK.__getitem__) if ongoing else None

    def last_end(self) -> datetime | None:
        ends = [impact.end for impact in self.impacts if impact.end is not None]
        return max(ends) if ends else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "externalId": self.external_id,
            "message": dict(self.message),
            "additionalInformation": "",
            "isCore": self.is_core,
            "affectsAll": self.affects_all,
            "createdAt": _iso(self.created),
            "updatedAt": _iso(self.updated),
            "IncidentImpacts": [impact.to_json() for impact in self.impacts],
            "IncidentEvents": [event.to_json() for event in self.events],
            "instanceKeys": list(self.instance_keys),
            "serviceKeys": list(self.service_keys),
        }


@dataclass
class _Maintenance:
    id: int
    impact_id: int
    external_id: str
    name: str
    maintenance_type: str
    availability: str
    planned_start: datetime
    planned_end: datetime
    is_core: bool
    created: datetime
    updated: datetime
    instance_keys: list[str]
    service_keys: list[str]
    events: list[_Event] = field(default_factory=list)
    forced: Literal["clock", "started", "ended"] = "clock"
    actual_start: datetime | None = None
    actual_end: datetime | None = None

    def phase(self, now: datetime) -> Literal["scheduled", "inProgress", "completed"]:
        if self.forced == "started":
            return "inProgress"
        if self.forced == "ended" or now >= self.planned_end:
            return "completed"
        return "inProgress" if now >= self.planned_start else "scheduled"

    def end_time(self) -> datetime:
        return self.actual_end if self.actual_end is not None else self.planned_end

    def to_json(self, now: datetime) -> dict[str, Any]:
        start = self.actual_start if self.actual_start is not None else self.planned_start
        end = None if self.forced == "started" else self.end_time()
        return {
            "id": self.id,
            "message": {
                "maintenanceType": self.maintenance_type,
                "availability": self.availability,
                "eventStatus": self.phase(now),
            },
            "externalId": self.external_id,
            "name": self.name,
            "plannedStartTime": _iso(self.planned_start),
            "plannedEndTime": _iso(self.planned_end),
            "additionalInformation": "",
            "isCore": self.is_core,
            "affectsAll": True,
            "createdAt": _iso(self.created),
            "updatedAt": _iso(self.updated),
            "MaintenanceImpacts": [
                {
                    "id": self.impact_id,
                    "startTime": _iso(start),
                    "endTime": _iso(end),
                    "type": "scheduledMaintenance",
                    "createdAt": _iso(self.created),
                    "updatedAt": _iso(self.updated),
                }
            ],
            "MaintenanceEvents": [event.to_json() for event in self.events],
            "instanceKeys": list(self.instance_keys),
            "serviceKeys": list(self.service_keys),
        }


class _NotFoundError(Exception):
    pass


class _BadRequestError(Exception):
    pass


def _instance_filter(query: Mapping[str, str]) -> str | None:
    value = query.get("instance")
    return value.upper() if value else None


def _page(items: list[dict[str, Any]], query: Mapping[str, str]) -> object:
    try:
        offset = int(query.get("offset", "0"))
        limit = int(query["limit"]) if "limit" in query else None
    except ValueError:
        raise _BadRequestError("limit and offset must be integers") from None
    if offset < 0 or (limit is not None and limit < 0):
        raise _BadRequestError("limit and offset must not be negative")
    end = None if limit is None else offset + limit
    return items[offset:end]
