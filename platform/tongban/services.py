"""Published services as the portal sees them: the current version of each definition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from .models import DefinitionVersion


@dataclass(frozen=True)
class PublishedService:
    code: str
    version: int
    content: dict[str, Any]

    @property
    def name(self) -> dict[str, str]:
        return self.content["name"]


def current_services(session: Session) -> list[PublishedService]:
    latest = (select(col(DefinitionVersion.code), func.max(DefinitionVersion.version).label("v"))
              .where(col(DefinitionVersion.kind) == "service").group_by(col(DefinitionVersion.code))
              .subquery())
    rows = session.scalars(
        select(DefinitionVersion)
        .join(latest, (col(DefinitionVersion.code) == latest.c.code)
              & (col(DefinitionVersion.version) == latest.c.v))
        .where(col(DefinitionVersion.kind) == "service").order_by(col(DefinitionVersion.code)))
    return [PublishedService(r.code, r.version, r.content) for r in rows]


def get_service(session: Session, code: str, version: int | None = None) -> PublishedService | None:
    query = select(DefinitionVersion).where(col(DefinitionVersion.kind) == "service",
                                            col(DefinitionVersion.code) == code)
    if version is None:
        query = query.order_by(col(DefinitionVersion.version).desc()).limit(1)
    else:
        query = query.where(col(DefinitionVersion.version) == version)
    row = session.scalars(query).first()
    return PublishedService(row.code, row.version, row.content) if row else None
