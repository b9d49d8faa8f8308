"""Remove secrets from text before it reaches a message, a log line or a repr.

Covers what Salesforce integrations leak: session ids / access tokens
(``00D...!...``), bare OAuth refresh tokens (``5Aep8...``), ``Authorization``
and API-key header values, SOAP ``<sessionId>`` and ``<password>`` elements,
credential fields in JSON, Python reprs, form bodies, query strings and
cookies (``sid=``), ``force://`` SFDX auth URLs, and credentials in URLs
(``redis://:password@host``).

Each rule, and each secret field name, has a test that fails without it
(tests/test_redact.py rebuilds the rules without each one in turn).
"""

from __future__ import annotations

import re
from collections.abc import Callable


__all__ = ["REDACTED", "redact"]

REDACTED = "[REDACTED]"

# Field names whose values are secrets, in the spellings Salesforce, OAuth,
# simple-salesforce and the sf CLI use.
_SECRET_KEYS = (
    "access_token",
    "accessToken",
    "refresh_token",
    "refreshToken",
    "id_token",
    "password",
    "security_token",
    "securityToken",
    "client_secret",
    "clientSecret",
    "consumer_secret",
    "consumerSecret",
    "client_assertion",
    "assertion",
    "session_id",
    "sessionId",
    "sid",
    "privatekey",
    "private_key",
    "sfdxAuthUrl",
    "X-SFDC-Session",
    "x-api-key",
    "api_key",
    "apiKey",
)
# Headers whose value is a secret, as ``Name: value`` in logs and dumps.
_SECRET_HEADERS = ("x-api-key", "api-key", "X-SFDC-Session")
# A quoted value; a value cut off before its closing quote still counts.
_DQ = r'"(?:[^"\\\n]|\\.)*"?'
_SQ = r"'(?:[^'\\\n]|\\.)*'?"


def _mask_value(match: re.Match[str]) -> str:
    """Keep everything up to the end of the ``sep`` group, and quotes; mask the rest."""
    text = match.group(0)
    value_start = match.end("sep") - match.start(0)
    quote = text[value_start : value_start + 1]
    if quote in {'"', "'"}:
        return f"{text[:value_start]}{quote}{REDACTED}{quote}"
    return f"{text[:value_start]}{REDACTED}"


Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]


def build_rules(keys: tuple[str, ...] = _SECRET_KEYS) -> tuple[Rule, ...]:
    """The rules, in the order they apply, for secret field names *keys*."""
    key = "(?:" + "|".join(re.escape(name) for name in keys) + ")"
    return (*_token_rules(), *_header_rules(), *_field_rules(key), *_url_rules())


def _token_rules() -> tuple[Rule, ...]:
    """Tokens recognised by their own shape, wherever they stand."""
    return (
        # Salesforce session ids and access tokens: org id, "!", opaque part; also
        # the start of one cut off by the end of a truncated text.
        (
            re.compile(
                r"00D[A-Za-z0-9]{12,15}(?:!|%21)(?:[A-Za-z0-9._\-+/=%]{8,}|[A-Za-z0-9._\-+/=%]*\Z)"
            ),
            REDACTED,
        ),
        # OAuth refresh tokens on their own: "5Aep8" and a long opaque tail.
        (re.compile(r"(?<![\w.])5Aep8[A-Za-z0-9._]{20,}"), REDACTED),
    )


def _header_rules() -> tuple[Rule, ...]:
    """Authorization and secret header values, and SOAP credential elements."""
    return (
        # Authorization header values: "Bearer <token>" anywhere; "OAuth <sid>" and
        # "Basic <key:secret>" only after an Authorization label (they are words too).
        (
            re.compile(
                r"\b((?:Authorization[\"']?\s*[:=]\s*[\"']?\s*(?:OAuth|Basic)|Bearer)\s+)"
                r"[A-Za-z0-9._~+/=!%\-]{8,}",
                re.IGNORECASE,
            ),
            rf"\1{REDACTED}",
        ),
        # Secret headers as "Name: value" (x-api-key: ..., X-SFDC-Session: ...).
        (
            re.compile(
                r"(?<![\w\-])((?:" + "|".join(map(re.escape, _SECRET_HEADERS)) + r")[ \t]*:[ \t]*)"
                r"[^\s,;'\"}]+",
                re.IGNORECASE,
            ),
            rf"\1{REDACTED}",
        ),
        # XML elements: <sessionId>, <sf:sessionId>, <n1:password> ...
        (
            re.compile(
                r"<((?:[\w.\-]+:)?(?:sessionId|password|security_token))(\s[^>]*)?>"
                r"(?:(?!</).)*</\1\s*>",
                re.IGNORECASE | re.DOTALL,
            ),
            rf"<\1\2>{REDACTED}</\1>",
        ),
    )


def _field_rules(key: str) -> tuple[Rule, ...]:
    """Values of the secret fields matched by the pattern *key*, in JSON, reprs and forms."""
    return (
        # "key": "value" (JSON) and 'key': 'value' (Python repr).
        (
            re.compile(rf"""(["']){key}\1(?P<sep>\s*:\s*)(?:{_DQ}|{_SQ})""", re.IGNORECASE),
            _mask_value,
        ),
        # "key": value without quotes (numbers, broken JSON): masked as a string.
        (
            re.compile(rf"""(["']){key}\1(?P<sep>\s*:\s*)(?!["'\s])[^,}}\]\s]+""", re.IGNORECASE),
            lambda match: f'{match.group(0)[: match.end("sep") - match.start()]}"{REDACTED}"',
        ),
        # key=value: forms, query strings, cookies, kwargs reprs (quoted or not).
        (
            re.compile(
                rf"""(?<![\w.\-]){key}(?P<sep>\s*=\s*)(?:{_DQ}|{_SQ}|[^&\s;,)'"]+)""",
                re.IGNORECASE,
            ),
            _mask_value,
        ),
    )


def _url_rules() -> tuple[Rule, ...]:
    """Credentials carried in URLs."""
    return (
        # SFDX auth URLs carry the client secret and refresh token.
        (re.compile(r"force://[^\s'\"<>]+"), f"force://{REDACTED}"),
        # Credentials in any other URL's userinfo: redis://:pw@host, https://u:pw@proxy.
        (
            re.compile(r"\b([a-z][a-z0-9+.\-]*://)[^\s/@'\"<>]*:[^\s/@'\"<>]*@", re.IGNORECASE),
            rf"\1{REDACTED}@",
        ),
    )


_RULES = build_rules()


def redact(text: str, rules: tuple[Rule, ...] = _RULES) -> str:
    """Return ``text`` with every secret replaced by ``[REDACTED]``."""
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text
