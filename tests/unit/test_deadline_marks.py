"""The pages' deadline marks (tongban.web.deadline_views.clock), pure over a clock and an
instant: overdue by N working days, due soon, paused, hour SLAs, a calendar year not published.
On the shipped shanghai calendar (the State Council's 2026 data)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tongban.web.deadline_views import Days, DeadlineView, clock
from tongban.worktime import file_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAYS = Days(file_calendar("shanghai"))


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI).astimezone(UTC)


def view(**fields: Any) -> DeadlineView:
    base: dict[str, Any] = dict(
        seq=1, purpose="node", unit="working_days", amount=5, extended=0, due_at=None,
        state="running", overdue=False, paused_at=None, pause_reason=None, pause_note="",
        pending_extension=None, calendar_id="shanghai")
    return DeadlineView(**{**base, **fields})


@pytest.mark.parametrize(("due", "now", "mark", "used", "left", "by"), [
    # Due Friday 2026-10-09 (after Golden Week, 10-01..10-07 off): seen on the 8th, one left.
    (date(2026, 10, 9), date(2026, 10, 8), "due_soon", 4, 1, None),
    (date(2026, 10, 9), date(2026, 10, 9), "due_soon", 5, 0, None),
    # Saturday 10-10 is a make-up working day: overdue by 1 on it, by 1 still on Sunday.
    (date(2026, 10, 9), date(2026, 10, 10), "overdue", 6, 0, 1),
    (date(2026, 10, 9), date(2026, 10, 11), "overdue", 6, 0, 1),
    (date(2026, 10, 9), date(2026, 10, 12), "overdue", 7, 0, 2),
    # Due 10-12 seen on 09-30: the holiday week is not counted, 10-08, 10-09, 10-10, 10-12 are.
    (date(2026, 10, 12), date(2026, 9, 30), "running", 1, 4, None),
])
def test_day_clocks_count_working_days_of_the_calendar(
        due: date, now: date, mark: str, used: int, left: int, by: int | None) -> None:
    state = clock(view(due_at=end_of(due)), at(now), DAYS)
    assert (state.mark, state.used, state.remaining, state.overdue_by) == (mark, used, left, by)


def test_a_paused_clock_keeps_what_was_used_and_has_no_due_day() -> None:
    state = clock(view(state="paused", elapsed=2, amount=20, extended=5), at(date(2026, 11, 18)),
                  DAYS)
    assert (state.mark, state.used, state.remaining, state.due_at) == ("paused", 2, 23, None)


def test_a_finished_clock_has_no_mark() -> None:
    assert clock(view(state="done", due_at=end_of(date(2026, 11, 2))), at(date(2026, 11, 18)),
                 DAYS).mark == "done"


def test_an_hour_sla_is_due_soon_in_its_last_quarter_and_counts_hours() -> None:
    start = at(date(2026, 11, 18), 9)
    sla = view(unit="hours", amount=8, due_at=start + timedelta(hours=8))
    assert clock(sla, start + timedelta(hours=5), DAYS).mark == "running"
    soon = clock(sla, start + timedelta(hours=6), DAYS)
    assert (soon.mark, soon.remaining) == ("due_soon", 2)
    late = clock(sla, start + timedelta(hours=9), DAYS)
    assert (late.mark, late.overdue_by) == ("overdue", None)


def test_a_task_without_a_clock_row_is_marked_from_its_due_instant() -> None:
    state = clock(None, at(date(2026, 11, 18)), DAYS, due_at=at(date(2026, 11, 13)))
    assert (state.mark, state.overdue_by, state.used) == ("overdue", 3, None)


def test_a_year_the_calendar_does_not_have_is_not_guessed() -> None:
    state = clock(view(due_at=end_of(date(2027, 1, 8))), at(date(2026, 12, 30)), DAYS)
    assert (state.mark, state.used, state.remaining) == ("running", None, None)
    assert state.uncounted  # the page words it: "2027 年的工作日历尚未发布"


def test_an_unknown_calendar_counts_nothing() -> None:
    state = clock(view(due_at=end_of(date(2026, 11, 20))), at(date(2026, 11, 18)),
                  Days(None, 'unknown calendar "mars"'))
    assert (state.remaining, state.uncounted) == (None, 'unknown calendar "mars"')


def test_working_hours_are_counted_in_office_time_not_wall_clock() -> None:
    # 24 working hours from Thursday 2026-12-03 02:29 (before the office opens): 7 office
    # hours a day (09-12, 13-17) -> due Tuesday 12-08 12:00. Just after the start all 24 are
    # left, not the 129 wall-clock hours to the due time.
    start = datetime(2026, 12, 3, 2, 29, tzinfo=SHANGHAI).astimezone(UTC)
    due = datetime(2026, 12, 8, 12, 0, tzinfo=SHANGHAI).astimezone(UTC)
    sla = view(unit="working_hours", amount=24, due_at=due)
    fresh = clock(sla, start, DAYS)
    assert (fresh.mark, fresh.remaining) == ("running", 24)
    # Monday 12-07 17:00: three office hours left (Tuesday 09-12), 3 * 4 <= 24: due soon,
    # though 19 wall-clock hours remain.
    monday = clock(sla, datetime(2026, 12, 7, 17, 0, tzinfo=SHANGHAI).astimezone(UTC), DAYS)
    assert (monday.mark, monday.remaining) == ("due_soon", 3)


def test_the_last_hour_of_an_hour_sla_is_counted_in_minutes_not_as_no_hours() -> None:
    start = at(date(2026, 12, 3), 2)
    sla = view(unit="hours", amount=1, due_at=start + timedelta(hours=1))
    first_minute = clock(sla, start + timedelta(seconds=61), DAYS)
    assert (first_minute.mark, first_minute.remaining, first_minute.minutes_left) == \
        ("running", 0, 59)
