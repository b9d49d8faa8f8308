"""The fake org without a server: seed data, CRUD, the SOQL subset and minimal SOSL."""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Callable

import pytest

from sfresilience.testing.org import ApiError, Org
from sfresilience.testing.org.ids import id_checksum
from sfresilience.testing.org.soql import date_literal


V = "59.0"
DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000")


def _url(sobject: str, record_id: object) -> str:
    return f"/services/data/v{V}/sobjects/{sobject}/{record_id}"


@pytest.fixture
def org() -> Org:
    """An empty org with three known accounts, created in the order below."""
    org = Org(accounts=0, contacts=0, opportunities=0)
    org.create(
        "Account",
        {
            "Name": "Acme",
            "Industry": "Technology",
            "AnnualRevenue": 100,
            "NumberOfEmployees": 10,
            "Rating": "Hot",
            "External_Id__c": "ACC-1",
        },
    )
    org.create(
        "Account",
        {
            "Name": "Globex",
            "Industry": "Finance",
            "AnnualRevenue": 200,
            "NumberOfEmployees": 20,
        },
    )
    org.create("Account", {"Name": "Initech", "NumberOfEmployees": 30, "Rating": "Cold"})
    return org


def _id_of(org: Org, sobject: str, name: str) -> str:
    return next(str(row["Id"]) for row in org.records(sobject) if row["Name"] == name)


def _names(org: Org, soql: str, *, include_deleted: bool = False) -> list[object]:
    result = org.query(soql, include_deleted=include_deleted, version=V)
    return [record["Name"] for record in result.records]


def _accounts(org: Org, clause: str) -> list[object]:
    return _names(org, f"SELECT Name FROM Account {clause}")  # noqa: S608  (not SQL)


def _fails(action: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        action()
    return caught.value


def _error(org: Org, soql: str) -> ApiError:
    return _fails(lambda: org.query(soql, include_deleted=False, version=V))


# -- seeding -------------------------------------------------------------------


def test_same_seed_gives_identical_data() -> None:
    """Two orgs built with the same seed hold exactly the same records."""
    first, second = Org(seed=7), Org(seed=7)
    for sobject in first.sobject_names():
        assert first.records(sobject) == second.records(sobject)


def test_different_seeds_give_different_data() -> None:
    """Another seed changes ids and data."""
    assert Org(seed=1).records("Contact") != Org(seed=2).records("Contact")


def test_default_sizes() -> None:
    """The constructor's counts decide how many records of each object exist."""
    org = Org(accounts=3, contacts=40, opportunities=5)
    sizes = [len(org.records(name)) for name in ("Account", "Contact", "Opportunity")]
    assert [3, 40, 5] == sizes
    assert len(org.records("Organization")) == 1
    assert len(org.records("User")) == 1


def test_ten_thousand_contacts_are_seeded() -> None:
    """COUNT() sees all 10,000 seeded contacts (the speed is in benchmarks/bench_fake.py)."""
    org = Org(contacts=10_000)
    result = org.query("SELECT COUNT() FROM Contact", include_deleted=False, version=V)
    assert result.total_size == 10_000


@pytest.mark.parametrize(
    ("sobject", "prefix"),
    [
        ("Account", "001"),
        ("Contact", "003"),
        ("Opportunity", "006"),
        ("Organization", "00D"),
        ("User", "005"),
    ],
)
def test_ids_are_realistic(sobject: str, prefix: str) -> None:
    """Ids are 18 characters, carry the key prefix and a valid checksum suffix."""
    for row in Org(accounts=3, contacts=5, opportunities=3).records(sobject):
        record_id = str(row["Id"])
        assert len(record_id) == 18
        assert prefix == record_id[:3]
        assert id_checksum(record_id[:15]) == record_id[15:]


def test_org_id_matches_the_organization_record() -> None:
    """org_id is the Organization record's 18-character 00D id."""
    org = Org(instance_name="CS42")
    assert [org.org_id] == [row["Id"] for row in org.records("Organization")]
    assert org.org_id.startswith("00D")
    assert org.instance_name == "CS42"


def test_contacts_spread_over_accounts_with_some_private() -> None:
    """Seeded contacts belong to many accounts, and a few belong to none."""
    org = Org(accounts=20, contacts=200)
    parents = [row["AccountId"] for row in org.records("Contact")]
    assert len({parent for parent in parents if parent}) == 20
    assert None in parents


def test_seeded_dates_use_salesforce_formats() -> None:
    """Datetimes render as 2024-01-31T10:15:00.000+0000 and dates as 2024-01-31."""
    org = Org(accounts=2, contacts=2, opportunities=2)
    for row in org.records("Contact"):
        assert DATETIME_RE.fullmatch(str(row["CreatedDate"]))
    for row in org.records("Opportunity"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(row["CloseDate"]))


# -- WHERE ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'acme'", ["Acme"]),
        ("Industry != 'Finance'", ["Acme", "Initech"]),
        ("Industry <> 'Finance'", ["Acme", "Initech"]),
        ("AnnualRevenue < 200", ["Acme"]),
        ("AnnualRevenue > 100", ["Globex"]),
        ("AnnualRevenue <= 200", ["Acme", "Globex"]),
        ("NumberOfEmployees >= 20", ["Globex", "Initech"]),
        ("AnnualRevenue = 100.0", ["Acme"]),
        ("NumberOfEmployees > -5", ["Acme", "Globex", "Initech"]),
        ("Name LIKE 'g%'", ["Globex"]),
        ("Name LIKE '_NITECH'", ["Initech"]),
        ("Name LIKE '%c%'", ["Acme", "Initech"]),
        ("Industry IN ('Technology', 'finance')", ["Acme", "Globex"]),
        ("Industry NOT IN ('Technology')", ["Globex", "Initech"]),
        ("Rating IN ('Hot', null)", ["Acme", "Globex"]),
        ("Industry = null", ["Initech"]),
        ("Industry != null", ["Acme", "Globex"]),
        ("IsDeleted = false", ["Acme", "Globex", "Initech"]),
        ("IsDeleted = TRUE", []),
        ("NOT Name = 'Acme'", ["Globex", "Initech"]),
        ("CreatedDate < 2024-06-01T00:00:02Z", ["Acme"]),
        ("CreatedDate >= 2024-06-01T00:00:02.000+00:00", ["Globex", "Initech"]),
    ],
)
def test_where_operators(org: Org, where: str, expected: list[str]) -> None:
    """Each comparison operator and literal kind filters as SOQL does."""
    assert expected == _accounts(org, f"WHERE {where}")


def test_where_on_date_fields(org: Org) -> None:
    """Date literals compare with date fields."""
    account = _id_of(org, "Account", "Acme")
    for close in ("2024-01-31", "2024-02-01"):
        org.create(
            "Opportunity",
            {
                "Name": close,
                "StageName": "Prospecting",
                "CloseDate": close,
                "AccountId": account,
            },
        )
    soql = "SELECT Name FROM Opportunity WHERE CloseDate {} 2024-01-31"
    assert ["2024-01-31"] == _names(org, soql.format("="))
    assert ["2024-02-01"] == _names(org, soql.format(">"))


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("O'Brien", r"Name = 'O\'Brien'"),
        ("back\\slash", r"Name = 'back\\slash'"),
        ("100% Pure", r"Name LIKE '100\%%'"),
        ("snake_case", r"Name LIKE 'snake\_case'"),
        ('say "hi"', r"Name = 'say \"hi\"'"),
    ],
)
def test_string_literal_escapes(org: Org, name: str, where: str) -> None:
    """Backslash escapes in literals decode, and escaped wildcards match literally."""
    org.create("Account", {"Name": name})
    org.create("Account", {"Name": "100 Pure snakeXcase"})
    assert [name] == _accounts(org, f"WHERE {where}")


