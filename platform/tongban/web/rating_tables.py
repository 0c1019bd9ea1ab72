"""The dashboards' rating figures (好差评) as tables: the distribution of levels by service,
department, window and clerk (tongban.ratings.figures)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlmodel import Session, col

from ..dashboards.figures import Scope
from ..models import User
from ..ratings import LEVELS
from ..ratings.figures import Distribution, distribution
from .dashboard_tables import Cell, Chart, Table

GROUPS = ("service", "department", "window", "clerk")
TABLES = tuple(f"ratings_{group}" for group in GROUPS)


def _titles() -> dict[str, tuple[str, str]]:
    return {
        "service": (_("Ratings by service"), _("Service")),
        "department": (_("Ratings by department"), _("Department")),
        "window": (_("Ratings by counter"), _("Counter")),
        "clerk": (_("Ratings by clerk"), _("Clerk")),
    }


def _table(group: str, rows: Sequence[Distribution], names: Mapping[Any, str]) -> Table:
    title, label = _titles()[group]
    body: list[list[Cell]] = []
    for row in rows:
        name = names.get(row.key, str(row.key)) if row.key is not None else _("(none)")
        body.append([name, *(row.levels[level] for level in LEVELS), row.total,
                     round(100.0 * row.bad / row.total, 1) if row.total else None,
                     row.defaulted])
    return Table(
        f"ratings_{group}", title,
        _("Ratings (好差评) given in the range, by level; 不满意 and 非常不满意 are bad ratings. "
          "Ratings given by default when nobody rated are counted and shown apart; ratings "
          "set aside on appeal are left out."),
        (label, *(_(name) for name in LEVELS.values()), _("Ratings"), _("Bad ratings (%)"),
         _("Given by default")),
        body, Chart("bar", (1, 2, 3, 4, 5), stacked=True, horizontal=True),
        _("No rating was given in this range."))


def tables(session: Session, scope: Scope, services: Mapping[str, str],
           departments: Mapping[str, str]) -> list[Table]:
    found = {group: distribution(session, group, start=scope.start, end=scope.end,
                                 service=scope.service, departments=scope.departments)
             for group in GROUPS}
    clerks = [row.key for row in found["clerk"] if row.key is not None]
    people = {user_id: name for user_id, name in session.execute(
        select(col(User.id), col(User.display_name)).where(col(User.id).in_(clerks)))} \
        if clerks else {}
    names: dict[str, Mapping[Any, str]] = {"service": services, "department": departments,
                                           "window": departments, "clerk": people}
    return [_table(group, found[group], names[group]) for group in GROUPS]
