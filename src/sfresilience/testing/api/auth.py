"""Sessions, SOAP partner login and the OAuth token endpoint of `FakeSalesforce`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape, unescape
from urllib.parse import parse_qs

from ..wire.http import HttpRequest, HttpResponse


__all__ = ["Authenticator", "Credentials", "SessionStore"]

_JSON = "application/json;charset=UTF-8"
_XML = "text/xml;charset=UTF-8"
_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_INVALID_LOGIN = "Invalid username, password, security token; or user locked out."
_SOAP_FIELD = re.compile(r"<(?:\w+:)?(username|password)>(.*?)</(?:\w+:)?\1>", re.DOTALL)


@dataclass(frozen=True)
class Credentials:
    """The one integration user and connected app the fake org knows."""

    username: str
    password: str
    security_token: str
    consumer_key: str
    consumer_secret: str
    user_id: str
    org_id: str
    org_name: str
    instance_url: str
    is_sandbox: bool


@dataclass
class _Session:
    username: str
    last_used: float


class SessionStore:
    """Session ids and refresh tokens; sessions expire after `ttl` idle seconds."""

    def __init__(self, org_id: str, clock: Callable[[], float], ttl: float | None) -> None:
        self._prefix = org_id[:15]
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._refresh_tokens: dict[str, str] = {}

    def issue(self, username: str) -> str:
        """A new valid session id shaped like Salesforce's (`00D…!AQ…`)."""
        body = secrets.token_urlsafe(72).replace("-", ".").replace("_", "")
        token = f"{self._prefix}!AQ{body[:92]}"
        with self._lock:
            self._sessions[token] = _Session(username, self._clock())
        return token

    def check(self, token: str) -> bool:
        """Whether `token` is a live session; using it resets its idle timer."""
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return False
            if self._ttl is not None and now - session.last_used >= self._ttl:
                del self._sessions[token]
                return False
            session.last_used = now
            return True

    def invalidate(self, token: str) -> None:
        """End one session."""
        with self._lock:
            self._sessions.pop(token, None)

    def invalidate_all(self) -> None:
        """End every session issued so far."""
        with self._lock:
            self._sessions.clear()

    def issue_refresh_token(self, username: str) -> str:
        """A new refresh token for `username`."""
        token = "5Aep861" + secrets.token_urlsafe(60).replace("-", ".").replace("_", ".")
        with self._lock:
            self._refresh_tokens[token] = username
        return token

    def refresh_user(self, token: str) -> str | None:
        """The user a refresh token belongs to, or None if unknown/revoked."""
        with self._lock:
            return self._refresh_tokens.get(token)

    def revoke_refresh_tokens(self) -> None:
        """Revoke every refresh token issued so far."""
        with self._lock:
            self._refresh_tokens.clear()


def _oauth_error(error: str, description: str, status: int = 400) -> HttpResponse:
    body = json.dumps({"error": error, "error_description": description})
    return HttpResponse(status, body.encode(), _JSON)


def _b64url_json(segment: str) -> dict[str, object]:
    padded = segment + "=" * (-len(segment) % 4)
    value = json.loads(base64.urlsafe_b64decode(padded))
    if not isinstance(value, dict):
        raise TypeError("not a JSON object")
    return value