def test_id_matches_by_fifteen_or_eighteen_characters(org: Org) -> None:
    """Id filters accept both the 15- and 18-character forms."""
    acme = _id_of(org, "Account", "Acme")
    for literal in (acme, acme[:15]):
        assert ["Acme"] == _accounts(org, f"WHERE Id IN ('{literal}')")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Name = 'Acme' AND (Industry = 'Finance' OR Rating = 'Hot')", ["Acme"]),
        ("(Name = 'Acme' AND Industry = 'Finance') OR Rating = 'Cold'", ["Initech"]),
        ("NOT (Name = 'Acme' OR Name = 'Globex')", ["Initech"]),
        ("Name = 'Acme' OR Name = 'Globex' OR Name = 'Nope'", ["Acme", "Globex"]),
        ("((Rating = 'Hot'))", ["Acme"]),
    ],
)
def test_parentheses_group_conditions(org: Org, where: str, expected: list[str]) -> None:
    """Parentheses decide how AND, OR and NOT combine."""
    assert expected == _accounts(org, f"WHERE {where}")


def test_mixing_and_or_without_parentheses_is_malformed(org: Org) -> None:
    """SOQL has no AND/OR precedence: mixing them unparenthesised is rejected."""
    error = _error(org, "SELECT Id FROM Account WHERE Name = 'a' AND Rating = 'b' OR Id = null")
    assert (400, "MALFORMED_QUERY") == (error.status, error.error_code)
    assert error.message.endswith("unexpected token: OR")


# -- ORDER BY, LIMIT, OFFSET, COUNT() -------------------------------------------


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("AnnualRevenue", ["Initech", "Acme", "Globex"]),
        ("AnnualRevenue ASC", ["Initech", "Acme", "Globex"]),
        ("AnnualRevenue DESC", ["Globex", "Acme", "Initech"]),
        ("AnnualRevenue NULLS LAST", ["Acme", "Globex", "Initech"]),
        ("AnnualRevenue DESC NULLS FIRST", ["Initech", "Globex", "Acme"]),
        ("name desc", ["Initech", "Globex", "Acme"]),
        ("Name LIMIT 2", ["Acme", "Globex"]),
        ("Name LIMIT 2 OFFSET 1", ["Globex", "Initech"]),
        ("Name OFFSET 2", ["Initech"]),
        ("Name LIMIT 0", []),
    ],
)
def test_order_limit_offset(org: Org, order_by: str, expected: list[str]) -> None:
    """ORDER BY puts nulls first ascending, last descending; LIMIT/OFFSET slice."""
    assert expected == _accounts(org, f"ORDER BY {order_by}")


def test_order_by_several_keys(org: Org) -> None:
    """Later ORDER BY keys break ties of earlier ones, each in its own direction."""
    for first, last in (("Bo", "Young"), ("Al", "Xu"), ("Cy", "Xu")):
        org.create("Contact", {"FirstName": first, "LastName": last})
    soql = "SELECT Name FROM Contact ORDER BY LastName, FirstName DESC"
    assert ["Cy Xu", "Al Xu", "Bo Young"] == _names(org, soql)


def test_count_returns_only_the_total(org: Org) -> None:
    """SELECT COUNT() yields no records and the number of matches as total_size."""
    result = org.query(
        "select count() from Account where Industry != null",
        include_deleted=False,
        version=V,
    )
    assert [] == result.records
    assert result.total_size == 2


def test_total_size_counts_returned_records(org: Org) -> None:
    """For a plain SELECT total_size is the number of records returned."""
    result = org.query("SELECT Id FROM Account LIMIT 2", include_deleted=False, version=V)
    assert result.total_size == 2


# -- record shape --------------------------------------------------------------


def test_records_are_shaped_like_rest(org: Org) -> None:
    """Records carry attributes with the versioned url, then the fields in order."""
    acme = _id_of(org, "Account", "Acme")
    result = org.query(
        "SELECT Name, Id FROM Account WHERE Name = 'Acme'",
        include_deleted=False,
        version=V,
    )
    expected = {
        "attributes": {"type": "Account", "url": _url("Account", acme)},
        "Name": "Acme",
        "Id": acme,
    }
    assert [expected] == result.records
    assert ["attributes", "Name", "Id"] == list(result.records[0])


def test_parent_fields_nest_and_empty_lookup_is_null(org: Org) -> None:
    """Account.X fields nest under "Account", which is null when AccountId is empty."""
    acme = _id_of(org, "Account", "Acme")
    with_parent = org.create("Contact", {"LastName": "Lovelace", "AccountId": acme})
    orphan = org.create("Contact", {"LastName": "Turing"})
    result = org.query(
        "SELECT Name, Account.Name, Account.Industry FROM Contact ORDER BY Name",
        include_deleted=False,
        version=V,
    )
    assert [
        {
            "attributes": {"type": "Contact", "url": _url("Contact", with_parent)},
            "Name": "Lovelace",
            "Account": {
                "attributes": {"type": "Account", "url": _url("Account", acme)},
                "Name": "Acme",
                "Industry": "Technology",
            },
        },
        {
            "attributes": {"type": "Contact", "url": _url("Contact", orphan)},
            "Name": "Turing",
            "Account": None,
        },
    ] == result.records


def test_parent_fields_filter_and_sort(org: Org) -> None:
    """Parent fields work in WHERE and ORDER BY; a missing parent reads as null."""
    for account in ("Globex", "Acme"):
        account_id = _id_of(org, "Account", account)
        org.create("Contact", {"LastName": account, "AccountId": account_id})
    org.create("Contact", {"LastName": "Nobody"})
    assert ["Acme"] == _names(org, "SELECT Name FROM Contact WHERE Account.Name = 'acme'")
    soql = "SELECT Name FROM Contact ORDER BY Account.Name NULLS LAST"
    assert ["Acme", "Globex", "Nobody"] == _names(org, soql)


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id, Name FROM Account WHERE Name = 'Acme'",
        "select id, name from account where name = 'Acme'",
        "SeLeCt ID, NAME FrOm ACCOUNT wHeRe NAME = 'Acme'",
    ],
)
def test_soql_ignores_case_but_output_uses_canonical_names(org: Org, soql: str) -> None:
    """Keywords, objects and fields match in any case; keys come out canonical."""
    records = org.query(soql, include_deleted=False, version=V).records
    assert ["attributes", "Id", "Name"] == list(records[0])
    assert records[0]["attributes"] == {
        "type": "Account",
        "url": _url("Account", _id_of(org, "Account", "Acme")),
    }


def test_relationship_names_ignore_case(org: Org) -> None:
    """account.name is output under the canonical "Account" and "Name" keys."""
    org.create("Contact", {"LastName": "X", "AccountId": _id_of(org, "Account", "Acme")})
    record = org.query(
        "select account.NAME from contact", include_deleted=False, version=V
    ).records[0]
    assert record["Account"] == {
        "attributes": {
            "type": "Account",
            "url": _url("Account", _id_of(org, "Account", "Acme")),
        },
        "Name": "Acme",
    }


@pytest.mark.parametrize("version", ["59.0", "v59.0"])
def test_version_is_accepted_with_or_without_v(org: Org, version: str) -> None:
    """The version string may be given as 59.0 or v59.0."""
    record = org.query("SELECT Id FROM Account", include_deleted=False, version=version)
    url = record.records[0]["attributes"]
    assert isinstance(url, dict)
    assert str(url["url"]).startswith("/services/data/v59.0/sobjects/Account/")


def test_duplicate_selected_fields_appear_once(org: Org) -> None:
    """Selecting a field twice yields one key."""
    record = org.query(
        "SELECT Name, name FROM Account LIMIT 1", include_deleted=False, version=V
    ).records[0]
    assert ["attributes", "Name"] == list(record)


def test_organization_is_queryable() -> None:
    """SELECT InstanceName FROM Organization returns the configured instance."""
    org = Org(instance_name="CS42", is_sandbox=True, org_name="Test Co")
    result = org.query(
        "SELECT Id, Name, InstanceName, IsSandbox FROM Organization",
        include_deleted=False,
        version=V,
    )
    assert [
        {
            "attributes": {
                "type": "Organization",
                "url": _url("Organization", org.org_id),
            },
            "Id": org.org_id,
            "Name": "Test Co",
            "InstanceName": "CS42",
            "IsSandbox": True,
        }
    ] == result.records


def test_deleted_records_appear_only_with_include_deleted(org: Org) -> None:
    """Soft-deleted rows are hidden from query and shown by queryAll."""
    org.delete("Account", _id_of(org, "Account", "Globex"))
    assert ["Acme", "Initech"] == _names(org, "SELECT Name FROM Account")
    soql = "SELECT Name, IsDeleted FROM Account WHERE IsDeleted = true"
    assert ["Globex"] == _names(org, soql, include_deleted=True)
    count = org.query("SELECT COUNT() FROM Account", include_deleted=True, version=V)
    assert count.total_size == 3


