"""A web backend's read path that keeps serving account pages while Salesforce is down.

``AccountPages.account_page`` reads an Account and its Contacts; decorated with
``@resilient_query``, its whole result is kept in the fallback cache. Inside its
``ttl`` a page is served without calling Salesforce; during an outage (or with
``SF_FALLBACK_MODE=true``) the last page is served, and the response says how old
it is (``freshness``) in an ``X-Data-Freshness`` header and the JSON body.

The app is plain WSGI, so it runs under any server (gunicorn, uwsgi, waitress)::

    python examples/web_backend.py --serve 8000      # your org, from SF_* variables
    curl localhost:8000/accounts/001...

or against the embedded fake org, through an outage and back::

    python examples/web_backend.py --fake
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import make_server
from wsgiref.util import setup_testing_defaults

from sfresilience import ResilientClient, Settings, freshness, resilient_query
from sfresilience.exceptions import CircuitOpen, FallbackUnavailable
from sfresilience.testing import FakeSalesforce


StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class AccountPages:
    """What the account pages show, read from Salesforce through one client."""

    def __init__(self, client: ResilientClient) -> None:
        self.client = client

    # Names and cities change rarely: half a minute old is fine, and saves calls.
    @resilient_query(key="account:{account_id}", ttl=30)
    def account(self, account_id: str) -> dict[str, Any] | None:
        # account_id is checked by the caller: it is an Id, never SOQL.
        found = self.client.query(
            f"SELECT Id, Name, BillingCity FROM Account WHERE Id = '{account_id}'"  # noqa: S608
        )
        if not found["records"]:
            return None
        return {k: found["records"][0][k] for k in ("Id", "Name", "BillingCity")}

    # People edit contacts all day: live whenever Salesforce answers (no ttl),
    # the last list only when it does not.
    @resilient_query(key="contacts:{account_id}")
    def contacts(self, account_id: str) -> list[dict[str, Any]]:
        found = self.client.query(
            "SELECT Name, Email, Title FROM Contact "  # noqa: S608
            f"WHERE AccountId = '{account_id}' ORDER BY Name"
        )
        return [{k: c[k] for k in ("Name", "Email", "Title")} for c in found["records"]]


_ROUTE = re.compile(r"/accounts/(?P<id>[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?)(?P<contacts>/contacts)?")


def make_app(pages: AccountPages) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The WSGI app: ``GET /accounts/<Id>`` and ``GET /accounts/<Id>/contacts``."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        route = _ROUTE.fullmatch(environ.get("PATH_INFO", ""))
        if route is None:
            return _respond(start_response, "404 Not Found", {"error": "no such page"})
        read = pages.contacts if route["contacts"] else pages.account
        try:
            data = read(route["id"])
        except (FallbackUnavailable, CircuitOpen) as error:
            return _respond(start_response, "503 Service Unavailable", {"error": str(error)})
        except OSError as error:  # requests' network errors: down, and nothing kept yet
            down = f"Salesforce is unreachable and nothing is cached ({error!r:.60})"
            return _respond(start_response, "503 Service Unavailable", {"error": down})
        if data is None:
            return _respond(start_response, "404 Not Found", {"error": "no such account"})
        found = freshness(data)
        served = "live" if found is None else f"cached {found.age:.0f} s ago ({found.reason})"
        body = {"data": data, "freshness": served}
        return _respond(start_response, "200 OK", body, [("X-Data-Freshness", served)])

    return app


def _respond(
    start_response: StartResponse,
    status: str,
    body: dict[str, Any],
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), *(headers or [])])
    return [payload]


def get(app: Callable[..., Iterable[bytes]], path: str) -> tuple[str, dict[str, Any]]:
    """One request through the WSGI app, as a server would make it."""
    environ: dict[str, Any] = {"PATH_INFO": path, "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    answer: list[str] = []
    body = b"".join(app(environ, lambda status, _headers: answer.append(status)))
    return answer[0], json.loads(body)


def _fake_run() -> None:
    with FakeSalesforce(accounts=5, contacts=20) as org:
        first, second = (a["Id"] for a in org.org.records("Account")[:2])
        # Fewer retries than the default, so the drill's outage is seconds, not half a minute.
        client = ResilientClient(org.client(), settings=Settings(retry_attempts=2))
        app = make_app(AccountPages(client))
        show(app, f"/accounts/{first}", "account, first visit")
        show(app, f"/accounts/{first}/contacts", "contacts, first visit")
        show(app, f"/accounts/{first}", "account, again inside its 30 s ttl")
        answered = len(org.request_log)
        org.faults.outage()
        print("-- Salesforce stops answering --")
        for visit in range(1, 8):
            show(app, f"/accounts/{first}/contacts", f"contacts during the outage ({visit})")
        show(app, f"/accounts/{first}", "account during the outage")
        show(app, f"/accounts/{second}/contacts", "contacts never read before")
        print(f"Salesforce answered {answered} requests, all before the outage")


def show(app: Callable[..., Iterable[bytes]], path: str, what: str) -> None:
    status, body = get(app, path)
    data = body.get("data")
    size = (
        f"{len(data)} contacts" if isinstance(data, list) else "" if data is None else "1 account"
    )
    detail = str(body.get("freshness") or body.get("error", ""))
    print(f"{what}: {status} {size} {detail[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", action="store_true", help="drill against the embedded fake org")
    parser.add_argument("--serve", type=int, metavar="PORT", help="serve the app on this port")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if arguments.fake:
        _fake_run()
        return
    app = make_app(AccountPages(ResilientClient.from_env()))
    with make_server("127.0.0.1", arguments.serve or 8000, app) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
