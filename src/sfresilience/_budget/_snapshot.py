"""``client.budget``: what the org's daily API allocation looks like right now."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Literal


Level = Literal["normal", "warn", "critical", "exhausted"]
LEVELS: tuple[Level, ...] = ("normal", "warn", "critical", "exhausted")


@dataclasses.dataclass(frozen=True, slots=True)
class Budget:
    """A snapshot of the org's API budget; numbers are None until Salesforce has said.

    ``used`` and ``limit`` are Salesforce's own count over the rolling 24
    hours, from the ``Sforce-Limit-Info`` header of a response (``source``
    ``"header"``), from ``/limits`` (``"limits"``), or from another process of
    the fleet through Redis (``"fleet"``); ``age`` is how many seconds ago it
    was read. ``reserved`` counts calls the fleet may be sending now that no
    reading reflects yet; the guard admits a call only while
    ``used + reserved`` stays under its cap.
    """

    used: int | None
    limit: int | None
    source: Literal["header", "limits", "fleet"] | None
    age: float | None
    by_caller: Mapping[str, int]
    """API calls spent per ``caller`` label over about the last 24 hours."""
    reserved: int = 0
    level: Level = "normal"
    """Which threshold is reached: ``"warn"``, ``"critical"`` (critical-only), ``"exhausted"``."""
    daily_limits: Mapping[str, tuple[int, int]] = dataclasses.field(default_factory=dict)
    """``{name: (max, remaining)}`` from the last ``/limits`` read (the Bulk daily
    limits ``DailyBulkApiBatches``, ``DailyBulkV2QueryJobs`` among them); empty until then."""

    @property
    def remaining(self) -> int | None:
        """Calls left in the allocation, by Salesforce's count."""
        if self.used is None or self.limit is None:
            return None
        return max(0, self.limit - self.used)

    @property
    def fraction(self) -> float | None:
        """Share of the allocation used, 0.0 to 1.0 (or above, over the cap)."""
        if self.used is None or not self.limit:
            return None
        return self.used / self.limit