# -- query errors --------------------------------------------------------------


def test_syntax_error_message_matches_salesforce(org: Org) -> None:
    """A truncated query is MALFORMED_QUERY with Salesforce's caret layout."""
    error = _error(org, "SELECT Id FROM")
    assert (400, "MALFORMED_QUERY") == (error.status, error.error_code)
    expected = (
        "\nSELECT Id FROM\n               ^\nERROR at Row:1:Column:16\nunexpected token: <EOF>"
    )
    assert expected == error.message
    assert [{"message": expected, "errorCode": "MALFORMED_QUERY", "fields": []}] == (error.body())


def test_unknown_field_message_matches_salesforce(org: Org) -> None:
    """An unknown column is INVALID_FIELD pointing at the column."""
    error = _error(org, "SELECT Foo FROM Contact")
    assert (400, "INVALID_FIELD") == (error.status, error.error_code)
    assert (
        "\nSELECT Foo FROM Contact\n       ^\nERROR at Row:1:Column:8\n"
        "No such column 'Foo' on entity 'Contact'. If you are attempting to use a "
        "custom field, be sure to append the '__c' after the custom field name. "
        "Please reference your WSDL or the describe call for the appropriate names."
    ) == error.message


def test_unknown_object_message_matches_salesforce(org: Org) -> None:
    """An unknown sObject is INVALID_TYPE pointing at the name."""
    error = _error(org, "SELECT Id FROM Foo")
    assert (400, "INVALID_TYPE") == (error.status, error.error_code)
    assert (
        "\nSELECT Id FROM Foo\n               ^\nERROR at Row:1:Column:16\n"
        "sObject type 'Foo' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. Please reference "
        "your WSDL or the describe call for the appropriate names."
    ) == error.message


@pytest.mark.parametrize(
    ("soql", "code", "parts"),
    [
        (
            "SELECT Id Account",
            "MALFORMED_QUERY",
            ["Column:11", "unexpected token: Account"],
        ),
        (
            "SELECT FROM Account",
            "MALFORMED_QUERY",
            ["Column:8", "unexpected token: FROM"],
        ),
        (
            "SELECT Id FROM Account WHERE",
            "MALFORMED_QUERY",
            ["unexpected token: <EOF>"],
        ),
        ("SELECT Id FROM Account LIMIT x", "MALFORMED_QUERY", ["unexpected token: x"]),
        ("SELECT Id FROM Account LIMIT 1.5", "MALFORMED_QUERY", ["token: 1.5"]),
        ("SELECT Id FROM Account WHERE Name = 'x", "MALFORMED_QUERY", ["<EOF>"]),
        ("SELECT Id FROM Account WHERE Name # 'x'", "MALFORMED_QUERY", ["token: #"]),
        ("SELECT Id FROM Account WHERE Name LIKE 5", "MALFORMED_QUERY", ["token: 5"]),
        (
            "SELECT Id\nFROM Account\nWHERE Nme = 'x'",
            "INVALID_FIELD",
            ["ERROR at Row:3:Column:7", "No such column 'Nme' on entity 'Account'"],
        ),
        (
            "SELECT Id FROM Contact ORDER BY Bar",
            "INVALID_FIELD",
            ["Column:33", "No such column 'Bar' on entity 'Contact'"],
        ),
        (
            "SELECT Account.Bogus FROM Contact",
            "INVALID_FIELD",
            ["No such column 'Bogus' on entity 'Account'"],
        ),
        (
            "SELECT Acct.Name FROM Contact",
            "INVALID_FIELD",
            ["Didn't understand relationship 'Acct' in field path"],
        ),
        (
            "SELECT Id FROM Account WHERE AnnualRevenue = 'x'",
            "INVALID_FIELD",
            ["must be of type double and should not be enclosed in quotes"],
        ),
        (
            "SELECT Id FROM Account WHERE Name = 5",
            "INVALID_FIELD",
            ["must be of type string and should be enclosed in quotes"],
        ),
        (
            "SELECT Id FROM Account WHERE AnnualRevenue LIKE '1%'",
            "INVALID_QUERY_FILTER_OPERATOR",
            ["invalid operator on field: AnnualRevenue"],
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = LAST_FORTNIGHT",
            "MALFORMED_QUERY",
            ["Column:44", "unexpected token: LAST_FORTNIGHT"],
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS",
            "MALFORMED_QUERY",
            ["unexpected token: LAST_N_DAYS"],
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate = TODAY:3",
            "MALFORMED_QUERY",
            ["unexpected token: TODAY:3"],
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate > LAST_N_FORTNIGHTS:2",
            "MALFORMED_QUERY",
            ["unexpected token: LAST_N_FORTNIGHTS:2"],
        ),
        (
            "SELECT Id FROM Account WHERE Name = TODAY",
            "INVALID_FIELD",
            ["must be of type string and should be enclosed in quotes"],
        ),
        (
            "SELECT Id FROM Account WITH SHARING",
            "MALFORMED_QUERY",
            ["unexpected token: SHARING"],
        ),
        (
            "SELECT Name, COUNT(Id) FROM Account",
            "MALFORMED_QUERY",
            ["Column:8", "Field must be grouped or aggregated: Name"],
        ),
        (
            "SELECT COUNT(Id) FROM Account ORDER BY Name",
            "MALFORMED_QUERY",
            ["Ordered field must be grouped or aggregated: Name"],
        ),
        (
            "SELECT COUNT(Bogus) FROM Account",
            "INVALID_FIELD",
            ["No such column 'Bogus' on entity 'Account'"],
        ),
        (
            "SELECT SUM(Name) FROM Account",
            "MALFORMED_QUERY",
            ["does not support aggregate operator SUM"],
        ),
        (
            "SELECT Id FROM Account GROUP BY ROLLUP(Industry)",
            "MALFORMED_QUERY",
            ["GROUP BY ROLLUP is not supported"],
        ),
        (
            "SELECT TYPEOF What WHEN Account THEN Name END FROM Task",
            "MALFORMED_QUERY",
            ["TYPEOF is not supported"],
        ),
        (
            "SELECT FIELDS(ALL) FROM Account",
            "MALFORMED_QUERY",
            ["The SOQL FIELDS function must have a LIMIT of at most 200"],
        ),
        (
            "SELECT FIELDS(CUSTOM) FROM Account LIMIT 201",
            "MALFORMED_QUERY",
            ["Column:36", "The SOQL FIELDS function must have a LIMIT of at most 200"],
        ),
        (
            "SELECT Id FROM Account ORDER BY Name FOR UPDATE",
            "MALFORMED_QUERY",
            ["ORDER BY is not allowed in a query that uses locking"],
        ),
        (
            "SELECT Id, (SELECT Id FROM Nope) FROM Account",
            "INVALID_FIELD",
            ["Didn't understand relationship 'Nope' in FROM part of query call"],
        ),
        (
            "SELECT Id FROM Account WHERE Id IN (SELECT Name FROM Contact)",
            "MALFORMED_QUERY",
            ["must select exactly one id or reference field"],
        ),
        (
            "SELECT Id FROM Account WHERE Name IN (SELECT AccountId FROM Contact)",
            "MALFORMED_QUERY",
            ["left operand of a semi join must be an id or reference field"],
        ),
        (
            "SELECT Industry, COUNT(Id) FROM Account GROUP BY Rating",
            "MALFORMED_QUERY",
            ["Field must be grouped or aggregated: Industry"],
        ),
        (
            "SELECT Id FROM Account WHERE COUNT(Id) > 1",
            "MALFORMED_QUERY",
            ["Aggregate functions are not allowed in a WHERE clause"],
        ),
        (
            "SELECT CALENDAR_YEAR(Name) FROM Account GROUP BY CALENDAR_YEAR(Name)",
            "MALFORMED_QUERY",
            ["CALENDAR_YEAR can only be used on date or dateTime fields"],
        ),
        (
            "SELECT toLabel(Name) FROM Account",
            "MALFORMED_QUERY",
            ["toLabel() can only be used on picklist fields"],
        ),
        (
            "SELECT Id FROM Contact WHERE MailingAddress = null",
            "INVALID_FIELD",
            ["can not be filtered"],
        ),
    ],
)
def test_query_errors(org: Org, soql: str, code: str, parts: list[str]) -> None:
    """Bad queries raise a 400 with Salesforce's error code and message parts."""
    error = _error(org, soql)
    assert (400, code) == (error.status, error.error_code)
    for part in parts:
        assert part in error.message


