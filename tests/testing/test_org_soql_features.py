"""SOQL beyond filters: subqueries, semi- and anti-joins, aggregates, FIELDS(), date
functions, toLabel() and FOR UPDATE, in the org and over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simple_salesforce.exceptions import SalesforceError

from sfresilience.testing import CustomObject, FakeSalesforce, Field, Org
from sfresilience.testing.org import ApiError


V = "59.0"


@pytest.fixture
def org() -> Org:
    """Two accounts with contacts and opportunities, one account with none."""
    org = Org(accounts=0, contacts=0, opportunities=0)
    acme = org.create("Account", {"Name": "Acme", "Industry": "Technology", "Rating": "Hot"})
    globex = org.create("Account", {"Name": "Globex", "Industry": "Technology"})
    org.create("Account", {"Name": "Initech", "Industry": "Finance"})
    for last, account in [("Lovelace", acme), ("Hopper", acme), ("Turing", globex)]:
        org.create("Contact", {"LastName": last, "AccountId": account})
    org.create("Contact", {"LastName": "Orphan"})
    for name, amount, stage, close, account in [
        ("A1", 100.0, "Closed Won", "2024-01-15", acme),
        ("A2", 300.0, "Prospecting", "2024-02-20", acme),
        ("G1", 50.0, "Closed Won", "2023-12-31", globex),
    ]:
        org.create(
            "Opportunity",
            {
                "Name": name,
                "Amount": amount,
                "StageName": stage,
                "CloseDate": close,
                "AccountId": account,
            },
        )
    return org


def _query(org: Org, soql: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    return org.query(soql, include_deleted=include_deleted, version=V).records


def _error(org: Org, soql: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        org.query(soql, include_deleted=False, version=V)
    return caught.value


# -- parent-to-child subqueries ------------------------------------------------


def test_subquery_nests_children_or_null(org: Org) -> None:
    """Each parent carries {totalSize, done, records} of its children, or null."""
    rows = _query(
        org,
        "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name",
    )
    assert ["Name", "Contacts"] == [key for key in rows[0] if key != "attributes"]
    acme = rows[0]["Contacts"]
    assert (2, True) == (acme["totalSize"], acme["done"])
    assert ["Hopper", "Lovelace"] == [child["LastName"] for child in acme["records"]]
    assert acme["records"][0]["attributes"]["type"] == "Contact"
    assert rows[2]["Contacts"] is None


def test_subquery_where_limit_and_relationship_case(org: Org) -> None:
    """Subqueries filter, limit and resolve relationship names ignoring case."""
    rows = _query(
        org,
        "SELECT Name, (SELECT Name, Amount FROM opportunities WHERE Amount > 60 LIMIT 1) "
        "FROM Account WHERE Name = 'Acme'",
    )
    children = rows[0]["Opportunities"]
    assert 1 == children["totalSize"]
    assert children["records"][0]["Amount"] > 60


def test_subquery_skips_deleted_children_unless_query_all(org: Org) -> None:
    """A deleted child disappears from the subquery; queryAll shows it."""
    hopper = next(row for row in org.records("Contact") if row["LastName"] == "Hopper")
    org.delete("Contact", str(hopper["Id"]))
    soql = "SELECT (SELECT Id FROM Contacts) FROM Account WHERE Name = 'Acme'"
    assert 1 == _query(org, soql)[0]["Contacts"]["totalSize"]
    assert 2 == _query(org, soql, include_deleted=True)[0]["Contacts"]["totalSize"]


# -- semi- and anti-joins -------------------------------------------------------


def test_semi_join_and_anti_join(org: Org) -> None:
    """Id IN (SELECT AccountId FROM Contact) and its NOT IN counterpart."""
    with_contacts = _query(
        org, "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact) ORDER BY Name"
    )
    without = _query(
        org, "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact)"
    )
    assert ["Acme", "Globex"] == [row["Name"] for row in with_contacts]
    assert ["Initech"] == [row["Name"] for row in without]


def test_semi_join_with_a_filtered_sub_select(org: Org) -> None:
    """The sub-select's WHERE narrows the ids; reference fields work on the left."""
    rows = _query(
        org,
        "SELECT LastName FROM Contact WHERE AccountId IN "
        "(SELECT AccountId FROM Opportunity WHERE StageName = 'Prospecting')",
    )
    assert {"Lovelace", "Hopper"} == {row["LastName"] for row in rows}


# -- aggregates -----------------------------------------------------------------


