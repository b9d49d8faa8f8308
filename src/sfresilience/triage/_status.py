"""Where Salesforce says how an instance is: behind an interface, Trust v1 for now.

The My Trust Center API is replacing Trust v1 (salesforce-facts.md §0); a second
``StatusSource`` plugs in beside this one. A source that cannot be reached
raises :class:`StatusUnavailable`: the caller reports *unknown*, never healthy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import requests

from .._redact import redact


__all__ = ["Happening", "InstanceHealth", "StatusSource", "StatusUnavailable", "TrustV1"]


class StatusUnavailable(Exception):
    """The status source did not answer, or answered something that is not a status."""


@dataclasses.dataclass(frozen=True, slots=True)
class Happening:
    """An ongoing incident or maintenance on the instance."""

    id: str
    kind: str
    """``"incident"`` or ``"maintenance"``."""
    is_core: bool
    severity: str
    """``"major"``, ``"minor"``, ``"informational"``, or ``"maintenance"``."""
    summary: str


@dataclasses.dataclass(frozen=True, slots=True)
class InstanceHealth:
    """What the status source says about one instance now."""

    key: str
    status: str
    """Trust's enum: ``OK``, ``MAJOR_INCIDENT_CORE``, ``MAINTENANCE_CORE`` ...

    Values this code does not know are kept as they are."""
    incidents: tuple[Happening, ...]
    maintenances: tuple[Happening, ...]


class StatusSource(Protocol):
    """Something that can say how a Salesforce instance is."""

    def instance(self, key: str, *, timeout: float) -> InstanceHealth:
        """The instance's health; raise StatusUnavailable when the source cannot say."""
        ...


class TrustV1:
    """``GET {base}/v1/instances/{key}/status``: status, incidents and maintenances at once."""

    def __init__(self, base_url: str, *, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()

    def instance(self, key: str, *, timeout: float) -> InstanceHealth:
        url = f"{self.base_url}/v1/instances/{quote(key)}/status?childProducts=false"
        try:
            response = self._session.get(url, timeout=timeout)
        except requests.RequestException as error:
            raise StatusUnavailable(f"{self.base_url} did not answer: {_short(error)}") from None
        if response.status_code == 404:  # noqa: PLR2004
            raise StatusUnavailable(f"Trust does not know the instance {key!r}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):  # noqa: PLR2004
            raise StatusUnavailable(
                f"{self.base_url} answered {response.status_code} without an instance status"
            )
        return _health(key, body, now=datetime.now(UTC))


def _short(error: Exception) -> str:
    return redact(str(error))[:160]


def _health(key: str, body: Mapping[str, Any], *, now: datetime) -> InstanceHealth:
    incidents = tuple(
        _incident(item) for item in _items(body.get("Incidents")) if _incident_ongoing(item)
    )
    maintenances = tuple(
        _maintenance(item) for item in _items(body.get("Maintenances")) if _in_window(item, now)
    )
    return InstanceHealth(
        key=str(body.get("key") or key).upper(),
        status=str(body.get("status") or "UNKNOWN"),
        incidents=incidents,
        maintenances=maintenances,
    )


def _items(value: object) -> Sequence[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _incident_ongoing(item: Mapping[str, Any]) -> bool:
    # /status carries resolved incidents too: ongoing means an impact has no end yet.
    return any(impact.get("endTime") is None for impact in _items(item.get("IncidentImpacts")))


def _incident(item: Mapping[str, Any]) -> Happening:
    impacts = [i for i in _items(item.get("IncidentImpacts")) if i.get("endTime") is None]
    severities = {str(i.get("severity") or "").lower() for i in impacts}
    severity = next((s for s in ("major", "minor") if s in severities), "informational")
    types = ", ".join(sorted({str(i.get("type")) for i in impacts if i.get("type")}))
    message = item.get("message")
    subject = message.get("subject") if isinstance(message, dict) else None
    summary = str(subject or types or "ongoing incident")
    return Happening(
        id=str(item.get("id", "?")),
        kind="incident",
        is_core=bool(item.get("isCore", True)),
        severity=severity,
        summary=redact(summary)[:160],
    )


def _in_window(item: Mapping[str, Any], now: datetime) -> bool:
    message = item.get("message")
    phase = message.get("eventStatus") if isinstance(message, dict) else None
    if phase in {"inProgress", "completed", "scheduled"}:
        return bool(phase == "inProgress")
    start, end = _when(item.get("plannedStartTime")), _when(item.get("plannedEndTime"))
    return start is not None and end is not None and start <= now < end


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _maintenance(item: Mapping[str, Any]) -> Happening:
    message = item.get("message")
    availability = message.get("availability") if isinstance(message, dict) else None
    name = str(item.get("name") or "maintenance")
    summary = f"{name} ({availability})" if availability else name
    return Happening(
        id=str(item.get("id", "?")),
        kind="maintenance",
        is_core=bool(item.get("isCore", True)),
        severity="maintenance",
        summary=redact(summary)[:160],
    )