# -- writes --------------------------------------------------------------------


def test_create_then_get_returns_the_full_record(org: Org) -> None:
    """create returns a new Contact id and get returns every field, Name computed."""
    acme = _id_of(org, "Account", "Acme")
    new_id = org.create(
        "Contact",
        {"FirstName": "Ada", "lastname": "Lovelace", "AccountId": acme[:15]},
    )
    record = org.get("Contact", new_id, None, V)
    assert new_id.startswith("003")
    assert len(new_id) == 18
    assert {"type": "Contact", "url": _url("Contact", new_id)} == record["attributes"]
    assert "Ada Lovelace" == record["Name"]
    assert acme == record["AccountId"]
    assert record["CreatedDate"] == record["LastModifiedDate"]
    assert DATETIME_RE.fullmatch(str(record["CreatedDate"]))
    assert record["IsDeleted"] is False
    contact = org.schema["Contact"]
    assert ["attributes", *(item.name for item in contact.fields)] == list(record)
    assert record["MailingAddress"] == dict.fromkeys(
        (
            "city",
            "country",
            "geocodeAccuracy",
            "latitude",
            "longitude",
            "postalCode",
            "state",
            "street",
        )
    )


def test_get_selected_fields_and_fifteen_char_id(org: Org) -> None:
    """get with fields returns only those, in canonical case; 15-char ids work."""
    acme = _id_of(org, "Account", "Acme")
    record = org.get("account", acme[:15], ["name", "RATING"], V)
    expected = {
        "attributes": {"type": "Account", "url": _url("Account", acme)},
        "Name": "Acme",
        "Rating": "Hot",
    }
    assert expected == record


def test_get_unknown_field_is_invalid_field(org: Org) -> None:
    """Asking get for a field that does not exist is INVALID_FIELD."""
    with pytest.raises(ApiError) as caught:
        org.get("Account", _id_of(org, "Account", "Acme"), ["Foo"], V)
    assert (400, "INVALID_FIELD") == (caught.value.status, caught.value.error_code)
    assert "No such column 'Foo' on entity 'Account'" in caught.value.message


def test_values_are_coerced_to_field_types(org: Org) -> None:
    """Numeric strings become numbers, ISO dates are normalised, booleans kept."""
    new_id = org.create(
        "Opportunity",
        {
            "Name": "Deal",
            "StageName": "Prospecting",
            "CloseDate": "2024-01-31",
            "Amount": "1500.5",
            "Probability": 10,
        },
    )
    org.update("Account", _id_of(org, "Account", "Acme"), {"NumberOfEmployees": "12"})
    record = org.get("Opportunity", new_id, ["Amount", "CloseDate", "Probability"], V)
    assert 1500.5 == record["Amount"]
    assert "2024-01-31" == record["CloseDate"]
    assert 10.0 == record["Probability"]
    acme = org.get("Account", _id_of(org, "Account", "Acme"), ["NumberOfEmployees"], V)
    assert 12 == acme["NumberOfEmployees"]


@pytest.mark.parametrize(
    ("data", "code", "fields"),
    [
        ({"Foo": 1}, "INVALID_FIELD", ["Foo"]),
        ({"Name": "x"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["Name"]),
        ({"Id": "003000000000000AAA"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["Id"]),
        (
            {"CreatedDate": "2024-01-01"},
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            ["CreatedDate"],
        ),
        ({"FirstName": "x"}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ({"LastName": ""}, "REQUIRED_FIELD_MISSING", ["LastName"]),
        ({"LastName": "x", "AccountId": "xyz"}, "MALFORMED_ID", ["AccountId"]),
        ({"LastName": "x" * 81}, "STRING_TOO_LONG", ["LastName"]),
        ({"LastName": {"a": 1}}, "JSON_PARSER_ERROR", []),
    ],
)
def test_create_contact_errors(
    org: Org, data: dict[str, object], code: str, fields: list[str]
) -> None:
    """Invalid inserts raise a 400 with the error code and the offending fields."""
    with pytest.raises(ApiError) as caught:
        org.create("Contact", data)
    assert (400, code, fields) == (
        caught.value.status,
        caught.value.error_code,
        caught.value.fields,
    )


def test_write_error_messages_match_salesforce(org: Org) -> None:
    """Unknown, read-only and missing fields use Salesforce's wording."""
    cases: list[dict[str, object]] = [{"Foo": 1}, {"LastName": "x", "Name": "y"}, {}]
    messages = [_fails(functools.partial(org.create, "Contact", data)).message for data in cases]
    assert [
        "No such column 'Foo' on sobject of type Contact",
        (
            "Unable to create/update fields: Name. Please check the security settings "
            "of this field and verify that it is read/write for your profile or "
            "permission set."
        ),
        "Required fields are missing: [LastName]",
    ] == messages


@pytest.mark.parametrize(
    ("sobject", "data", "missing"),
    [
        ("Account", {}, ["Name"]),
        ("Contact", {}, ["LastName"]),
        ("Opportunity", {"Name": "x"}, ["StageName", "CloseDate"]),
    ],
)
def test_required_fields_on_create(
    org: Org, sobject: str, data: dict[str, object], missing: list[str]
) -> None:
    """Each object's required fields must be given on create."""
    with pytest.raises(ApiError) as caught:
        org.create(sobject, data)
    assert f"Required fields are missing: [{', '.join(missing)}]" == caught.value.message
    assert missing == caught.value.fields


@pytest.mark.parametrize("write", ["create", "update"])
def test_lookup_to_missing_record_is_invalid_cross_reference(org: Org, write: str) -> None:
    """Setting AccountId to an id that does not exist is INVALID_CROSS_REFERENCE_KEY."""
    globex = _id_of(org, "Account", "Globex")
    org.delete("Account", globex)
    contact = org.create("Contact", {"LastName": "x"})
    if write == "create":
        error = _fails(lambda: org.create("Contact", {"LastName": "y", "AccountId": globex}))
    else:
        error = _fails(lambda: org.update("Contact", contact, {"AccountId": globex}))
    assert (400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id") == (
        error.status,
        error.error_code,
        error.message,
    )


def test_update_changes_fields_and_bumps_last_modified(org: Org) -> None:
    """update writes fields, recomputes Name and moves LastModifiedDate forward."""
    contact = org.create("Contact", {"FirstName": "Ada", "LastName": "Byron"})
    before = org.get("Contact", contact, None, V)
    org.update("Contact", contact, {"LastName": "Lovelace", "Email": "ada@example.com"})
    after = org.get("Contact", contact, None, V)
    assert ("Ada Lovelace", "ada@example.com") == (after["Name"], after["Email"])
    assert str(after["LastModifiedDate"]) > str(before["LastModifiedDate"])
    assert before["CreatedDate"] == after["CreatedDate"]


@pytest.mark.parametrize(
    ("record_id", "expected"),
    [
        ("xyz", (400, "MALFORMED_ID", "Contact ID: id value of incorrect type: xyz")),
        (
            "001000000000001AAA",
            (
                400,
                "MALFORMED_ID",
                "Contact ID: id value of incorrect type: 001000000000001AAA",
            ),
        ),
        (
            "003000000000001AAA",
            (404, "NOT_FOUND", "The requested resource does not exist"),
        ),
    ],
)
@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda org, rid: org.get("Contact", rid, None, V), id="get"),
        pytest.param(lambda org, rid: org.update("Contact", rid, {}), id="update"),
        pytest.param(lambda org, rid: org.delete("Contact", rid), id="delete"),
    ],
)
def test_bad_ids(
    org: Org,
    operation: Callable[[Org, str], object],
    record_id: str,
    expected: tuple[int, str, str],
) -> None:
    """Malformed ids are 400 MALFORMED_ID and unknown well-formed ids 404 NOT_FOUND."""
    error = _fails(lambda: operation(org, record_id))
    assert expected == (error.status, error.error_code, error.message)


