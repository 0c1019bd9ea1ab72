"""Publish a checked definition set as immutable versions, all or nothing.

Kinds: `form`, `flow`, `service`, `calendar`, `rules` (points rule sets, whose effective ranges
must not overlap another version's), and `departments` (the catalogue, one code
`departments`), whose publication also brings the `department` rows in line with it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlmodel import Session, col

from .. import audit
from ..models import DefinitionVersion, Department, utcnow
from .loader import DefinitionSet
from .problems import Problem
from .yamlpos import Document


class PublishRefused(ValueError):
    """Definitions that are sound on their own but clash with what is published; nothing of
    them is stored. .problems lists the clashes."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class PublishResult:
    created: list[DefinitionVersion] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Calendars whose latest version came from elsewhere (the admin page, `tongban calendar
    # publish` of another file) and is not older than the file: kept, each with why.
    kept: list[str] = field(default_factory=list)


def _last_year(content: dict[str, Any]) -> int | None:
    years = [int(year) for year in (content.get("years") or {})]
    return max(years) if years else None


def _keeps_published_calendar(latest: DefinitionVersion, loaded: Any) -> bool:
    """A calendar an administrator published (e.g. the 2027 notice pasted on /admin/calendars)
    is not replaced by the shipped file on the next `defs publish` or `make run`, which would
    silently drop the year: the file wins only when it is the source of the latest version or
    knows a later year than it."""
    if latest.source_path == loaded.path:
        return False
    mine, theirs = _last_year(loaded.content), _last_year(latest.content)
    return not (mine is not None and (theirs is None or mine > theirs))


def current_version(session: Session, kind: str, code: str) -> DefinitionVersion | None:
    """The newest published version, whether or not it is in effect yet."""
    return session.scalars(
        select(DefinitionVersion)
        .where(col(DefinitionVersion.kind) == kind, col(DefinitionVersion.code) == code)
        .order_by(col(DefinitionVersion.version).desc()).limit(1)
    ).first()


def in_effect(at: datetime | None = None) -> ColumnElement[bool]:
    """Versions new applications may start on at ``at`` (now): those without an effective
    date and those whose date has come."""
    return or_(col(DefinitionVersion.effective_from).is_(None),
               col(DefinitionVersion.effective_from) <= (at or utcnow()))


def effective_version(session: Session, kind: str, code: str,
                      at: datetime | None = None) -> DefinitionVersion | None:
    """The newest version in effect at ``at`` (now): what a new application starts on. One
    published with a later effective date waits; applications started before keep theirs."""
    return session.scalars(
        select(DefinitionVersion)
        .where(col(DefinitionVersion.kind) == kind, col(DefinitionVersion.code) == code,
               in_effect(at))
        .order_by(col(DefinitionVersion.version).desc()).limit(1)
    ).first()


def _ensure_department(session: Session, spec: dict[str, Any]) -> None:
    parent_id = None
    if spec.get("parent"):
        parent = session.scalars(select(Department)
                                 .where(col(Department.code) == spec["parent"])).first()
        parent_id = parent.id if parent else None
    existing = session.scalars(select(Department).where(col(Department.code) == spec["code"])).first()
    if existing is None:
        session.add(Department(code=spec["code"], name_zh=spec["name"]["zh"],
                               name_en=spec["name"]["en"], parent_id=parent_id))
        session.flush()


def _apply_catalogue(session: Session, content: dict[str, Any]) -> dict[str, int]:
    """Make the `department` rows agree with the catalogue: create the missing ones, update
    names, parents and regions. Rows are never deleted (memberships and applications name
    them). Parents are written before their children."""
    entries = {entry["code"]: entry for entry in content["departments"]}
    rows = {row.code: row for row in session.scalars(
        select(Department).where(col(Department.code).in_(list(entries))))}
    depth: dict[str, int] = {}

    def depth_of(code: str) -> int:
        if code not in depth:
            parent = entries[code].get("parent")
            depth[code] = 0 if parent is None else depth_of(parent) + 1
        return depth[code]

    counts = {"created": 0, "updated": 0}
    for code in sorted(entries, key=lambda c: (depth_of(c), list(entries).index(c))):
        entry = entries[code]
        parent = entry.get("parent")
        values = {"name_zh": entry["name"]["zh"], "name_en": entry["name"]["en"],
                  "parent_id": rows[parent].id if parent else None,
                  "region": entry.get("region")}
        row = rows.get(code)
        if row is None:
            row = Department(code=code, **values)
            session.add(row)
            session.flush()
            rows[code] = row
            counts["created"] += 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            session.add(row)
            for key, value in values.items():
                setattr(row, key, value)
            counts["updated"] += 1
    session.flush()
    return counts


