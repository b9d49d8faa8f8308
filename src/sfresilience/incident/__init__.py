"""The incident as people read it: the Slack update, the postmortem draft and its charts."""

from ._actions import action_items, current_action
from ._chart import Chart, Series, chart_of, mermaid, terminal, usage_chart
from ._postmortem import postmortem_json, postmortem_markdown, summary_line, timeline_rows
from ._slack import SlackRefused, Update, post, slack_update
from ._summary import QUIET, Impact, Incident, clock_time, group_of, lasting, summarize


__all__ = [
    "QUIET",
    "Chart",
    "Impact",
    "Incident",
    "Series",
    "SlackRefused",
    "Update",
    "action_items",
    "chart_of",
    "clock_time",
    "current_action",
    "group_of",
    "lasting",
    "mermaid",
    "post",
    "postmortem_json",
    "postmortem_markdown",
    "slack_update",
    "summarize",
    "summary_line",
    "terminal",
    "timeline_rows",
    "usage_chart",
]
