"""A small client of the Trust status API: is there a core incident on this instance?

Behind an interface (:class:`StatusSource`) because the public Trust v1 API is
being replaced by My Trust Center (a personal access token); a second source
plugs in beside this one. An unreachable or unreadable status API is *unknown*
(None), never healthy.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import requests

from ._store import Store, StoreUnavailable


# Values of the instance ``status`` field that mean the core service is hit
# (salesforce-facts.md §1); unknown values are read as "not known to be".
_CORE_TROUBLE = frozenset({"MAJOR_INCIDENT_CORE", "MINOR_INCIDENT_CORE", "MAINTENANCE_CORE"})


@dataclasses.dataclass(frozen=True, slots=True)
class InstanceStatus:
    instance: str
    status: str | None
    """The instance's status value, e.g. ``"MAJOR_INCIDENT_CORE"``; None when unknown."""
    detail: str

    @property
    def core_incident(self) -> bool | None:
        """True/False when the status API answered, None when it could not tell."""
        return None if self.status is None else self.status in _CORE_TROUBLE


class StatusSource(Protocol):
    def instance_status(self, instance: str) -> InstanceStatus: ...


class TrustV1:
    """``GET {base}/v1/instances/{key}/status/preview`` with a short timeout."""

    def __init__(
        self, base_url: str, *, session: requests.Session | None = None, timeout: float = 2.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout

    def instance_status(self, instance: str) -> InstanceStatus:
        url = f"{self.base_url}/v1/instances/{instance}/status/preview"
        try:
            response = self._session.get(
                url, params={"childProducts": "false"}, timeout=self._timeout
            )
            response.raise_for_status()
            status = response.json().get("status")
        except (requests.RequestException, ValueError, AttributeError) as error:
            return InstanceStatus(instance, None, f"status API unreachable: {error}")
        if not isinstance(status, str):
            return InstanceStatus(instance, None, "status API gave no status")
        return InstanceStatus(instance, status, f"Trust reports {status} on {instance}")


def remembered_instance_key(host: str) -> str:
    """Where ``sfresilience triage`` keeps an org's instance name, by its host."""
    return f"triage:instance:{host}"


def remembered_instance(store: Store, host: str) -> str | None:
    """The instance name triage learnt for *host* while the org answered, if any.

    A My Domain host (``acme.my.salesforce.com``) does not name its instance.
    """
    try:
        found = store.get(remembered_instance_key(host))
    except StoreUnavailable:
        return None
    return found.decode(errors="replace") if found else None
