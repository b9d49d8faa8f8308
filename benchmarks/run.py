"""Run the benchmarks side by side in one process and write ``docs/benchmarks.md``.

nox -s bench                      # every bench_*.py, full size
nox -s bench -- overhead --quick  # only bench_overhead.py, fewer rounds
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import sys
from pathlib import Path

from _report import Report


HERE = Path(__file__).resolve().parent
OUTPUT = HERE.parent / "docs" / "benchmarks.md"


def _modules(selected: list[str]) -> list[str]:
    names = sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))
    unknown = sorted(set(selected) - set(names))
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(names)}")
    return [name for name in names if not selected or name in selected]


def _header(names: list[str], report: Report) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "# Benchmarks\n\n"
        "Written by `nox -s bench`; every ratio is measured side by side in one run on the\n"
        "same machine, so its noise cancels out of the ratio but not out of the absolute\n"
        "figures. A missed target is reported, with by how much.\n\n"
        f"- run: {now}, {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}\n"
        f"- benchmarks: {', '.join(names)}{' (quick)' if report.quick else ''}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller sizes")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    names = _modules(args.names)
    report = Report(quick=args.quick, rounds=300 if args.quick else 2000)
    sys.path.insert(0, str(HERE))
    for name in names:
        importlib.import_module(f"bench_{name}").run(report)
    if not args.no_write:
        OUTPUT.write_text(report.markdown(_header(names, report)), encoding="utf-8")
        print(f"\nwrote {OUTPUT.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
