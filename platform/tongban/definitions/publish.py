"""Publish a checked definition set as immutable versions, all or nothing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..models import DefinitionVersion, Department
from .loader import DefinitionSet


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class PublishResult:
    created: list[DefinitionVersion] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def current_version(session: Session, kind: str, code: str) -> DefinitionVersion | None:
    return session.scalars(
        select(DefinitionVersion)
        .where(col(DefinitionVersion.kind) == kind, col(DefinitionVersion.code) == code)
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


def publish(session: Session, definitions: DefinitionSet, *, author: str, comment: str = "",
            actor_id: int | None = None, request_id: str = "") -> PublishResult:
    """Store every changed definition as a new version. The caller commits (one transaction).

    Refuses a set with any problem: nothing of it is stored.
    """
    if not definitions.ok:
        raise ValueError(f"{len(definitions.problems)} problem(s) in the definitions; "
                         "nothing was published")
    result = PublishResult()
    for loaded in definitions.all():
        digest = content_hash(loaded.content)
        latest = current_version(session, loaded.kind, loaded.code)
        if latest is not None and latest.content_hash == digest:
            result.unchanged.append(f"{loaded.kind}:{loaded.code}")
            continue
        version = DefinitionVersion(
            kind=loaded.kind, code=loaded.code, version=(latest.version + 1) if latest else 1,
            content_hash=digest, content=loaded.content, source_path=loaded.path,
            author=author, comment=comment,
        )
        if loaded.kind == "service":
            _ensure_department(session, loaded.content["department"])
        session.add(version)
        session.flush()
        audit.record(session, action="definition.publish", object_type=f"{loaded.kind}_definition",
                     object_id=f"{loaded.code}@{version.version}", actor_id=actor_id,
                     actor_name=author, after={"hash": digest, "source": loaded.path,
                                               "comment": comment},
                     request_id=request_id)
        result.created.append(version)
    return result
