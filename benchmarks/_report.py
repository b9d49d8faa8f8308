"""What every benchmark shares: interleaved timing, and one report printed and kept as Markdown.

A benchmark module ``bench_<topic>.py`` defines ``run(report: Report) -> None``; it measures,
then calls ``report.section``, ``report.table``, ``report.target`` and ``report.note``. The
runner (``benchmarks/run.py``) prints everything as it comes and writes ``docs/benchmarks.md``.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Sequence


def interleaved(
    rounds: int, first: Callable[[], object], second: Callable[[], object]
) -> tuple[float, float]:
    """Median seconds of each callable, timed alternately so machine noise hits both."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        for call, samples in ((first, a), (second, b)):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
    return statistics.median(a), statistics.median(b)


def median_seconds(rounds: int, call: Callable[[], object]) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


@dataclasses.dataclass
class Target:
    """A speed or count target, and whether this run met it."""

    name: str
    measured: float
    limit: float
    unit: str
    lower_is_better: bool = True

    @property
    def met(self) -> bool:
        return self.measured <= self.limit if self.lower_is_better else self.measured >= self.limit

    def verdict(self) -> str:
        if self.met:
            return "met"
        gap = abs(self.measured - self.limit)
        return f"**missed** by {gap:.3g} {self.unit}"


@dataclasses.dataclass
class Report:
    """Printed line by line while measuring; rendered as Markdown at the end."""

    quick: bool = False
    rounds: int = 2000
    lines: list[str] = dataclasses.field(default_factory=list)
    targets: list[Target] = dataclasses.field(default_factory=list)

    def _add(self, text: str) -> None:
        print(text, flush=True)
        self.lines.append(text)

    def section(self, title: str, intro: str = "") -> None:
        self._add(f"\n## {title}\n")
        if intro:
            self._add(intro + "\n")

    def note(self, text: str) -> None:
        self._add(text + "\n")

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self._add("| " + " | ".join(header) + " |")
        self._add("|" + "---|" * len(header))
        for row in rows:
            self._add("| " + " | ".join(str(cell) for cell in row) + " |")
        self._add("")

    def target(
        self,
        name: str,
        measured: float,
        limit: float,
        unit: str,
        *,
        lower_is_better: bool = True,
    ) -> Target:
        found = Target(name, measured, limit, unit, lower_is_better)
        self.targets.append(found)
        sign = "≤" if lower_is_better else "≥"
        self._add(
            f"- target: {name}: {measured:.4g} {unit} (target {sign} {limit:g} {unit}) — "
            f"{found.verdict()}"
        )
        return found

    def markdown(self, header: str) -> str:
        summary = ["\n## Targets\n", "| target | measured | limit | verdict |", "|---|---|---|---|"]
        for t in self.targets:
            sign = "≤" if t.lower_is_better else "≥"
            summary.append(
                f"| {t.name} | {t.measured:.4g} {t.unit} | {sign} {t.limit:g} {t.unit} "
                f"| {t.verdict()} |"
            )
        return header + "\n".join(self.lines) + "\n".join(summary) + "\n"


def ratio_row(name: str, base: float, measured: float) -> list[str]:
    """A table row: base µs, measured µs, ratio, overhead."""
    return [
        name,
        f"{base * 1e6:.1f} µs",
        f"{measured * 1e6:.1f} µs",
        f"{measured / base:.3f}",
        f"+{(measured - base) * 1e6:.1f} µs",
    ]


RATIO_HEADER = ("what", "baseline", "measured", "ratio", "overhead")
