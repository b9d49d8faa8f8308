"""FakeTrust serves the Trust status API v1 shapes and follows its scripting."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from sfresilience.testing import FakeTrust


T0 = datetime(2020, 7, 29, 19, 4, 35, 523000, tzinfo=UTC)
T0_ISO = "2020-07-29T19:04:35.523Z"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

INSTANCE_KEYS = {
    "key",
    "location",
    "environment",
    "releaseVersion",
    "releaseNumber",
    "status",
    "isActive",
    "city",
    "stateName",
    "stateCode",
    "countryName",
    "countryCode",
    "maintenanceWindow",
    "Products",
    "Incidents",
    "Maintenances",
    "Tags",
}
INCIDENT_KEYS = {
    "id",
    "externalId",
    "message",
    "additionalInformation",
    "isCore",
    "affectsAll",
    "createdAt",
    "updatedAt",
    "IncidentImpacts",
    "IncidentEvents",
    "instanceKeys",
    "serviceKeys",
}
IMPACT_KEYS = {
    "id",
    "startTime",
    "endTime",
    "type",
    "severity",
    "createdAt",
    "updatedAt",
    "startTimeCreatedAt",
    "startTimeModifiedAt",
    "endTimeCreatedAt",
    "endTimeModifiedAt",
}
MAINTENANCE_KEYS = {
    "id",
    "message",
    "externalId",
    "name",
    "plannedStartTime",
    "plannedEndTime",
    "additionalInformation",
    "isCore",
    "affectsAll",
    "createdAt",
    "updatedAt",
    "MaintenanceImpacts",
    "MaintenanceEvents",
    "instanceKeys",
    "serviceKeys",
}


class Clock:
    """A hand-driven clock for deterministic timestamps."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    """A clock frozen at the moment of the real 2020 capture."""
    return Clock(T0)


@pytest.fixture
def trust(clock: Clock) -> Iterator[FakeTrust]:
    """A running fake with the instances NA137 and EU25."""
    with FakeTrust(instances=("NA137", "EU25"), clock=clock) as fake:
        yield fake


def get(trust: FakeTrust, path: str) -> requests.Response:
    return requests.get(f"{trust.url}{path}", timeout=5)


def get_json(trust: FakeTrust, path: str) -> Any:
    response = get(trust, path)
    assert 200 == response.status_code, response.text
    return response.json()


def test_url_is_the_loopback_api_base(trust: FakeTrust) -> None:
    """The url is http://127.0.0.1:PORT with the OS-chosen port."""
    assert f"http://127.0.0.1:{trust.port}" == trust.url
    assert trust.port > 0


def test_instance_status_has_the_real_instance_shape(trust: FakeTrust) -> None:
    """A quiet instance answers every documented key with OK and empty event lists."""
    body = get_json(trust, "/v1/instances/NA137/status")

    assert INSTANCE_KEYS == set(body)
    assert "NA137" == body["key"]
    assert "OK" == body["status"]
    assert [] == body["Incidents"]
    assert [] == body["Maintenances"]
    assert body["isActive"] is True
    assert "production" == body["environment"]
    assert isinstance(body["Products"], list)
    assert isinstance(body["Tags"], list)


def test_incident_has_the_real_incident_shape(trust: FakeTrust) -> None:
    """An open incident carries integer ids, a null endTime and lowercase severity."""
    incident_id = trust.open_incident(
        "NA137",
        severity="minor",
        type="performanceDegradationAsynchronousProcessingSubset",
    )

    [incident] = get_json(trust, "/v1/incidents/active")

    assert INCIDENT_KEYS == set(incident)
    assert incident_id == incident["id"]
    assert isinstance(incident["id"], int)
    assert isinstance(incident["externalId"], str)
    assert isinstance(incident["message"], dict)
    assert T0_ISO == incident["createdAt"]
    assert T0_ISO == incident["updatedAt"]
    assert ["NA137"] == incident["instanceKeys"]
    assert ["coreService"] == incident["serviceKeys"]
    assert incident["isCore"] is True
    assert [] == incident["IncidentEvents"]
    [impact] = incident["IncidentImpacts"]
    assert IMPACT_KEYS == set(impact)
    assert isinstance(impact["id"], int)
    assert T0_ISO == impact["startTime"]
    assert impact["endTime"] is None
    assert "minor" == impact["severity"]
    assert "performanceDegradationAsynchronousProcessingSubset" == impact["type"]