def test_group_by_with_aggregates_aliases_and_expr_names(org: Org) -> None:
    """Grouped fields keep their names; unaliased aggregates are expr0, expr1, ..."""
    rows = _query(
        org,
        "SELECT StageName, COUNT(Id), SUM(Amount) total, AVG(Amount), MIN(CloseDate), "
        "MAX(Amount) FROM Opportunity GROUP BY StageName ORDER BY StageName",
    )
    assert [
        {
            "attributes": {"type": "AggregateResult"},
            "StageName": "Closed Won",
            "expr0": 2,
            "total": 150.0,
            "expr1": 75.0,
            "expr2": "2023-12-31",
            "expr3": 100.0,
        },
        {
            "attributes": {"type": "AggregateResult"},
            "StageName": "Prospecting",
            "expr0": 1,
            "total": 300.0,
            "expr1": 300.0,
            "expr2": "2024-02-20",
            "expr3": 300.0,
        },
    ] == rows


def test_having_and_order_by_an_aggregate(org: Org) -> None:
    """HAVING filters groups; ORDER BY may sort on an aggregate."""
    rows = _query(
        org,
        "SELECT AccountId, COUNT(Id) n FROM Contact GROUP BY AccountId "
        "HAVING COUNT(Id) > 0 ORDER BY COUNT(Id) DESC",
    )
    assert [2, 1, 1] == [row["n"] for row in rows]
    kept = _query(org, "SELECT Industry FROM Account GROUP BY Industry HAVING COUNT(Id) > 1")
    assert [{"attributes": {"type": "AggregateResult"}, "Industry": "Technology"}] == kept


def test_aggregate_without_rows_and_group_by_a_parent_field(org: Org) -> None:
    """No rows: COUNT is 0 and SUM null; grouping by Account.Name names the column Name."""
    empty = _query(org, "SELECT COUNT(Id), SUM(Amount) FROM Opportunity WHERE Amount > 1000")
    assert (0, None) == (empty[0]["expr0"], empty[0]["expr1"])
    rows = _query(
        org,
        "SELECT Account.Name, COUNT(Id) FROM Contact WHERE AccountId != null "
        "GROUP BY Account.Name ORDER BY Account.Name",
    )
    assert [("Acme", 2), ("Globex", 1)] == [(row["Name"], row["expr0"]) for row in rows]


# -- FIELDS(), date functions, toLabel ------------------------------------------


def test_fields_standard_all_and_custom(org: Org) -> None:
    """FIELDS() expands to the object's fields; CUSTOM gives only __c fields."""
    standard = _query(org, "SELECT FIELDS(STANDARD) FROM Account WHERE Name = 'Acme'")[0]
    assert {"Name", "Industry", "BillingAddress"} <= standard.keys()
    assert "External_Id__c" not in standard
    custom = _query(org, "SELECT FIELDS(CUSTOM) FROM Account LIMIT 200")[0]
    assert ["attributes", "External_Id__c"] == list(custom)
    assert "External_Id__c" in _query(org, "SELECT FIELDS(ALL) FROM Account LIMIT 1")[0]


def test_date_functions_filter_and_group(org: Org) -> None:
    """CALENDAR_YEAR / CALENDAR_MONTH / DAY_ONLY in WHERE and GROUP BY."""
    this_year = _query(org, "SELECT Name FROM Opportunity WHERE CALENDAR_YEAR(CloseDate) = 2024")
    assert {"A1", "A2"} == {row["Name"] for row in this_year}
    months = _query(
        org,
        "SELECT CALENDAR_MONTH(CloseDate) month, COUNT(Id) FROM Opportunity "
        "GROUP BY CALENDAR_MONTH(CloseDate) ORDER BY CALENDAR_MONTH(CloseDate)",
    )
    assert [(1, 1), (2, 1), (12, 1)] == [(row["month"], row["expr0"]) for row in months]
    day = _query(org, "SELECT Id FROM Account WHERE DAY_ONLY(CreatedDate) = 2024-06-01")
    assert 3 == len(day)


def test_to_label_reads_picklist_labels() -> None:
    """toLabel() answers a picklist value's label under the field's name."""
    thing = CustomObject(
        "Thing__c", [Field("Status__c", "picklist", values=[("n", "New"), ("d", "Done")])]
    )
    org = Org(accounts=0, contacts=0, opportunities=0, objects=[thing])
    org.create("Thing__c", {"Name": "x", "Status__c": "d"})
    rows = _query(org, "SELECT Status__c, toLabel(Status__c) FROM Thing__c")
    assert "Done" == rows[0]["Status__c"]
    grouped = _query(org, "SELECT toLabel(Status__c) s FROM Thing__c GROUP BY Status__c")
    assert "Done" == grouped[0]["s"]


