"""The ``sfresilience`` command."""

from __future__ import annotations

import enum
from typing import Annotated

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from .. import __version__
from ..exceptions import ConfigurationError


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
    as_json: Annotated[
        bool, typer.Option("--json", help="No live display: print the outcome as one JSON object.")
    ] = False,
) -> None:
    """Run the incident drill against an embedded fake org: no setup, no network."""
    from ._demo import run_demo  # noqa: PLC0415  (keeps --version instant)

    raise typer.Exit(run_demo(contacts=contacts, as_json=as_json))


def _count(what: str) -> object:
    return typer.Option(min=0, help=what)


def _share(what: str) -> object:
    return typer.Option(min=0.0, max=1.0, help=what)


_Accounts = Annotated[int, _count("Accounts in the org.")]
_Contacts = Annotated[int, _count("Contacts in the org.")]
_Opportunities = Annotated[int, _count("Opportunities in the org.")]
_Port = Annotated[int, typer.Option(min=0, max=65_535, help="Loopback port (0: OS-chosen).")]
_Tls = Annotated[bool, typer.Option("--tls/--no-tls", help="HTTPS with a throwaway CA.")]
_Trust = Annotated[
    bool, typer.Option("--trust/--no-trust", help="Serve a fake Trust status API too.")
]
_ServerErrors = Annotated[float, _share("Share of data calls failing 500.")]
_Dropped = Annotated[float, _share("Share of connections dropped unanswered.")]
_Expired = Annotated[float, _share("Share of calls finding the session expired.")]
_Lost = Annotated[float, _share("Share of writes applied, then answer lost.")]
_Json = Annotated[bool, typer.Option("--json", help="Print the environment as one JSON object.")]


