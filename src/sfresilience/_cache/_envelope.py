"""The bytes a cached result is kept as: a JSON envelope, optionally encrypted.

Never pickle: an entry is data, so reading a foreign or tampered one can at
worst be a miss. The envelope names its schema version, when the value was
fetched, and the org, API version and key it belongs to, so an entry read under
the wrong key (a hash collision, a copied key, another org) is refused.
"""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..exceptions import ConfigurationError


SCHEMA = 1
_PLAIN = b"j1:"
_SEALED = b"f1:"


class BadEntry(Exception):
    """A stored entry that cannot be served; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Entry:
    """A decoded value and when it was fetched (Unix time)."""

    value: Any
    fetched_at: float
    fresh_for: float
    """Seconds the value counts as fresh (0: only a fallback serves it)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Scope:
    """Whose entries these are: one org at one API version."""

    org_id: str
    api_version: str


def cipher_from(keys: str | None) -> MultiFernet | None:
    """``SFRESILIENCE_CACHE_KEY``: comma-separated Fernet keys; the first encrypts."""
    if not keys or not keys.strip():
        return None
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys.split(",") if key.strip()])
    except ValueError:
        msg = (
            "SFRESILIENCE_CACHE_KEY: expected comma-separated Fernet keys "
            "(32 url-safe base64-encoded bytes each; make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())'`)"
        )
        raise ConfigurationError(msg) from None


def encode(
    value: Any,
    *,
    scope: Scope,
    key: str,
    fetched_at: float,
    fresh_for: float,
    cipher: MultiFernet | None,
) -> bytes:
    """The stored form of *value*; raises TypeError/ValueError when it is not JSON."""
    document = {
        "v": SCHEMA,
        "org": scope.org_id,
        "api": scope.api_version,
        "key": key,
        "at": fetched_at,
        "fresh": fresh_for,
        "data": value,
    }
    text = json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    if cipher is None:
        return _PLAIN + text
    return _SEALED + cipher.encrypt(text)


def decode(raw: bytes, *, scope: Scope, key: str, cipher: MultiFernet | None) -> Entry:
    """The entry in *raw*, or :class:`BadEntry` saying why it cannot be served."""
    text = _open(raw, cipher)
    try:
        document = json.loads(text, object_pairs_hook=OrderedDict)
    except ValueError:
        raise BadEntry("not valid JSON") from None
    if not isinstance(document, dict) or document.get("v") != SCHEMA:
        raise BadEntry("unknown schema version")
    if document.get("org") != scope.org_id or document.get("api") != scope.api_version:
        raise BadEntry("written for another org or API version")
    if document.get("key") != key:
        raise BadEntry("written under another key")
    fetched_at, fresh_for = document.get("at"), document.get("fresh", 0)
    if not isinstance(fetched_at, int | float) or not isinstance(fresh_for, int | float):
        raise BadEntry("no fetch time")
    if "data" not in document:
        raise BadEntry("no value")
    return Entry(document["data"], float(fetched_at), float(fresh_for))


def _open(raw: bytes, cipher: MultiFernet | None) -> bytes:
    if raw.startswith(_SEALED):
        if cipher is None:
            raise BadEntry("encrypted, and SFRESILIENCE_CACHE_KEY is not set")
        try:
            return cipher.decrypt(raw[len(_SEALED) :])
        except InvalidToken:
            raise BadEntry("cannot be decrypted with SFRESILIENCE_CACHE_KEY") from None
    if raw.startswith(_PLAIN):
        if cipher is not None:
            # With encryption on, a plain entry is one nobody holding the key wrote.
            raise BadEntry("not encrypted, and SFRESILIENCE_CACHE_KEY is set")
        return raw[len(_PLAIN) :]
    raise BadEntry("not an sfresilience cache entry")
