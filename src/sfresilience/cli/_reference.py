"""The CLI reference (docs/cli.md), generated from the typer app itself.

``python -m sfresilience.cli._reference > docs/cli.md``; a test fails when the
page and the commands drift apart. Each section is the command's own ``--help``,
rendered at a fixed width without colour so that the page is reproducible.
"""

from __future__ import annotations

import inspect
import sys

import typer.main
from typer.testing import CliRunner

from ._app import app


_HEADER = """# Command line

Every command of `sfresilience`, generated from the commands themselves
(`python -m sfresilience.cli._reference > docs/cli.md`). Every command takes
`--help`; a bad setting or argument is one line on stderr (exit 2), never a
traceback.
"""
_PLAIN = {"COLUMNS": "100", "TERMINAL_WIDTH": "100", "NO_COLOR": "1", "TERM": "dumb"}


def commands() -> list[tuple[str, str]]:
    """``(name, first line of its help)`` of every visible command, in order."""
    found = []
    for info in app.registered_commands:
        if info.hidden or info.callback is None:
            continue
        name = info.name or typer.main.get_command_name(info.callback.__name__)
        summary = inspect.getdoc(info.callback) or ""
        found.append((name, summary.splitlines()[0] if summary else ""))
    return found


def help_of(arguments: list[str]) -> str:
    result = CliRunner().invoke(app, [*arguments, "--help"], env=_PLAIN, color=False)
    lines = [line.rstrip() for line in result.output.splitlines()]
    return "\n".join(lines).strip("\n")


def reference() -> str:
    """The whole page."""
    parts = [_HEADER, "| command | does |", "|---|---|"]
    listed = commands()
    parts += [f"| [`{name}`](#sfresilience-{name}) | {summary} |" for name, summary in listed]
    for name, _ in listed:
        parts += ["", f"## sfresilience {name}", "", "```text", help_of([name]), "```"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())