def test_for_update_marks_the_records_to_lock(org: Org) -> None:
    """FOR UPDATE returns the ids the call must lock; FOR VIEW locks nothing."""
    locked = org.query(
        "SELECT Id FROM Account LIMIT 2 FOR UPDATE", include_deleted=False, version=V
    )
    assert 2 == len(locked.locked)
    viewed = org.query("SELECT Id FROM Account FOR VIEW", include_deleted=False, version=V)
    assert () == viewed.locked


# -- over HTTP ---------------------------------------------------------------------


def test_subquery_and_aggregate_through_simple_salesforce(sf: Any) -> None:
    """An unmodified client reads nested children and AggregateResults."""
    rows = sf.query_all("SELECT Name, (SELECT Id FROM Contacts) FROM Account")["records"]
    assert any(row["Contacts"] and row["Contacts"]["totalSize"] > 0 for row in rows)
    grouped = sf.query("SELECT COUNT(Id) n FROM Contact")["records"]
    assert grouped[0]["n"] == 200


def test_for_update_takes_the_record_lock() -> None:
    """A FOR UPDATE query and an update of the same record: one waits out, one fails."""
    with FakeSalesforce(lock_hold=0.25, lock_wait=0.05) as fake:
        clients: list[Any] = [fake.client(), fake.client()]
        target = clients[0].query("SELECT Id FROM Contact WHERE AccountId = null LIMIT 1")
        record_id = target["records"][0]["Id"]
        actions: list[Callable[[], object]] = [
            lambda: clients[0].query(f"SELECT Id FROM Contact WHERE Id = '{record_id}' FOR UPDATE"),  # noqa: S608
            lambda: clients[1].Contact.update(record_id, {"Title": "CTO"}),
        ]

        def attempt(action: Callable[[], object]) -> object:
            try:
                return action()
            except SalesforceError as problem:
                return problem

        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(attempt, actions))
    failures = [outcome for outcome in outcomes if isinstance(outcome, SalesforceError)]
    assert 1 == len(failures)
    assert "UNABLE_TO_LOCK_ROW" == failures[0].content[0]["errorCode"]  # type: ignore[index]


# -- nothing crashes ------------------------------------------------------------------

_WORDS = [
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "FOR",
    "UPDATE",
    "IN",
    "NOT",
    "AND",
    "OR",
    "LIKE",
    "NULL",
    "TRUE",
    "Id",
    "Name",
    "Account",
    "Contact",
    "Contacts",
    "AccountId",
    "Amount",
    "CreatedDate",
    "COUNT",
    "SUM",
    "MAX",
    "FIELDS",
    "ALL",
    "toLabel",
    "Industry",
    "CALENDAR_YEAR",
    "DAY_ONLY",
    "TODAY",
    "LAST_N_DAYS:3",
    "(",
    ")",
    ",",
    "=",
    "<",
    ">=",
    "!=",
    "'x'",
    "'",
    "5",
    "-1",
    "2.5",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "Account.Name",
    "MailingAddress",
    "\\",
    "*",
    "BillingAddress",
    "TYPEOF",
    "FIELDS(ALL)",
    "(SELECT Id FROM Contacts)",
    "Owner.Name",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.lists(st.sampled_from(_WORDS), max_size=16).map(" ".join),
        st.text(max_size=60),
        st.lists(st.sampled_from(_WORDS), max_size=12).map(
            lambda words: "SELECT " + " ".join(words)
        ),
    )
)
def test_random_soql_is_a_400_never_a_crash(soql: str) -> None:
    """Any text at all either runs or answers a 4xx ApiError in Salesforce's shape."""
    problem: ApiError | None = None
    try:
        _SHARED.query(soql, include_deleted=False, version=V)
    except ApiError as refused:
        problem = refused
    if problem is not None:
        assert 400 <= problem.status < 500
        assert problem.error_code.isupper()


