"""What the fake org's SOQL costs on a 10,000-contact org: filters, parent paths,
parent-to-child subqueries, semi-joins, aggregates and FIELDS(), in process (no HTTP)."""

from __future__ import annotations

import time

from _report import Report, median_seconds

from sfresilience.testing import Org


QUERIES = (
    ("filter", "SELECT Id, Name FROM Contact WHERE LastName LIKE 'T%' AND Title != null"),
    ("parent path", "SELECT Name, Account.Name, Account.Industry FROM Contact"),
    (
        "subquery per account",
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName LIMIT 5) FROM Account",
    ),
    ("semi-join", "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact)"),
    ("anti-join", "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Opportunity)"),
    (
        "GROUP BY + aggregates",
        (
            "SELECT AccountId, COUNT(Id), COUNT_DISTINCT(Title) FROM Contact GROUP BY AccountId "
            "HAVING COUNT(Id) > 1 ORDER BY COUNT(Id) DESC"
        ),
    ),
    (
        "date function",
        (
            "SELECT CALENDAR_MONTH(CreatedDate), COUNT(Id) FROM Contact "
            "GROUP BY CALENDAR_MONTH(CreatedDate)"
        ),
    ),
    ("FIELDS(ALL) LIMIT 200", "SELECT FIELDS(ALL) FROM Contact LIMIT 200"),
)


def run(report: Report) -> None:
    contacts = 1_000 if report.quick else 10_000
    rounds = 3 if report.quick else 7
    started = time.perf_counter()
    org = Org(accounts=200, contacts=contacts, opportunities=500)
    seeded = time.perf_counter() - started
    report.section(
        "SOQL on the fake org",
        f"Org(accounts=200, contacts={contacts:,}, opportunities=500), seeded in "
        f"{seeded * 1e3:.0f} ms; median of {rounds} runs of `org.query(...)`, parsing, "
        "binding, evaluating and shaping included.",
    )
    rows = []
    for name, soql in QUERIES:
        result = org.query(soql, include_deleted=False, version="66.0")
        seconds = median_seconds(
            rounds, lambda soql=soql: org.query(soql, include_deleted=False, version="66.0")
        )
        rows.append([name, f"{result.total_size:,}", f"{seconds * 1e3:.1f} ms"])
    report.table(("query", "rows", "median"), rows)
