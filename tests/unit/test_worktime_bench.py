"""bench/worktime.py runs, agrees with the naive count, and the lookup beats walking day by day."""

from __future__ import annotations

import sys

from tongban import PROJECT_ROOT


def test_the_benchmark_runs_and_the_lookup_is_faster() -> None:
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    try:
        import worktime
    finally:
        sys.path.remove(str(PROJECT_ROOT / "bench"))
    figures = worktime.measure(calls=20_000)  # asserts the same answers as the naive count
    assert figures["add_working_days"] > 3 * figures["add_working_days naive"]
    assert figures["working_days_between"] > 3 * figures["working_days_between naive"]
