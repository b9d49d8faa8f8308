"""Keep record data and query strings out of log lines and event reasons.

Salesforce's query errors (``MALFORMED_QUERY``, ``INVALID_FIELD``) echo the
SOQL with its literals (``WHERE Email = 'jane.doe@example.com'``), and request
errors quote their URL with the query in ``?q=``. Logs get neither.
"""

from __future__ import annotations

import re

from ._redact import redact


__all__ = ["MASKED", "mask_record_data", "safe_reason"]

MASKED = "'***'"

# A single- or double-quoted literal; one cut off before its closing quote counts.
_LITERAL = re.compile(r"""'(?:[^'\\\n]|\\.)*'?|"(?:[^"\\\n]|\\.)*"?""")
# Salesforce puts the echoed query (and a caret line) before this marker.
_ROW_MARKER = re.compile(r"ERROR at Row:\S*")
# A URL or a bare path (requests' "Max retries exceeded with url: /services/...?q=").
_QUERY_STRING = re.compile(r"((?:https?://|/)[^\s?#'\"]*)\?[^\s#'\"]*")


def mask_record_data(message: str) -> str:
    """*message* without the query it echoes and with every quoted literal masked."""
    marker = _ROW_MARKER.search(message)
    if marker is not None:
        message = "[query omitted] " + message[marker.start() :]
    return _LITERAL.sub(MASKED, message).strip()


def safe_reason(text: str) -> str:
    """*text* with secrets redacted and URL query strings dropped (the Event contract)."""
    return _QUERY_STRING.sub(r"\1?[query omitted]", redact(text))
