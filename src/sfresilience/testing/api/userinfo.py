"""The OpenID Connect UserInfo endpoint: `GET|POST /services/oauth2/userinfo`.

It answers for the user of the access token (the `Authorization: Bearer` header or
an `access_token` / `oauth_token` parameter) with the claims and URLs Salesforce
returns. A missing, invalid or expired token is 403 `Bad_OAuth_Token` in plain text,
as Salesforce answers (not the 401 of the data API). It is not an API call: it uses
none of the daily allocation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..org import Org
from ..wire.http import HttpRequest, HttpResponse
from .auth import Credentials, SessionStore
from .responses import bearer_token, json_response, method_not_allowed, query_params


__all__ = ["UserInfo"]

_UPDATED_AT = "2023-01-01T00:00:00Z"


class UserInfo:
    """Answers the UserInfo endpoint for the org's integration user."""

    def __init__(
        self, org: Org, sessions: SessionStore, credentials: Callable[[], Credentials]
    ) -> None:
        self._org = org
        self._sessions = sessions
        self._credentials = credentials

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one UserInfo request."""
        if request.method not in {"GET", "POST", "HEAD"}:
            return method_not_allowed(request.method, "GET,HEAD,POST")
        params = query_params(request)
        token = bearer_token(request) or params.get("access_token") or params.get("oauth_token")
        if not token or not self._sessions.check(token):
            return HttpResponse(403, b"Bad_OAuth_Token", "text/plain;charset=UTF-8")
        return json_response(200, self.claims())

    def claims(self) -> dict[str, Any]:
        """The UserInfo body for the integration user."""
        creds = self._credentials()
        user = self._org.get("User", self._org.user_id, None, "59.0")
        name = str(user["Name"])
        given, _, family = name.partition(" ")
        login = (
            "https://test.salesforce.com" if creds.is_sandbox else "https://login.salesforce.com"
        )
        instance = creds.instance_url
        picture = f"{instance}/img/userprofile/default_profile_200_v2.png"
        return {
            "sub": f"{login}/id/{creds.org_id}/{creds.user_id}",
            "user_id": creds.user_id,
            "organization_id": creds.org_id,
            "preferred_username": creds.username,
            "nickname": creds.username.partition("@")[0],
            "name": name,
            "email": user["Email"],
            "email_verified": True,
            "given_name": given,
            "family_name": family,
            "zoneinfo": "GMT",
            "photos": {
                "picture": picture,
                "thumbnail": f"{instance}/img/userprofile/default_profile_45_v2.png",
            },
            "profile": f"{instance}/{creds.user_id}",
            "picture": picture,
            "address": {"country": "US"},
            "is_salesforce_integration_user": False,
            "urls": _urls(instance, creds.org_id, creds.user_id),
            "active": bool(user["IsActive"]),
            "user_type": "STANDARD",
            "language": "en_US",
            "locale": "en_US",
            "utcOffset": 0,
            "updated_at": _UPDATED_AT,
            "is_app_installed": True,
        }


def _urls(instance: str, org_id: str, user_id: str) -> dict[str, str]:
    """The `urls` map; `{version}` is left literal, as Salesforce does without `version`."""
    data = f"{instance}/services/data/v{{version}}"
    return {
        "enterprise": f"{instance}/services/Soap/c/{{version}}/{org_id}",
        "metadata": f"{instance}/services/Soap/m/{{version}}/{org_id}",
        "partner": f"{instance}/services/Soap/u/{{version}}/{org_id}",
        "rest": f"{data}/",
        "sobjects": f"{data}/sobjects/",
        "search": f"{data}/search/",
        "query": f"{data}/query/",
        "recent": f"{data}/recent/",
        "tooling_soap": f"{instance}/services/Soap/T/{{version}}/{org_id}",
        "tooling_rest": f"{data}/tooling/",
        "profile": f"{instance}/{user_id}",
        "feeds": f"{data}/chatter/feeds",
        "groups": f"{data}/chatter/groups",
        "users": f"{data}/chatter/users",
        "feed_items": f"{data}/chatter/feed-items",
        "feed_elements": f"{data}/chatter/feed-elements",
        "custom_domain": instance,
    }
