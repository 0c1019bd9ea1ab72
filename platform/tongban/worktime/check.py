"""Check a calendar definition: the meta-schema, then the facts a schema cannot state, each
reported as a Problem at the file, line and column of the offending value.

Problems: a day that is both a holiday and a make-up working day, a day listed under another
year, a range whose start is after its end, ranges out of date order or overlapping, a make-up
day that is not a weekend day, years with a gap, an unknown region, an `extends` naming an
unknown calendar (or itself), a year the extended calendar does not know, an id that differs
from the file name."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from typing import Any

from ..definitions.loader import meta_validator, pointer_of, schema_problems
from ..definitions.problems import Problem
from ..definitions.yamlpos import Document
from .calendars import WEEKDAYS, Calendar, parse_time

Path = list[str | int]


def region_allowed(region: str, regions: Collection[str]) -> bool:
    """"CN", a region code of the department catalogue, or a province/city code containing one
    (310000 contains 310104; 310100 too)."""
    if region == "CN" or region in regions:
        return True
    for prefix in (region[:2] if region.endswith("0000") else None,
                   region[:4] if region.endswith("00") else None):
        if prefix and any(code.startswith(prefix) for code in regions):
            return True
    return False


def check_calendar(document: Document, file: str, *, regions: Collection[str],
                   calendars: Mapping[str, Calendar], expected_id: str | None = None
                   ) -> list[Problem]:
    """All problems of one calendar document. `calendars` are the other known calendars
    (compiled), used for `extends`; `regions` the region codes of the department catalogue."""
    problems = schema_problems(document, meta_validator("calendar"), file)
    if problems:
        return problems

    def add(path: Path, message: str) -> None:
        line, column = document.position(path)
        problems.append(Problem(file, line, column, pointer_of(path), message))

    data: dict[str, Any] = document.data
    cal_id = data["id"]
    if expected_id is not None and cal_id != expected_id:
        add(["id"], f'the id "{cal_id}" differs from the file name "{expected_id}"; '
                    "expected the same")
    if not regions:  # no department catalogue: any current administrative code
        from ..forms import regions as codes

        if data["region"] != "CN" and not codes.is_current(data["region"]):
            add(["region"], f'unknown region "{data["region"]}"; expected "CN" or a current '
                            "administrative region code")
    elif not region_allowed(data["region"], regions):
        add(["region"], f'unknown region "{data["region"]}"; expected "CN" or a region code of '
                        "the department catalogue (workflow_definitions/departments.yaml) or "
                        "a province or city containing one")
    parent: Calendar | None = None
    extends = data.get("extends")
    if extends is not None:
        if extends == cal_id:
            add(["extends"], f'the calendar "{cal_id}" cannot extend itself')
        elif extends not in calendars:
            known = ", ".join(sorted(c for c in calendars if c != cal_id)) or "none"
            add(["extends"], f'unknown calendar "{extends}" in extends; known calendars: {known}')
        else:
            parent = calendars[extends]
    else:
        for key in ("weekend", "years"):
            if key not in data:
                add([], f'missing required key "{key}" (a calendar that extends no other '
                        "must name its weekend and years)")
    weekend = ({WEEKDAYS.index(d) for d in data["weekend"]} if "weekend" in data
               else (set(parent.weekend) if parent else {5, 6}))
    _check_office_hours(data, add)
    years = data.get("years") or {}
    numbers = sorted(int(y) for y in years)
    for previous, following in zip(numbers, numbers[1:], strict=False):
        if following != previous + 1:
            add(["years", str(following)], f"year {previous + 1} is missing between {previous} "
                                           f"and {following}; years must follow each other")
    if parent is not None:
        for year in numbers:
            if year not in parent.years:
                add(["years", str(year)],
                    f'year {year} is not in the calendar it extends ("{parent.id}": '
                    f"{parent.first_day.year}–{parent.last_day.year}); publish it there first")
    for key in sorted(years, key=int):
        _check_year(int(key), years[key] or {}, weekend, add)
    _check_extra(data, numbers, parent, add)
    return problems


def _day(value: str, path: Path, add: Callable[[Path, str], None]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        add(path, f'"{value}" is not a date; expected YYYY-MM-DD')
        return None


def _check_office_hours(data: dict[str, Any], add: Callable[[Path, str], None]) -> None:
    previous_end = None
    for index, hours in enumerate(data.get("office_hours") or []):
        start, end = parse_time(hours["from"]), parse_time(hours["to"])
        if start >= end:
            add(["office_hours", index, "from"],
                f"from {hours['from']} is not before to {hours['to']}")
        elif previous_end is not None and start < previous_end:
            add(["office_hours", index, "from"],
                f"office hours from {hours['from']} start before the previous ones end; "
                "expected them in order, not overlapping")
        previous_end = max(end, previous_end) if previous_end else end


def _check_year(year: int, entry: dict[str, Any], weekend: set[int],
                add: Callable[[Path, str], None]) -> None:
    base: Path = ["years", str(year)]
    off: dict[date, str] = {}
    previous: tuple[date, date, str] | None = None
    for index, holiday in enumerate(entry.get("holidays") or []):
        path = [*base, "holidays", index]
        start = _day(holiday["from"], [*path, "from"], add)
        end = _day(holiday["to"], [*path, "to"], add)
        if start is None or end is None:
            continue
        bad = False
        for day, key in ((start, "from"), (end, "to")):
            if day.year != year:
                add([*path, key], f"{day.isoformat()} is not in {year}; expected a day of the "
                                  f"year it is listed under")
                bad = True
        if start > end:
            add([*path, "from"], f"from {start.isoformat()} is after to {end.isoformat()}")
            bad = True
        if bad:
            continue
        if previous is not None:
            if start < previous[0]:
                add([*path, "from"], f"holidays are not in date order: {holiday['name']} "
                                     f"({start.isoformat()}) is listed after {previous[2]} "
                                     f"({previous[0].isoformat()})")
            elif start <= previous[1]:
                add([*path, "from"], f"{holiday['name']} ({start.isoformat()} … "
                                     f"{end.isoformat()}) overlaps {previous[2]} "
                                     f"({previous[0].isoformat()} … {previous[1].isoformat()})")
        previous = (start, end, holiday["name"])
        for ordinal in range(start.toordinal(), end.toordinal() + 1):
            off[date.fromordinal(ordinal)] = holiday["name"]
    last: date | None = None
    for index, value in enumerate(entry.get("workdays") or []):
        path = [*base, "workdays", index]
        found = _day(value, path, add)
        if found is None:
            continue
        day = found
        if day.year != year:
            add(path, f"{day.isoformat()} is not in {year}; expected a day of the year it is "
                      "listed under")
            continue
        if day in off:
            add(path, f"{day.isoformat()} is both a holiday ({off[day]}) and a make-up working "
                      "day; expected one or the other")
        elif day.weekday() not in weekend:
            add(path, f"{day.isoformat()} is a {WEEKDAYS[day.weekday()]}, a working day anyway; "
                      "a make-up working day must fall on the weekend")
        if last is not None and day <= last:
            add(path, f"make-up working days are not in date order: {day.isoformat()} is "
                      f"listed after {last.isoformat()}")
        last = day


def _check_extra(data: dict[str, Any], numbers: list[int], parent: Calendar | None,
                 add: Callable[[Path, str], None]) -> None:
    if parent is not None:
        known = parent.years
    elif numbers:
        known = range(numbers[0], numbers[-1] + 1)
    else:
        known = range(0)
    last: date | None = None
    for index, entry in enumerate(data.get("extra_days_off") or []):
        path: Path = ["extra_days_off", index, "date"]
        found = _day(entry["date"], path, add)
        if found is None:
            continue
        day = found
        if day.year not in known:
            add(path, f"{day.isoformat()} is outside the calendar's years; publish {day.year} "
                      "first")
        if last is not None and day <= last:
            add(path, f"extra days off are not in date order: {day.isoformat()} is listed "
                      f"after {last.isoformat()}")
        last = day


def check_documents(documents: Sequence[tuple[str, str | None, Document]], *,
                    regions: Collection[str], known: Mapping[str, Calendar] | None = None
                    ) -> tuple[dict[str, Calendar], list[Problem]]:
    """Check and compile several calendar documents together, each (file, expected id or None,
    document): a calendar may extend another of them or one of `known`. Parents are compiled
    before the calendars that extend them. Returns the compiled calendars and the problems."""
    from .calendars import build

    compiled: dict[str, Calendar] = {}
    problems: list[Problem] = []
    pending = list(documents)
    ids = {d.data.get("id") for _, _, d in documents if isinstance(d.data, dict)}
    while pending:
        ready = [item for item in pending if not _waits(item[2], ids, compiled)]
        if not ready:  # extends in a circle (or on a calendar with problems): report as unknown
            ready = pending
        for file, expected, document in ready:
            pending.remove((file, expected, document))
            available = {**(known or {}), **compiled}
            own_id = document.data.get("id") if isinstance(document.data, dict) else None
            if isinstance(own_id, str):
                available.pop(own_id, None)
            found = check_calendar(document, file, regions=regions, calendars=available,
                                   expected_id=expected)
            problems.extend(found)
            if not found:
                data = document.data
                parent = available[data["extends"]] if data.get("extends") else None
                compiled[data["id"]] = build(data, parent=parent)
            elif isinstance(own_id, str):
                ids.discard(own_id)
    return compiled, problems


def _waits(document: Document, ids: set[Any], compiled: Mapping[str, Calendar]) -> bool:
    data = document.data
    if not isinstance(data, dict):
        return False
    extends = data.get("extends")
    return isinstance(extends, str) and extends in ids and extends not in compiled \
        and extends != data.get("id")
