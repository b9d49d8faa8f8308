"""What went wrong, in the runbook's terms: pure functions over errors, no I/O."""

from sfresilience._classify._model import Classification, ErrorCategory, Severity
from sfresilience._classify._render import render_markdown_table
from sfresilience._classify._resolve import classify, may_have_been_applied


__all__ = [
    "Classification",
    "ErrorCategory",
    "Severity",
    "classify",
    "may_have_been_applied",
    "render_markdown_table",
]
