"""Salesforce record ids: base-62 counters and the case-safe 18-character suffix."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final


BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_SUFFIX: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ID_RE: Final = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")
# Two base-62 digits at a time: seeding makes an id per record.
_PAIRS: Final = [high + low for high in BASE62 for low in BASE62]
_PAIR_BASE: Final = 62 * 62
_UPPER_FLAGS: Final = str.maketrans({char: "1" if char.isupper() else "0" for char in BASE62})


def base62(number: int, width: int) -> str:
    digits: list[str] = []
    while number:
        number, pair = divmod(number, _PAIR_BASE)
        digits.append(_PAIRS[pair])
    text = "".join(reversed(digits))
    if len(text) > width:
        text = text.lstrip("0")
    return text.rjust(width, "0")


def id_checksum(id15: str) -> str:
    """The 3-character suffix that makes an id case-insensitively unique."""
    return _chunk_char(id15[0:5]) + _chunk_char(id15[5:10]) + _chunk_char(id15[10:15])


@lru_cache(maxsize=8192)
def _chunk_char(chunk: str) -> str:
    # Bit i of the suffix character's index is set when character i is upper case.
    return _ID_SUFFIX[int(chunk.translate(_UPPER_FLAGS)[::-1], 2)]