def test_update_clearing_required_field_is_rejected(org: Org) -> None:
    """Setting a required field to null on update is REQUIRED_FIELD_MISSING."""
    with pytest.raises(ApiError) as caught:
        org.update("Account", _id_of(org, "Account", "Acme"), {"Name": None})
    assert ("REQUIRED_FIELD_MISSING", ["Name"]) == (
        caught.value.error_code,
        caught.value.fields,
    )


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda org: org.create("Organization", {"Name": "x"}), id="create"),
        pytest.param(
            lambda org: org.update("Organization", org.org_id, {"Name": "x"}),
            id="update",
        ),
        pytest.param(lambda org: org.delete("Organization", org.org_id), id="delete"),
    ],
)
def test_read_only_objects_reject_writes(operation: Callable[[Org], object]) -> None:
    """Organization cannot be written."""
    org = Org(accounts=0, contacts=0, opportunities=0)
    error = _fails(lambda: operation(org))
    assert (400, "INVALID_TYPE_FOR_OPERATION") == (error.status, error.error_code)


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda org: org.create("Foo", {}), id="create"),
        pytest.param(lambda org: org.update("Foo", "a00000000000001AAA", {}), id="update"),
        pytest.param(lambda org: org.get("Foo", "a00000000000001AAA", None, V), id="get"),
        pytest.param(lambda org: org.delete("Foo", "a00000000000001AAA"), id="delete"),
        pytest.param(lambda org: org.describe("Foo", V), id="describe"),
        pytest.param(lambda org: org.records("Foo"), id="records"),
    ],
)
def test_unknown_sobject_is_not_found(org: Org, operation: Callable[[Org], object]) -> None:
    """REST calls on an unknown sObject are 404 NOT_FOUND."""
    error = _fails(lambda: operation(org))
    assert (404, "NOT_FOUND", "The requested resource does not exist") == (
        error.status,
        error.error_code,
        error.message,
    )


def test_delete_is_soft_and_hides_the_record(org: Org) -> None:
    """delete marks IsDeleted; get then says NOT_FOUND, update and delete ENTITY_IS_DELETED."""
    contact = org.create("Contact", {"LastName": "Gone"})
    org.delete("Contact", contact)
    stored = next(row for row in org.records("Contact") if row["Id"] == contact)
    assert stored["IsDeleted"] is True
    errors = [
        _fails(lambda: org.get("Contact", contact, None, V)),
        _fails(lambda: org.update("Contact", contact, {"Title": "x"})),
        _fails(lambda: org.delete("Contact", contact)),
    ]
    assert [
        (404, "NOT_FOUND", "The requested resource does not exist", []),
        (404, "ENTITY_IS_DELETED", "entity is deleted", []),
        (404, "ENTITY_IS_DELETED", "entity is deleted", []),
    ] == [(e.status, e.error_code, e.message, e.fields) for e in errors]


def test_deleting_an_account_deletes_its_children(org: Org) -> None:
    """Deleting an account with contacts is allowed and cascades to them."""
    acme = _id_of(org, "Account", "Acme")
    org.create("Contact", {"LastName": "Child", "AccountId": acme})
    org.create("Contact", {"LastName": "Other"})
    org.delete("Account", acme)
    assert ["Other"] == _names(org, "SELECT Name FROM Contact")
    soql = "SELECT Name, Account.Name FROM Contact WHERE IsDeleted = true"
    records = org.query(soql, include_deleted=True, version=V).records
    assert ["Child"] == [record["Name"] for record in records]
    parent = records[0]["Account"]
    assert isinstance(parent, dict)
    assert "Acme" == parent["Name"]


# -- upsert and external ids ---------------------------------------------------


def test_upsert_creates_then_updates(org: Org) -> None:
    """The first upsert creates the record, the second updates the same one."""
    first = org.upsert("Contact", "External_Id__c", "EXT-1", {"LastName": "One"})
    second = org.upsert("contact", "external_id__c", "ext-1", {"Title": "CEO"})
    assert (first[0], True) == first
    assert (first[0], False) == second
    record = org.get("Contact", first[0], ["LastName", "Title", "External_Id__c"], V)
    assert ("One", "CEO", "EXT-1") == (
        record["LastName"],
        record["Title"],
        record["External_Id__c"],
    )


def test_upsert_create_needs_required_fields(org: Org) -> None:
    """An upsert that creates still enforces required fields."""
    with pytest.raises(ApiError) as caught:
        org.upsert("Contact", "External_Id__c", "EXT-2", {"Title": "x"})
    assert "REQUIRED_FIELD_MISSING" == caught.value.error_code


@pytest.mark.parametrize("field", ["Name", "Foo"])
def test_upsert_on_non_external_field_is_not_found(org: Org, field: str) -> None:
    """Only external id fields can key an upsert."""
    with pytest.raises(ApiError) as caught:
        org.upsert("Account", field, "x", {"Name": "x"})
    assert (
        404,
        "NOT_FOUND",
        f"Provided external ID field does not exist or is not accessible: {field}",
    ) == (caught.value.status, caught.value.error_code, caught.value.message)


def test_upsert_ignores_deleted_matches(org: Org) -> None:
    """A soft-deleted record with the same external id does not count as a match."""
    org.delete("Account", _id_of(org, "Account", "Acme"))
    new_id, created = org.upsert("Account", "External_Id__c", "ACC-1", {"Name": "New"})
    assert created is True
    assert new_id != _id_of(org, "Account", "Acme")


def test_get_by_external_id(org: Org) -> None:
    """get_by_external_id finds live records case-insensitively, else NOT_FOUND."""
    acme = _id_of(org, "Account", "Acme")
    record = org.get_by_external_id("Account", "external_id__c", "acc-1", ["Name"], V)
    assert {
        "attributes": {"type": "Account", "url": _url("Account", acme)},
        "Name": "Acme",
    } == record
    with pytest.raises(ApiError) as caught:
        org.get_by_external_id("Account", "External_Id__c", "ACC-404", None, V)
    assert (404, "NOT_FOUND") == (caught.value.status, caught.value.error_code)


# -- lock keys -----------------------------------------------------------------


def test_lock_keys_include_the_parent_account(org: Org) -> None:
    """A contact locks itself and its account; an account or orphan only itself."""
    acme = _id_of(org, "Account", "Acme")
    child = org.create("Contact", {"LastName": "Child", "AccountId": acme})
    orphan = org.create("Contact", {"LastName": "Orphan"})
    assert [child, acme] == org.lock_keys("Contact", child)
    assert [child, acme] == org.lock_keys("contact", child[:15])
    assert [orphan] == org.lock_keys("Contact", orphan)
    assert [acme] == org.lock_keys("Account", acme)


@pytest.mark.parametrize(
    ("sobject", "record_id"),
    [("Contact", "003000000000404AAA"), ("Contact", "junk"), ("Foo", "a01")],
)
def test_lock_keys_of_unknown_records(org: Org, sobject: str, record_id: str) -> None:
    """Unknown records lock only the id given."""
    assert [record_id] == org.lock_keys(sobject, record_id)


# -- describe ------------------------------------------------------------------


def test_describe_global_lists_every_sobject(org: Org) -> None:
    """describe_global has the GET /sobjects shape with versioned urls."""
    body = org.describe_global(V)
    assert ("UTF-8", 200) == (body["encoding"], body["maxBatchSize"])
    sobjects = body["sobjects"]
    assert isinstance(sobjects, list)
    names = [entry["name"] for entry in sobjects]
    assert {
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "OpportunityLineItem",
        "Product2",
        "Pricebook2",
        "PricebookEntry",
        "Campaign",
        "CampaignMember",
        "Task",
        "Event",
        "Organization",
        "User",
        "RecordType",
    } == set(names)
    assert org.sobject_names() == names
    contact = sobjects[1]
    assert {
        "sobject": f"/services/data/v{V}/sobjects/Contact",
        "describe": f"/services/data/v{V}/sobjects/Contact/describe",
        "rowTemplate": f"/services/data/v{V}/sobjects/Contact/{{ID}}",
    } == contact["urls"]
    assert ("003", True, True) == (
        contact["keyPrefix"],
        contact["createable"],
        contact["queryable"],
    )


