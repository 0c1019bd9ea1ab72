"""add_working_days and working_days_between calls/s against a naive day-by-day count measured
in the same run (issue 12, item 8).

    .venv/bin/python bench/worktime.py [--calls 200000]

The calendar is `shanghai` from its file (2025–2026, extends `cn`). Each call starts on a day of
2025 and adds 1–60 working days (statutory periods are 5–60), or counts the working days between
two days of 2025–2026 up to 120 days apart. The naive baseline walks day by day through the
same calendar's holiday, make-up and weekend sets (what a straightforward implementation does);
ours looks the answer up in the per-version precomputed working-day ordinals / prefix counts.
Also part (e) of bench/flow.py.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))


def naive_is_working(cal: Any, day: date) -> bool:
    if day < cal.first_day or day > cal.last_day:
        raise ValueError(f"calendar for {day.year} not yet published")
    if day in cal.workdays:
        return True
    return day not in cal.holidays and day.weekday() not in cal.weekend


def naive_add(cal: Any, day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        if naive_is_working(cal, day):
            n -= 1
    return day


def naive_between(cal: Any, a: date, b: date) -> int:
    count = 0
    while a < b:
        a += timedelta(days=1)
        count += naive_is_working(cal, a)
    return count


def measure(calls: int = 200_000, seed: int = 12) -> dict[str, float]:
    """Calls per second of ours and the naive count, for both functions, same inputs."""
    from tongban.worktime import add_working_days, file_calendar, working_days_between

    cal = file_calendar("shanghai")
    rng = random.Random(seed)
    first = date(2025, 1, 1).toordinal()
    adds = [(date.fromordinal(first + rng.randrange(365)), rng.randint(1, 60))
            for _ in range(calls)]
    spans = []
    for _ in range(calls):
        a = date.fromordinal(first + rng.randrange(600))
        spans.append((a, a + timedelta(days=rng.randrange(121))))
    naive_calls = max(1, calls // 10)  # the naive count is slow: fewer calls, same inputs

    def timed(function: Any, inputs: list[tuple[date, Any]]) -> float:
        began = time.perf_counter()
        for x, y in inputs:
            function(cal, x, y)
        return len(inputs) / (time.perf_counter() - began)

    for x, y in adds[:1000]:  # same answers, and warm
        assert add_working_days(cal, x, y) == naive_add(cal, x, y)
    for x, y in spans[:1000]:
        assert working_days_between(cal, x, y) == naive_between(cal, x, y)
    return {
        "add_working_days": timed(add_working_days, adds),
        "add_working_days naive": timed(naive_add, adds[:naive_calls]),
        "working_days_between": timed(working_days_between, spans),
        "working_days_between naive": timed(naive_between, spans[:naive_calls]),
    }


def report(calls: int, line: Any = None) -> dict[str, float]:
    figures = measure(calls)

    def show(label: str, value: str, ratio: str = "", goal: str = "") -> None:
        if line is not None:
            line(label, value, ratio, goal)
        else:
            print(f"  {label:<52} {value:>20} {ratio:>9}  {goal}")

    for name in ("add_working_days", "working_days_between"):
        naive, ours = figures[f"{name} naive"], figures[name]
        show(f"baseline: {name}, naive day by day", f"{naive:,.0f}/s", "1.00×")
        show(f"{name} (precomputed per calendar version)", f"{ours:,.0f}/s",
             f"{ours / naive:.1f}×")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    print(f"bench/worktime.py  Python {sys.version.split()[0]}  calls {args.calls:,}")
    report(args.calls)


if __name__ == "__main__":
    main()
