"""Charts of the incident: errors by category over time, as Mermaid and in the terminal."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Final

from rich.table import Table
from rich.text import Text

from ._summary import Incident, group_of


_NICE: Final = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
_MOST_BUCKETS: Final = 24
_MOST_SERIES: Final = 4
"""Error categories charted one by one; the rest are added up as ``other``."""
_EXTRA: Final = {"cache": "served from cache", "blocked": "blocked", "refused": "writes refused"}
_STYLES: Final = ("red", "yellow", "magenta", "cyan", "blue", "green", "white")
_BAR: Final = 40
_HOUR: Final = 3600
_DAY: Final = 86400


@dataclasses.dataclass(frozen=True, slots=True)
class Series:
    """Counts per bucket over the incident: one line of the chart."""

    name: str
    counts: tuple[int, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Chart:
    starts: tuple[float, ...]
    """Start of each bucket (seconds since the epoch)."""
    size: int
    """Seconds per bucket."""
    series: tuple[Series, ...]
    title: str = "Failed attempts by category"
    bar: str = "every failed attempt"
    """What the bar (the sum of the series that are not extras) counts."""

    @property
    def labels(self) -> list[str]:
        long = bool(self.starts) and self.starts[-1] - self.starts[0] >= _DAY
        shape = "%m-%d %H:%M" if long else "%H:%M"
        return [dt.datetime.fromtimestamp(start, dt.UTC).strftime(shape) for start in self.starts]

    def totals(self) -> list[int]:
        errors = [s for s in self.series if s.name not in _EXTRA.values()]
        return [sum(s.counts[i] for s in errors) for i in range(len(self.starts))]


def chart_of(incident: Incident) -> Chart | None:
    """Failed attempts by category (and cache serves, blocks, refusals) per bucket."""
    if incident.start is None or incident.end is None:
        return None
    end = incident.now if incident.state == "ongoing" else incident.end
    span = max(end - incident.start, 1.0)
    size = next((n for n in _NICE if span / n <= _MOST_BUCKETS), _NICE[-1])
    first = int(incident.start // size) * size
    count = int((end - 1 - first) // size) + 1
    starts = tuple(float(first + i * size) for i in range(max(count, 1)))
    named = [cat for cat, _, _ in incident.errors]
    shown = list(dict.fromkeys(named))[:_MOST_SERIES]
    buckets: dict[str, Counter[int]] = {}
    for entry in incident.entries:
        group = group_of(entry.kind)
        if group == "errors":
            name = entry.category or "UNKNOWN"
            name = name if name in shown else "other"
        elif group in _EXTRA:
            name = _EXTRA[group]
        else:
            continue
        index = min(max(int((entry.at - first) // size), 0), len(starts) - 1)
        buckets.setdefault(name, Counter())[index] += entry.count
    order = [*shown, "other", *_EXTRA.values()]
    series = tuple(
        Series(name, tuple(buckets[name][i] for i in range(len(starts))))
        for name in order
        if name in buckets
    )
    return Chart(starts, size, series)


def usage_chart(hourly: Mapping[float, Mapping[str, int]]) -> Chart | None:
    """API calls per hour by caller (the budget ledger's per-hour spend), top callers named."""
    if not any(sum(calls.values()) for calls in hourly.values()):
        return None
    starts = tuple(sorted(hourly))
    totals: Counter[str] = Counter()
    for calls in hourly.values():
        totals.update(calls)
    shown = [name for name, _ in totals.most_common(_MOST_SERIES)]
    series = [Series(name, tuple(hourly[at].get(name, 0) for at in starts)) for name in shown]
    rest = tuple(sum(n for c, n in hourly[at].items() if c not in shown) for at in starts)
    if any(rest):
        series.append(Series("other callers", rest))
    return Chart(starts, _HOUR, tuple(series), "API calls by caller", "every API call")


def _every(size: int) -> str:
    return f"{size // _HOUR} h" if size >= _HOUR else f"{size // 60} min"


def mermaid(chart: Chart) -> str:
    """An ``xychart-beta`` block (GitHub, GitLab and Confluence render it) and its legend.

    xychart has no legend of its own: the bar is the sum, each line one
    series, named in the table that follows in the same order.
    """
    top = max([*chart.totals(), *(max(s.counts) for s in chart.series)], default=1)
    labels = ", ".join(f'"{label}"' for label in chart.labels)
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{chart.title}, per {_every(chart.size)} (UTC)"',
        f"    x-axis [{labels}]",
        f'    y-axis "calls" 0 --> {max(top, 1)}',
        f"    bar [{', '.join(str(n) for n in chart.totals())}]",
    ]
    lines += [f"    line [{', '.join(str(n) for n in s.counts)}]" for s in chart.series]
    lines += ["```", "", "| series | what | total |", "|---|---|---|"]
    lines.append(f"| bar | {chart.bar} | {sum(chart.totals()):,} |")
    lines += [f"| line {i} | {s.name} | {sum(s.counts):,} |" for i, s in enumerate(chart.series, 1)]
    return "\n".join(lines)


def terminal(chart: Chart) -> Table:
    """A compact bar per bucket, one colour per series, for the terminal."""
    table = Table(
        "UTC",
        "per " + _every(chart.size),
        "n",
        title=chart.title,
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    top = max((sum(s.counts[i] for s in chart.series) for i in range(len(chart.starts))), default=0)
    for i, label in enumerate(chart.labels):
        bar = Text()
        total = 0
        for style, series in zip(_STYLES, chart.series, strict=False):
            n = series.counts[i]
            total += n
            if n:
                bar.append("█" * max(1, round(_BAR * n / max(top, 1))), style=style)
        table.add_row(label, bar, str(total))
    legend = Text()
    for style, series in zip(_STYLES, chart.series, strict=False):
        legend.append("█ ", style=style).append(f"{series.name} ({sum(series.counts):,})  ")
    table.caption = legend
    table.caption_justify = "left"
    return table
