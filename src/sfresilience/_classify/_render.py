"""docs/errors.md, rendered from the tables so the page cannot drift from the code."""

from __future__ import annotations

from sfresilience._classify._families import FAMILIES, STREAMING_BY_STATUS
from sfresilience._classify._table import (
    CODE_TABLE,
    EXCEPTION_TABLE,
    OTHER_4XX,
    OTHER_5XX,
    OWN_ERROR_TABLE,
    PRECEDENCE,
    SEVERITY_RATIONALE,
    SIGNAL_TABLE,
    STATUS_TABLE,
    Rule,
)
from sfresilience._classify._wording import NETWORK_PHRASES, PHRASES


_INTRO = """\
# Error categories

`sfresilience.classify()` turns any Salesforce failure (a simple-salesforce
exception, a `requests.Response`, a network exception, or a raw status and body)
into a `Classification`: a category, Salesforce's own code, a short redacted
message, whether retrying can help within seconds, the runbook's one-line action
and a severity. It reads Salesforce's code first, wherever it sits (REST
`errorCode`, per-record `statusCode` inside HTTP 200 collection, composite and
tree results, Bulk `exceptionCode` and batch `stateMessage`, SOAP `faultcode` /
`sf:exceptionCode`, OAuth `error` in a JSON body or a redirect's query string,
Streaming API `error` and `ext.sfdc.failureReason`, Metadata API
`errorStatusCode`, Bulk results CSV `sf__Error`, jsforce and sf CLI `name`), in
any form (JSON, XML, HTML, formatted text, Java, PHP, Node and Ruby renderings,
log lines, the repr in `str(exc)`, bytes, cut-off or wrapped pages); then the
shape of the body (maintenance, CDN and edge pages, failed deployments); then
transport failures; then the HTTP status and the exception class. Text that lost
its code is read by Salesforce's wording, and network errors by their text (see
below). `retryable` for `SESSION_EXPIRED` means "after refreshing the session".
INVALID_REQUEST, DATA_REJECTED, NOT_FOUND, PERMISSION_DENIED, AUTH_FAILED,
API_LIMIT_EXCEEDED and UNKNOWN are never retryable.

This page is generated from the tables in `src/sfresilience/_classify/`
(`_codes.py`, `_table.py`, `_families.py`, `_wording.py`); regenerate it with
`python -m sfresilience._classify > docs/errors.md`.
"""

_HEADER = "| {key} | category | retryable | severity | runbook action |\n|---|---|---|---|---|\n"


def _row(key: str, rule: Rule) -> str:
    action = rule.action.replace("|", "\\|")
    retryable = "yes" if rule.retryable else "no"
    category = rule.category.value
    return f"| {key} | {category} | {retryable} | {rule.severity} | {action} |\n"


def _code_rows() -> str:
    rows = []
    for entry in CODE_TABLE:
        key = f"`{entry.code}`"
        if entry.when is not None:
            key += f' (message contains "{entry.when}")'
        if entry.carrier:
            key += " (carrier)"
        rows.append(_row(key, entry.rule))
    return "".join(rows)


def _signal_rows() -> str:
    return "".join(_row(description, rule) for description, rule in SIGNAL_TABLE.values())


def _status_rows() -> str:
    rows = [_row(f"`{status}`", rule) for status, rule in sorted(STATUS_TABLE.items())]
    rows.append(_row("other `4xx`", OTHER_4XX))
    rows.append(_row("other `5xx`", OTHER_5XX))
    return "".join(rows)


def _exception_rows() -> str:
    rows = ["| exception | category when the body holds no code |\n", "|---|---|\n"]
    for name, category in EXCEPTION_TABLE.items():
        short = name.rpartition(".")[2]
        shown = category.value if category is not None else "by HTTP status"
        rows.append(f"| `{short}` | {shown} |\n")
    return "".join(rows)


def _own_rows() -> str:
    rows = []
    for key, rule in OWN_ERROR_TABLE.items():
        name, _, mode = key.rpartition(".")[2].partition(":")
        rows.append(_row(f"`{name}`" + (f' (mode "{mode}")' if mode else ""), rule))
    return "".join(rows)


