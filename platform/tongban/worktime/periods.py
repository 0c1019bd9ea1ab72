"""Counting periods in Asia/Shanghai (workflow-anchors C2–C6), pure functions over a `Calendar`.

- C2 "N working days from day D": until 23:59:59 of the N-th working day strictly after D.
- C3 "公示 N 天": natural days, day 1 is the publication day, ends 23:59:59 of day N.
- C4 pause: elapsed E = working days in (start_day, pause_day]; resumed on day R the deadline is
  R + (N − E) working days. (`used` gives E, `resume_due` the new deadline.)
- C5 extension: old deadline + M working days (`add_working_days` on the old due day).
- C6 natural-hour SLAs: wall-clock hours (`add_hours`); `add_working_hours` counts office hours
  of working days only.
Instants are aware datetimes; results are aware UTC datetimes.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .calendars import TZ, Calendar, CalendarNotPublished

UNITS = ("working_days", "natural_days", "hours", "working_hours")
DAY_UNITS = ("working_days", "natural_days")


class PeriodError(ValueError):
    """A period rule that means nothing: an amount of zero or less, or an unknown unit."""


@dataclass(frozen=True)
class Period:
    unit: str
    amount: int

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise PeriodError(f'unknown unit "{self.unit}"; expected one of: ' + ", ".join(UNITS))
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise PeriodError(f"the amount of {self.unit} must be a whole number above 0, "
                              f"not {self.amount!r}")


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"the instant {instant.isoformat()} has no time zone")
    return instant


def local_day(instant: datetime) -> date:
    """The Asia/Shanghai date of an aware instant."""
    return _aware(instant).astimezone(TZ).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Asia/Shanghai of day, as an aware UTC datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=TZ).astimezone(UTC)


def _index(cal: Calendar, day: date) -> int:
    """Position of day in the calendar's known range; CalendarNotPublished outside it."""
    if day > cal.last_day or day < cal.first_day:
        raise CalendarNotPublished(cal.id, day.year)
    return day.toordinal() - cal.first_day.toordinal()


def is_working_day(cal: Calendar, day: date) -> bool:
    i = _index(cal, day)
    return cal._prefix[i + 1] != cal._prefix[i]


def _count_through(cal: Calendar, day: date) -> int:
    """Working days in [first_day, day]; the day before the first day counts 0."""
    if day.toordinal() == cal.first_day.toordinal() - 1:
        return 0
    return cal._prefix[_index(cal, day) + 1]


def _shift(cal: Calendar, day: date, n: int) -> date:
    """The n-th working day after day (n > 0), day itself (n == 0), or the |n|-th working day
    before it (n < 0)."""
    if n == 0:
        return day
    if day.toordinal() < cal.first_day.toordinal() - 1 or day > cal.last_day:
        raise CalendarNotPublished(cal.id, day.year)
    ordinals = cal._ordinals
    if n > 0:
        target = bisect_right(ordinals, day.toordinal()) + n - 1
        if target >= len(ordinals):
            raise CalendarNotPublished(cal.id, cal.last_day.year + 1)
    else:
        after = bisect_right(ordinals, day.toordinal() - 1)  # working days before day
        target = after + n
        if target < 0:
            raise CalendarNotPublished(cal.id, cal.first_day.year - 1)
    return date.fromordinal(ordinals[target])


def add_working_days(cal: Calendar, day: date, n: int) -> date:
    """C2: the n-th working day strictly after day (n >= 1)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise PeriodError(f"the number of working days must be a whole number above 0, not {n!r}")
    return _shift(cal, day, n)


def working_days_between(cal: Calendar, a: date, b: date) -> int:
    """Working days in (a, b]."""
    if b < a:
        raise ValueError(f"the end {b.isoformat()} is before the start {a.isoformat()}")
    if a == b:
        return 0
    return _count_through(cal, b) - _count_through(cal, a)


def natural_days_end(start: date, n: int) -> date:
    """C3: the last day of an n-day natural period whose day 1 is start."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise PeriodError(f"the number of days must be a whole number above 0, not {n!r}")
    return start + timedelta(days=n - 1)


def add_hours(start: datetime, hours: int) -> datetime:
    """C6: wall-clock hours."""
    return (_aware(start) + timedelta(hours=hours)).astimezone(UTC)