@app.command("fake-org")
def fake_org(
    *,
    accounts: _Accounts = 20,
    contacts: _Contacts = 200,
    opportunities: _Opportunities = 50,
    seed: Annotated[int, typer.Option(help="Seed of the org's sample data.")] = 0,
    port: _Port = 0,
    tls: _Tls = True,
    trust: _Trust = True,
    api_limit: Annotated[int, _count("Daily API allocation.")] = 15_000,
    api_usage: Annotated[int, _count("API calls already used.")] = 0,
    latency: Annotated[float, typer.Option(min=0.0, help="Seconds every request waits.")] = 0.0,
    server_errors: _ServerErrors = 0.0,
    dropped_connections: _Dropped = 0.0,
    expired_sessions: _Expired = 0.0,
    lost_responses: _Lost = 0.0,
    slow_drip: Annotated[
        float, typer.Option(min=0.0, help="Send answers a byte every N seconds.")
    ] = 0.0,
    fault_seed: Annotated[int, typer.Option(help="Seed of the fault probabilities.")] = 0,
    as_json: _Json = False,
) -> None:
    """Run a fake org in the foreground for other programs' tests; print its environment.

    Prints `export NAME=value` lines (or, with --json, one JSON object): the instance
    URL, an access token, the CA bundle and the Trust status URL. Ctrl-C or SIGTERM
    stops it.
    """
    given = dict(locals())  # first statement: exactly the options, by name
    from ._fake_org import FakeOrgOptions, run_fake_org  # noqa: PLC0415 (keeps --version instant)

    try:
        code = run_fake_org(FakeOrgOptions(**given))
    except OSError as error:  # the port is taken, say
        typer.echo(f"sfresilience fake-org: {error.strerror or error}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


@app.command()
def triage(
    *,
    target_org: Annotated[
        str | None,
        typer.Option(help="An org alias of an installed sf CLI (default: the SF_* variables)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=60.0, help="Seconds each check may take.")
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The runbook's quick triage: Trust, instance status, limits, auth, recent errors.

    Walks the decision tree to a verdict and prints the next commands. Exit 0 only
    when the verdict is healthy.
    """
    from ._triage import run  # noqa: PLC0415  (keeps --version instant)

    raise typer.Exit(run(target_org=target_org, as_json=as_json, timeout=timeout))


@app.command()
def status(
    *,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The effective mode and every reason it is on; the API budget and its spend by caller.

    Reads the fleet's state in Redis (SFRESILIENCE_REDIS_URL) for the org of the
    SF_* credentials. Exit 1 when a mode is on, the budget passed a threshold, or
    Redis is configured and unreachable.
    """
    from ._status import run  # noqa: PLC0415  (keeps --version instant)

    raise typer.Exit(run(as_json=as_json))


class SwitchableMode(enum.StrEnum):
    """Modes a fleet switch turns on."""

    CRITICAL_ONLY = "critical-only"
    FALLBACK = "fallback"


class OnOff(enum.StrEnum):
    ON = "on"
    OFF = "off"


@app.command()
def mode(
    name: Annotated[SwitchableMode, typer.Argument(help="The mode to switch.")],
    state: Annotated[OnOff, typer.Argument(help="on or off.")],
    *,
    reason: Annotated[str, typer.Option(help="Why, as every client's mode will show it.")] = "",
    duration: Annotated[
        str | None,
        typer.Option("--for", help="How long, e.g. 30m, 2h, 1h30m (default and at most: 7d)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Switch a mode on or off for the whole fleet, through Redis.

    Every client sharing SFRESILIENCE_REDIS_URL sees it within a second;
    `sfresilience status` and `client.mode` show it with its reason, who set it
    and until when. Without Redis it refuses (exit 1).
    """
    from ._mode import run  # noqa: PLC0415  (keeps --version instant)

    on = state is OnOff.ON
    code = run(name.value, on=on, reason=reason, duration=duration, as_json=as_json)
    raise typer.Exit(code)


@app.command()
def incident(
    *,
    since: Annotated[
        str, typer.Option(help="How far back: a duration (30m, 2h) or an ISO time.")
    ] = "6h",
    send: Annotated[
        bool,
        typer.Option(
            "--post", help="Send it to the Slack webhook in SFRESILIENCE_SLACK_WEBHOOK_URL."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The Slack-ready incident update, filled from the fleet's timeline in Redis.

    The runbook's template: P-level, status, error, impact, current action, next
    update. --post sends it to the Slack incoming webhook in
    SFRESILIENCE_SLACK_WEBHOOK_URL (the message is printed either way).

    Exit 1 while the incident is ongoing (trouble in the last 10 minutes), when
    Redis cannot be read, or when --post did not reach Slack.
    """
    from ._incident import run  # noqa: PLC0415  (keeps --version instant)

    raise typer.Exit(run(as_json=as_json, since=since, send=send))


class PostmortemFormat(enum.StrEnum):
    """Ways to print the postmortem draft."""

    MARKDOWN = "markdown"
    JSON = "json"


@app.command()
def postmortem(
    *,
    since: Annotated[
        str, typer.Option(help="Start of the span: a duration (30m, 2h, 1d) or an ISO time.")
    ] = "24h",
    output: Annotated[
        PostmortemFormat | None,
        typer.Option(
            "--format", help="markdown (with a Mermaid chart) or json; default: a terminal view."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """The postmortem draft, filled from the fleet's timeline in Redis.

    Summary, duration, severity, impact counts, the timeline, API calls by caller,
    action items derived from what happened, and a chart of the errors by
    category over the incident (Mermaid in the Markdown, bars in the terminal).

    Exit 1 while the incident is still ongoing or when Redis cannot be read.
    """
    from ._postmortem import run  # noqa: PLC0415  (keeps --version instant)

    chosen = "json" if as_json else (output.value if output is not None else "terminal")
    raise typer.Exit(run(since=since, output=chosen))


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: a bad option or value is one line on stderr, exit 2.

    `argv` defaults to `sys.argv[1:]`.
    """
    try:
        code = app(args=argv, standalone_mode=False)
    except NoArgsIsHelpError as shown:
        typer.echo(shown.format_message())
        raise SystemExit(shown.exit_code) from None
    except ClickException as error:
        typer.echo(f"sfresilience: {error.format_message()}", err=True)
        raise SystemExit(error.exit_code) from None
    except typer.Abort:
        raise SystemExit(130) from None
    except ConfigurationError as error:  # a bad setting: one line, never a traceback
        typer.echo(f"sfresilience: {error}", err=True)
        raise SystemExit(2) from None
    raise SystemExit(code if isinstance(code, int) else 0)