def test_timestamps_are_iso_with_milliseconds_and_z() -> None:
    """The real clock still formats timestamps with milliseconds and a Z suffix."""
    with FakeTrust() as fake:
        fake.open_incident("NA137")
        [incident] = get_json(fake, "/v1/incidents/active")

    assert ISO_MS.match(incident["createdAt"]) is not None
    assert ISO_MS.match(incident["IncidentImpacts"][0]["startTime"]) is not None


@pytest.mark.parametrize(
    ("severity", "is_core", "expected"),
    [
        ("major", True, "MAJOR_INCIDENT_CORE"),
        ("major", False, "MAJOR_INCIDENT_NONCORE"),
        ("minor", True, "MINOR_INCIDENT_CORE"),
        ("minor", False, "MINOR_INCIDENT_NONCORE"),
        ("informational", True, "INFORMATIONAL_CORE"),
        ("informational", False, "INFORMATIONAL_NONCORE"),
    ],
)
def test_incident_severity_sets_the_status_enum(
    trust: FakeTrust, severity: Any, is_core: bool, expected: str
) -> None:
    """Each severity and core flag maps to its status enum on every status route."""
    trust.open_incident("NA137", severity=severity, is_core=is_core)

    status = get_json(trust, "/v1/instances/NA137/status")["status"]
    preview = get_json(trust, "/v1/instances/NA137/status/preview")["status"]

    assert (expected, expected, expected) == (
        status,
        preview,
        trust.instance_status("NA137"),
    )
    assert "OK" == get_json(trust, "/v1/instances/EU25/status")["status"]


@pytest.mark.parametrize(
    ("is_core", "expected"),
    [(True, "MAINTENANCE_CORE"), (False, "MAINTENANCE_NONCORE")],
)
def test_started_maintenance_sets_the_status_enum(
    trust: FakeTrust, is_core: bool, expected: str
) -> None:
    """A maintenance forced on reports MAINTENANCE_CORE or MAINTENANCE_NONCORE."""
    maintenance_id = trust.schedule_maintenance(
        "NA137",
        start=T0 + timedelta(days=1),
        end=T0 + timedelta(days=2),
        is_core=is_core,
    )
    trust.start_maintenance(maintenance_id)

    assert expected == get_json(trust, "/v1/instances/NA137/status")["status"]


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([("major", False), ("minor", True)], "MAJOR_INCIDENT_NONCORE"),
        ([("major", False), ("major", True)], "MAJOR_INCIDENT_CORE"),
        ([("minor", False), ("maintenance", True)], "MINOR_INCIDENT_NONCORE"),
        ([("informational", True), ("maintenance", False)], "MAINTENANCE_NONCORE"),
    ],
)
def test_most_severe_ongoing_event_wins(
    trust: FakeTrust, events: list[tuple[Any, bool]], expected: str
) -> None:
    """Major beats minor beats maintenance beats informational; core wins a tie."""
    for severity, is_core in events:
        if severity == "maintenance":
            maintenance_id = trust.schedule_maintenance(
                "NA137", start=T0, end=T0 + timedelta(hours=1), is_core=is_core
            )
            trust.start_maintenance(maintenance_id)
        else:
            trust.open_incident("NA137", severity=severity, is_core=is_core)

    assert expected == get_json(trust, "/v1/instances/NA137/status")["status"]


def test_resolved_incident_stays_only_in_status_history(trust: FakeTrust, clock: Clock) -> None:
    """A resolved incident leaves active and preview but remains in /status."""
    incident_id = trust.open_incident("NA137", severity="major")
    clock.advance(timedelta(minutes=30))

    trust.resolve_incident(incident_id)

    assert [] == get_json(trust, "/v1/incidents/active")
    preview = get_json(trust, "/v1/instances/NA137/status/preview")
    assert ("OK", []) == (preview["status"], preview["Incidents"])
    status = get_json(trust, "/v1/instances/NA137/status")
    assert "OK" == status["status"]
    assert [incident_id] == [incident["id"] for incident in status["Incidents"]]
    [impact] = status["Incidents"][0]["IncidentImpacts"]
    assert "2020-07-29T19:34:35.523Z" == impact["endTime"]
    assert "2020-07-29T19:34:35.523Z" == impact["endTimeCreatedAt"]


def test_history_forgets_incidents_resolved_over_30_days_ago(
    trust: FakeTrust, clock: Clock
) -> None:
    """An incident resolved over 30 days ago drops out of /status and /incidents."""
    incident_id = trust.open_incident("NA137")
    trust.resolve_incident(incident_id)
    clock.advance(timedelta(days=31))

    assert [] == get_json(trust, "/v1/instances/NA137/status")["Incidents"]
    assert [] == get_json(trust, "/v1/incidents")