def _office_intervals(cal: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    return [(datetime.combine(day, a, tzinfo=TZ), datetime.combine(day, b, tzinfo=TZ))
            for a, b in cal.office_hours]


def _need_office_hours(cal: Calendar) -> int:
    seconds = cal.office_seconds
    if seconds <= 0:
        raise PeriodError(f"calendar {cal.id} has no office hours: working hours cannot be counted")
    return seconds


def _office_seconds_before(cal: Calendar, instant: datetime) -> int:
    """Office seconds of working days from the calendar's first day up to instant."""
    per_day = _need_office_hours(cal)
    local = _aware(instant).astimezone(TZ)
    day = local.date()
    if day.toordinal() == cal.first_day.toordinal() - 1:
        return 0
    total = (_count_through(cal, day) - (1 if is_working_day(cal, day) else 0)) * per_day
    if is_working_day(cal, day):
        for start, end in _office_intervals(cal, day):
            if local > start:
                total += int((min(local, end) - start).total_seconds())
    return total


def working_seconds_between(cal: Calendar, start: datetime, end: datetime) -> int:
    """Office seconds of working days in [start, end)."""
    if end < start:
        raise ValueError(f"the end {end.isoformat()} is before the start {start.isoformat()}")
    return _office_seconds_before(cal, end) - _office_seconds_before(cal, start)


def add_working_seconds(cal: Calendar, start: datetime, seconds: int) -> datetime:
    """The instant when `seconds` office seconds of working days have passed since start
    (start itself when seconds is 0). Ends at the end of an office interval rather than at the
    start of the next one."""
    per_day = _need_office_hours(cal)
    remaining = timedelta(seconds=seconds)
    local = _aware(start).astimezone(TZ)
    day = local.date()
    if seconds <= 0:
        return local.astimezone(UTC) + timedelta(seconds=seconds)
    if is_working_day(cal, day):
        for begin, end in _office_intervals(cal, day):
            begin = max(begin, local)
            if begin < end:
                if remaining <= end - begin:
                    return (begin + remaining).astimezone(UTC)
                remaining -= end - begin
    left = int(remaining.total_seconds())
    whole = (left - 1) // per_day  # whole working days consumed; the rest falls on the next one
    day = _shift(cal, day, whole + 1)
    remaining = timedelta(seconds=left - whole * per_day)
    for begin, end in _office_intervals(cal, day):
        if remaining <= end - begin:
            return (begin + remaining).astimezone(UTC)
        remaining -= end - begin
    raise AssertionError("office hours exhausted")  # pragma: no cover - arithmetic above


def add_working_hours(cal: Calendar, start: datetime, hours: int) -> datetime:
    """Hours counted within the office hours of working days only."""
    if isinstance(hours, bool) or not isinstance(hours, int) or hours < 1:
        raise PeriodError(f"the number of hours must be a whole number above 0, not {hours!r}")
    return add_working_seconds(cal, start, hours * 3600)


def due_at(cal: Calendar, period: Period, start: datetime) -> datetime:
    """The instant a period started at `start` ends (C2, C3, C6; working hours in office time).
    Raises CalendarNotPublished when a working-day or working-hour period runs past the data."""
    n = period.amount
    if period.unit == "working_days":
        return end_of_day(add_working_days(cal, local_day(start), n))
    if period.unit == "natural_days":
        return end_of_day(natural_days_end(local_day(start), n))
    if period.unit == "hours":
        return add_hours(start, n)
    return add_working_hours(cal, start, n)


def used(cal: Calendar, unit: str, start: datetime, at: datetime) -> int:
    """C4 "E": how much of a period started at `start` is used by `at`: working days in
    (local_day(start), local_day(at)], natural days likewise, seconds for hours (wall clock) and
    office seconds for working hours."""
    if unit == "working_days":
        return working_days_between(cal, local_day(start), local_day(at))
    if unit == "natural_days":
        return (local_day(at) - local_day(start)).days
    if unit == "hours":
        return int((_aware(at) - _aware(start)).total_seconds())
    if unit == "working_hours":
        return working_seconds_between(cal, start, at)
    raise PeriodError(f'unknown unit "{unit}"; expected one of: ' + ", ".join(UNITS))


def resume_due(cal: Calendar, unit: str, remaining: int, resume_at: datetime) -> datetime:
    """C4: the due instant when `remaining` units are left and the clock restarts at resume_at
    (days for day units, seconds for hour units). Pausing and resuming at once changes nothing.
    For working days a remaining of 0 ends the period on the resume day; for hours at once; a
    negative remaining (paused when already overdue) keeps the deadline that far in the past."""
    if unit == "working_days":
        return end_of_day(_shift(cal, local_day(resume_at), remaining))
    if unit == "natural_days":
        # used() leaves the start day out, so `remaining` includes the resume day (day 1).
        return end_of_day(local_day(resume_at) + timedelta(days=remaining - 1))
    if unit == "hours":
        return (_aware(resume_at) + timedelta(seconds=remaining)).astimezone(UTC)
    if unit == "working_hours":
        return add_working_seconds(cal, resume_at, remaining)
    raise PeriodError(f'unknown unit "{unit}"; expected one of: ' + ", ".join(UNITS))