def _family_rows() -> str:
    return "".join(_row(f"`{family.pattern}`", family.entry.rule) for family in FAMILIES)


def _streaming_rows() -> str:
    rows = STREAMING_BY_STATUS.items()
    return "".join(_row(f"`{status}::...`", entry.rule) for status, entry in rows)


def _phrase_rows() -> str:
    rows = ["| wording (case-insensitive) | read as |\n", "|---|---|\n"]
    rows += [f"| {phrase} | `{code}` |\n" for phrase, code in PHRASES]
    return "".join(rows)


def _network_rows() -> str:
    rows = ["| signal | text |\n", "|---|---|\n"]
    for signal, phrases in NETWORK_PHRASES:
        shown = ", ".join(f"`{phrase}`" for phrase in phrases)
        rows.append(f"| {SIGNAL_TABLE[signal][0]} | {shown} |\n")
    return "".join(rows)


def _text_sections() -> str:
    return (
        "## Codes the table does not list\n\n"
        "An unlisted code is read by its family, in this order; the classification's "
        "message then ends with `(unlisted code X, read as FAMILY)`. A listed code "
        "in the same response decides first. An unlisted code of no family is "
        "decided by the HTTP status, and the message says `(unlisted code X)`.\n\n"
        f"{_HEADER.format(key='family')}{_family_rows()}\n"
        "Streaming API (CometD) errors arrive as `status:args:message` "
        "(`403::Unknown client`); the messages listed above decide, others by status:\n\n"
        f"{_HEADER.format(key='Streaming error')}{_streaming_rows()}\n"
        "## Text without a code\n\n"
        "When no code is found anywhere, Salesforce's own wording still names one:\n\n"
        f"{_phrase_rows()}\n"
        "Failing that, network errors written as text (logs, trackers, other "
        "languages' clients) read as the transport failure they name, when no HTTP "
        "status is known; the first row with a match wins:\n\n"
        f"{_network_rows()}\n"
    )


def render_markdown_table() -> str:
    """The whole of docs/errors.md: intro, the tables, severities and precedence."""
    severities = "".join(f"- **{level}**: {text}\n" for level, text in SEVERITY_RATIONALE.items())
    precedence = " > ".join(category.value for category in PRECEDENCE)
    return (
        f"{_INTRO}\n"
        "## By Salesforce code\n\n"
        "A *carrier* only reports that another error happened (a rolled-back "
        "batch, a failed trigger or flow): any other code in the response, or "
        "named inside the carrier's message (such as `UNABLE_TO_LOCK_ROW` inside "
        "`CANNOT_EXECUTE_FLOW_TRIGGER`), decides instead.\n\n"
        f"{_HEADER.format(key='code')}{_code_rows()}\n"
        "`REQUEST_LIMIT_EXCEEDED` with a message naming neither limit counts as "
        "the daily allocation (the safe reading: stop, check `/limits`), unless "
        "the response's `Sforce-Limit-Info` header shows allocation left, which "
        "makes it a concurrency limit.\n\n"
        f"{_text_sections()}"
        "## Without a code: page shapes and transport failures\n\n"
        f"{_HEADER.format(key='signal')}{_signal_rows()}\n"
        "## Without a code: HTTP status\n\n"
        "Server-side statuses (5xx, 429) decide before the exception class; other "
        "statuses only after it.\n\n"
        f"{_HEADER.format(key='status')}{_status_rows()}\n"
        "## simple-salesforce exceptions without a code\n\n"
        f"{_exception_rows()}\n"
        "## sfresilience's own refusals\n\n"
        "Raised when the library decides not to call Salesforce; never retryable "
        "(another try meets the same decision), and `sfresilience.tenacity` never "
        "retries them. Each carries this `.classification`.\n\n"
        f"{_HEADER.format(key='exception')}{_own_rows()}\n"
        "## Severity\n\n"
        f"{severities}\n"
        "## Several errors in one response\n\n"
        "The error of the earliest category decides; carriers come last:\n\n"
        f"{precedence}.\n"
    )
