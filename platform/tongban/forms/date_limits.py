"""Date questions that can't be in the future (or the past): ui ``not_after`` / ``not_before``.

A limit is ``"today"`` or a fixed ``YYYY-MM-DD``. "Today" is the date in the deployment's time
zone (the TIME_ZONE setting, given once at start through :func:`use_time_zone`), not the
server's: at 01:00 in Shanghai the server's UTC date is still yesterday.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from tongban.forms import paths
from tongban.forms.errors import FieldError
from tongban.forms.fields import Field

if TYPE_CHECKING:
    from tongban.forms.definition import FormDefinition

LIMITS = ("not_before", "not_after")
TODAY = "today"
DEFAULT_TIME_ZONE = "Asia/Shanghai"

_zone = ZoneInfo(DEFAULT_TIME_ZONE)


def use_time_zone(name: str) -> None:
    """Take "today" in zone ``name`` (an IANA name, already checked by the configuration).
    One zone per process: it is a deployment setting, frozen at start."""
    global _zone
    _zone = ZoneInfo(name)


def today(now: datetime.datetime | None = None) -> datetime.date:
    """The date in the configured zone at ``now`` (an aware instant; default: this moment)."""
    return (now or datetime.datetime.now(datetime.UTC)).astimezone(_zone).date()


def bound(limit: str, on: datetime.date | None = None) -> datetime.date:
    """The date a limit stands for: ``today`` (or ``on``, for tests and previews) or itself."""
    if limit == TODAY:
        return on or today()
    return datetime.date.fromisoformat(limit)


def limited_fields(root: Field) -> tuple[Field, ...]:
    """The date questions of a form that carry a limit."""
    return tuple(f for f in root.walk() if any(f.ui.get(name) for name in LIMITS))


def definition_problems(fld: Field) -> list[tuple[str, str]]:
    """Mistakes in one question's limits, as (ui key, message), found when the form loads."""
    present = {name: fld.ui[name] for name in LIMITS if fld.ui.get(name)}
    if not present:
        return []
    if fld.widget != "date":
        return [(name, f"{name} applies to date questions only; {fld.key!r} is a "
                       f"{fld.widget} question") for name in present]
    problems = []
    for name, limit in present.items():
        try:
            bound(limit, datetime.date.min)
        except ValueError:
            problems.append((name, f"{limit!r} is not a real date; use \"today\" or YYYY-MM-DD"))
    if not problems and len(present) == 2 and TODAY not in present.values() \
            and present["not_before"] > present["not_after"]:
        problems.append(("not_before", f"not_before {present['not_before']} is after "
                                       f"not_after {present['not_after']}: no date could be given"))
    return problems


def limit_errors(form: FormDefinition, answers: Any,
                 on: datetime.date | None = None) -> list[FieldError]:
    """An error for each date answer outside its question's limits (``on``: today's date)."""
    errors: list[FieldError] = []
    for fld in form.date_limited:
        for path, value in _answers_of(answers, paths.split(fld.key), []):
            try:
                day = datetime.date.fromisoformat(value)
            except (TypeError, ValueError):
                continue  # not a date at all: the format check says so
            errors.extend(_outside(fld, paths.join(*path), day, on))
    return errors


def _outside(fld: Field, path: str, day: datetime.date,
             on: datetime.date | None) -> Iterator[FieldError]:
    for name in LIMITS:
        limit = fld.ui.get(name)
        if not limit:
            continue
        edge = bound(limit, on)
        if (name == "not_after" and day > edge) or (name == "not_before" and day < edge):
            code = f"date_{name}_today" if limit == TODAY else f"date_{name}"
            yield FieldError(path, fld.key, code, {"date": edge.isoformat()})


def _answers_of(data: Any, segments: list[str], path: list[str]
                ) -> Iterator[tuple[list[str], Any]]:
    """Every answer at a field key, through the repeated groups on the way (``members.0``)."""
    if isinstance(data, list):
        for index, item in enumerate(data):
            yield from _answers_of(item, segments, [*path, str(index)])
        return
    if not segments:
        if isinstance(data, str):
            yield path, data
        return
    if isinstance(data, dict) and segments[0] in data:
        yield from _answers_of(data[segments[0]], segments[1:], [*path, segments[0]])