class Authenticator:
    """Answers SOAP `login` and `/services/oauth2/token`; counts successful logins."""

    def __init__(self, credentials: Credentials, sessions: SessionStore) -> None:
        self.credentials = credentials
        self.sessions = sessions
        self._lock = threading.Lock()
        self.login_count = 0

    def _logged_in(self) -> str:
        with self._lock:
            self.login_count += 1
        return self.sessions.issue(self.credentials.username)

    # --- SOAP partner API -----------------------------------------------------

    def soap_login(self, request: HttpRequest, version: str) -> HttpResponse:
        """The partner API `login` call (simple-salesforce's username/password flow)."""
        creds = self.credentials
        fields = {
            name: unescape(value)
            for name, value in _SOAP_FIELD.findall(request.body.decode("utf-8", "replace"))
        }
        if fields.get("username") != creds.username or fields.get("password") != (
            creds.password + creds.security_token
        ):
            return _soap_fault("INVALID_LOGIN", _INVALID_LOGIN)
        session_id = self._logged_in()
        org15 = creds.org_id[:15]
        base = creds.instance_url
        sandbox = "true" if creds.is_sandbox else "false"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
            ' xmlns="urn:partner.soap.sforce.com"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<soapenv:Body><loginResponse><result>"
            f"<metadataServerUrl>{base}/services/Soap/m/{version}/{org15}"
            "</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired>"
            f"<sandbox>{sandbox}</sandbox>"
            f"<serverUrl>{base}/services/Soap/u/{version}/{org15}</serverUrl>"
            f"<sessionId>{session_id}</sessionId>"
            f"<userId>{creds.user_id}</userId>"
            "<userInfo>"
            f"<organizationId>{creds.org_id}</organizationId>"
            f"<organizationName>{escape(creds.org_name)}</organizationName>"
            "<sessionSecondsValid>7200</sessionSecondsValid>"
            f"<userEmail>{escape(creds.username)}</userEmail>"
            "<userFullName>Integration User</userFullName>"
            f"<userId>{creds.user_id}</userId>"
            f"<userName>{escape(creds.username)}</userName>"
            "</userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return HttpResponse(200, body.encode(), _XML)

    # --- OAuth 2.0 token endpoint -----------------------------------------------

    def token(self, request: HttpRequest) -> HttpResponse:
        """`POST /services/oauth2/token` for the password, refresh_token, JWT bearer
        and client_credentials grants."""
        form = {
            key: values[0]
            for key, values in parse_qs(request.body.decode("utf-8", "replace")).items()
        }
        grant = form.get("grant_type", "")
        if grant == "password":
            return self._password_grant(form)
        if grant == "refresh_token":
            return self._refresh_grant(form)
        if grant == _JWT_BEARER:
            return self._jwt_grant(form, request.header("host") or "")
        if grant == "client_credentials":
            return self._client_credentials_grant(request.header("authorization") or "")
        return _oauth_error("unsupported_grant_type", "grant type not supported")

    def _client_error(self, client_id: str | None, secret: str | None) -> HttpResponse | None:
        creds = self.credentials
        if client_id != creds.consumer_key:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if secret is not None and secret != creds.consumer_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        return None

    def _password_grant(self, form: dict[str, str]) -> HttpResponse:
        creds = self.credentials
        error = self._client_error(form.get("client_id"), form.get("client_secret", ""))
        if error is not None:
            return error
        password = form.get("password")
        if form.get("username") != creds.username or password not in {
            creds.password,
            creds.password + creds.security_token,
        }:
            return _oauth_error("invalid_grant", "authentication failure")
        return self._token_response()

    def _refresh_grant(self, form: dict[str, str]) -> HttpResponse:
        error = self._client_error(form.get("client_id"), form.get("client_secret"))
        if error is not None:
            return error
        if self.sessions.refresh_user(form.get("refresh_token", "")) is None:
            return _oauth_error("invalid_grant", "expired access/refresh token")
        return self._token_response()

    def _jwt_grant(self, form: dict[str, str], host: str) -> HttpResponse:  # noqa: PLR0911
        creds = self.credentials
        try:
            header_part, payload_part, _signature = form.get("assertion", "").split(".")
            header = _b64url_json(header_part)
            claims = _b64url_json(payload_part)
        except (ValueError, TypeError, binascii.Error):
            return _oauth_error("invalid_grant", "invalid assertion")
        if header.get("alg") != "RS256":
            return _oauth_error("invalid_grant", "invalid assertion")
        if claims.get("iss") != creds.consumer_key:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        audiences = {
            "https://login.salesforce.com",
            "https://test.salesforce.com",
            creds.instance_url,
            f"https://{host.split(':', 1)[0]}",
        }
        if claims.get("aud") not in audiences:
            return _oauth_error("invalid_grant", "audience is invalid")
        expires = claims.get("exp")
        if isinstance(expires, (int, float, str)):
            try:
                if float(expires) < time.time():
                    return _oauth_error("invalid_grant", "expired authorization code")
            except ValueError:
                return _oauth_error("invalid_grant", "invalid assertion")
        if claims.get("sub") != creds.username:
            return _oauth_error("invalid_grant", "invalid assertion")
        return self._token_response()

    def _client_credentials_grant(self, authorization: str) -> HttpResponse:
        scheme, _, encoded = authorization.partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if scheme.lower() != "basic" or ":" not in decoded:
            return _oauth_error("invalid_client", "invalid client credentials")
        client_id, _, secret = decoded.partition(":")
        error = self._client_error(client_id, secret)
        if error is not None:
            return error
        return self._token_response()

    def _token_response(self) -> HttpResponse:
        creds = self.credentials
        access_token = self._logged_in()
        identity = f"https://login.salesforce.com/id/{creds.org_id}/{creds.user_id}"
        issued_at = str(int(time.time() * 1000))
        digest = hmac.new(
            creds.consumer_secret.encode(),
            (identity + issued_at).encode(),
            hashlib.sha256,
        ).digest()
        body = {
            "access_token": access_token,
            "instance_url": creds.instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
        }
        return HttpResponse(200, json.dumps(body).encode(), _JSON)


def _soap_fault(code: str, message: str) -> HttpResponse:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:sf="urn:fault.partner.soap.sforce.com"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<soapenv:Body><soapenv:Fault>"
        f"<faultcode>sf:{code}</faultcode>"
        f"<faultstring>{code}: {escape(message)}</faultstring>"
        '<detail><sf:LoginFault xsi:type="sf:LoginFault">'
        f"<sf:exceptionCode>{code}</sf:exceptionCode>"
        f"<sf:exceptionMessage>{escape(message)}</sf:exceptionMessage>"
        "</sf:LoginFault></detail>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return HttpResponse(500, body.encode(), _XML)
