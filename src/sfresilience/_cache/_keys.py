"""Cache keys: org id, API version and a hash of the normalised call.

``cache:{<org>:<version>:<digest>}`` — the whole name is one hash tag, so a key
is one slot on Redis Cluster, and the org and API version are part of it, so two
orgs (or two API versions of one org) sharing a Redis never read each other's
entries.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any


_SPACE = re.compile(r"\s+")


def normalise_soql(soql: str) -> str:
    """One spelling per query as far as whitespace goes (case stays: literals keep it)."""
    return _SPACE.sub(" ", soql).strip()


def cache_key(org_id: str, api_version: str, kind: str, call: Any) -> str:
    """The key of *call* (any JSON value describing it) of *kind* for one org."""
    payload = json.dumps([kind, call], sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(payload.encode()).hexdigest()[:40]
    return f"cache:{{{org_id}:{api_version}:{digest}}}"
