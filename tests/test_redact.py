"""Every redaction rule and every secret field name is needed: dropping one leaks a case here."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from simple_salesforce.exceptions import SalesforceResourceNotFound

from sfresilience import Event, ResilientClient, Settings
from sfresilience._redact import _RULES, _SECRET_KEYS, REDACTED, build_rules, redact
from sfresilience.testing import FakeSalesforce


SID = "00D5e000000XYZa!AQ4AQFwtVv1H6pLh2NOlS4bTw1zO0Wy9k3qHsoP"
REFRESH = "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJVNAaCTG3hXp1hvKvfFaNJX8Xx"
SECRET = "s3cr3t-Value-42"

# (what it is, text holding a secret, the secret)
CASES: list[tuple[str, str, str]] = [
    ("session id", f"token {SID} end", SID),
    ("session id cut off", f"...{SID[:20]}", SID[:20]),
    ("bare refresh token", f"stored token {REFRESH} for user", REFRESH),
    ("bearer header", f"Authorization: Bearer {SECRET}", SECRET),
    ("oauth header", f"{{'Authorization': 'OAuth {SECRET}'}}", SECRET),
    ("basic header", f"Authorization: Basic {SECRET}", SECRET),
    ("x-api-key header", f"x-api-key: {SECRET}\nAccept: */*", SECRET),
    ("api-key header", f"Api-Key:{SECRET}", SECRET),
    ("sfdc session header", f"X-SFDC-Session: {SECRET}", SECRET),
    ("soap session id", f"<sf:sessionId>{SECRET}</sf:sessionId>", SECRET),
    ("soap password", f"<n1:password>{SECRET}</n1:password>", SECRET),
    ("soap security token", f"<security_token>{SECRET}</security_token>", SECRET),
    ("unquoted json", '{"password": 98765432}', "98765432"),
    ("sfdx auth url", f"force://PlatformCLI::{SECRET}@example.my.salesforce.com", SECRET),
    ("sfdx auth url cut off", f"auth: force://PlatformCLI::{SECRET}", SECRET),
    ("url userinfo", f"redis://:{SECRET}@cache.internal:6379/0", SECRET),
    ("proxy userinfo", f"https://user:{SECRET}@proxy.internal:3128", SECRET),
]
for _key in _SECRET_KEYS:
    CASES += [
        (f"{_key} in json", f'{{"{_key}": "{SECRET}-{_key}"}}', f"{SECRET}-{_key}"),
        (f"{_key} in a repr", f"{{'{_key}': '{SECRET}-{_key}'}}", f"{SECRET}-{_key}"),
        (f"{_key} in a form", f"a=1&{_key}={SECRET}-{_key}&b=2", f"{SECRET}-{_key}"),
    ]

# Text that looks a little like a secret and must come through unchanged.
INNOCENT = [
    "SELECT Id, Name FROM Account WHERE Name LIKE 'Acme%'",
    "https://acme.my.salesforce.com/services/data/v59.0/sobjects/Contact/003000000000001",
    "apiVersion: 59.0; instance_url: https://na1.salesforce.com",
    "5Aep is a short word; 00D5e000000XYZa is an org id",
    "x-api-keys-rotated: yes",
    "Bearer tokens expire",
    "keyword=value&sidebar=1",
    "short 00D5e000000XYZa!AQ4 x",
    "mysid=abc x.sid=abc session-sid=abc",
]

# Exactly what the redacted text reads: the marker replaces only the secret, and
# labels, separators, quotes and the text around it are kept.
EXACT: list[tuple[str, str]] = [
    (f"sid {SID} end", "sid [REDACTED] end"),
    ("url-encoded 00D5e000000XYZa%21AQ4AQFwtVv1H6 end", "url-encoded [REDACTED] end"),
    ("cut 00D5e000000XYZa!AQ", "cut [REDACTED]"),
    (f"{REFRESH}", "[REDACTED]"),
    ("AUTHORIZATION: bearer abcdefgh12", "AUTHORIZATION: bearer [REDACTED]"),
    ("Authorization='OAuth abcdefgh12'", "Authorization='OAuth [REDACTED]'"),
    ('"Authorization": "Basic dXNlcjpwYXNz"', '"Authorization": "Basic [REDACTED]"'),
    ("X-API-KEY:\tabc123, next", "X-API-KEY:\t[REDACTED], next"),
    (
        '<SF:SESSIONID attr="1">s3cr3t</SF:SESSIONID >',
        '<SF:SESSIONID attr="1">[REDACTED]</SF:SESSIONID>',
    ),
    ("<password>a\nb</password>", "<password>[REDACTED]</password>"),
    ('{"Password" : "p\\"w", "x": 1}', '{"Password" : "[REDACTED]", "x": 1}'),
    ("{'password': 'pw'}", "{'password': '[REDACTED]'}"),
    ('{"password": "cut', '{"password": "[REDACTED]"'),
    ('{"password": 123, "a": 2}', '{"password": "[REDACTED]", "a": 2}'),
    ('{"PASSWORD": 123}', '{"PASSWORD": "[REDACTED]"}'),
    ("password = 'pw q'", "password = '[REDACTED]'"),
    ('password="pw q"', 'password="[REDACTED]"'),
    ("a=1&Password=pw;x", "a=1&Password=[REDACTED];x"),
    ("kwargs(password=pw)", "kwargs(password=[REDACTED])"),
    ("force://PlatformCLI::s@x.my.salesforce.com more", "force://[REDACTED] more"),
    ("REDIS://user:pw@h", "REDIS://[REDACTED]@h"),
    ("see https://u:p@h/x and ftp://a:b@c", "see https://[REDACTED]@h/x and ftp://[REDACTED]@c"),
]


def leaks(rules: tuple[object, ...], text: str, secret: str) -> bool:
    return secret in redact(text, rules)  # type: ignore[arg-type]


@pytest.mark.parametrize(("what", "text", "secret"), CASES, ids=[case[0] for case in CASES])
def test_each_case_is_masked(what: str, text: str, secret: str) -> None:
    """Every secret in the table is gone from the redacted text, replaced by the marker."""
    for rules in (_RULES, build_rules()):  # build_rules() itself, as mutation testing changes it
        redacted = redact(text, rules)
        assert secret not in redacted
        assert REDACTED in redacted


@pytest.mark.parametrize("text", INNOCENT)
def test_innocent_text_is_untouched(text: str) -> None:
    """Ids, URLs, SOQL and words near the patterns are left alone."""
    assert text == redact(text)
    assert text == redact(text, build_rules())


@pytest.mark.parametrize(("text", "expected"), EXACT)
def test_the_redacted_text_is_exact(text: str, expected: str) -> None:
    """Only the secret is replaced; built afresh, the rules give the same text."""
    assert expected == redact(text)
    assert expected == redact(text, build_rules())


@pytest.mark.parametrize("index", range(len(_RULES)))
def test_every_rule_is_needed(index: int) -> None:
    """Without any one rule, some case in the table leaks."""
    without = _RULES[:index] + _RULES[index + 1 :]
    assert any(leaks(without, text, secret) for _, text, secret in CASES), _RULES[index][0]


@pytest.mark.parametrize("key", _SECRET_KEYS)
def test_every_secret_field_name_is_needed(key: str) -> None:
    """Without any one field name (sessionId, consumerSecret, ...), some case leaks."""
    rules = build_rules(tuple(name for name in _SECRET_KEYS if name != key))
    assert any(leaks(rules, text, secret) for _, text, secret in CASES)


def test_redaction_is_idempotent() -> None:
    """Redacting twice changes nothing more."""
    for _, text, _ in CASES:
        once = redact(text)
        assert once == redact(once)


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce() as org:
        yield org


class TestOperationNames:
    def test_paths_and_query_strings_never_reach_events_or_logs(
        self, fake: FakeSalesforce, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A session id in a restful path or a token in its query string is not told."""
        caplog.set_level(logging.DEBUG, logger="sfresilience")
        events: list[Event] = []
        client = ResilientClient(
            fake.client(), settings=Settings(), on_event=events.append, sleep=lambda _: None
        )
        fake.faults.server_errors(1, status=503)
        with pytest.raises(SalesforceResourceNotFound):
            client.restful(f"sobjects/Session/{SID}", params={"access_token": REFRESH})
        with pytest.raises(SalesforceResourceNotFound):
            client.apexecute(f"tokens/{REFRESH}?sid={SECRET}")
        with pytest.raises(SalesforceResourceNotFound):
            client.toolingexecute(f"sobjects/x/{SID}")
        told = caplog.text + "".join(repr(event) for event in events)
        for secret in (SID, REFRESH, SECRET):
            assert secret not in told
        operations = {event.operation for event in events}
        assert f"apexecute tokens/{REDACTED}?…" in operations
        assert f"restful sobjects/Session/{REDACTED}" in operations
