"""Salesforce record ids: base-62 counters and the case-safe 18-character suffix."""

from __future__ import annotations

import re
from typing import Final


BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_SUFFIX: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ID_RE: Final = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")


def base62(number: int, width: int) -> str:
    digits: list[str] = []
    while number:
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits)).rjust(width, "0")


def id_checksum(id15: str) -> str:
    """The 3-character suffix that makes an id case-insensitively unique."""
    suffix = []
    for start in range(0, 15, 5):
        chunk = id15[start : start + 5]
        bits = sum(1 << index for index, char in enumerate(chunk) if char.isupper())
        suffix.append(_ID_SUFFIX[bits])
    return "".join(suffix)