def test_describe_contact_fields(org: Org) -> None:
    """describe lists fields with type, writability and relationships."""
    body = org.describe("contact", V)
    fields = body["fields"]
    assert isinstance(fields, list)
    by_name = {field["name"]: field for field in fields}
    assert ("Contact", "003") == (body["name"], body["keyPrefix"])
    assert (False, False) == (
        by_name["Name"]["createable"],
        by_name["Name"]["updateable"],
    )
    assert (["Account"], "Account", "reference") == (
        by_name["AccountId"]["referenceTo"],
        by_name["AccountId"]["relationshipName"],
        by_name["AccountId"]["type"],
    )
    assert by_name["External_Id__c"]["externalId"] is True
    assert by_name["LastName"]["nillable"] is False


# -- SOSL ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "sosl",
    [
        "FIND {love} RETURNING Contact(Id, Name)",
        "find {LOVE} in all fields returning contact(id, name)",
        "FIND {love} IN NAME FIELDS RETURNING Contact(Id, Name ORDER BY Name)",
    ],
)
def test_search_matches_name_substrings(org: Org, sosl: str) -> None:
    """SOSL finds records whose name fields contain the term, ignoring case."""
    ada = org.create("Contact", {"FirstName": "Ada", "LastName": "Lovelace"})
    org.create("Contact", {"FirstName": "Alan", "LastName": "Turing"})
    assert [
        {
            "attributes": {"type": "Contact", "url": _url("Contact", ada)},
            "Id": ada,
            "Name": "Ada Lovelace",
        }
    ] == org.search(sosl, V)


def test_search_without_returning_covers_searchable_objects(org: Org) -> None:
    """Without RETURNING every searchable object is searched and Ids returned."""
    contact = org.create("Contact", {"LastName": "Acmeson"})
    found = org.search("FIND {acme}", V)
    assert [("Account", _id_of(org, "Account", "Acme")), ("Contact", contact)] == [
        (record["attributes"]["type"], record["Id"])  # type: ignore[index]
        for record in found
    ]


def test_search_returning_where_and_limit(org: Org) -> None:
    """RETURNING accepts WHERE and LIMIT inside the parentheses."""
    for last in ("Smith", "Smithers", "Smithson"):
        org.create("Contact", {"LastName": last, "Title": "CEO" if last != "Smith" else None})
    sosl = "FIND {smith} RETURNING Contact(Name WHERE Title = 'CEO' ORDER BY Name LIMIT 1)"
    assert ["Smithers"] == [record["Name"] for record in org.search(sosl, V)]


def test_malformed_search(org: Org) -> None:
    """A search without a braced term is MALFORMED_SEARCH."""
    with pytest.raises(ApiError) as caught:
        org.search("FIND acme", V)
    assert (400, "MALFORMED_SEARCH") == (caught.value.status, caught.value.error_code)


# -- date literals -------------------------------------------------------------

WEDNESDAY = dt.date(2024, 6, 12)


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.mark.parametrize(
    ("today", "literal", "first", "last"),
    [
        (WEDNESDAY, "TODAY", "2024-06-12", "2024-06-12"),
        (WEDNESDAY, "YESTERDAY", "2024-06-11", "2024-06-11"),
        (WEDNESDAY, "TOMORROW", "2024-06-13", "2024-06-13"),
        (WEDNESDAY, "LAST_WEEK", "2024-06-02", "2024-06-08"),
        (WEDNESDAY, "THIS_WEEK", "2024-06-09", "2024-06-15"),
        (WEDNESDAY, "NEXT_WEEK", "2024-06-16", "2024-06-22"),
        (WEDNESDAY, "LAST_MONTH", "2024-05-01", "2024-05-31"),
        (WEDNESDAY, "THIS_MONTH", "2024-06-01", "2024-06-30"),
        (WEDNESDAY, "NEXT_MONTH", "2024-07-01", "2024-07-31"),
        (WEDNESDAY, "THIS_YEAR", "2024-01-01", "2024-12-31"),
        (WEDNESDAY, "LAST_YEAR", "2023-01-01", "2023-12-31"),
        (WEDNESDAY, "NEXT_YEAR", "2025-01-01", "2025-12-31"),
        (WEDNESDAY, "LAST_N_DAYS:3", "2024-06-09", "2024-06-12"),
        (WEDNESDAY, "NEXT_N_DAYS:3", "2024-06-13", "2024-06-15"),
        (WEDNESDAY, "N_DAYS_AGO:3", "2024-06-09", "2024-06-09"),
        (WEDNESDAY, "last_n_days:1", "2024-06-11", "2024-06-12"),
        (WEDNESDAY, "LAST_90_DAYS", "2024-03-14", "2024-06-12"),
        (WEDNESDAY, "NEXT_90_DAYS", "2024-06-13", "2024-09-10"),
        (WEDNESDAY, "LAST_QUARTER", "2024-01-01", "2024-03-31"),
        (WEDNESDAY, "THIS_QUARTER", "2024-04-01", "2024-06-30"),
        (WEDNESDAY, "NEXT_QUARTER", "2024-07-01", "2024-09-30"),
        (WEDNESDAY, "LAST_N_WEEKS:2", "2024-05-26", "2024-06-08"),
        (WEDNESDAY, "NEXT_N_WEEKS:1", "2024-06-16", "2024-06-22"),
        (WEDNESDAY, "N_WEEKS_AGO:1", "2024-06-02", "2024-06-08"),
        (WEDNESDAY, "LAST_N_MONTHS:2", "2024-04-01", "2024-05-31"),
        (WEDNESDAY, "NEXT_N_MONTHS:2", "2024-07-01", "2024-08-31"),
        (WEDNESDAY, "N_MONTHS_AGO:13", "2023-05-01", "2023-05-31"),
        (WEDNESDAY, "NEXT_N_QUARTERS:2", "2024-07-01", "2024-12-31"),
        (WEDNESDAY, "LAST_N_YEARS:2", "2022-01-01", "2023-12-31"),
        (WEDNESDAY, "N_YEARS_AGO:1", "2023-01-01", "2023-12-31"),
        (dt.date(2024, 6, 9), "THIS_WEEK", "2024-06-09", "2024-06-15"),
        (dt.date(2024, 6, 15), "THIS_WEEK", "2024-06-09", "2024-06-15"),
        (dt.date(2024, 1, 3), "LAST_MONTH", "2023-12-01", "2023-12-31"),
        (dt.date(2024, 12, 31), "NEXT_MONTH", "2025-01-01", "2025-01-31"),
        (dt.date(2024, 3, 1), "YESTERDAY", "2024-02-29", "2024-02-29"),
    ],
)
def test_date_literal_ranges(today: dt.date, literal: str, first: str, last: str) -> None:
    """Each date literal is a day range relative to today, weeks starting on Sunday."""
    resolved = date_literal(literal)
    assert resolved is not None
    assert (_day(first), _day(last)) == resolved.bounds(today)


def _clocked(today: dt.date) -> Org:
    return Org(accounts=0, contacts=0, opportunities=0, today=lambda: today)


def _opportunities_closing(org: Org, *days: str) -> None:
    for close in days:
        org.create("Opportunity", {"Name": close, "StageName": "Prospecting", "CloseDate": close})


