"""The README's example runs against the fake org, as written but for where it logs in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sfresilience.testing import FakeSalesforce


README = Path(__file__).parent.parent / "README.md"


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    return str(blocks[0])


def test_the_example_leads_with_the_guarded_login() -> None:
    """The first client the README builds is one whose login is guarded."""
    assert "ResilientClient.from_credentials(" in readme_example()
    assert "Salesforce(username" not in readme_example()


def test_the_example_runs_against_the_fake(capsys: pytest.CaptureFixture[str]) -> None:
    """Its query finds Acme's Contacts, its update lands, its bad query is classified."""
    with FakeSalesforce() as org:
        code = readme_example().replace(
            "ResilientClient.from_credentials(",
            "ResilientClient.from_credentials(session=SESSION, ",
        )
        namespace = {
            "USER": org.username,
            "PASSWORD": org.password,
            "TOKEN": org.security_token,
            "SESSION": org.session(),
        }
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102  (our own README)
        contacts = namespace["contacts"]
        assert contacts["totalSize"] > 0  # type: ignore[index]
        updated = org.org.records("Contact")
        first = contacts["records"][0]["Id"]  # type: ignore[index]
        assert "CTO" == next(c["Title"] for c in updated if c["Id"] == first)
    assert capsys.readouterr().out.startswith("INVALID_REQUEST")
