"""The dashboards' figures as tables: each table is what the page shows without JavaScript,
what its chart is drawn from, and what its CSV export holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _

from ..dashboards import figures

Cell = str | int | float | None


@dataclass(frozen=True)
class Chart:
    """How the page's script draws a table: ``kind`` bar or line, the category column, the
    series' columns."""

    kind: str
    series: tuple[int, ...]
    category: int = 0
    stacked: bool = False
    horizontal: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "series": list(self.series), "category": self.category,
                "stacked": self.stacked, "horizontal": self.horizontal}


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    about: str
    columns: tuple[str, ...]
    rows: list[list[Cell]]
    chart: Chart | None = None
    empty: str = ""

    def is_numeric(self, index: int) -> bool:
        return index > 0 and all(isinstance(row[index], int | float | None) for row in self.rows)


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def period_keys(start: date, end: date, period: str) -> list[str]:
    """Every period from ``start`` to ``end`` (local days, both included), as the queries name
    them: a chart shows the quiet days too."""
    keys: list[str] = []
    if period == "month":
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            keys.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return keys
    day = start - timedelta(days=start.weekday()) if period == "week" else start
    step = timedelta(days=7 if period == "week" else 1)
    while day <= end:
        keys.append(day.isoformat())
        day += step
    return keys


def period_label(period: str) -> str:
    return {"day": _("Day"), "week": _("Week (from Monday)"), "month": _("Month")}[period]


def volumes(rows: Sequence[figures.PeriodCount], keys: Sequence[str], period: str,
            services: Mapping[str, str]) -> Table:
    codes = sorted({row.key for row in rows}, key=lambda code: (services.get(code, code), code))
    counts = {(row.period, row.key): row.count for row in rows}
    body: list[list[Cell]] = []
    for key in keys:
        values = [counts.get((key, code), 0) for code in codes]
        body.append([key, *values, sum(values)])
    return Table(
        "volumes", _("Applications by period"),
        _("Applications submitted in each period, by service."),
        (period_label(period), *(services.get(code, code) for code in codes), _("Total")),
        body if codes else [], Chart("bar", tuple(range(1, len(codes) + 1)), stacked=True),
        _("No applications were submitted in this range."))


def by_department(rows: Sequence[figures.Count], departments: Mapping[str, str]) -> Table:
    return Table(
        "departments", _("Applications by department"),
        _("Applications submitted in the range, by the department that provides the service."),
        (_("Department"), _("Applications")),
        [[departments.get(row.key, row.key), row.count] for row in rows],
        Chart("bar", (1,), horizontal=True), _("No applications were submitted in this range."))


def backlog(rows: Sequence[figures.Backlog], services: Mapping[str, str]) -> Table:
    return Table(
        "backlog", _("Work waiting now"),
        _("Tasks open now (whatever the date range): all of them, those past their due time, "
          "and those due by the end of the next working day."),
        (_("Service"), _("Open tasks"), _("Overdue"), _("Due soon")),
        [[services.get(row.service, row.service), row.open, row.overdue, row.due_soon]
         for row in rows],
        Chart("bar", (1, 2, 3)), _("No task is waiting."))


def handling(rows: Sequence[figures.HandlingTime], services: Mapping[str, str]) -> Table:
    unit_names = {"working_days": _("working days"), "natural_days": _("days")}
    return Table(
        "handling", _("Handling time against the legal limit"),
        _("Statutory time limits that ended in the range: the time they used (pauses not "
          "counted), on average and for nine in ten applications, against the limit the law "
          "sets."),
        (_("Service"), _("Unit"), _("Applications decided"), _("Average"), _("90th percentile"),
         _("Legal limit"), _("On time (%)")),
        [[services.get(row.service, row.service), unit_names.get(row.unit, row.unit),
          row.closed, row.average, row.p90, row.limit, _rate(row.on_time, row.closed)]
         for row in rows],
        Chart("bar", (3, 4, 5)), _("No statutory time limit ended in this range."))


def corrections(rows: Sequence[figures.CorrectionRate], services: Mapping[str, str]) -> Table:
    return Table(
        "corrections", _("Correction rate"),
        _("Applications submitted in the range that were asked for a correction at "
          "least once."),
        (_("Service"), _("Applications"), _("Asked for a correction"), _("Correction rate (%)")),
        [[services.get(row.service, row.service), row.applications, row.corrected,
          _rate(row.corrected, row.applications)] for row in rows],
        Chart("bar", (3,)), _("No applications were submitted in this range."))


def returns(rows: Sequence[figures.ReturnReason], total: int) -> Table:
    def reason(row: figures.ReturnReason) -> str:
        if row.automatic:
            return _("Returned automatically: the time limit ran out")
        return row.reason or _("(no reason given)")

    return Table(
        "returns", _("Top reasons for return"),
        _("The reasons reviewers gave most often when they sent an application back, "
          "over the returns made in the range."),
        (_("Reason"), _("Returns"), _("Share of returns (%)")),
        [[reason(row), row.count, _rate(row.count, total)] for row in rows],
        Chart("bar", (1,), horizontal=True), _("No application was returned in this range."))


def closed_loop(rows: Sequence[figures.ClosedLoop], keys: Sequence[str], period: str) -> Table:
    found = {row.period: row for row in rows}
    body: list[list[Cell]] = []
    for key in keys:
        row = found.get(key)
        if row is None:
            body.append([key, 0, 0, None, None, None, None])
            continue
        body.append([key, row.reports, row.closed, row.average_hours, row.p90_hours,
                     _rate(row.on_time, row.closed), _rate(row.reopened, row.closed)])
    return Table(
        "closed_loop", _("Urban management: the closed loop"),
        _("Event reports by the period they came in: how many were closed, the hours from "
          "report to close (average and for nine in ten), the share closed with no step late, "
          "and the share sent back by the on-site check to be handled again (reopened)."),
        (period_label(period), _("Reports"), _("Cases closed"), _("Average hours to close"),
         _("90th percentile hours"), _("On time (%)"), _("Reopened (%)")),
        body if rows else [], Chart("line", (3, 4)), _("No event was reported in this range."))
