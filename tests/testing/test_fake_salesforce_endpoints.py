"""UserInfo, the Tooling API query and recently viewed items, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfresilience.testing import FakeSalesforce
from sfresilience.testing.org import ApiError


USERINFO_KEYS = {
    "sub",
    "user_id",
    "organization_id",
    "preferred_username",
    "nickname",
    "name",
    "email",
    "email_verified",
    "given_name",
    "family_name",
    "zoneinfo",
    "photos",
    "profile",
    "picture",
    "address",
    "is_salesforce_integration_user",
    "urls",
    "active",
    "user_type",
    "language",
    "locale",
    "utcOffset",
    "updated_at",
    "is_app_installed",
}


class TestUserInfo:
    def _get(self, fake: FakeSalesforce, **kwargs: Any) -> requests.Response:
        return fake.session().get(
            f"{fake.instance_url}/services/oauth2/userinfo", timeout=5, **kwargs
        )

    def test_the_claims_of_the_token_user(self, fake: FakeSalesforce) -> None:
        token = fake.issue_session()
        info = self._get(fake, headers={"Authorization": f"Bearer {token}"}).json()
        assert USERINFO_KEYS == set(info)
        assert (fake.org.user_id, fake.org.org_id, fake.username) == (
            info["user_id"],
            info["organization_id"],
            info["preferred_username"],
        )
        assert (
            f"https://login.salesforce.com/id/{fake.org.org_id}/{fake.org.user_id}" == info["sub"]
        )
        assert ("Integration", "User") == (info["given_name"], info["family_name"])
        assert f"{fake.instance_url}/services/data/v{{version}}/query/" == info["urls"]["query"]

    def test_the_token_may_come_as_a_parameter(self, fake: FakeSalesforce) -> None:
        answer = self._get(fake, params={"access_token": fake.issue_session()})
        assert 200 == answer.status_code

    @pytest.mark.parametrize("authorization", ["Bearer 00Dbogus!AQ", None])
    def test_a_bad_or_missing_token_is_403_bad_oauth_token(
        self, fake: FakeSalesforce, authorization: str | None
    ) -> None:
        headers = {"Authorization": authorization} if authorization else {}
        answer = self._get(fake, headers=headers)
        assert (403, "Bad_OAuth_Token") == (answer.status_code, answer.text)

    def test_it_is_not_an_api_call(self, fake: FakeSalesforce) -> None:
        before = fake.api_usage
        self._get(fake, headers={"Authorization": f"Bearer {fake.issue_session()}"})
        assert before == fake.api_usage

    def test_a_sandbox_subject_is_on_test_salesforce(self) -> None:
        with FakeSalesforce(is_sandbox=True) as fake:
            info = self._get(fake, headers={"Authorization": f"Bearer {fake.issue_session()}"})
            assert info.json()["sub"].startswith("https://test.salesforce.com/id/")

    def test_over_tls_the_urls_name_the_https_instance(self) -> None:
        with FakeSalesforce(tls=True) as fake:
            info = requests.get(
                f"{fake.instance_url}/services/oauth2/userinfo",
                headers={"Authorization": f"Bearer {fake.issue_session()}"},
                verify=fake.ca_bundle,
                timeout=5,
            ).json()
            assert fake.instance_url == info["urls"]["custom_domain"]


class TestToolingQuery:
    def _query(self, sf: Any, soql: str) -> Any:
        return sf.toolingexecute("query/", params={"q": soql})

    def test_the_tooling_shape(self, sf: Any) -> None:
        result = self._query(sf, "SELECT Id, Name FROM ApexClass ORDER BY Name")
        assert (2, 2, True, None, "ApexClass") == (
            result["size"],
            result["totalSize"],
            result["done"],
            result["queryLocator"],
            result["entityTypeName"],
        )
        first = result["records"][0]
        assert {"attributes", "Id", "Name"} == set(first)
        assert "SyncService" == first["Name"]
        url = f"/services/data/v59.0/tooling/sobjects/ApexClass/{first['Id']}"
        assert {"type": "ApexClass", "url": url} == first["attributes"]
        assert first["Id"].startswith("01p")

    def test_where_order_and_limit(self, sf: Any) -> None:
        result = self._query(
            sf, "SELECT Name FROM ApexClass WHERE Name LIKE 'Sync%' ORDER BY Name DESC LIMIT 1"
        )
        assert ["SyncServiceTest"] == [r["Name"] for r in result["records"]]

    def test_a_test_adds_its_own_rows(self, sf: Any, fake: FakeSalesforce) -> None:
        fake.tooling.add("ApexTrigger", Name="LeadRouting", TableEnumOrId="Lead", Status="Inactive")
        result = self._query(
            sf, "SELECT Name, TableEnumOrId FROM ApexTrigger WHERE Status = 'Inactive'"
        )
        assert [("LeadRouting", "Lead")] == [
            (r["Name"], r["TableEnumOrId"]) for r in result["records"]
        ]

    def test_count(self, sf: Any) -> None:
        result = self._query(sf, "SELECT COUNT() FROM ApexTrigger")
        assert (1, []) == (result["totalSize"], result["records"])

    @pytest.mark.parametrize(
        ("soql", "code"),
        [
            ("SELECT Id FROM Account__x", "INVALID_TYPE"),
            ("SELECT Body__z FROM ApexClass", "INVALID_FIELD"),
            ("SELECT FROM ApexClass", "MALFORMED_QUERY"),
        ],
    )
    def test_errors_have_salesforce_shapes(self, sf: Any, soql: str, code: str) -> None:
        with pytest.raises(SalesforceMalformedRequest) as caught:
            self._query(sf, soql)
        content: Any = caught.value.content
        assert code == content[0]["errorCode"]

    def test_it_is_an_api_call(self, sf: Any, fake: FakeSalesforce) -> None:
        before = fake.api_usage
        self._query(sf, "SELECT Id FROM ApexClass")
        assert before + 1 == fake.api_usage

    def test_add_refuses_unknown_objects_and_fields(self, fake: FakeSalesforce) -> None:
        with pytest.raises(ValueError, match="ApexPage"):
            fake.tooling.add("ApexPage", Name="x")
        with pytest.raises(ValueError, match="Bogus"):
            fake.tooling.add("ApexClass", Bogus=1)


class TestRecent:
    def _recent(self, sf: Any, **params: Any) -> Any:
        # simple-salesforce's restful() turns an empty JSON array into None.
        return sf.restful("recent", params=params) or []

    def _two_ids(self, sf: Any) -> tuple[str, str]:
        account = sf.query("SELECT Id FROM Account ORDER BY Id LIMIT 1")["records"][0]["Id"]
        contact = sf.query("SELECT Id FROM Contact ORDER BY Id LIMIT 1")["records"][0]["Id"]
        return account, contact

    def test_empty_until_something_is_viewed(self, sf: Any) -> None:
        assert [] == self._recent(sf)

    def test_most_recent_first_with_id_and_name(self, sf: Any, fake: FakeSalesforce) -> None:
        account, contact = self._two_ids(sf)
        fake.mark_viewed("Account", account)
        fake.mark_viewed("Contact", contact)
        items = self._recent(sf)
        assert [contact, account] == [item["Id"] for item in items]
        assert {"attributes", "Id", "Name"} == set(items[0])
        assert "Contact" == items[0]["attributes"]["type"]

    def test_limit(self, sf: Any, fake: FakeSalesforce) -> None:
        account, contact = self._two_ids(sf)
        fake.mark_viewed("Account", account)
        fake.mark_viewed("Contact", contact)
        assert [contact] == [item["Id"] for item in self._recent(sf, limit=1)]

    def test_deleted_records_are_left_out(self, sf: Any, fake: FakeSalesforce) -> None:
        _account, contact = self._two_ids(sf)
        fake.mark_viewed("Contact", contact)
        sf.Contact.delete(contact)
        assert [] == self._recent(sf)

    def test_marking_an_unknown_record_fails(self, fake: FakeSalesforce) -> None:
        with pytest.raises(ApiError):
            fake.mark_viewed("Contact", "003000000000000AAA")