def rules_range_problems(session: Session, code: str, content: dict[str, Any],
                         file: str, document: Document | None = None) -> list[Problem]:
    """A rule set's effective range against its published versions. Of the versions that start
    on the same day only the latest counts (a later one corrected it), and a version that starts
    on the same day as this one is the one this corrects."""
    from ..points.check import overlap_problems

    rows = session.scalars(
        select(DefinitionVersion)
        .where(col(DefinitionVersion.kind) == "rules", col(DefinitionVersion.code) == code)
        .order_by(col(DefinitionVersion.version))).all()
    latest_by_start: dict[str, DefinitionVersion] = {}
    for row in rows:
        latest_by_start[row.content["effective"]["from"]] = row
    others = [(f"published version {row.version}", start, row.content["effective"].get("to"))
              for start, row in sorted(latest_by_start.items())]
    return overlap_problems(document or Document(content, None), file, others)


def publish(session: Session, definitions: DefinitionSet, *, author: str, comment: str = "",
            actor_id: int | None = None, request_id: str = "",
            effective_from: datetime | None = None) -> PublishResult:
    """Store every changed definition as a new version. The caller commits (one transaction).

    Refuses a set with any problem: nothing of it is stored. ``effective_from``: new
    applications start on the new versions from then on (None: at once).
    """
    if not definitions.ok:
        raise ValueError(f"{len(definitions.problems)} problem(s) in the definitions; "
                         "nothing was published")
    clashes = [problem for loaded in definitions.rules.values()
               for problem in rules_range_problems(session, loaded.code, loaded.content,
                                                   loaded.path, loaded.document)]
    if clashes:
        raise PublishRefused(clashes)
    result = PublishResult()
    published_at = utcnow()  # one instant for the whole set: history groups by it
    for loaded in definitions.all():
        digest = content_hash(loaded.content)
        latest = current_version(session, loaded.kind, loaded.code)
        if latest is not None and latest.content_hash == digest:
            result.unchanged.append(f"{loaded.kind}:{loaded.code}")
            continue
        if loaded.kind == "calendar" and latest is not None \
                and _keeps_published_calendar(latest, loaded):
            result.kept.append(
                f"calendar {loaded.code}: kept version {latest.version} (from "
                f"{latest.source_path or '?'}, by {latest.author}); {loaded.path} differs but "
                "knows no later year. To replace it: tongban calendar publish FILE")
            continue
        version = DefinitionVersion(
            kind=loaded.kind, code=loaded.code, version=(latest.version + 1) if latest else 1,
            content_hash=digest, content=loaded.content, source_path=loaded.path,
            author=author, comment=comment, effective_from=effective_from,
            created_at=published_at,
        )
        after: dict[str, Any] = {"hash": digest, "source": loaded.path, "comment": comment}
        if effective_from is not None:
            after["effective_from"] = effective_from.isoformat()
        if loaded.kind == "service":
            _ensure_department(session, loaded.content["department"])
        elif loaded.kind == "departments":
            after["departments"] = _apply_catalogue(session, loaded.content)
        session.add(version)
        session.flush()
        audit.record(session, action="definition.publish", object_type=f"{loaded.kind}_definition",
                     object_id=f"{loaded.code}@{version.version}", actor_id=actor_id,
                     actor_name=author, after=after, request_id=request_id)
        result.created.append(version)
    return result
