"""A `requests` transport adapter that sends Salesforce hosts to a fake on loopback.

simple-salesforce builds `https://{domain}.salesforce.com/...` for login and
`https://{instance}/...` for data, so pointing it at a fake means routing by host
at the transport layer. `SalesforceRoutingAdapter` rewrites requests for
`*.salesforce.com` and `*.force.com` to `http://127.0.0.1:<port>` (keeping the
original `Host` header so the fake sees which host was asked for) and hands
every request, rewritten or not, to the adapter it wraps, so a user's own
retry/timeout adapter still sees the traffic. Responses carry the original URL.

For a fake serving HTTPS (`https://127.0.0.1:<port>`), `verify` is the path of its
CA bundle: rewritten requests, and requests sent straight to the fake's own address
(simple-salesforce does, once a login answered with the fake's instance URL), are
verified against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter


__all__ = ["SALESFORCE_HOST_SUFFIXES", "SalesforceRoutingAdapter", "is_salesforce_host"]

SALESFORCE_HOST_SUFFIXES = ("salesforce.com", "force.com")


def is_salesforce_host(host: str) -> bool:
    """Whether `host` is `salesforce.com`, `force.com` or one of their subdomains."""
    host = host.lower().rstrip(".")
    return any(host == suffix or host.endswith("." + suffix) for suffix in SALESFORCE_HOST_SUFFIXES)


class SalesforceRoutingAdapter(BaseAdapter):
    """Route Salesforce hosts to `target` (`http(s)://127.0.0.1:port`); wrap `inner`."""

    def __init__(
        self, target: str, inner: BaseAdapter | None = None, verify: bool | str = False
    ) -> None:
        super().__init__()
        self.target = target
        self.inner = inner if inner is not None else HTTPAdapter()
        self.verify = verify

    def send(  # noqa: PLR0917 - requests' adapter signature
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send `request`, rewritten to the fake when its host is Salesforce's."""
        original = request.url or ""
        parts = urlsplit(original)
        target = urlsplit(self.target)
        if parts.netloc == target.netloc and isinstance(self.verify, str):
            return self.inner.send(request, stream, timeout, self.verify, None, {})
        if not is_salesforce_host(parts.hostname or ""):
            return self.inner.send(request, stream, timeout, verify, cert, proxies)
        request.url = urlunsplit((target.scheme, target.netloc, parts.path or "/", parts.query, ""))
        request.headers["Host"] = parts.netloc
        try:
            response = self.inner.send(request, stream, timeout, self.verify, None, {})
        finally:
            request.url = original
        response.url = original
        return response

    def close(self) -> None:
        """Close the wrapped adapter's pools."""
        self.inner.close()


def mount(session: requests.Session, target: str, verify: bool | str = False) -> requests.Session:
    """Mount routing adapters for `http://` and `https://` on `session`."""
    for prefix in ("https://", "http://"):
        existing = session.adapters.get(prefix)
        if isinstance(existing, SalesforceRoutingAdapter):
            existing.target = target
            existing.verify = verify
            continue
        session.mount(prefix, SalesforceRoutingAdapter(target, existing, verify))
    return session
