"""Property tests of the working-day functions (hypothesis), on the real calendar and CAL-T."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tongban.worktime import (
    CalendarNotPublished,
    Period,
    add_working_days,
    add_working_hours,
    due_at,
    file_calendar,
    is_working_day,
    local_day,
    resume_due,
    used,
    working_days_between,
    working_seconds_between,
)

CN = file_calendar("shanghai")
CAL_T = file_calendar("cal-t")
calendars = st.sampled_from([CN, CAL_T])
days_2025_2026 = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31),
                        timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0))


def naive_add(cal, day: date, n: int) -> date:
    """The definition, day by day."""
    while n:
        day += timedelta(days=1)
        if is_working_day(cal, day):
            n -= 1
    return day


@settings(max_examples=300, deadline=None)
@given(calendars, days_2025_2026, st.integers(min_value=1, max_value=60))
def test_add_then_count_back_gives_n(cal, day, n):
    if day < cal.first_day:
        day = cal.first_day
    try:
        due = add_working_days(cal, day, n)
    except CalendarNotPublished as exc:
        assert exc.year == cal.last_day.year + 1
        return
    assert working_days_between(cal, day, due) == n
    assert is_working_day(cal, due)  # a deadline never falls on a non-working day
    assert due == naive_add(cal, day, n)


@settings(max_examples=300, deadline=None)
@given(calendars, days_2025_2026, days_2025_2026, days_2025_2026)
def test_between_is_additive(cal, a, b, c):
    a, b, c = sorted(max(d, cal.first_day) for d in (a, b, c))
    assert working_days_between(cal, a, c) == (working_days_between(cal, a, b)
                                               + working_days_between(cal, b, c))
    assert working_days_between(cal, a, c) == sum(
        is_working_day(cal, a + timedelta(days=i)) for i in range(1, (c - a).days + 1))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["working_days", "natural_days", "hours", "working_hours"]),
       st.integers(min_value=1, max_value=30), instants, st.floats(min_value=0, max_value=1))
def test_pause_and_resume_at_once_changes_nothing(unit, amount, start, fraction):
    cal = CN
    start = max(start, datetime(2025, 1, 2, tzinfo=UTC))
    try:
        due = due_at(cal, Period(unit, amount), start)
    except CalendarNotPublished:
        return
    # Hour units count whole seconds; the engine's instants are stored to the second.
    pause = (start + (due - start) * fraction).replace(microsecond=0)
    spent = used(cal, unit, start, pause)
    total = amount * 3600 if unit in ("hours", "working_hours") else amount
    assert resume_due(cal, unit, total - spent, pause) == due


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(min_value=1, max_value=100))
def test_working_hours_count_back(start, hours):
    try:
        due = add_working_hours(CN, start, hours)
    except CalendarNotPublished:
        return
    assert working_seconds_between(CN, start, due) == hours * 3600
    assert is_working_day(CN, local_day(due))


@settings(max_examples=200, deadline=None)
@given(instants, st.integers(min_value=1, max_value=40))
def test_working_day_deadline_is_the_end_of_a_working_day(start, n):
    try:
        due = due_at(CAL_T, Period("working_days", n), start)
    except CalendarNotPublished:
        return
    assert is_working_day(CAL_T, local_day(due))
    assert local_day(due + timedelta(seconds=1)) != local_day(due)


def test_naive_and_fast_agree_over_the_whole_range():
    for cal in (CN, CAL_T):
        day = cal.first_day
        while day <= cal.last_day:
            try:
                assert add_working_days(cal, day, 1) == naive_add(cal, day, 1)
            except CalendarNotPublished:
                with pytest.raises(CalendarNotPublished):
                    naive_add(cal, day, 1)
            day += timedelta(days=1)
