"""Working-day calendars: which days of Asia/Shanghai are working days, from published data only.

A calendar is compiled once from its definition content (and the calendar it extends) into an
immutable `Calendar` that holds, over its known range (Jan 1 of its first year to Dec 31 of its
last), a prefix count of working days per day and the sorted ordinals of the working days. The
counting functions in `periods` use these for O(1) / O(log n) answers. A day outside the known
range is never guessed: asking about it raises `CalendarNotPublished`.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class CalendarNotPublished(ValueError):
    """The calendar has no published data for the year a question needs."""

    def __init__(self, calendar_id: str, year: int) -> None:
        self.calendar_id = calendar_id
        self.year = year
        super().__init__(f"calendar for {year} not yet published")


class UnknownCalendar(LookupError):
    """No calendar of that id (no file, or never published)."""

    def __init__(self, calendar_id: str, known: list[str]) -> None:
        self.calendar_id = calendar_id
        super().__init__(f'unknown calendar "{calendar_id}"; known calendars: '
                         + (", ".join(known) or "none"))

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True, eq=False)
class Calendar:
    """One calendar version, resolved (the calendar it extends merged in) and precomputed."""

    id: str
    version: int  # the DefinitionVersion number, or 0 when read from a file
    name: Mapping[str, str]
    region: str
    first_day: date
    last_day: date
    office_hours: tuple[tuple[time, time], ...]
    holidays: Mapping[date, str]  # every day of a holiday range or extra day off, named
    workdays: frozenset[date]  # make-up working days (调休上班) on weekend days
    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday() numbers
    timezone: str = "Asia/Shanghai"
    extends: str | None = None
    sources: Mapping[int, str] = field(default_factory=dict)
    extra_days_off: Mapping[date, str] = field(default_factory=dict)
    # Precomputed over [first_day, last_day]: _prefix[i] = working days in [first_day, first_day + i)
    _prefix: array = field(default_factory=lambda: array("i"), repr=False)
    _ordinals: array = field(default_factory=lambda: array("i"), repr=False)

    @property
    def years(self) -> range:
        return range(self.first_day.year, self.last_day.year + 1)

    @property
    def office_seconds(self) -> int:
        """Seconds of office hours in one working day."""
        return sum(_seconds(b) - _seconds(a) for a, b in self.office_hours)

    def known_range(self) -> str:
        return f"{self.first_day.isoformat()} … {self.last_day.isoformat()}"


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def parse_time(text: str) -> time:
    hours, minutes = text.split(":")
    if hours == "24" and minutes == "00":
        return time(23, 59, 59, 999999)
    return time(int(hours), int(minutes))


def parse_day(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("zh") or value.get("en") or "")
    return str(value)


def build(content: Mapping[str, Any], *, version: int = 0,
          parent: Calendar | None = None) -> Calendar:
    """Compile checked calendar content (see docs/calendars.md) into a `Calendar`.

    With `extends`, `parent` is the compiled calendar it names: its days are inherited, the
    child's own entries are applied on top, and the known range is the parent's.
    Raises ValueError on content the checks would have refused."""
    cal_id = str(content["id"])
    if content.get("extends") and parent is None:
        raise ValueError(f"calendar {cal_id} extends {content['extends']}, which was not given")
    holidays: dict[date, str] = dict(parent.holidays) if parent else {}
    workdays: set[date] = set(parent.workdays) if parent else set()
    extra: dict[date, str] = dict(parent.extra_days_off) if parent else {}
    sources: dict[int, str] = dict(parent.sources) if parent else {}
    if "weekend" in content:
        weekend = frozenset(WEEKDAYS.index(str(d).lower()) for d in content["weekend"])
    elif parent is not None:
        weekend = parent.weekend
    else:
        raise ValueError(f"calendar {cal_id} names no weekend")
    if "office_hours" in content:
        office = tuple((parse_time(str(h["from"])), parse_time(str(h["to"])))
                       for h in content["office_hours"])
    else:
        office = parent.office_hours if parent else ()
    years = sorted(int(y) for y in (content.get("years") or {}))
    for key, entry in (content.get("years") or {}).items():
        year = int(key)
        entry = entry or {}
        if entry.get("source"):
            sources[year] = str(entry["source"])
        for holiday in entry.get("holidays") or []:
            start, end = parse_day(holiday["from"]), parse_day(holiday.get("to", holiday["from"]))
            day = start
            while day <= end:
                holidays[day] = _name(holiday["name"])
                workdays.discard(day)
                day = date.fromordinal(day.toordinal() + 1)
        for value in entry.get("workdays") or []:
            day = parse_day(value)
            workdays.add(day)
            holidays.pop(day, None)
    for entry in content.get("extra_days_off") or []:
        start = parse_day(entry.get("date", entry.get("from")))
        end = parse_day(entry.get("to", start))
        day = start
        while day <= end:
            extra[day] = holidays[day] = _name(entry.get("name", ""))
            workdays.discard(day)
            day = date.fromordinal(day.toordinal() + 1)
    if parent is not None:
        first, last = parent.first_day, parent.last_day
    elif years:
        first, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    else:
        raise ValueError(f"calendar {cal_id} has no years")
    prefix = array("i", [0])
    ordinals = array("i")
    count = 0
    for ordinal in range(first.toordinal(), last.toordinal() + 1):
        day = date.fromordinal(ordinal)
        if day in workdays or (day not in holidays and day.weekday() not in weekend):
            count += 1
            ordinals.append(ordinal)
        prefix.append(count)
    return Calendar(
        id=cal_id, version=version, name=MappingProxyType(dict(content.get("name") or {})),
        region=str(content.get("region") or (parent.region if parent else "CN")),
        first_day=first, last_day=last, office_hours=office,
        holidays=MappingProxyType(holidays), workdays=frozenset(workdays), weekend=weekend,
        timezone=str(content.get("timezone", "Asia/Shanghai")), extends=content.get("extends"),
        sources=MappingProxyType(sources), extra_days_off=MappingProxyType(extra),
        _prefix=prefix, _ordinals=ordinals,
    )