def test_update_incident_adds_an_incident_event(trust: FakeTrust, clock: Clock) -> None:
    """An update appends an IncidentEvent and bumps the incident's updatedAt."""
    incident_id = trust.open_incident("NA137")
    clock.advance(timedelta(minutes=5))

    event_id = trust.update_incident(incident_id, "Investigating the cause.")

    [incident] = get_json(trust, "/v1/incidents/active")
    expected_event = {
        "id": event_id,
        "type": "update",
        "message": "Investigating the cause.",
        "createdAt": "2020-07-29T19:09:35.523Z",
        "updatedAt": "2020-07-29T19:09:35.523Z",
    }
    assert [expected_event] == incident["IncidentEvents"]
    assert "2020-07-29T19:09:35.523Z" == incident["updatedAt"]


def test_incident_message_accepts_a_dict_or_a_subject(trust: FakeTrust) -> None:
    """A dict message is sent as is and a string becomes the message subject."""
    trust.open_incident("NA137", message={"subject": "Login", "eventStatus": "open"})
    trust.open_incident("EU25", message="Slow reports")

    newest, oldest = get_json(trust, "/v1/incidents/active")

    assert {"subject": "Login", "eventStatus": "open"} == oldest["message"]
    assert "Slow reports" == newest["message"]["subject"]


def test_all_instances_preview_lists_every_instance_with_ongoing_events(
    trust: FakeTrust,
) -> None:
    """The all-instances preview is an array of instance objects, ongoing only."""
    resolved = trust.open_incident("NA137", severity="minor")
    trust.resolve_incident(resolved)
    ongoing = trust.open_incident("EU25", severity="major", is_core=False)

    body = get_json(trust, "/v1/instances/status/preview")

    assert isinstance(body, list)
    by_key = {instance["key"]: instance for instance in body}
    assert {"NA137", "EU25"} == set(by_key)
    assert all(INSTANCE_KEYS == set(instance) for instance in body)
    assert ("OK", []) == (by_key["NA137"]["status"], by_key["NA137"]["Incidents"])
    assert "MAJOR_INCIDENT_NONCORE" == by_key["EU25"]["status"]
    assert [ongoing] == [incident["id"] for incident in by_key["EU25"]["Incidents"]]


def test_incident_can_span_several_instances(trust: FakeTrust) -> None:
    """An incident opened on two instances lists both keys and affects both statuses."""
    trust.open_incident(["NA137", "EU25"], severity="minor")

    [incident] = get_json(trust, "/v1/incidents/active")

    assert ["NA137", "EU25"] == incident["instanceKeys"]
    assert "MINOR_INCIDENT_CORE" == trust.instance_status("EU25")


def test_maintenance_has_the_real_maintenance_shape(trust: FakeTrust) -> None:
    """A maintenance carries the documented keys, an integer id and a message dict."""
    start, end = T0 + timedelta(days=2), T0 + timedelta(days=2, hours=4)
    maintenance_id = trust.schedule_maintenance(
        "NA137",
        start=start,
        end=end,
        name="Summer '20 Major Release",
        availability="unavailable",
    )

    [maintenance] = get_json(trust, "/v1/maintenances")

    assert MAINTENANCE_KEYS == set(maintenance)
    assert maintenance_id == maintenance["id"]
    assert isinstance(maintenance["id"], int)
    assert isinstance(maintenance["externalId"], str)
    assert "Summer '20 Major Release" == maintenance["name"]
    assert "2020-07-31T19:04:35.523Z" == maintenance["plannedStartTime"]
    assert "2020-07-31T23:04:35.523Z" == maintenance["plannedEndTime"]
    assert {"maintenanceType", "availability", "eventStatus"} == set(maintenance["message"])
    assert "unavailable" == maintenance["message"]["availability"]
    assert "scheduled" == maintenance["message"]["eventStatus"]
    assert ["NA137"] == maintenance["instanceKeys"]
    assert ["coreService"] == maintenance["serviceKeys"]
    [impact] = maintenance["MaintenanceImpacts"]
    assert (isinstance(impact["id"], int), impact["startTime"], impact["endTime"]) == (
        True,
        maintenance["plannedStartTime"],
        maintenance["plannedEndTime"],
    )
    [event] = maintenance["MaintenanceEvents"]
    assert "scheduled" == event["type"]


