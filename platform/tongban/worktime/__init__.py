"""Working time: calendars of working days (per region, versioned definitions) and the pure
functions that count periods on them in Asia/Shanghai. See docs/calendars.md."""

from typing import Any

from .calendars import TZ, WEEKDAYS, Calendar, CalendarNotPublished, UnknownCalendar, build
from .files import CALENDAR_DIRS, calendar_path, file_calendar, file_calendar_ids
from .periods import (
    UNITS,
    Period,
    PeriodError,
    add_hours,
    add_working_days,
    add_working_hours,
    add_working_seconds,
    due_at,
    end_of_day,
    is_working_day,
    local_day,
    natural_days_end,
    resume_due,
    used,
    working_days_between,
    working_seconds_between,
)

__all__ = [
    "CALENDAR_DIRS", "DEFAULT_CALENDAR", "TZ", "UNITS", "WEEKDAYS", "Calendar",
    "CalendarNotPublished", "Period", "PeriodError", "UnknownCalendar", "add_hours",
    "add_working_days", "add_working_hours", "add_working_seconds", "build", "calendar_for",
    "calendar_id_of", "calendar_path", "due_at", "end_of_day", "file_calendar",
    "file_calendar_ids", "is_working_day", "local_day", "natural_days_end",
    "published_calendar_ids", "resume_due", "used", "working_days_between",
    "working_seconds_between",
]
from .store import calendar_for, published_calendar_ids

DEFAULT_CALENDAR = "shanghai"


def calendar_id_of(service: dict[str, Any]) -> str:
    """The calendar a service's deadlines count on: its `calendar:` key, else shanghai."""
    return str(service.get("calendar") or DEFAULT_CALENDAR)
