"""Calendars as published definitions (kind "calendar", code = the calendar id).

`calendar_for` compiles the latest published version of a calendar (and of the calendar it
extends) once per version: versions are immutable, so the cache never goes stale, and a new
version is seen by the next call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..definitions.loader import calendar_schema_problems
from ..definitions.problems import Problem
from ..definitions.publish import content_hash
from ..definitions.yamlpos import Document
from ..models import DefinitionVersion, Department
from .calendars import Calendar, UnknownCalendar, build
from .check import check_calendar
from .files import catalogue_regions, read_document

KIND = "calendar"

# (DefinitionVersion id, version, content hash, id of the compiled parent or 0) -> compiled
# calendar. The hash keeps two databases in one process (tests) from sharing an entry.
_compiled: dict[tuple[int, int, str, int], Calendar] = {}


def latest_version(session: Session, calendar_id: str) -> DefinitionVersion | None:
    return session.scalars(
        select(DefinitionVersion)
        .where(col(DefinitionVersion.kind) == KIND, col(DefinitionVersion.code) == calendar_id)
        .order_by(col(DefinitionVersion.version).desc()).limit(1)
    ).first()


def published_calendar_ids(session: Session) -> list[str]:
    rows = session.scalars(select(DefinitionVersion).where(col(DefinitionVersion.kind) == KIND))
    return sorted({row.code for row in rows})


def compile_version(row: DefinitionVersion, parent: Calendar | None) -> Calendar:
    assert row.id is not None
    key = (row.id, row.version, row.content_hash, id(parent) if parent is not None else 0)
    found = _compiled.get(key)
    if found is None:
        content: dict[str, Any] = row.content
        found = _compiled[key] = build(content, version=row.version, parent=parent)
    return found


def calendar_for(session: Session, calendar_id: str, _seen: tuple[str, ...] = ()) -> Calendar:
    """The latest published version of calendar `calendar_id`, compiled (cached per version).
    Raises UnknownCalendar when no version of it is published."""
    row = latest_version(session, calendar_id)
    if row is None or calendar_id in _seen:
        raise UnknownCalendar(calendar_id, published_calendar_ids(session))
    extends = row.content.get("extends")
    parent = calendar_for(session, extends, (*_seen, calendar_id)) if extends else None
    return compile_version(row, parent)


# --- publishing one calendar version (command line and /admin/calendars) ---------------------


@dataclass
class Outcome:
    """What publishing a calendar text did: problems (nothing stored), or the new version, or
    nothing because the latest version already has this content."""

    problems: list[Problem] = field(default_factory=list)
    version: DefinitionVersion | None = None
    calendar: Calendar | None = None
    unchanged: DefinitionVersion | None = None


def known_regions(session: Session) -> set[str]:
    """Region codes of the department catalogue: the published rows, and the catalogue file."""
    rows = session.scalars(select(Department).where(col(Department.region).is_not(None)))
    return {row.region for row in rows if row.region} | set(catalogue_regions())


def published_calendars(session: Session, but: str | None = None) -> dict[str, Calendar]:
    found = {}
    for calendar_id in published_calendar_ids(session):
        if calendar_id == but:
            continue
        try:
            found[calendar_id] = calendar_for(session, calendar_id)
        except UnknownCalendar:  # extends a calendar that is not published
            continue
    return found


def check_text(session: Session, text: str, file: str) -> tuple[Document | None, list[Problem]]:
    """Every problem of a calendar text, against the published calendars and catalogue."""
    document, problems = read_document(text, file)
    if document is None:
        return None, problems
    own = document.data.get("id") if isinstance(document.data, dict) else None
    problems = check_calendar(document, file, schema=calendar_schema_problems,
                              regions=known_regions(session),
                              calendars=published_calendars(session, but=own))
    if problems:
        return document, problems
    # The published calendars that extend this one must still fit in it.
    data = document.data
    years = set(range(min(map(int, data["years"])), max(map(int, data["years"])) + 1)) \
        if data.get("years") else None
    for child_id in published_calendar_ids(session):
        row = latest_version(session, child_id)
        if row is None or row.content.get("extends") != data["id"] or years is None:
            continue
        for year in sorted(int(y) for y in row.content.get("years") or {}):
            if year not in years:
                line, column = document.position(["years"])
                problems.append(Problem(file, line, column, "/years",
                                        f'the calendar "{child_id}" extends this one and lists '
                                        f"year {year}, which this version does not have"))
    return document, problems


def publish_text(session: Session, text: str, *, file: str, author: str, comment: str = "",
                 actor_id: int | None = None, request_id: str = "") -> Outcome:
    """Check a calendar text and store it as the calendar's next version, with its audit event
    (the caller commits: one transaction). Problems store nothing. Running clocks are the
    engine's: :func:`tongban.workflow.runtime.publish_calendar` publishes and recounts them."""
    document, problems = check_text(session, text, file)
    if document is None or problems:
        return Outcome(problems=problems)
    content = document.data
    digest = content_hash(content)
    latest = latest_version(session, content["id"])
    if latest is not None and latest.content_hash == digest:
        return Outcome(unchanged=latest, calendar=calendar_for(session, content["id"]))
    row = DefinitionVersion(kind=KIND, code=content["id"],
                            version=(latest.version + 1) if latest else 1, content_hash=digest,
                            content=content, source_path=file[:500], author=author,
                            comment=comment)
    session.add(row)
    session.flush()
    calendar = calendar_for(session, content["id"])
    audit.record(session, action="definition.publish", object_type="calendar_definition",
                 object_id=f"{row.code}@{row.version}", actor_id=actor_id, actor_name=author,
                 after={"hash": digest, "source": file, "comment": comment,
                        "first_day": calendar.first_day.isoformat(),
                        "last_day": calendar.last_day.isoformat()},
                 request_id=request_id)
    return Outcome(version=row, calendar=calendar)