def test_maintenance_follows_the_clock_through_its_window(trust: FakeTrust, clock: Clock) -> None:
    """Without forcing, a maintenance is scheduled, then ongoing, then completed."""
    trust.schedule_maintenance("NA137", start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2))

    def observe() -> tuple[str, str, int, int]:
        status = get_json(trust, "/v1/instances/NA137/status")
        preview = get_json(trust, "/v1/instances/NA137/status/preview")
        return (
            status["status"],
            status["Maintenances"][0]["message"]["eventStatus"],
            len(status["Maintenances"]),
            len(preview["Maintenances"]),
        )

    before = observe()
    clock.advance(timedelta(hours=1))
    during = observe()
    clock.advance(timedelta(hours=1))
    after = observe()

    assert ("OK", "scheduled", 1, 0) == before
    assert ("MAINTENANCE_CORE", "inProgress", 1, 1) == during
    assert ("OK", "completed", 1, 0) == after


def test_end_maintenance_ends_it_before_its_planned_end(trust: FakeTrust, clock: Clock) -> None:
    """Ending a maintenance early makes the instance OK and sets the impact end."""
    maintenance_id = trust.schedule_maintenance("NA137", start=T0, end=T0 + timedelta(hours=4))
    assert "MAINTENANCE_CORE" == trust.instance_status("NA137")
    clock.advance(timedelta(hours=1))

    trust.end_maintenance(maintenance_id)

    assert "OK" == trust.instance_status("NA137")
    [maintenance] = get_json(trust, "/v1/maintenances")
    assert "completed" == maintenance["message"]["eventStatus"]
    assert "2020-07-29T20:04:35.523Z" == maintenance["MaintenanceImpacts"][0]["endTime"]


def test_maintenances_filter_by_instance_and_limit(trust: FakeTrust) -> None:
    """The instance query keeps that instance's maintenances and limit caps the list."""
    start, end = T0 + timedelta(days=1), T0 + timedelta(days=1, hours=1)
    na_first = trust.schedule_maintenance("NA137", start=start, end=end)
    eu = trust.schedule_maintenance("EU25", start=start, end=end)
    na_later = trust.schedule_maintenance(
        "NA137", start=T0 + timedelta(days=8), end=T0 + timedelta(days=8, hours=1)
    )

    def ids(path: str) -> list[int]:
        return [maintenance["id"] for maintenance in get_json(trust, path)]

    assert [na_later, na_first] == ids("/v1/maintenances?instance=NA137")
    assert [eu] == ids("/v1/maintenances?instance=EU25")
    assert [na_later] == ids("/v1/maintenances?instance=NA137&limit=1")
    assert 3 == len(ids("/v1/maintenances"))
    assert [] == ids("/v1/maintenances?instance=AP5")


def test_incidents_filter_by_instance(trust: FakeTrust) -> None:
    """The recent-incidents list filters on the instance query, newest first."""
    na_old = trust.open_incident("NA137")
    trust.resolve_incident(na_old)
    eu = trust.open_incident("EU25")
    na_new = trust.open_incident("NA137")

    def ids(path: str) -> list[int]:
        return [incident["id"] for incident in get_json(trust, path)]

    assert [na_new, na_old] == ids("/v1/incidents?instance=NA137")
    assert [eu] == ids("/v1/incidents?instance=EU25")
    assert [na_new, eu, na_old] == ids("/v1/incidents")
    assert [na_new] == ids("/v1/incidents?instance=NA137&limit=1")


def test_unknown_instance_answers_404_instance_not_found(trust: FakeTrust) -> None:
    """Both single-instance routes answer 404 with the real not-found message."""
    for path in ("/v1/instances/XX99/status", "/v1/instances/XX99/status/preview"):
        response = get(trust, path)

        assert (404, {"message": "Instance not found"}) == (
            response.status_code,
            response.json(),
        )


def test_extra_query_parameters_are_ignored(trust: FakeTrust) -> None:
    """Parameters such as childProducts and productKey do not change the answer."""
    trust.open_incident("NA137", severity="minor")

    plain = get_json(trust, "/v1/instances/NA137/status/preview")
    with_params = get_json(
        trust,
        "/v1/instances/NA137/status/preview?childProducts=false&productKey=x",
    )

    assert plain == with_params


