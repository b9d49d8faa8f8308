"""Every login flow of FakeSalesforce, driven by the unmodified simple-salesforce."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceAuthenticationFailed

from sfresilience.testing import FakeSalesforce


QUERY = "SELECT Id FROM Account LIMIT 1"


def test_soap_login_gives_an_instance_client(fake: FakeSalesforce) -> None:
    """The default SOAP login yields a working client on the My Domain host."""
    sf = fake.client()
    assert "fake-org.my.salesforce.com" == sf.sf_instance
    assert sf.session_id.startswith(fake.org.org_id[:15] + "!AQ")
    assert 1 == sf.query(QUERY)["totalSize"]
    assert 1 == fake.login_count


def test_soap_login_with_a_wrong_password_is_invalid_login(
    fake: FakeSalesforce,
) -> None:
    """A wrong password answers the partner API's INVALID_LOGIN fault."""
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        fake.client(username=fake.username, password="wrong", security_token=fake.security_token)
    assert "INVALID_LOGIN" == caught.value.code
    expected = "Invalid username, password, security token; or user locked out."
    assert expected == caught.value.auth_message
    assert 0 == fake.login_count


def test_soap_fault_has_salesforce_shape(fake: FakeSalesforce) -> None:
    """The SOAP fault is a 500 with faultcode, faultstring and sf:exceptionCode."""
    envelope = (
        '<?xml version="1.0"?>'
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
        '<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">'
        "<n1:username>nobody</n1:username><n1:password>x</n1:password>"
        "</n1:login></env:Body></env:Envelope>"
    )
    response = fake.session().post(
        "https://login.salesforce.com/services/Soap/u/59.0",
        data=envelope,
        headers={"Content-Type": "text/xml", "SOAPAction": "login"},
        timeout=5,
    )
    assert 500 == response.status_code
    assert "<faultcode>sf:INVALID_LOGIN</faultcode>" in response.text
    expected = (
        "<faultstring>INVALID_LOGIN: Invalid username, password, security token;"
        " or user locked out.</faultstring>"
    )
    assert expected in response.text
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in response.text


def test_oauth_password_grant(fake: FakeSalesforce) -> None:
    """The OAuth username/password flow with a connected app logs in."""
    sf = fake.client(
        username=fake.username,
        password=fake.password + fake.security_token,
        consumer_key=fake.consumer_key,
        consumer_secret=fake.consumer_secret,
    )
    assert "fake-org.my.salesforce.com" == sf.sf_instance
    assert 1 == sf.query(QUERY)["totalSize"]
    assert 1 == fake.login_count


def test_oauth_password_grant_with_a_bad_password(fake: FakeSalesforce) -> None:
    """A bad password on the token endpoint is invalid_grant."""
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        fake.client(
            username=fake.username,
            password="nope",
            consumer_key=fake.consumer_key,
            consumer_secret=fake.consumer_secret,
        )
    assert ("invalid_grant", "authentication failure") == (
        caught.value.code,
        caught.value.auth_message,
    )


def test_oauth_unknown_consumer_key(fake: FakeSalesforce) -> None:
    """An unknown consumer key is invalid_client_id / client identifier invalid."""
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        fake.client(
            username=fake.username,
            password=fake.password,
            consumer_key="3MVG9unknown",
            consumer_secret=fake.consumer_secret,
        )
    assert ("invalid_client_id", "client identifier invalid") == (
        caught.value.code,
        caught.value.auth_message,
    )


def test_jwt_bearer_login(fake: FakeSalesforce, private_key_pem: bytes, tmp_path: Path) -> None:
    """The JWT bearer flow with a private key file logs in."""
    key_file = tmp_path / "server.key"
    key_file.write_bytes(private_key_pem)
    sf = Salesforce(
        username=fake.username,
        consumer_key=fake.consumer_key,
        privatekey_file=str(key_file),
        session=fake.session(),
    )
    assert 1 == sf.query(QUERY)["totalSize"]
    assert ("jwt-bearer", 1) == (sf.auth_type, fake.login_count)


def test_jwt_bearer_with_a_foreign_issuer(fake: FakeSalesforce, private_key_pem: bytes) -> None:
    """A JWT issued by an unknown connected app is invalid_client_id."""
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            username=fake.username,
            consumer_key="3MVG9someone-else",
            privatekey=private_key_pem.decode(),
            session=fake.session(),
        )
    assert "invalid_client_id" == caught.value.code


def test_client_credentials_login(fake: FakeSalesforce) -> None:
    """The client credentials flow against the My Domain logs in."""
    sf = Salesforce(
        consumer_key=fake.consumer_key,
        consumer_secret=fake.consumer_secret,
        domain="fake-org.my",
        session=fake.session(),
    )
    assert ("client-credentials", 1) == (sf.auth_type, sf.query(QUERY)["totalSize"])


def test_client_credentials_with_a_bad_secret(fake: FakeSalesforce) -> None:
    """A wrong consumer secret is invalid_client."""
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        Salesforce(
            consumer_key=fake.consumer_key,
            consumer_secret="wrong",
            domain="fake-org.my",
            session=fake.session(),
        )
    assert "invalid_client" == caught.value.code


def test_token_response_shape(fake: FakeSalesforce) -> None:
    """A token response has Salesforce's fields, token type and instance URL."""
    basic = base64.b64encode(f"{fake.consumer_key}:{fake.consumer_secret}".encode()).decode()
    response = fake.session().post(
        "https://fake-org.my.salesforce.com/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )
    body = response.json()
    expected = {
        "access_token",
        "instance_url",
        "id",
        "token_type",
        "issued_at",
        "signature",
    }
    assert (200, expected) == (response.status_code, set(body))
    assert ("Bearer", fake.instance_url) == (body["token_type"], body["instance_url"])


def test_refresh_token_grant(fake: FakeSalesforce) -> None:
    """A refresh token issued by the fake buys a new working access token."""
    response = fake.session().post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": fake.issue_refresh_token(),
            "client_id": fake.consumer_key,
            "client_secret": fake.consumer_secret,
        },
        timeout=5,
    )
    assert 200 == response.status_code
    sf = Salesforce(
        instance_url=response.json()["instance_url"],
        session_id=response.json()["access_token"],
        session=fake.session(),
    )
    assert 1 == sf.query(QUERY)["totalSize"]


def test_revoked_refresh_token_is_invalid_grant(fake: FakeSalesforce) -> None:
    """A revoked refresh token answers invalid_grant / expired access/refresh token."""
    token = fake.issue_refresh_token()
    fake.faults.revoke_refresh_tokens()
    response = fake.session().post(
        "https://login.salesforce.com/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": fake.consumer_key,
        },
        timeout=5,
    )
    expected = {
        "error": "invalid_grant",
        "error_description": "expired access/refresh token",
    }
    assert (400, expected) == (response.status_code, response.json())


def test_direct_session_client(fake: FakeSalesforce) -> None:
    """A session id minted by the fake works for a direct client without any login."""
    sf = Salesforce(
        instance_url=fake.instance_url,
        session_id=fake.issue_session(),
        session=fake.session(),
    )
    assert (1, 0) == (sf.query(QUERY)["totalSize"], fake.login_count)


def test_login_during_maintenance_fails(fake: FakeSalesforce) -> None:
    """Login during maintenance fails with the 503 HTML page as the message."""
    fake.faults.maintenance()
    with pytest.raises(SalesforceAuthenticationFailed) as caught:
        fake.client()
    assert 503 == caught.value.code
    assert "We are down for maintenance" in caught.value.auth_message
