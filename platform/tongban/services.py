"""Published services as the portal sees them: the version of each definition in effect now."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from .definitions.publish import in_effect
from .models import DefinitionVersion, ServiceWorkspace


@dataclass(frozen=True)
class PublishedService:
    code: str
    version: int
    content: dict[str, Any]

    @property
    def name(self) -> dict[str, str]:
        return self.content["name"]


def _archived(session: Session) -> set[str]:
    """Services archived in the admin console: no longer offered to new applicants."""
    return set(session.scalars(select(col(ServiceWorkspace.code))
                               .where(col(ServiceWorkspace.status) == "archived")))


def _in_effect_query(*columns: Any) -> Any:
    latest = (select(col(DefinitionVersion.code), func.max(DefinitionVersion.version).label("v"))
              .where(col(DefinitionVersion.kind) == "service", in_effect())
              .group_by(col(DefinitionVersion.code))
              .subquery())
    return (select(*columns)
            .join(latest, (col(DefinitionVersion.code) == latest.c.code)
                  & (col(DefinitionVersion.version) == latest.c.v))
            .where(col(DefinitionVersion.kind) == "service").order_by(col(DefinitionVersion.code)))


def current_services(session: Session, *, offered: bool = False) -> list[PublishedService]:
    """Every published service in effect; with ``offered``, only those open to applicants
    (not archived)."""
    rows = session.scalars(_in_effect_query(DefinitionVersion))
    archived = _archived(session) if offered else set()
    return [PublishedService(r.code, r.version, r.content) for r in rows if r.code not in archived]


def current_version_ids(session: Session) -> tuple[int, ...]:
    """The row ids of the service versions in effect, without their content: what a cache of
    something built from those versions is keyed by (a version never changes)."""
    return tuple(session.scalars(_in_effect_query(col(DefinitionVersion.id))))


def services_of_versions(session: Session,
                         version_ids: Iterable[int]) -> dict[int, PublishedService]:
    """The service versions with these row ids, by id."""
    rows = session.scalars(select(DefinitionVersion)
                           .where(col(DefinitionVersion.id).in_(list(version_ids))))
    return {r.id: PublishedService(r.code, r.version, r.content) for r in rows if r.id is not None}


def offered_filter(session: Session) -> Callable[[str], bool]:
    """Whether a service code is open to applicants now (not archived in the console)."""
    archived = _archived(session)
    return lambda code: code not in archived


def get_service(session: Session, code: str, version: int | None = None, *,
                offered: bool = False) -> PublishedService | None:
    """A service's version (the one in effect when ``version`` is None); with ``offered``,
    None for an archived service."""
    if offered and code in _archived(session):
        return None
    query = select(DefinitionVersion).where(col(DefinitionVersion.kind) == "service",
                                            col(DefinitionVersion.code) == code)
    if version is None:
        query = query.where(in_effect()).order_by(col(DefinitionVersion.version).desc()).limit(1)
    else:
        query = query.where(col(DefinitionVersion.version) == version)
    row = session.scalars(query).first()
    return PublishedService(row.code, row.version, row.content) if row else None


@dataclass(frozen=True)
class ServiceNames:
    """A service's and its department's names, {zh, en}, as one published version has them."""

    service: dict[str, str]
    department: dict[str, str]


def names_of_versions(session: Session, version_ids: set[int]) -> dict[int, ServiceNames]:
    """The names each service version was published with, in one query (lists show many)."""
    if not version_ids:
        return {}
    rows = session.execute(select(col(DefinitionVersion.id), col(DefinitionVersion.content))
                           .where(col(DefinitionVersion.id).in_(version_ids)))
    return {row.id: ServiceNames(row.content["name"], row.content["department"]["name"])
            for row in rows}
