"""The HTTP server, routing and bookkeeping of FakeSalesforce."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from sfresilience.testing import FakeSalesforce, LoggedRequest


QUERY = "SELECT Id FROM Account LIMIT 1"


def test_starts_serves_and_stops() -> None:
    """A fake with the default org serves once started and refuses once stopped.

    How fast it starts and answers is measured in benchmarks/bench_fake.py.
    """
    with FakeSalesforce() as fake:
        assert fake.url.startswith("http://127.0.0.1:")
        assert 200 == requests.get(f"{fake.url}/services/data/", timeout=5).status_code
    with socket.socket() as probe:
        assert 0 != probe.connect_ex(("127.0.0.1", fake.port))


def test_keep_alive_reuses_one_connection(fake: FakeSalesforce) -> None:
    """Many requests on one keep-alive connection are all answered on it."""
    connection = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    headers = {"Authorization": f"Bearer {fake.issue_session()}"}
    statuses = []
    sockets = set()
    for _ in range(50):
        connection.request("GET", "/services/data/v59.0/limits/", headers=headers)
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        sockets.add(connection.sock.getsockname())
    connection.close()
    assert 1 == len(sockets)
    assert [200] * 50 == statuses


def test_an_answer_is_sent_in_one_piece(fake: FakeSalesforce) -> None:
    """Status line, headers and body leave in one write (no Nagle stall between them)."""
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as conn:
        conn.sendall(b"GET /services/data/ HTTP/1.1\r\nHost: x\r\n\r\n")
        first = conn.recv(1 << 20)
    head, _, body = first.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    assert length == len(body)


def test_keep_alive_sockets_disable_nagle(fake: FakeSalesforce) -> None:
    """Accepted sockets set TCP_NODELAY, so keep-alive answers never wait ~40 ms for an ACK.

    The latency itself is measured in benchmarks/bench_fake.py, not here.
    """
    session = fake.session()
    url = f"{fake.instance_url}/services/data/v59.0/limits/"
    headers = {"Authorization": f"Bearer {fake.issue_session()}"}
    session.get(url, headers=headers, timeout=5)
    connections = list(fake._server._connections)
    assert connections
    for conn in connections:
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_many_concurrent_clients(fake: FakeSalesforce) -> None:
    """Sixteen clients querying at once all get their answers."""
    clients = [
        Salesforce(
            instance_url=fake.instance_url,
            session_id=fake.issue_session(),
            session=fake.session(),
        )
        for _ in range(16)
    ]
    with ThreadPoolExecutor(16) as pool:
        sizes = list(pool.map(lambda client: client.query(QUERY)["totalSize"], clients * 4))
    assert [1] * 64 == sizes


def test_request_log(sf: Any, fake: FakeSalesforce) -> None:
    """The log lists login, counted calls and faulted calls with their statuses."""
    sf.query(QUERY)
    fake.faults.server_errors(count=1, status=503)
    with contextlib.suppress(SalesforceError):
        sf.query(QUERY)
    expected = [
        LoggedRequest("POST", "/services/Soap/u/59.0", 200, counted=False),
        LoggedRequest("GET", "/services/data/v59.0/query/", 200, counted=True),
        LoggedRequest("GET", "/services/data/v59.0/query/", 503, counted=True),
    ]
    assert expected == fake.request_log


def test_other_hosts_pass_through(fake: FakeSalesforce) -> None:
    """Hosts that are not Salesforce's are sent as they are by the wrapped adapter."""
    response = fake.session().get(f"{fake.url}/services/data/", timeout=5)
    assert (200, f"{fake.url}/services/data/") == (response.status_code, response.url)


def test_routed_responses_keep_the_salesforce_url(fake: FakeSalesforce) -> None:
    """Routed responses report the Salesforce URL that was asked for."""
    url = "https://na137.salesforce.com/services/data/"
    assert url == fake.session().get(url, timeout=5).url


class _CountingAdapter(HTTPAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.sent.append(str(request.url))
        return super().send(request, *args, **kwargs)


def test_mount_keeps_the_users_adapter(fake: FakeSalesforce) -> None:
    """mount() wraps the session's adapter, which then sees routed traffic."""
    counting = _CountingAdapter()
    with requests.Session() as session:
        session.mount("https://", counting)
        fake.mount(session)
        sf = fake.client(session=session)
        sf.query(QUERY)
    assert 2 == len(counting.sent)
    assert all(url.startswith(fake.url) for url in counting.sent)


def test_restart_after_stop() -> None:
    """A stopped fake can start again and serves as before."""
    fake = FakeSalesforce()
    fake.start()
    fake.stop()
    with fake:
        assert 1 == fake.client().query(QUERY)["totalSize"]


def test_stop_is_idempotent() -> None:
    """stop() twice, or without start(), is harmless."""
    fake = FakeSalesforce()
    fake.stop()
    fake.start()
    fake.stop()
    fake.stop()
    assert not fake._server.listening


def test_head_answers_without_a_body(fake: FakeSalesforce) -> None:
    """A HEAD answer has no body, so the next answer on the kept-alive connection follows it."""
    pipelined = (
        b"HEAD /services/data/ HTTP/1.1\r\nHost: fake\r\n\r\n"
        b"GET /services/data/ HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as conn:
        conn.sendall(pipelined)
        received = b"".join(iter(lambda: conn.recv(65536), b""))
    head, _, rest = received.partition(b"\r\n\r\n")
    got_head, _, got_body = rest.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    length = next(line for line in head_lines if line.lower().startswith("content-length:"))
    assert ("HTTP/1.1 200 OK", b"HTTP/1.1 200 OK") == (head_lines[0], got_head.split(b"\r\n")[0])
    assert (f"Content-Length: {len(got_body)}", "66.0") == (
        length,
        json.loads(got_body)[-1]["version"],
    )


def test_head_is_served_where_it_is_allowed(sf: Any, fake: FakeSalesforce) -> None:
    """Every data resource whose 405 lists HEAD answers HEAD with 200."""
    record_id = sf.query(QUERY)["records"][0]["Id"]
    external = sf.Account.get(record_id)["External_Id__c"]
    base = f"{fake.instance_url}/services/data/v59.0/sobjects"
    session = fake.session()
    headers = {"Authorization": f"Bearer {sf.session_id}"}
    paths = ["", "/Account", "/Account/describe", f"/Account/{record_id}"]
    paths.append(f"/Account/External_Id__c/{external}")
    allowed = [session.put(base + path, headers=headers, timeout=5).json() for path in paths]
    heads = [session.head(base + path, headers=headers, timeout=5).status_code for path in paths]
    assert all("HEAD" in answer[0]["message"] for answer in allowed)
    assert [200] * len(paths) == heads