JUNE = ["2024-06-10", "2024-06-11", "2024-06-12", "2024-06-13", "2024-06-14"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("CloseDate = TODAY", ["2024-06-12"]),
        (
            "CloseDate != TODAY",
            ["2024-06-10", "2024-06-11", "2024-06-13", "2024-06-14", "2024-07-01"],
        ),
        ("CloseDate < YESTERDAY", ["2024-06-10"]),
        ("CloseDate <= YESTERDAY", ["2024-06-10", "2024-06-11"]),
        ("CloseDate > TODAY", ["2024-06-13", "2024-06-14", "2024-07-01"]),
        ("CloseDate >= TOMORROW", ["2024-06-13", "2024-06-14", "2024-07-01"]),
        ("CloseDate = LAST_N_DAYS:1", ["2024-06-11", "2024-06-12"]),
        ("CloseDate = NEXT_N_DAYS:1", ["2024-06-13"]),
        ("CloseDate = N_DAYS_AGO:2", ["2024-06-10"]),
        ("CloseDate < THIS_WEEK", []),
        ("CloseDate > THIS_WEEK", ["2024-07-01"]),
        ("CloseDate = THIS_MONTH", JUNE),
        ("CloseDate >= NEXT_MONTH", ["2024-07-01"]),
        ("CloseDate IN (YESTERDAY, TOMORROW)", ["2024-06-11", "2024-06-13"]),
        (
            "CloseDate NOT IN (YESTERDAY, 2024-06-14)",
            ["2024-06-10", "2024-06-12", "2024-06-13", "2024-07-01"],
        ),
    ],
)
def test_date_literals_on_date_fields(where: str, expected: list[str]) -> None:
    """On a date field = means within the range, < before its start, > after its end."""
    org = _clocked(WEDNESDAY)
    _opportunities_closing(org, *JUNE, "2024-07-01")
    soql = f"SELECT Name FROM Opportunity WHERE {where} ORDER BY CloseDate"  # noqa: S608
    assert expected == _names(org, soql)


@pytest.mark.parametrize(
    ("today", "where", "expected"),
    [
        ("2024-06-01", "CreatedDate = TODAY", ["Acme", "Globex"]),
        ("2024-06-01", "CreatedDate < TODAY", []),
        ("2024-06-01", "CreatedDate > YESTERDAY", ["Acme", "Globex"]),
        ("2024-06-02", "CreatedDate = TODAY", []),
        ("2024-06-02", "CreatedDate = YESTERDAY", ["Acme", "Globex"]),
        ("2024-06-02", "CreatedDate < TODAY", ["Acme", "Globex"]),
        ("2024-06-02", "SystemModstamp = LAST_N_DAYS:1", ["Acme", "Globex"]),
        ("2024-06-02", "LastModifiedDate >= THIS_WEEK", []),
        ("2024-06-02", "LastModifiedDate = LAST_WEEK", ["Acme", "Globex"]),
    ],
)
def test_date_literals_on_datetime_fields(today: str, where: str, expected: list[str]) -> None:
    """On a datetime field the literal covers whole UTC days (writes start 2024-06-01)."""
    org = _clocked(_day(today))
    org.create("Account", {"Name": "Acme"})
    org.create("Account", {"Name": "Globex"})
    assert expected == _accounts(org, f"WHERE {where} ORDER BY Name")


def test_date_literals_read_the_clock_at_every_query() -> None:
    """Advancing the injected clock moves TODAY without rebuilding the org."""
    days = [dt.date(2024, 6, 11)]
    org = Org(accounts=0, contacts=0, opportunities=0, today=lambda: days[0])
    _opportunities_closing(org, "2024-06-11", "2024-06-12")
    soql = "SELECT Name FROM Opportunity WHERE CloseDate = TODAY"
    before = _names(org, soql)
    days[0] = dt.date(2024, 6, 12)
    assert (["2024-06-11"], ["2024-06-12"]) == (before, _names(org, soql))


def test_seeded_datetimes_compare_with_date_literals() -> None:
    """Seeded CreatedDates (during 2023) all fall in LAST_YEAR when today is in 2024."""
    org = Org(accounts=5, contacts=0, opportunities=0, today=lambda: WEDNESDAY)
    soql = "SELECT COUNT() FROM Account WHERE CreatedDate = LAST_YEAR"
    assert 5 == org.query(soql, include_deleted=False, version=V).total_size


# -- audit fields --------------------------------------------------------------

AUDIT_FIELDS = ("CreatedById", "LastModifiedById", "SystemModstamp")


@pytest.mark.parametrize("sobject", ["Account", "Contact", "Opportunity"])
def test_audit_fields_are_read_only_in_describe(org: Org, sobject: str) -> None:
    """CreatedById, LastModifiedById and SystemModstamp are read-only; OwnerId is writable."""
    fields = org.describe(sobject, V)["fields"]
    assert isinstance(fields, list)
    by_name = {field["name"]: field for field in fields}
    assert {
        "OwnerId": ("reference", ["User"], "Owner", True, True),
        "CreatedById": ("reference", ["User"], "CreatedBy", False, False),
        "LastModifiedById": ("reference", ["User"], "LastModifiedBy", False, False),
        "SystemModstamp": ("datetime", [], None, False, False),
    } == {
        name: (
            by_name[name]["type"],
            by_name[name]["referenceTo"],
            by_name[name]["relationshipName"],
            by_name[name]["createable"],
            by_name[name]["updateable"],
        )
        for name in ("OwnerId", *AUDIT_FIELDS)
    }


def test_create_stamps_audit_fields(org: Org) -> None:
    """A new record is owned, created and last modified by the org's user, stamped once."""
    contact = org.create("Contact", {"LastName": "Audit"})
    record = org.get(
        "Contact", contact, ["OwnerId", *AUDIT_FIELDS, "CreatedDate", "LastModifiedDate"], V
    )
    stamp = record["CreatedDate"]
    assert (org.user_id, org.user_id, org.user_id, stamp, stamp) == (
        record["OwnerId"],
        record["CreatedById"],
        record["LastModifiedById"],
        record["SystemModstamp"],
        record["LastModifiedDate"],
    )


def test_seeded_records_carry_audit_fields() -> None:
    """Seeded records have an owner and a SystemModstamp equal to LastModifiedDate."""
    org = Org(accounts=2, contacts=2, opportunities=2)
    rows = [row for name in ("Account", "Contact", "Opportunity") for row in org.records(name)]
    assert [(org.user_id, row["LastModifiedDate"]) for row in rows] == [
        (row["OwnerId"], row["SystemModstamp"]) for row in rows
    ]


def test_update_and_delete_move_system_modstamp(org: Org) -> None:
    """SystemModstamp tracks LastModifiedDate through update and delete."""
    contact = org.create("Contact", {"LastName": "Audit"})
    org.update("Contact", contact, {"Title": "CEO"})
    updated = org.get("Contact", contact, ["SystemModstamp", "LastModifiedDate"], V)
    org.delete("Contact", contact)
    deleted = next(row for row in org.records("Contact") if row["Id"] == contact)
    assert [
        ("2024-06-01T00:00:05.000+0000",) * 2,
        ("2024-06-01T00:00:06.000+0000",) * 2,
    ] == [
        (updated["SystemModstamp"], updated["LastModifiedDate"]),
        (deleted["SystemModstamp"], deleted["LastModifiedDate"]),
    ]


@pytest.mark.parametrize("field", AUDIT_FIELDS)
@pytest.mark.parametrize("write", ["create", "update"])
def test_audit_fields_cannot_be_written(org: Org, field: str, write: str) -> None:
    """Setting an audit field is INVALID_FIELD_FOR_INSERT_UPDATE."""
    value = "2024-01-01T00:00:00Z" if field == "SystemModstamp" else org.user_id
    if write == "create":
        error = _fails(lambda: org.create("Account", {"Name": "x", field: value}))
    else:
        acme = _id_of(org, "Account", "Acme")
        error = _fails(lambda: org.update("Account", acme, {field: value}))
    assert (400, "INVALID_FIELD_FOR_INSERT_UPDATE", [field]) == (
        error.status,
        error.error_code,
        error.fields,
    )


def test_owner_relationship_is_queryable(org: Org) -> None:
    """Owner.Name nests the owning User, and OwnerId filters like any reference."""
    soql = (
        "SELECT Name, Owner.Name, CreatedBy.Username FROM Account "  # noqa: S608
        f"WHERE OwnerId = '{org.user_id[:15]}' ORDER BY Name LIMIT 1"
    )
    record = org.query(soql, include_deleted=False, version=V).records[0]
    assert (
        {
            "attributes": {"type": "User", "url": _url("User", org.user_id)},
            "Name": "Integration User",
        },
        "integration@fake-org.example.com",
    ) == (record["Owner"], record["CreatedBy"]["Username"])  # type: ignore[index]


def test_incremental_sync_filters_on_system_modstamp(org: Org) -> None:
    """WHERE SystemModstamp > last sync picks up exactly the later writes."""
    org.update("Account", _id_of(org, "Account", "Acme"), {"Rating": "Warm"})
    soql = "WHERE SystemModstamp > 2024-06-01T00:00:02Z ORDER BY SystemModstamp"
    assert ["Initech", "Acme"] == _accounts(org, soql)


