"""Salesforce record ids: base-62 counters and the case-safe 18-character suffix."""

from __future__ import annotations

import re
from typing import Final


BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_SUFFIX: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
ID_RE: Final = re.compile(r"[0-9A-Za-z]{15}(?:[0-9A-Za-z]{3})?")


# Every two-digit base-62 numeral, so `base62` takes two digits per division.
_PAIRS: Final = tuple(high + low for high in BASE62 for low in BASE62)


def base62(number: int, width: int) -> str:
    """`number` in base 62, zero-padded to `width` digits."""
    digits = ""
    while number:
        number, pair = divmod(number, 3844)
        digits = _PAIRS[pair] + digits
    return digits.lstrip("0").rjust(width, "0")


# Upper-case letters to "1", everything else to "0": each 5-character chunk of an id,
# read backwards, is then the binary index of its suffix character.
_UPPER_BITS: Final = str.maketrans({char: ("1" if char.isupper() else "0") for char in BASE62})


def id_checksum(id15: str) -> str:
    """The 3-character suffix that makes an id case-insensitively unique."""
    bits = id15.translate(_UPPER_BITS)
    return (
        _ID_SUFFIX[int(bits[4::-1], 2)]
        + _ID_SUFFIX[int(bits[9:4:-1], 2)]
        + _ID_SUFFIX[int(bits[14:9:-1], 2)]
    )
