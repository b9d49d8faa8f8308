"""``sfresilience incident``: the Slack-ready update, filled from the fleet's timeline.

The timeline lives in Redis (``SFRESILIENCE_REDIS_URL``): every process of the
fleet writes into it, so one command on any host tells the whole story.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from typing import Final

import typer

from .._redact import redact
from .._settings import Settings, load_settings
from .._store import RedisStore, StoreUnavailable
from .._timeline import Timeline
from ..incident import Incident, SlackRefused, post, slack_update, summarize
from ._mode import _DURATION, _UNITS


_LONGEST: Final = 7 * 86400.0
"""The timeline keeps a week; reading further back finds nothing."""


class Refusal(Exception):
    """The command cannot report: one line for stderr, exit 1."""


def parse_since(text: str, *, now: float, option: str = "--since") -> float:
    """``30m`` / ``2h`` / ``1h30m`` ago, or an ISO 8601 moment (UTC unless it says)."""
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if parts and "".join(number + unit for number, unit in parts) == compact:
        seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
        if not 0 < seconds <= _LONGEST:
            msg = f"between 1s and 7d (got {text!r})"
            raise typer.BadParameter(msg, param_hint=f"'{option}'")
        return now - seconds
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        msg = (
            "expected a duration such as 30m or 2h, or an ISO time such as "
            f"2026-12-02T04:00Z (got {text!r})"
        )
        raise typer.BadParameter(msg, param_hint=f"'{option}'") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    since = moment.timestamp()
    if since > now:
        msg = f"{text!r} is in the future"
        raise typer.BadParameter(msg, param_hint=f"'{option}'")
    return since


def timeline_of(settings: Settings) -> Timeline:
    """The fleet's timeline in Redis, reachable; :class:`Refusal` otherwise."""
    if not settings.redis_url:
        msg = (
            "the fleet's timeline is kept in Redis: set SFRESILIENCE_REDIS_URL to the "
            "Redis the clients share"
        )
        raise Refusal(msg)
    store = RedisStore.from_url(settings.redis_url)
    try:
        store.ping()
    except StoreUnavailable as error:
        raise Refusal(
            f"Redis unreachable, the timeline cannot be read: {redact(str(error))}"
        ) from None
    return Timeline(store)


def read_incident(timeline: Timeline, since_text: str) -> Incident:
    """The incident the timeline tells of since *since_text*."""
    now = time.time()
    since = parse_since(since_text, now=now)
    try:
        entries = timeline.entries(since=since)
    except StoreUnavailable as error:
        raise Refusal(f"Redis failed while reading the timeline: {redact(str(error))}") from None
    return summarize(entries, since=since, now=now)


def run(*, as_json: bool, since: str, send: bool) -> int:
    """Print the update (and post it); 1 while the incident goes on or when posting failed."""
    settings = load_settings()
    try:
        incident = read_incident(timeline_of(settings), since)
    except Refusal as refusal:
        typer.echo(f"sfresilience incident: {refusal}", err=True)
        return 1
    update = slack_update(incident)
    posted = False
    if send:
        if settings.slack_webhook_url is None:
            typer.echo(
                "sfresilience incident: --post needs SFRESILIENCE_SLACK_WEBHOOK_URL "
                "(a Slack incoming webhook)",
                err=True,
            )
            return 1
        try:
            post(settings.slack_webhook_url.get_secret_value(), update)
            posted = True
        except SlackRefused as refused:
            typer.echo(f"sfresilience incident: {refused}", err=True)
    if as_json:
        document = {"incident": incident.to_json(), "update": update.to_json(), "posted": posted}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        typer.echo(update.text())
        if posted:
            typer.echo("(posted to Slack)", err=True)
    return 1 if incident.state == "ongoing" or (send and not posted) else 0
