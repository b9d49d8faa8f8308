"""``sfresilience triage``: the report as a table, or one JSON document."""

from __future__ import annotations

import json
import shutil
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .._settings import load_settings
from ..exceptions import ConfigurationError
from ..triage import Report, Target, run_triage


_STYLE = {
    "ok": "green",
    "warn": "yellow",
    "fail": "bold red",
    "unknown": "magenta",
    "skipped": "dim",
}


def run(*, target_org: str | None, as_json: bool, timeout: float) -> int:
    """Print the triage; 0 only for a healthy verdict."""
    settings = load_settings()
    if target_org is not None and shutil.which("sf") is None:
        msg = "--target-org needs the sf CLI on PATH (npm install --global @salesforce/cli)"
        raise ConfigurationError(msg)
    report = run_triage(Target(target_org=target_org), settings, timeout=timeout)
    if as_json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        render(report, Console())
    return 0 if report.verdict == "healthy" else 1


def render(report: Report, console: Console) -> None:
    table = Table(title="sfresilience triage", title_justify="left")
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    for check in report.checks:
        style = _STYLE[check.status]
        table.add_row(check.name, Text(check.status, style=style), Text(check.detail))
    console.print(table)
    style = "bold green" if report.verdict == "healthy" else "bold red"
    console.print(Text.assemble("verdict: ", (report.verdict, style)))
    if report.next:
        console.print("next:")
        for step in report.next:
            # One line each, unwrapped, so that they paste as they are.
            console.print(f"  {step}", markup=False, highlight=False, soft_wrap=True)
