"""docs/cli.md is generated from the commands; it must match them."""

from __future__ import annotations

from pathlib import Path

from sfresilience.cli._reference import commands, reference


PAGE = Path(__file__).parent.parent / "docs" / "cli.md"


def test_the_cli_reference_is_up_to_date() -> None:
    assert PAGE.read_text() == reference(), (
        "docs/cli.md is stale: python -m sfresilience.cli._reference > docs/cli.md"
    )


def test_every_command_is_on_the_page() -> None:
    names = [name for name, _ in commands()]
    assert {"triage", "status", "mode"} <= set(names)
    for name in names:
        assert f"## sfresilience {name}" in reference()


def test_the_oncall_page_names_only_commands_that_exist() -> None:
    oncall = (PAGE.parent / "oncall.md").read_text()
    names = {name for name, _ in commands()}
    used = {
        line.split()[1]
        for line in oncall.splitlines()
        if line.startswith("sfresilience ") and len(line.split()) > 1
    }
    assert used, "the on-call page shows commands"
    assert used <= names, used - names
