"""Calendars read straight from their files (no database): workflow_definitions/calendars/ and,
for synthetic test calendars such as cal-t, tests/calendars/. The test bench and the command
line without a database use these; the platform uses the published versions (`store`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..definitions.loader import calendar_schema_problems
from ..definitions.problems import Problem
from ..definitions.yamlpos import Document, ReadError, read_yaml
from .calendars import Calendar, UnknownCalendar, build

CALENDAR_DIR = "workflow_definitions/calendars"
TEST_CALENDAR_DIR = "tests/calendars"
DEPARTMENTS_FILE = "workflow_definitions/departments.yaml"


def _project_root() -> Path:
    """The checkout (as tongban.PROJECT_ROOT, which this module cannot import: a cycle)."""
    return Path(__file__).resolve().parents[3]


CALENDAR_DIRS = (CALENDAR_DIR, TEST_CALENDAR_DIR)


class CalendarFileError(ValueError):
    """A calendar file with problems; str() lists them, one a line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def catalogue_regions(root: Path | None = None) -> frozenset[str]:
    """The region codes of the department catalogue."""
    path = (root or _project_root()) / DEPARTMENTS_FILE
    if not path.exists():
        return frozenset()
    try:
        data = read_yaml(path.read_text(encoding="utf-8")).data
    except ReadError:
        return frozenset()
    return frozenset(str(entry["region"]) for entry in data.get("departments") or []
                     if isinstance(entry, dict) and entry.get("region"))


def calendar_path(calendar_id: str, root: Path | None = None) -> Path | None:
    base = root or _project_root()
    for folder in CALENDAR_DIRS:
        for suffix in (".yaml", ".yml"):
            path = base / folder / f"{calendar_id}{suffix}"
            if path.exists():
                return path
    return None


def file_calendar_ids(root: Path | None = None) -> list[str]:
    base = root or _project_root()
    return sorted({p.stem for folder in CALENDAR_DIRS for p in (base / folder).glob("*.y*ml")})


def read_document(text: str, file: str) -> tuple[Document | None, list[Problem]]:
    try:
        return read_yaml(text), []
    except ReadError as exc:
        return None, [Problem(file, exc.line, exc.column, "", exc.message, exc.template,
                              exc.params)]


@dataclass(frozen=True)
class _Cached:
    mtime_ns: int
    parent: Calendar | None  # the parent object it was built on
    calendar: Calendar


_cache: dict[tuple[str, str], _Cached] = {}


def file_calendar(calendar_id: str, root: Path | None = None) -> Calendar:
    """The calendar `calendar_id` compiled from its file (and the files it extends), checked.
    Raises UnknownCalendar for an unknown id and CalendarFileError for a file with problems.
    Compiled once while the file (and its parent's) stay the same: a call is a few stat()s."""
    return _file_calendar(calendar_id, root or _project_root(), ())


def _file_calendar(calendar_id: str, root: Path, seen: tuple[str, ...]) -> Calendar:
    from .check import check_calendar

    if calendar_id in seen:
        raise CalendarFileError([Problem(calendar_id, 1, 1, "/extends",
                                         "calendars extend each other in a circle: "
                                         + " → ".join([*seen, calendar_id]))])
    path = calendar_path(calendar_id, root)
    if path is None:
        raise UnknownCalendar(calendar_id, file_calendar_ids(root))
    key = (str(root), calendar_id)
    mtime = path.stat().st_mtime_ns
    cached = _cache.get(key)
    if cached is not None and cached.mtime_ns == mtime:
        if cached.parent is None:
            return cached.calendar
        if _file_calendar(cached.parent.id, root, (*seen, calendar_id)) is cached.parent:
            return cached.calendar
    document, problems = read_document(path.read_text(encoding="utf-8"),
                                       str(path.relative_to(root)))
    if document is None:
        raise CalendarFileError(problems)
    data: dict[str, Any] = document.data
    parents: dict[str, Calendar] = {}
    extends = data.get("extends") if isinstance(data, dict) else None
    if isinstance(extends, str) and extends != calendar_id and calendar_path(extends, root):
        parents[extends] = _file_calendar(extends, root, (*seen, calendar_id))
    problems = check_calendar(document, str(path.relative_to(root)),
                              schema=calendar_schema_problems, regions=catalogue_regions(root),
                              calendars=parents, expected_id=calendar_id)
    if problems:
        raise CalendarFileError(problems)
    parent = parents.get(extends) if isinstance(extends, str) else None
    calendar = build(data, version=0, parent=parent)
    _cache[key] = _Cached(mtime, parent, calendar)
    return calendar
