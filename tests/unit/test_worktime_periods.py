"""The counting rules C2–C6 on the real 2025–2026 calendar and the C1 fixture CAL-T."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tongban.worktime import (
    TZ,
    CalendarNotPublished,
    Period,
    PeriodError,
    add_hours,
    add_working_days,
    add_working_hours,
    due_at,
    end_of_day,
    file_calendar,
    is_working_day,
    local_day,
    natural_days_end,
    resume_due,
    used,
    working_days_between,
)

D = date.fromisoformat


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def cn():
    return file_calendar("cn")


@pytest.fixture(scope="module")
def cal_t():
    return file_calendar("cal-t")


# --- C1: the CAL-T fixture ---------------------------------------------------------------

@pytest.mark.parametrize(("start", "n", "due"), [
    ("2026-09-28", 5, "2026-10-10"),   # Tue, Wed, then the holiday, Thu, Fri, make-up Saturday
    ("2026-09-30", 1, "2026-10-08"),
    ("2026-09-30", 3, "2026-10-10"),
    ("2026-09-30", 5, "2026-10-13"),
    ("2026-10-03", 1, "2026-10-08"),   # a holiday start: the next working day
    ("2026-10-09", 1, "2026-10-10"),
    ("2026-10-10", 1, "2026-10-12"),
    ("2026-10-16", 1, "2026-10-19"),   # an ordinary weekend
])
def test_cal_t_add_working_days(cal_t, start, n, due):
    assert add_working_days(cal_t, D(start), n) == D(due)


def test_cal_t_days(cal_t):
    assert [d for d in range(1, 13) if is_working_day(cal_t, D(f"2026-10-{d:02d}"))] == [8, 9, 10, 12]
    assert working_days_between(cal_t, D("2026-09-30"), D("2026-10-12")) == 4
    assert working_days_between(cal_t, D("2026-10-12"), D("2026-10-12")) == 0


def test_cal_t_pause_and_resume_c4(cal_t):
    start = local("2026-09-25 10:00")
    assert due_at(cal_t, Period("working_days", 10), start) == end_of_day(D("2026-10-15"))
    pause = local("2026-09-30 15:00")
    spent = used(cal_t, "working_days", start, pause)
    assert spent == 3  # 28, 29, 30 September
    assert resume_due(cal_t, "working_days", 10 - spent, local("2026-10-09 09:00")) \
        == end_of_day(D("2026-10-19"))
    # Paused and resumed at once: nothing changes.
    assert resume_due(cal_t, "working_days", 10 - spent, pause) == end_of_day(D("2026-10-15"))


def test_c5_extension_adds_working_days_to_the_old_deadline(cal_t):
    assert add_working_days(cal_t, D("2026-09-30"), 2) == D("2026-10-09")


# --- Golden Week and Spring Festival -------------------------------------------------------

@pytest.mark.parametrize(("start", "n", "due"), [
    ("2025-09-26", 1, "2025-09-28"),   # Sunday 28 September 2025 is a make-up working day
    ("2025-09-30", 1, "2025-10-09"),   # 1–8 October off
    ("2025-09-30", 3, "2025-10-11"),   # Saturday 11 October works
    ("2025-09-30", 4, "2025-10-13"),
    ("2026-09-18", 1, "2026-09-20"),   # Sunday 20 September 2026 works
    ("2026-09-24", 1, "2026-09-28"),   # Mid-Autumn 25–27 September
    ("2026-09-30", 1, "2026-10-08"),   # 1–7 October off
    ("2026-09-30", 3, "2026-10-10"),
    ("2025-01-24", 1, "2025-01-26"),   # Spring Festival 2025: Sunday 26 January works
    ("2025-01-27", 1, "2025-02-05"),   # 28 January – 4 February off
    ("2025-02-07", 1, "2025-02-08"),   # Saturday 8 February works
    ("2026-02-13", 1, "2026-02-14"),   # Spring Festival 2026: Saturday 14 February works
    ("2026-02-14", 1, "2026-02-24"),   # 15–23 February off
    ("2026-02-27", 1, "2026-02-28"),   # Saturday 28 February works
    ("2025-12-31", 1, "2026-01-04"),   # New Year 2026: 1–3 January off, Sunday 4 January works
    ("2025-12-31", 2, "2026-01-05"),
])
def test_cn_holidays(cn, start, n, due):
    assert add_working_days(cn, D(start), n) == D(due)


def test_golden_week_and_spring_festival_counts(cn):
    assert working_days_between(cn, D("2025-09-30"), D("2025-10-08")) == 0
    assert working_days_between(cn, D("2026-09-30"), D("2026-10-07")) == 0
    assert working_days_between(cn, D("2025-01-27"), D("2025-02-04")) == 0
    assert working_days_between(cn, D("2026-02-13"), D("2026-02-23")) == 1  # the 14th
    assert working_days_between(cn, D("2024-12-31"), D("2025-12-31")) == 248  # 261 weekdays - 18 + 5
    assert working_days_between(cn, D("2025-12-31"), D("2026-12-31")) == 248  # 261 - 19 + 6


MAKE_UP_DAYS = [  # (make-up day, the working day after it)
    ("2025-01-26", "2025-01-27"), ("2025-02-08", "2025-02-10"), ("2025-04-27", "2025-04-28"),
    ("2025-09-28", "2025-09-29"), ("2025-10-11", "2025-10-13"), ("2026-01-04", "2026-01-05"),
    ("2026-02-14", "2026-02-24"), ("2026-02-28", "2026-03-02"), ("2026-05-09", "2026-05-11"),
    ("2026-09-20", "2026-09-21"), ("2026-10-10", "2026-10-12"),
]


@pytest.mark.parametrize("calendar_id", ["cn", "shanghai"])
@pytest.mark.parametrize(("day", "after"), MAKE_UP_DAYS)
def test_every_make_up_day(calendar_id, day, after):
    cal = file_calendar(calendar_id)
    made_up = D(day)
    assert made_up.weekday() >= 5 and is_working_day(cal, made_up)
    before = date.fromordinal(made_up.toordinal() - 1)
    assert add_working_days(cal, before, 1) == made_up  # the day before: it is the next one
    assert working_days_between(cal, before, made_up) == 1
    assert add_working_days(cal, made_up, 1) == D(after)  # from it: it is not counted


def test_the_make_up_days_are_all_there(cn):
    assert sorted(cn.workdays) == [D(day) for day, _ in MAKE_UP_DAYS]


# --- instants, natural days and hours ------------------------------------------------------

def test_midnight_utc_is_the_next_local_day(cal_t):
    assert local_day(utc("2026-09-29 16:00")) == D("2026-09-30")
    assert local_day(utc("2026-09-29 15:59")) == D("2026-09-29")
    assert due_at(cal_t, Period("working_days", 1), utc("2026-09-29 16:00")) \
        == utc("2026-10-08 15:59:59")
    assert due_at(cal_t, Period("working_days", 1), utc("2026-09-29 15:59")) \
        == utc("2026-09-30 15:59:59")
    assert end_of_day(D("2026-10-01")) == utc("2026-10-01 15:59:59")


def test_natural_day_publicity_periods(cal_t):
    assert natural_days_end(D("2026-10-01"), 7) == D("2026-10-07")  # day 1 is publication day
    assert natural_days_end(D("2026-10-01"), 1) == D("2026-10-01")
    assert due_at(cal_t, Period("natural_days", 7), local("2026-10-01 18:00")) \
        == utc("2026-10-07 15:59:59")
    start = local("2026-10-01 09:00")
    assert used(cal_t, "natural_days", start, local("2026-10-03 12:00")) == 2
    assert resume_due(cal_t, "natural_days", 5, local("2026-10-03 12:00")) \
        == end_of_day(D("2026-10-07"))


def test_wall_clock_hours_ignore_the_calendar(cal_t):
    assert add_hours(local("2026-10-01 23:30"), 2) == local("2026-10-02 01:30")
    assert due_at(cal_t, Period("hours", 24), utc("2026-09-30 20:00")) == utc("2026-10-01 20:00")
    assert used(cal_t, "hours", utc("2026-09-30 20:00"), utc("2026-09-30 21:30")) == 5400
    assert resume_due(cal_t, "hours", 5400, utc("2026-10-01 00:00")) == utc("2026-10-01 01:30")


@pytest.mark.parametrize(("start", "hours", "due"), [
    ("2026-10-12 11:00", 1, "2026-10-12 12:00"),   # ends at the end of the morning
    ("2026-10-12 11:30", 1, "2026-10-12 13:30"),   # lunch does not count
    ("2026-10-12 22:00", 1, "2026-10-13 10:00"),   # across midnight
    ("2026-10-13 07:00", 2, "2026-10-13 11:00"),   # before opening
    ("2026-10-09 16:00", 3, "2026-10-10 11:00"),   # Friday into the make-up Saturday
    ("2026-09-30 16:30", 2, "2026-10-08 10:30"),   # across the holiday
    ("2026-09-30 16:30", 14, "2026-10-09 16:30"),  # a half hour, a whole day, 6.5 hours
    ("2026-09-30 17:00", 14, "2026-10-09 17:00"),  # two whole days: ends at closing time
    ("2026-10-03 10:00", 7, "2026-10-08 17:00"),   # starting on a holiday
])
def test_working_hours(cal_t, start, hours, due):
    assert add_working_hours(cal_t, local(start), hours) == local(due)
    assert used(cal_t, "working_hours", local(start), local(due)) == hours * 3600


def test_working_hours_pause_and_resume(cal_t):
    start = local("2026-09-30 16:30")
    due = due_at(cal_t, Period("working_hours", 4), start)
    assert due == local("2026-10-08 13:30")  # half an hour, the morning, half an hour
    spent = used(cal_t, "working_hours", start, local("2026-10-08 09:30"))
    assert spent == 3600
    assert resume_due(cal_t, "working_hours", 4 * 3600 - spent, local("2026-10-08 09:30")) == due


# --- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize(("unit", "amount", "message"), [
    ("working_days", 0, "the amount of working_days must be a whole number above 0, not 0"),
    ("hours", -2, "the amount of hours must be a whole number above 0, not -2"),
    ("weeks", 1, 'unknown unit "weeks"; expected one of: working_days, natural_days, hours, '
                 "working_hours"),
])
def test_bad_periods(unit, amount, message):
    with pytest.raises(PeriodError) as caught:
        Period(unit, amount)
    assert str(caught.value) == message


def test_not_published(cal_t, cn):
    with pytest.raises(CalendarNotPublished) as caught:
        add_working_days(cal_t, D("2026-12-30"), 2)
    assert str(caught.value) == "calendar for 2027 not yet published"
    assert caught.value.calendar_id == "cal-t" and caught.value.year == 2027
    assert add_working_days(cal_t, D("2026-12-30"), 1) == D("2026-12-31")
    with pytest.raises(CalendarNotPublished, match="^calendar for 2027 not yet published$"):
        is_working_day(cn, D("2027-01-04"))
    with pytest.raises(CalendarNotPublished, match="^calendar for 2027 not yet published$"):
        due_at(cn, Period("working_days", 20), local("2026-12-10 10:00"))
    with pytest.raises(CalendarNotPublished, match="^calendar for 2027 not yet published$"):
        add_working_hours(cn, local("2026-12-31 16:00"), 2)
    with pytest.raises(CalendarNotPublished, match="^calendar for 2024 not yet published$"):
        working_days_between(cn, D("2024-12-01"), D("2025-01-05"))
    with pytest.raises(ValueError, match="^the end 2026-01-01 is before the start 2026-01-02$"):
        working_days_between(cn, D("2026-01-02"), D("2026-01-01"))
    with pytest.raises(PeriodError):
        add_working_days(cn, D("2026-01-02"), 0)
