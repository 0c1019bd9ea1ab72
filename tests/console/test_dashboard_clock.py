"""Issue 14 item 9: a statutory clock that stops keeps the time it used, which the dashboards'
handling time reads (``flow_deadline.elapsed``): working days for day units, pauses not
counted, seconds for hour units."""

from __future__ import annotations

from tests.unit.test_flow_deadlines import END, LICENCE, REV_A, START, Run, review, t
from tongban.workflow import deadlines, engine


def test_a_clock_that_ran_to_its_decision_keeps_the_working_days_it_used():
    run = Run({"start": START, "review": review(), "done": END}, LICENCE)
    (clock,) = run.deadlines
    run.run(engine.approve, REV_A, t("2026-10-16T10:00"), run.open_task("review").seq)
    assert (clock.state, clock.elapsed, clock.overdue) == ("done", 4, False)  # 13, 14, 15, 16


def test_a_paused_clock_keeps_the_days_before_the_pause_and_after_the_resume_only():
    run = Run({"start": START, "review": review(), "done": END}, LICENCE)
    (clock,) = run.deadlines
    run.run(deadlines.pause_clock, REV_A, t("2026-10-16T10:00"), reason="hearing", note="听证")
    run.run(deadlines.resume_clock, REV_A, t("2026-10-26T09:00"))
    run.run(engine.approve, REV_A, t("2026-10-28T10:00"), run.open_task("review").seq)
    assert (clock.state, clock.elapsed) == ("done", 6)  # 13-16, then 27 and 28


def test_an_hour_clock_keeps_seconds():
    run = Run({"start": START, "review": review({"hours": 8}), "done": END})
    (clock,) = run.deadlines
    run.run(engine.approve, REV_A, t("2026-10-12T11:30"), run.open_task("review").seq)
    assert (clock.unit, clock.elapsed) == ("hours", 9000)
