"""Hostile SOQL at the fake org: a result or Salesforce's 400, never a crash of the fake."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sfresilience.testing.org import Org
from sfresilience.testing.org.errors import ApiError


ORG = Org(accounts=3, contacts=3, opportunities=3)
WORDS = [
    "SELECT",
    "Id",
    "Name",
    "COUNT()",
    "FROM",
    "Account",
    "Contact",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "=",
    "!=",
    "<",
    ">",
    "(",
    ")",
    ",",
    "'x'",
    "'",
    "\\",
    "NULL",
    "TODAY",
    "LAST_N_DAYS:3",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "ORDER",
    "BY",
    "LIMIT",
    "OFFSET",
    "GROUP",
    "HAVING",
    "5",
    "-1",
    "99999999999999999999",
    "Account.Name",
    "(SELECT Id FROM Contacts)",
    "FOR",
    "UPDATE",
    "TYPEOF",
    "ALL",
    "ROWS",
    "MAX(Name)",
]
soql = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join),
    st.lists(st.sampled_from(WORDS), max_size=20).map(
        lambda w: "SELECT Id FROM Account " + " ".join(w)  # noqa: S608 (hostile SOQL is the point)
    ),
)


def status_of(text: str) -> int:
    """200 when the org answers *text*, else the status of the ApiError it raises."""
    try:
        ORG.query(text, include_deleted=False, version="59.0")
    except ApiError as error:
        return error.status
    return 200


@settings(max_examples=400, deadline=None)
@given(text=soql)
def test_any_soql_is_answered_or_refused_as_salesforce_would(text: str) -> None:
    assert status_of(text) in {200, 400}


@pytest.mark.parametrize("depth", [50, 5_000])
def test_deeply_nested_conditions_are_refused_or_answered(depth: int) -> None:
    text = "SELECT Id FROM Account WHERE " + "(" * depth + "Name = 'x'" + ")" * depth  # noqa: S608
    assert status_of(text) in {200, 400}