def test_unreachable_refuses_connections_until_reachable(trust: FakeTrust) -> None:
    """Unreachable refuses even a kept-alive session; reachable serves the same port."""
    port = trust.port
    with requests.Session() as session:
        url = f"{trust.url}/v1/incidents/active"
        assert 200 == session.get(url, timeout=5).status_code

        trust.unreachable()
        with pytest.raises(requests.ConnectionError):
            session.get(url, timeout=5)
        with pytest.raises(requests.ConnectionError):
            requests.get(url, timeout=5)
        assert trust.is_reachable is False

        trust.reachable()
        assert 200 == session.get(url, timeout=5).status_code

    assert (port, True) == (trust.port, trust.is_reachable)


def test_request_log_records_method_path_and_status(trust: FakeTrust) -> None:
    """Every served request is logged as (method, path, status)."""
    get(trust, "/v1/incidents/active")
    get(trust, "/v1/instances/XX1/status?childProducts=false")
    requests.post(f"{trust.url}/v1/incidents/active", timeout=5)

    assert [
        ("GET", "/v1/incidents/active", 200),
        ("GET", "/v1/instances/XX1/status?childProducts=false", 404),
        ("POST", "/v1/incidents/active", 405),
    ] == trust.request_log


def test_bad_limit_answers_400(trust: FakeTrust) -> None:
    """A non-integer limit is a client error with a JSON message."""
    response = get(trust, "/v1/maintenances?limit=many")

    assert 400 == response.status_code
    assert "message" in response.json()


def test_clear_forgets_events_and_log_but_keeps_instances(trust: FakeTrust) -> None:
    """Clear drops incidents, maintenances and the request log, not the instances."""
    trust.open_incident("NA137")
    trust.schedule_maintenance("EU25", start=T0, end=T0 + timedelta(hours=1))
    get(trust, "/v1/incidents/active")

    trust.clear()

    assert [] == trust.request_log
    assert [] == get_json(trust, "/v1/incidents/active")
    assert [] == get_json(trust, "/v1/maintenances")
    assert ("OK", "OK") == (
        trust.instance_status("NA137"),
        trust.instance_status("EU25"),
    )


def test_add_instance_overrides_fields_and_matches_keys_case_insensitively(
    trust: FakeTrust,
) -> None:
    """Added instances take the given fields and answer to any key case."""
    trust.add_instance("CS73", city="Phoenix", isActive=False)

    body = get_json(trust, "/v1/instances/cs73/status")

    assert ("CS73", "Phoenix", False, "sandbox") == (
        body["key"],
        body["city"],
        body["isActive"],
        body["environment"],
    )


def test_scripting_rejects_derived_fields_and_unknown_names(trust: FakeTrust) -> None:
    """Derived instance fields, unknown instances and unknown ids raise."""
    with pytest.raises(TypeError):
        trust.add_instance("NA1", status="OK")
    with pytest.raises(KeyError):
        trust.open_incident("XX99")
    with pytest.raises(KeyError):
        trust.resolve_incident(12345)
    with pytest.raises(ValueError, match="severity"):
        trust.open_incident("NA137", severity="critical")  # type: ignore[arg-type]


def test_stop_and_restart_are_clean() -> None:
    """A fake can start, stop and start again without leaking sockets."""
    fake = FakeTrust()
    fake.start()
    assert 200 == get(fake, "/v1/incidents/active").status_code
    fake.stop()

    with pytest.raises(RuntimeError):
        _ = fake.url
    with fake:
        assert 200 == get(fake, "/v1/incidents/active").status_code


def test_scripting_is_thread_safe_while_serving(trust: FakeTrust) -> None:
    """Incidents opened from several threads during requests all get distinct ids."""
    opened: list[int] = []

    def open_many() -> None:
        opened.extend(trust.open_incident("NA137") for _ in range(25))

    threads = [threading.Thread(target=open_many) for _ in range(4)]
    with requests.Session() as session:
        for thread in threads:
            thread.start()
        for _ in range(10):
            session.get(f"{trust.url}/v1/incidents/active", timeout=5)
        for thread in threads:
            thread.join()

    active = get_json(trust, "/v1/incidents/active")
    assert (100, set(opened)) == (len(set(opened)), {i["id"] for i in active})


def test_keep_alive_requests_are_all_answered() -> None:
    """Twenty requests on one keep-alive session are all answered (speed: benchmarks)."""
    with FakeTrust() as fake, requests.Session() as session:
        url = f"{fake.url}/v1/instances/NA137/status"
        statuses = [session.get(url, timeout=5).status_code for _ in range(20)]
    assert [200] * 20 == statuses
