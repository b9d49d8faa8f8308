"""XML and HTML, read in one forward pass.

Every pattern here stops at the next ``<`` (``[^<>]``), and everything that
must find a closing tag does so with one ``str.find`` from where the opening
tag ended. A body of ``<message <message ...`` without a single ``>`` is
therefore scanned once, not once per ``<``: the whole module is linear in its
input, which the callers cap anyway.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator


# <name ...>text<   with an optional namespace prefix (sf:, soapenv:, ns2:...)
_ELEMENT = re.compile(r"<(?:[\w.\-]{1,40}:)?(\w{1,40})(?=[\s>/])[^<>]{0,512}>([^<]*)(?=<)")
_TAG = re.compile(r"<[^<>]*>")
_SPACE = re.compile(r"\s+")
_DROPPED = (("<script", "</script"), ("<style", "</style"), ("<!--", "-->"))
_TITLE_OPEN = re.compile(r"<title\b[^<>]{0,512}>", re.IGNORECASE)
_TITLE_LIMIT = 300


def elements(text: str, names: frozenset[str]) -> Iterator[tuple[str, str]]:
    """``(name, text)`` of each element whose casefolded local name is in ``names``.

    Only leaf text up to the next tag is returned; entities are unescaped.
    """
    lowered = text.lower()
    if not any(name in lowered for name in names):
        return  # none of the elements sought: spare the scan
    for match in _ELEMENT.finditer(text):
        name = match.group(1).casefold()
        if name in names:
            yield name, html.unescape(match.group(2)).strip()


def strip_tags(text: str) -> str:
    """The text between the tags, whitespace squashed."""
    return squash(_TAG.sub(" ", text))


def squash(text: str) -> str:
    """Entities unescaped and runs of whitespace made one space."""
    return _SPACE.sub(" ", html.unescape(text)).strip()


def drop_scripts(text: str) -> str:
    """The page without ``<script>``, ``<style>`` and comments (an unclosed one runs to the end)."""
    lowered = text.lower()  # same length as text for the ASCII markers searched
    if len(lowered) != len(text):
        lowered = "".join(char if char.isascii() else "?" for char in text).lower()
    kept: list[str] = []
    position = 0
    while position < len(text):
        start, closer = _next_dropped(lowered, position)
        if start < 0:
            kept.append(text[position:])
            break
        kept.append(text[position:start])
        end = lowered.find(closer, start + 1)
        if end < 0:
            break
        close = lowered.find(">", end)
        position = len(text) if close < 0 else close + 1
        kept.append(" ")
    return "".join(kept)


def _next_dropped(lowered: str, position: int) -> tuple[int, str]:
    best, closer = -1, ""
    for opener, close in _DROPPED:
        found = lowered.find(opener, position)
        if found >= 0 and (best < 0 or found < best):
            best, closer = found, close
    return best, closer


def title(text: str) -> str:
    """The page's ``<title>``; an unclosed title (a cut-off page) runs to the next tag."""
    match = _TITLE_OPEN.search(text)
    if match is None:
        return ""
    rest = text[match.end() : match.end() + 4 * _TITLE_LIMIT]
    end = rest.find("<")
    return squash(rest if end < 0 else rest[:end])[:_TITLE_LIMIT]
