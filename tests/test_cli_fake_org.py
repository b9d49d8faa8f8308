"""`sfresilience fake-org`, run as a real subprocess: start, read its env, call it, stop."""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import pytest
import requests

from sfresilience.cli import main


COMMAND = [sys.executable, "-m", "sfresilience.cli", "fake-org"]
READY_TIMEOUT = 60.0


class _Lines:
    """A child's stdout, line by line, with a timeout (a reader thread feeds a queue)."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def next(self, timeout: float = READY_TIMEOUT) -> str:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            pytest.fail("fake-org printed nothing in time")


@contextmanager
def _fake_org(*args: str) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [*COMMAND, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _lines(process: subprocess.Popen[str]) -> _Lines:
    assert process.stdout is not None
    return _Lines(process.stdout)


def _exports(process: subprocess.Popen[str], count: int) -> dict[str, str]:
    lines = _lines(process)
    env = {}
    for _ in range(count):
        words = shlex.split(lines.next())
        assert "export" == words[0]
        name, _, value = words[1].partition("=")
        env[name] = value
    return env


def _json_env(process: subprocess.Popen[str]) -> dict[str, str]:
    loaded: dict[str, str] = json.loads(_lines(process).next())
    return loaded


def _query(env: dict[str, str], soql: str, **kwargs: Any) -> requests.Response:
    return requests.get(
        f"{env['SF_INSTANCE_URL']}/services/data/v59.0/query",
        params={"q": soql},
        headers={"Authorization": f"Bearer {env['SF_ACCESS_TOKEN']}"},
        timeout=10,
        **kwargs,
    )


def _stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr


def _refused(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_prints_exports_serves_https_and_stops_on_sigterm() -> None:
    with _fake_org("--contacts", "42") as process:
        env = _exports(process, 6)
        assert {
            "SF_INSTANCE_URL",
            "SF_ACCESS_TOKEN",
            "REQUESTS_CA_BUNDLE",
            "SSL_CERT_FILE",
            "NODE_EXTRA_CA_CERTS",
            "SFRESILIENCE_STATUS_URL",
        } == set(env)
        answer = _query(env, "SELECT COUNT() FROM Contact", verify=env["REQUESTS_CA_BUNDLE"])
        assert 42 == answer.json()["totalSize"]
        status = requests.get(
            f"{env['SFRESILIENCE_STATUS_URL']}/v1/instances/NA137/status", timeout=10
        )
        assert "OK" == status.json()["status"]
        code, stderr = _stop(process, signal.SIGTERM)
    assert 0 == code, stderr
    assert "Traceback" not in stderr
    assert _refused(env["SF_INSTANCE_URL"])


def test_json_fault_options_and_ctrl_c() -> None:
    with _fake_org("--json", "--no-trust", "--accounts", "3", "--server-errors", "1") as process:
        env = _json_env(process)
        assert "SFRESILIENCE_STATUS_URL" not in env
        answer = _query(env, "SELECT COUNT() FROM Account", verify=env["REQUESTS_CA_BUNDLE"])
        assert (500, "UNKNOWN_EXCEPTION") == (answer.status_code, answer.json()[0]["errorCode"])
        code, stderr = _stop(process, signal.SIGINT)
    assert 0 == code, stderr


def test_plain_http_with_no_tls() -> None:
    with _fake_org("--json", "--no-tls", "--no-trust", "--accounts", "3") as process:
        env = _json_env(process)
        assert env["SF_INSTANCE_URL"].startswith("http://127.0.0.1:")
        assert {"SF_INSTANCE_URL", "SF_ACCESS_TOKEN"} == set(env)
        assert 3 == _query(env, "SELECT COUNT() FROM Account").json()["totalSize"]
        assert 0 == _stop(process, signal.SIGTERM)[0]


def test_a_bad_option_is_one_line_from_the_real_command() -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [*COMMAND, "--server-errors", "2"], capture_output=True, text=True, timeout=60, check=False
    )
    assert (2, "") == (result.returncode, result.stdout)
    assert 1 == len(result.stderr.strip().splitlines()), result.stderr
    assert "--server-errors" in result.stderr


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as exited:
        main(["fake-org", *args])
    captured = capsys.readouterr()
    assert "" == captured.out
    return int(str(exited.value.code)), captured.err.strip().splitlines()


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (("--server-errors", "2"), "--server-errors"),
        (("--lost-responses", "-0.5"), "--lost-responses"),
        (("--contacts", "many"), "--contacts"),
        (("--port", "70000"), "--port"),
        (("--no-such-option",), "--no-such-option"),
    ],
)
def test_a_bad_option_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], mentions: str
) -> None:
    code, lines = _main(capsys, *args)
    assert 2 == code
    assert 1 == len(lines), lines
    assert mentions in lines[0]


def test_a_taken_port_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, lines = _main(capsys, "--port", str(taken.getsockname()[1]), "--no-trust")
    assert 1 == code
    assert 1 == len(lines), lines
    assert "in use" in lines[0]
