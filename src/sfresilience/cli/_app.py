"""The ``sfresilience`` command."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__


app = typer.Typer(
    name="sfresilience",
    help="Runbook-grade resilience for Salesforce integrations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"sfresilience {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Runbook-grade resilience for Salesforce integrations."""


@app.command()
def demo(
    contacts: Annotated[
        int, typer.Option(min=10, max=50_000, help="Contacts in the fake org.")
    ] = 2500,
) -> None:
    """Run the incident drill against an embedded fake org: no setup, no network."""
    from ._demo import run_demo  # noqa: PLC0415  (keeps --version instant)

    raise typer.Exit(run_demo(contacts=contacts))


def main() -> None:
    """Console-script entry point."""
    app()
