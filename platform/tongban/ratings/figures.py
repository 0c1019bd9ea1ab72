"""The rating distribution the dashboards show: ratings made in a range, by service,
department, window or clerk, counted per level. Ratings an upheld appeal set aside are left
out; default ratings are counted and also shown apart, so a reader sees how many nobody gave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from ..models import ServiceRating

BY = {"service": ServiceRating.service_code, "department": ServiceRating.department_code,
      "window": ServiceRating.window_code, "clerk": ServiceRating.clerk_id}


@dataclass(frozen=True)
class Distribution:
    key: Any  # the service or department code, the window's code, the clerk's id (None: none)
    levels: dict[int, int]  # level -> ratings
    defaulted: int

    @property
    def total(self) -> int:
        return sum(self.levels.values())

    @property
    def bad(self) -> int:
        return self.levels.get(2, 0) + self.levels.get(1, 0)


def distribution(session: Session, by: str, *, start: datetime, end: datetime,
                 service: str | None = None,
                 departments: frozenset[str] | None = None) -> list[Distribution]:
    """Ratings made in [start, end) grouped by ``by`` (service, department, window, clerk)."""
    key = col(BY[by])
    counts = [func.sum(case((col(ServiceRating.level) == level, 1), else_=0))
              for level in (5, 4, 3, 2, 1)]
    defaulted = func.sum(case((col(ServiceRating.source) == "default", 1), else_=0))
    query = (select(key, *counts, defaulted)
             .where(col(ServiceRating.rated_at) >= start, col(ServiceRating.rated_at) < end,
                    col(ServiceRating.excluded).is_(False))
             .group_by(key))
    if service is not None:
        query = query.where(col(ServiceRating.service_code) == service)
    if departments is not None:
        query = query.where(col(ServiceRating.department_code).in_(sorted(departments)))
    found = []
    for row in session.execute(query).all():
        levels = {level: int(row[index + 1] or 0) for index, level in enumerate((5, 4, 3, 2, 1))}
        found.append(Distribution(row[0], levels, int(row[6] or 0)))
    found.sort(key=lambda item: (-item.total, str(item.key)))
    return found