# -- deleted records -------------------------------------------------------------


def test_cascade_deleted_children_are_entity_is_deleted(org: Org) -> None:
    """A contact deleted with its account also answers writes with ENTITY_IS_DELETED."""
    acme = _id_of(org, "Account", "Acme")
    child = org.create("Contact", {"LastName": "Child", "AccountId": acme})
    org.delete("Account", acme)
    error = _fails(lambda: org.update("Contact", child, {"Title": "x"}))
    assert (404, "ENTITY_IS_DELETED", "entity is deleted") == (
        error.status,
        error.error_code,
        error.message,
    )


# -- replication: deleted_between / updated_between --------------------------------

T0 = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def test_deleted_between_lists_deletions_in_the_window() -> None:
    """deleted_between gives (id, deletedDate) for deletions in the window, oldest first."""
    org = _clocked(WEDNESDAY)
    first, second, third = (org.create("Contact", {"LastName": n}) for n in "ABC")
    org.delete("Contact", third)
    org.delete("Contact", first)
    assert [
        (third, "2024-06-01T00:00:04.000+0000"),
        (first, "2024-06-01T00:00:05.000+0000"),
    ] == org.deleted_between("Contact", T0, T0 + MINUTE)
    assert [] == org.deleted_between("Contact", T0 + MINUTE, T0 + 2 * MINUTE)
    assert [] == org.deleted_between("Account", T0, T0 + MINUTE)
    assert second not in dict(org.deleted_between("Contact", T0, T0 + MINUTE))


def test_deleted_between_includes_cascaded_children(org: Org) -> None:
    """Children deleted with their account are listed with the same deletedDate."""
    acme = _id_of(org, "Account", "Acme")
    child = org.create("Contact", {"LastName": "Child", "AccountId": acme})
    org.delete("Account", acme)
    stamp = "2024-06-01T00:00:05.000+0000"
    assert ([(acme, stamp)], [(child, stamp)]) == (
        org.deleted_between("Account", T0, T0 + MINUTE),
        org.deleted_between("contact", T0, T0 + MINUTE),
    )


def test_updated_between_lists_live_changes_by_system_modstamp() -> None:
    """updated_between gives ids created or changed in the window, oldest change first."""
    org = Org(accounts=2, contacts=0, opportunities=0)
    rows = sorted(org.records("Account"), key=lambda row: str(row["SystemModstamp"]))
    seeded = [str(row["Id"]) for row in rows]
    gone = org.create("Account", {"Name": "Gone"})
    new = org.create("Account", {"Name": "New"})
    org.update("Account", seeded[1], {"Rating": "Hot"})
    org.delete("Account", gone)
    year_2023 = (dt.datetime(2023, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert ([seeded[0]], [new, seeded[1]], []) == (
        org.updated_between("Account", *year_2023),
        org.updated_between("Account", T0, T0 + MINUTE),
        org.updated_between("User", T0, T0 + MINUTE),
    )


def test_replication_window_ignores_seconds_and_reads_naive_as_utc() -> None:
    """Seconds of start and end are dropped, and naive datetimes are UTC."""
    org = _clocked(WEDNESDAY)
    contact = org.create("Contact", {"LastName": "A"})
    start = dt.datetime(2024, 6, 1, 0, 0, 30)  # noqa: DTZ001  (naive: read as 00:00 UTC)
    end = dt.datetime(2024, 6, 1, 0, 1, 59, tzinfo=dt.UTC)  # read as 00:01:00
    assert [contact] == org.updated_between("Contact", start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [(T0 + MINUTE, T0), (T0, T0), (T0, T0 + dt.timedelta(seconds=59))],
)
@pytest.mark.parametrize("method", ["deleted_between", "updated_between"])
def test_replication_window_must_span_a_minute(
    org: Org, method: str, start: dt.datetime, end: dt.datetime
) -> None:
    """A window whose start does not precede its end (to the minute) is rejected."""
    error = _fails(lambda: getattr(org, method)("Contact", start, end))
    assert (400, "INVALID_REPLICATION_DATE") == (error.status, error.error_code)


@pytest.mark.parametrize("method", ["deleted_between", "updated_between"])
def test_replication_of_unknown_sobject_is_not_found(org: Org, method: str) -> None:
    """deleted_between and updated_between on an unknown sObject are 404 NOT_FOUND."""
    error = _fails(lambda: getattr(org, method)("Foo", T0, T0 + MINUTE))
    assert (404, "NOT_FOUND") == (error.status, error.error_code)


# -- aggregates and WITH ---------------------------------------------------------


def test_count_of_a_field_is_an_aggregate_result(org: Org) -> None:
    """SELECT COUNT(Id) answers one AggregateResult record holding expr0."""
    result = org.query("SELECT COUNT(Id) FROM Account", include_deleted=False, version=V)
    assert ([{"attributes": {"type": "AggregateResult"}, "expr0": 3}], 1) == (
        result.records,
        result.total_size,
    )


def test_count_skips_nulls_and_names_aliases(org: Org) -> None:
    """COUNT(field) skips nulls, COUNT_DISTINCT counts values, aliases replace exprN."""
    soql = (
        "SELECT COUNT(Rating), count_distinct(Industry) kinds, COUNT(Id) "
        "FROM Account WHERE Name != 'Nobody'"
    )
    result = org.query(soql, include_deleted=False, version=V)
    assert [
        {"attributes": {"type": "AggregateResult"}, "expr0": 2, "kinds": 2, "expr1": 3}
    ] == result.records


def test_count_with_no_matches_and_include_deleted(org: Org) -> None:
    """COUNT(field) over no rows is 0, and queryAll counts deleted rows too."""
    org.delete("Account", _id_of(org, "Account", "Acme"))
    none = org.query(
        "SELECT COUNT(Id) FROM Account WHERE Name = 'x'", include_deleted=False, version=V
    )
    every = org.query("SELECT COUNT(Id) n FROM Account", include_deleted=True, version=V)
    assert (0, 3) == (none.records[0]["expr0"], every.records[0]["n"])


@pytest.mark.parametrize("mode", ["SECURITY_ENFORCED", "security_enforced", "USER_MODE"])
def test_with_security_enforced_is_accepted_and_ignored(org: Org, mode: str) -> None:
    """WITH SECURITY_ENFORCED (or USER_MODE) after WHERE changes nothing here."""
    clause = f"WHERE Rating != null WITH {mode} ORDER BY Name LIMIT 5"
    assert ["Acme", "Initech"] == _accounts(org, clause)


# -- concurrency ---------------------------------------------------------------


def test_concurrent_creates_get_unique_ids() -> None:
    """Several threads creating at once all get distinct ids and nothing is lost."""
    org = Org(accounts=0, contacts=0, opportunities=0)
    ids: list[str] = []
    barrier = threading.Barrier(8)

    def worker(number: int) -> None:
        barrier.wait()
        made = [org.create("Contact", {"LastName": f"T{number}-{i}"}) for i in range(50)]
        ids.extend(made)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 400 == len(set(ids))
    assert 400 == len(org.records("Contact"))


def test_owner_can_be_set_on_create_and_update() -> None:
    """OwnerId is writable, as in a real org, and checked to be a user."""
    org = Org(accounts=1, contacts=0, opportunities=0)
    account_id = org.create("Account", {"Name": "Owned", "OwnerId": org.user_id})
    org.update("Account", account_id, {"OwnerId": org.user_id})
    assert org.user_id == org.get("Account", account_id, ["OwnerId"], "59.0")["OwnerId"]


def test_writes_match_today_on_the_write_clocks_day() -> None:
    """With today on the write clock's day, records written in a test match CreatedDate = TODAY."""
    org = Org(accounts=1, contacts=0, opportunities=0, today=lambda: dt.date(2024, 6, 1))
    created = org.create("Account", {"Name": "Fresh"})
    found = org.query(
        "SELECT Id FROM Account WHERE CreatedDate = TODAY", include_deleted=False, version="59.0"
    )
    assert [created] == [record["Id"] for record in found.records]
