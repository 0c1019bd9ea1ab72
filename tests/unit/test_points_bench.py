"""bench/points.py runs: the engine, its compiled score and the hand-written function agree on
the same applicants (the bench stops if they do not), and a re-score on worker processes counts
every applicant once. No timing is asserted."""

from __future__ import annotations

import sys

from tongban import PROJECT_ROOT


def test_the_points_benchmark_runs_on_a_small_population() -> None:
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    try:
        import points as bench  # bench/points.py; its workers find it by this name

        figures = bench.measure(calls=300)
        assert set(figures) == {"engine", "totals", "hand-written"}
        result = bench.rescore(1200, workers=2, chunk=500)
    finally:
        sys.path.remove(str(PROJECT_ROOT / "bench"))
    assert result["passed"] == sum(
        bench._slice((start, min(1200, start + 500)))[1] for start in range(0, 1200, 500))
