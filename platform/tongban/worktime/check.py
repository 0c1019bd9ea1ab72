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

from ..definitions.problems import Problem
from ..definitions.yamlpos import Document
from ..i18n import N_
from .calendars import WEEKDAYS, Calendar, parse_time

Path = list[str | int]
# The meta-schema check (definitions.loader's schema_problems with calendar.schema.json), given
# by the caller: the loader imports this module, so this module cannot import the loader.
SchemaCheck = Callable[[Document, str], list[Problem]]


def pointer_of(path: Path) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in path]
    return "/" + "/".join(parts) if parts else ""


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


def check_calendar(document: Document, file: str, *, schema: SchemaCheck,
                   regions: Collection[str], calendars: Mapping[str, Calendar],
                   expected_id: str | None = None) -> list[Problem]:
    """All problems of one calendar document: `schema`'s, then the facts. `calendars` are the
    other known calendars (compiled), used for `extends`; `regions` the region codes of the
    department catalogue."""
    problems = schema(document, file)
    if problems:
        return problems

    def add(path: Path, template: str, **params: Any) -> None:
        line, column = document.position(path)
        problems.append(Problem(file, line, column, pointer_of(path), template % params,
                                template, params))

    data: dict[str, Any] = document.data
    cal_id = data["id"]
    if expected_id is not None and cal_id != expected_id:
        add(["id"], N_('the id "%(id)s" differs from the file name "%(name)s"; expected the '
                       "same"), id=cal_id, name=expected_id)
    if not regions:  # no department catalogue: any current administrative code
        from ..forms import regions as codes

        if data["region"] != "CN" and not codes.is_current(data["region"]):
            add(["region"], N_('unknown region "%(region)s"; expected "CN" or a current '
                               "administrative region code"), region=data["region"])
    elif not region_allowed(data["region"], regions):
        add(["region"], N_('unknown region "%(region)s"; expected "CN" or a region code of the '
                           "department catalogue (workflow_definitions/departments.yaml) or a "
                           "province or city containing one"), region=data["region"])
    parent: Calendar | None = None
    extends = data.get("extends")
    if extends is not None:
        if extends == cal_id:
            add(["extends"], N_('the calendar "%(id)s" cannot extend itself'), id=cal_id)
        elif extends not in calendars:
            known = ", ".join(sorted(c for c in calendars if c != cal_id)) or "none"
            add(["extends"], N_('unknown calendar "%(id)s" in extends; known calendars: '
                                '%(known)s'), id=extends, known=known)
        else:
            parent = calendars[extends]
    else:
        for key in ("weekend", "years"):
            if key not in data:
                add([], N_('missing required key "%(key)s" (a calendar that extends no other '
                           "must name its weekend and years)"), key=key)
    weekend = ({WEEKDAYS.index(d) for d in data["weekend"]} if "weekend" in data
               else (set(parent.weekend) if parent else {5, 6}))
    _check_office_hours(data, add)
    years = data.get("years") or {}
    numbers = sorted(int(y) for y in years)
    for previous, following in zip(numbers, numbers[1:], strict=False):
        if following != previous + 1:
            add(["years", str(following)],
                N_("year %(missing)s is missing between %(before)s and %(after)s; years must "
                   "follow each other"), missing=previous + 1, before=previous, after=following)
    if parent is not None:
        for year in numbers:
            if year not in parent.years:
                add(["years", str(year)],
                    N_('year %(year)s is not in the calendar it extends ("%(id)s": '
                       "%(first)s–%(last)s); publish it there first"), year=year, id=parent.id,
                    first=parent.first_day.year, last=parent.last_day.year)
    for key in sorted(years, key=int):
        _check_year(int(key), years[key] or {}, weekend, add)
    _check_extra(data, numbers, parent, add)
    return problems


Add = Callable[..., None]


def _day(value: str, path: Path, add: Add) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        add(path, N_('"%(value)s" is not a date; expected YYYY-MM-DD'), value=value)
        return None


def _check_office_hours(data: dict[str, Any], add: Add) -> None:
    previous_end = None
    for index, hours in enumerate(data.get("office_hours") or []):
        start, end = parse_time(hours["from"]), parse_time(hours["to"])
        if start >= end:
            add(["office_hours", index, "from"], N_("from %(start)s is not before to %(end)s"),
                start=hours["from"], end=hours["to"])
        elif previous_end is not None and start < previous_end:
            add(["office_hours", index, "from"],
                N_("office hours from %(start)s start before the previous ones end; expected "
                   "them in order, not overlapping"), start=hours["from"])
        previous_end = max(end, previous_end) if previous_end else end


def _check_year(year: int, entry: dict[str, Any], weekend: set[int], add: Add) -> None:
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
                add([*path, key], N_("%(day)s is not in %(year)s; expected a day of the year it "
                                     "is listed under"), day=day.isoformat(), year=year)
                bad = True
        if start > end:
            add([*path, "from"], N_("from %(start)s is after to %(end)s"),
                start=start.isoformat(), end=end.isoformat())
            bad = True
        if bad:
            continue
        if previous is not None:
            if start < previous[0]:
                add([*path, "from"], N_("holidays are not in date order: %(name)s (%(start)s) is "
                                        "listed after %(other)s (%(other_start)s)"),
                    name=holiday["name"], start=start.isoformat(), other=previous[2],
                    other_start=previous[0].isoformat())
            elif start <= previous[1]:
                add([*path, "from"], N_("%(name)s (%(start)s … %(end)s) overlaps %(other)s "
                                        "(%(other_start)s … %(other_end)s)"),
                    name=holiday["name"], start=start.isoformat(), end=end.isoformat(),
                    other=previous[2], other_start=previous[0].isoformat(),
                    other_end=previous[1].isoformat())
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
            add(path, N_("%(day)s is not in %(year)s; expected a day of the year it is listed "
                         "under"), day=day.isoformat(), year=year)
            continue
        if day in off:
            add(path, N_("%(day)s is both a holiday (%(name)s) and a make-up working day; "
                         "expected one or the other"), day=day.isoformat(), name=off[day])
        elif day.weekday() not in weekend:
            add(path, N_("%(day)s is a %(weekday)s, a working day anyway; a make-up working "
                         "day must fall on the weekend"), day=day.isoformat(),
                weekday=WEEKDAYS[day.weekday()])
        if last is not None and day <= last:
            add(path, N_("make-up working days are not in date order: %(day)s is listed after "
                         "%(other)s"), day=day.isoformat(), other=last.isoformat())
        last = day


def _check_extra(data: dict[str, Any], numbers: list[int], parent: Calendar | None,
                 add: Add) -> None:
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
            add(path, N_("%(day)s is outside the calendar's years; publish %(year)s first"),
                day=day.isoformat(), year=day.year)
        if last is not None and day <= last:
            add(path, N_("extra days off are not in date order: %(day)s is listed after "
                         "%(other)s"), day=day.isoformat(), other=last.isoformat())
        last = day


def check_documents(documents: Sequence[tuple[str, str | None, Document]], *,
                    schema: SchemaCheck, regions: Collection[str],
                    known: Mapping[str, Calendar] | None = None
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
            found = check_calendar(document, file, schema=schema, regions=regions,
                                   calendars=available, expected_id=expected)
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
