"""The Slack incident update (the runbook's template) and posting it to an incoming webhook."""

from __future__ import annotations

import dataclasses
import urllib.parse
from typing import Any, Final

import requests

from .._redact import redact
from ._actions import current_action
from ._summary import Incident, clock_time, lasting


_NEXT_UPDATE: Final = {"P1": 30, "P2": 60, "P3": 120}
"""Minutes to the next update by severity (P4: none unless it recurs)."""
_ICON: Final = {"ongoing": ":rotating_light:", "resolved": ":white_check_mark:", "quiet": ":ok:"}
_HINTS: Final = {
    "invalid_payload": "Slack could not read the message",
    "no_text": "Slack could not read the message",
    "no_service": "the webhook was removed or disabled: create a new one",
    "no_team": "the webhook's workspace is gone: create a new webhook",
    "invalid_token": "the webhook was revoked: create a new one",
    "channel_not_found": "the webhook's channel no longer exists",
    "channel_is_archived": "the webhook's channel is archived",
    "action_prohibited": "the workspace forbids this webhook from posting",
    "user_not_found": "the webhook's user no longer exists",
}
_TIMEOUT: Final = 10.0


class SlackRefused(Exception):
    """The update did not reach Slack; ``str()`` is one line naming why (no webhook secret)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Update:
    """The runbook's incident update: one line per field."""

    title: str
    severity: str
    status: str
    error: str
    impact: str
    current_action: str
    next_update: str

    def fields(self) -> dict[str, str]:
        return {
            "P-level": self.severity,
            "Status": self.status,
            "Error": self.error,
            "Impact": self.impact,
            "Current action": self.current_action,
            "Next update": self.next_update,
        }

    def text(self) -> str:
        """Slack mrkdwn, readable as plain text too."""
        lines = [f"*{self.title}*"]
        lines += [f"*{name}:* {value}" for name, value in self.fields().items()]
        return "\n".join(lines)

    def payload(self) -> dict[str, Any]:
        """The webhook body: ``text`` (notifications, old clients) and the same as a block."""
        block = {"type": "section", "text": {"type": "mrkdwn", "text": self.text()}}
        return {"text": self.text(), "blocks": [block]}

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "text": self.text()}


def slack_update(incident: Incident) -> Update:
    """The update for *incident*, every field filled from the timeline."""
    severity = incident.severity or "P4"
    icon = _ICON[incident.state]
    return Update(
        title=f"{icon} [{severity}] Salesforce integration: {_headline(incident)}",
        severity=severity,
        status=_status(incident),
        error=_error(incident),
        impact=_impact(incident),
        current_action=current_action(incident),
        next_update=_next(incident, severity),
    )


def _headline(incident: Incident) -> str:
    if incident.state == "quiet":
        return "no incident recorded"
    top = incident.errors[0][0] if incident.errors else "degraded service"
    return f"{top} {'ongoing' if incident.state == 'ongoing' else 'resolved'}"


def _status(incident: Incident) -> str:
    if incident.start is None or incident.end is None:
        return f"No trouble recorded since {clock_time(incident.since)}."
    took = lasting(incident.duration)
    if incident.state == "ongoing":
        return f"Ongoing since {clock_time(incident.start)} ({took})."
    return f"Resolved: from {clock_time(incident.start)} to {clock_time(incident.end)} ({took})."


def _error(incident: Incident) -> str:
    if not incident.errors:
        return "No classified errors."
    shown = [
        f"{cat}" + (f" ({code})" if code and code != cat else "") + f" x{n:,}"
        for cat, code, n in incident.errors[:3]
    ]
    ops = ", ".join(op for op, _ in incident.operations[:3])
    return "; ".join(shown) + (f", on {ops}" if ops else "") + "."


def _impact(incident: Incident) -> str:
    i = incident.impact
    parts = [
        f"{i.failed:,} call(s) failed after retries",
        f"{i.blocked:,} blocked by critical-only mode",
        f"{i.served_from_cache:,} served from cache",
        f"{i.writes_refused:,} write(s) refused",
    ]
    handled = (
        f"{i.retried:,} retries, {i.recovered:,} recovered, "
        f"{i.session_refreshes:,} session refresh(es)"
    )
    return ", ".join(parts) + f"; {handled}."


def _next(incident: Incident, severity: str) -> str:
    if incident.state != "ongoing":
        return "None planned: this is the final update unless it recurs."
    minutes = _NEXT_UPDATE.get(severity)
    if minutes is None:
        return "None planned unless it gets worse (the library is handling it)."
    return f"{clock_time(incident.now + minutes * 60)} (in {minutes} min)."


def post(url: str, update: Update, *, timeout: float = _TIMEOUT) -> None:
    """Send *update* to the incoming webhook at *url*; :class:`SlackRefused` when it did not land.

    Slack answers 200 with the body ``ok``; anything else is a refusal whose
    body is a short code (``invalid_payload``, ``no_service``, ``channel_not_found`` ...).
    """
    where = _where(url)
    try:
        answer = requests.post(url, json=update.payload(), timeout=timeout)
    except requests.RequestException as error:
        reason = _without_secret(redact(str(error)), url)
        raise SlackRefused(
            f"could not reach the Slack webhook at {where}: {reason[:200]}"
        ) from None
    if answer.status_code == 200:  # noqa: PLR2004  (Slack's one success)
        return
    body = " ".join(answer.text.split())[:120] or "(empty body)"
    hint = _HINTS.get(body)
    told = f"{body}: {hint}" if hint else body
    msg = f"the Slack webhook at {where} refused the update: HTTP {answer.status_code} {told}"
    raise SlackRefused(msg)


def _without_secret(text: str, url: str) -> str:
    """*text* (an error urllib3 wrote) with the webhook's path, its secret, masked."""
    parts = urllib.parse.urlsplit(url)
    text = text.replace(url, _where(url))
    secret = parts.path + (f"?{parts.query}" if parts.query else "")
    return text.replace(secret, "/[REDACTED]") if len(secret) > 1 else text


def _where(url: str) -> str:
    """Scheme and host of the webhook: its path is the secret."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
