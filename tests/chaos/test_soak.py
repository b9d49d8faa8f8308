"""The multi-process soak: a short smoke run here; `nox -s chaos` runs the full one
(`python -m tests.chaos.soak`, which exits 1 when a promise is broken).

The checks themselves are tested too: each broken promise planted in a fake org
must be reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceRefusedRequest
from tests.chaos.soak import Phase, soak, summary
from tests.chaos.soak_checks import check
from tests.chaos.soak_worker import Report

from sfresilience.testing import FakeSalesforce


pytestmark = pytest.mark.redis


def _broken(phases: list[Phase]) -> list[str]:
    return [f"{phase.name}: {line}" for phase in phases for line in phase.violations]


def test_soak_smoke() -> None:
    """Two workers, a few seconds a phase, every scheduled fault but the Redis kill (whose
    30 s cooldown outlasts the run, so the counters could not agree yet)."""
    phases = soak(seconds=6, baseline=1.5, workers=2, skip=("Redis killed",))
    assert [] == _broken(phases)
    assert all(phase.operations > 0 for phase in phases)
    faulted = phases[-1]
    assert len(faulted.faults) == 10, faulted.faults
    assert any(kind.endswith(":ok") for kind in faulted.outcomes())
    assert summary(phases)["phases"][-1]["violations"] == []


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(accounts=1, contacts=1, opportunities=0, api_limit=50) as fake:
        yield fake


def _phase(*reports: Report) -> Phase:
    return Phase("planted", 1.0, list(reports))


def _create(org: FakeSalesforce, external: str, **fields: Any) -> str:
    sf: Any = org.client()
    created = sf.Contact.create({"LastName": "X", "External_Id__c": external, **fields})
    return str(created["id"])


def test_the_checks_find_duplicates_lost_and_phantom_writes(org: FakeSalesforce) -> None:
    _create(org, "dup")
    _create(org, "dup")
    _create(org, "phantom")
    _create(org, "fine")
    report = Report(0, created={"dup": "ok", "lost": "ok", "phantom": "refused", "fine": "ok"})
    broken = check(_phase(report), org, checked_fleet=False)
    assert sorted(line.split(":")[0] for line in broken) == [
        "duplicate write",
        "lost write",
        "phantom write",
    ]


def test_the_checks_find_a_lost_update(org: FakeSalesforce) -> None:
    record = _create(org, "u", Title="older")
    history = [("older", "ok"), ("newer", "ok"), ("maybe", "ambiguous")]
    broken = check(_phase(Report(0, updates={record: history})), org, checked_fleet=False)
    assert ["lost update"] == [line.split(":")[0] for line in broken]
    sf: Any = org.client()
    sf.Contact.update(record, {"Title": "maybe"})
    assert [] == check(_phase(Report(0, updates={record: history})), org, checked_fleet=False)


def test_the_checks_find_an_overrun_budget_and_disagreeing_counters(
    org: FakeSalesforce,
) -> None:
    org.set_api_usage(50)
    with pytest.raises(SalesforceRefusedRequest):
        org.client().query("SELECT Id FROM Account")
    reports = (Report(0, by_caller={"a": 1}), Report(1, by_caller={"a": 2}))
    broken = check(_phase(*reports), org, checked_fleet=True)
    assert [line.split(":")[0] for line in broken] == [
        "budget overrun",
        "the fleet's per-caller counters disagree",
    ]


def test_the_checks_report_unclassified_errors(org: FakeSalesforce) -> None:
    report = Report(0, unclassified=["query: KeyError('x')"])
    assert ["unclassified error: query: KeyError('x')"] == check(
        _phase(report), org, checked_fleet=False
    )
