"""``python -m sfresilience._classify > docs/errors.md`` regenerates the error page."""

import sys

from sfresilience._classify._render import render_markdown_table


sys.stdout.write(render_markdown_table())
