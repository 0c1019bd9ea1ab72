"""Calendars as published definitions (kind "calendar", code = the calendar id).

`calendar_for` compiles the latest published version of a calendar (and of the calendar it
extends) once per version: versions are immutable, so the cache never goes stale, and a new
version is seen by the next call."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from ..models import DefinitionVersion
from .calendars import Calendar, UnknownCalendar, build

KIND = "calendar"

# (DefinitionVersion id, id of the compiled parent or 0) -> compiled calendar
_compiled: dict[tuple[int, int], Calendar] = {}


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
    key = (row.id, id(parent) if parent is not None else 0)
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