_SHARED = Org(accounts=3, contacts=6, opportunities=3)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeSalesforce, str]]:
    """One fake for every example: (the fake, a session id)."""
    with FakeSalesforce(contacts=5) as fake:
        yield fake, fake.issue_session()


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from(_WORDS), max_size=12).map(lambda words: "SELECT " + " ".join(words))
)
def test_random_soql_over_http_never_answers_500(
    served: tuple[FakeSalesforce, str], soql: str
) -> None:
    """Through the server too: malformed queries are 400 MALFORMED_QUERY-style bodies."""
    fake, token = served
    response = fake.session().get(
        f"{fake.instance_url}/services/data/v59.0/query/",
        params={"q": soql},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code < 500
    if response.status_code == 400:
        body = response.json()
        assert {"message", "errorCode"} <= body[0].keys()


def test_includes_and_excludes_on_a_multi_select_picklist() -> None:
    """INCLUDES matches any listed value; 'a;b' needs both; EXCLUDES is the complement."""
    colors = Field("Colors__c", "multipicklist", values=["Red", "Green", "Blue"])
    org = Org(accounts=0, contacts=0, opportunities=0, fields={"Account": [colors]})
    for name, chosen in [("rg", "Red;Green"), ("b", "Blue"), ("none", None)]:
        org.create("Account", {"Name": name, "Colors__c": chosen})

    def names(condition: str) -> set[str]:
        rows = _query(org, f"SELECT Name FROM Account WHERE Colors__c {condition}")  # noqa: S608
        return {row["Name"] for row in rows}

    assert {"rg", "b"} == names("INCLUDES ('red', 'Blue')")
    assert {"rg"} == names("INCLUDES ('Green;Red')")
    assert set() == names("INCLUDES ('Red;Blue')")
    assert {"b", "none"} == names("EXCLUDES ('Red')")
    error = _error(org, "SELECT Id FROM Account WHERE Name INCLUDES ('x')")
    assert "INVALID_QUERY_FILTER_OPERATOR" == error.error_code
    with pytest.raises(ApiError) as refused:
        org.create("Account", {"Name": "x", "Colors__c": "Red;Pink"})
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" == refused.value.error_code


_FIELDS = {
    "Account": [
        "Id",
        "Name",
        "Industry",
        "AnnualRevenue",
        "NumberOfEmployees",
        "CreatedDate",
        "BillingAddress",
        "BillingCity",
        "Owner.Name",
        "Parent.Name",
        "IsDeleted",
    ],
    "Contact": [
        "Id",
        "LastName",
        "Email",
        "AccountId",
        "Account.Name",
        "Account.AnnualRevenue",
        "MailingAddress",
        "Birthdate",
        "CreatedDate",
        "HasOptedOutOfEmail",
    ],
    "Opportunity": [
        "Id",
        "Name",
        "Amount",
        "CloseDate",
        "StageName",
        "IsWon",
        "Account.Name",
        "Probability",
        "LastModifiedDate",
    ],
}
_LITERALS = [
    "5",
    "-2.5",
    "'Acme'",
    "'%a%'",
    "null",
    "TRUE",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "TODAY",
    "LAST_N_DAYS:30",
    "THIS_YEAR",
]
_OPS = ["=", "!=", "<", ">=", "LIKE", "IN", "NOT IN", "INCLUDES"]
_FUNCTIONS = [
    "COUNT",
    "COUNT_DISTINCT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "CALENDAR_YEAR",
    "DAY_ONLY",
    "toLabel",
]


@st.composite
def _structured_soql(draw: st.DrawFn) -> str:
    """Queries built from real names, so most get past the parser into evaluation."""
    sobject = draw(st.sampled_from(sorted(_FIELDS)))
    names = _FIELDS[sobject]
    field = st.sampled_from(names)
    items = draw(st.lists(field, min_size=1, max_size=4))
    if draw(st.booleans()):
        function = draw(st.sampled_from(_FUNCTIONS))
        items.append(f"{function}({draw(field)})")
    if sobject == "Account" and draw(st.booleans()):
        items.append("(SELECT LastName, Email FROM Contacts ORDER BY LastName LIMIT 2)")
    soql = f"SELECT {', '.join(items)} FROM {sobject}"  # noqa: S608 - SOQL under test
    if draw(st.booleans()):
        op = draw(st.sampled_from(_OPS))
        literal = draw(st.sampled_from(_LITERALS))
        value = f"({literal})" if op in {"IN", "NOT IN", "INCLUDES"} else literal
        if draw(st.booleans()):
            value = "(SELECT AccountId FROM Contact)" if "IN" in op else value
        soql += f" WHERE {draw(field)} {op} {value}"
    if draw(st.booleans()):
        soql += f" GROUP BY {draw(field)}"
        if draw(st.booleans()):
            soql += f" HAVING COUNT(Id) > {draw(st.integers(0, 3))}"
    if draw(st.booleans()):
        soql += (
            f" ORDER BY {draw(field)} {draw(st.sampled_from(['ASC', 'DESC', 'DESC NULLS LAST']))}"
        )
    if draw(st.booleans()):
        soql += f" LIMIT {draw(st.integers(0, 300))}"
    if draw(st.booleans()):
        soql += draw(st.sampled_from([" FOR UPDATE", " FOR VIEW", " OFFSET 2"]))
    return soql


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_structured_soql())
def test_structured_random_soql_runs_or_is_refused(soql: str) -> None:
    """Name-correct random queries reach evaluation: they run or answer a 4xx ApiError."""
    problem: ApiError | None = None
    try:
        _SHARED.query(soql, include_deleted=False, version=V)
    except ApiError as refused:
        problem = refused
    if problem is not None:
        assert 400 <= problem.status < 500
