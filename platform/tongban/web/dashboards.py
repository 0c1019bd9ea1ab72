"""/admin/dashboards: the figures an administrator reads (platform administrators see every
department, department administrators their own and those under them). A GET form filters;
each figure is a table (the page without JavaScript), a chart drawn from that table by
ECharts, and a CSV file (UTF-8 with a BOM, so Excel reads the Chinese)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlmodel import Session, col

from ..dashboards import figures
from ..dashboards.sql import PERIODS
from ..i18n import current_lang, pick
from ..models import DefinitionVersion, Department, Role
from ..policy import departments as departments_of
from ..worktime import DEFAULT_CALENDAR, add_working_days, calendar_for, end_of_day, local_day
from ..worktime.calendars import CalendarNotPublished, UnknownCalendar
from . import dashboard_tables as tables
from . import rating_tables
from .access import current_actor, department_tree, require_role
from .database import request_session

bp = Blueprint("dashboards", __name__, url_prefix="/admin/dashboards")

ADMINS = (Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
MAX_DAYS = 3 * 366
MAX_DAYS_BY_DAY = 366
TABLES = ("volumes", "departments", "backlog", "handling", "corrections", "returns",
          "closed_loop", *rating_tables.TABLES)


def now() -> datetime:
    """The instant the backlog is counted at (tests fix it)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    department: str


@dataclass(frozen=True)
class Choices:
    """What the reader may filter by: the services and departments they may see."""

    services: list[Service]
    departments: list[tuple[str, str]]
    visible: frozenset[str] | None  # departments the reader may see; None: all

    @property
    def service_options(self) -> list[tuple[str, str]]:
        return [(service.code, service.name) for service in self.services]


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIME_ZONE"])


def _choices(session: Session) -> Choices:
    tree = department_tree()
    visible = departments_of(current_actor(), ADMINS, tree)
    latest: dict[str, DefinitionVersion] = {}
    for row in session.scalars(select(DefinitionVersion)
                               .where(col(DefinitionVersion.kind) == "service")
                               .order_by(col(DefinitionVersion.version))):
        latest[row.code] = row
    services = []
    for code, row in latest.items():
        department = str((row.content.get("department") or {}).get("code") or "")
        # A service of the reader's departments, or of a department above one of them (a
        # city bureau's service whose steps the reader's district office takes).
        if visible is None or tree.under(department) & visible:
            services.append(Service(code, pick(row.content.get("name")) or code, department))
    services.sort(key=lambda service: (service.name, service.code))
    names = _department_names(session)
    codes = sorted({service.department for service in services} if visible is None
                   else visible & names.keys())
    return Choices(services, [(code, names.get(code, code)) for code in codes], visible)


def _department_names(session: Session) -> dict[str, str]:
    english = current_lang() == "en"
    return {row.code: (row.name_en if english else row.name_zh) or row.code
            for row in session.scalars(select(Department))}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_filters(args: Mapping[str, str], choices: Choices,
                 today: date) -> tuple[dict[str, str], dict[str, str], figures.Scope | None]:
    """The GET form: its values as typed (kept on the page), the problems by field, and the
    scope to count when there is none."""
    values = {"from": args.get("from", "").strip(), "to": args.get("to", "").strip(),
              "period": args.get("period", "month").strip() or "month",
              "service": args.get("service", "").strip(),
              "department": args.get("department", "").strip()}
    errors: dict[str, str] = {}
    last = _day(values["to"]) if values["to"] else today
    if last is None:
        errors["to"] = _("Enter the end date as year-month-day, for example 2026-12-31")
    first = _day(values["from"]) if values["from"] else (last or today) - timedelta(days=364)
    if first is None:
        errors["from"] = _("Enter the start date as year-month-day, for example 2026-01-01")
    if values["period"] not in PERIODS:
        errors["period"] = _("Choose day, week or month")
    if values["service"] and values["service"] not in {s.code for s in choices.services}:
        errors["service"] = _("Choose a service from the list")
    if values["department"] and values["department"] not in dict(choices.departments):
        errors["department"] = _("Choose a department from the list")
    if first is not None and last is not None and not errors.keys() & {"from", "to"}:
        if first > last:
            errors["from"] = _("The start date must be on or before the end date")
        elif (last - first).days >= MAX_DAYS:
            errors["from"] = _("Choose a range of at most 3 years")
        elif values["period"] == "day" and (last - first).days >= MAX_DAYS_BY_DAY:
            errors["period"] = _("Counting by day covers at most 366 days: count by week or "
                                 "month, or choose a shorter range")
    if errors or first is None or last is None:
        return values, errors, None
    values["from"], values["to"] = first.isoformat(), last.isoformat()
    zone = _zone()
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    visible = choices.visible
    if values["department"]:
        under = department_tree().under(values["department"])
        visible = under if visible is None else under & visible
    offset = start.utcoffset() or timedelta()
    return values, errors, figures.Scope(
        start=start.astimezone(UTC),
        end=datetime.combine(last + timedelta(days=1), datetime.min.time(),
                             tzinfo=zone).astimezone(UTC),
        period=values["period"], offset_minutes=int(offset.total_seconds() // 60),
        service=values["service"] or None, departments=visible)


def _due_soon_by(session: Session, at: datetime) -> datetime:
    """The end of the next working day (Shanghai's calendar), or a day from now when the
    calendar does not reach that far."""
    try:
        calendar = calendar_for(session, DEFAULT_CALENDAR)
        return end_of_day(add_working_days(calendar, local_day(at), 1))
    except (UnknownCalendar, CalendarNotPublished):
        return at + timedelta(days=1)


def build_tables(session: Session, scope: figures.Scope, first: date, last: date,
                 choices: Choices) -> dict[str, tables.Table]:
    services = {service.code: service.name for service in choices.services}
    keys = tables.period_keys(first, last, scope.period)
    moment = now()
    loop_services = [code for code in current_app.config["DASHBOARD_CLOSED_LOOP_SERVICES"]
                     if code in services and scope.service in (None, code)]
    built = [
        tables.volumes(figures.volumes(session, scope), keys, scope.period, services),
        tables.by_department(figures.volumes_by_department(session, scope),
                             _department_names(session)),
        tables.backlog(figures.backlog(session, scope, now=moment,
                                       soon=_due_soon_by(session, moment)), services),
        tables.handling(figures.handling_times(session, scope), services),
        tables.corrections(figures.correction_rates(session, scope), services),
        tables.returns(figures.return_reasons(session, scope),
                       figures.return_count(session, scope)),
    ]
    if loop_services:
        built.append(tables.closed_loop(figures.closed_loop(session, scope, loop_services),
                                        keys, scope.period))
    built.extend(rating_tables.tables(session, scope, services, _department_names(session)))
    return {table.name: table for table in built}


def _page() -> tuple[dict[str, str], dict[str, str], Choices,
                                      dict[str, tables.Table]]:
    session = request_session()
    choices = _choices(session)
    today = now().astimezone(_zone()).date()
    values, errors, scope = read_filters(request.args, choices, today)
    found: dict[str, tables.Table] = {}
    if scope is not None:
        found = build_tables(session, scope, date.fromisoformat(values["from"]),
                             date.fromisoformat(values["to"]), choices)
    return values, errors, choices, found


@bp.get("")
@require_role(*ADMINS)
def index() -> ResponseReturnValue:
    values, errors, choices, found = _page()
    query = {key: value for key, value in values.items() if value}
    return render_template("admin/dashboards.html", values=values, errors=errors,
                           choices=choices, tables=found, query=query,
                           periods=[(key, tables.period_label(key)) for key in PERIODS]), \
        400 if errors else 200


def csv_bytes(table: tables.Table) -> bytes:
    """The table as CSV in UTF-8 with a byte-order mark (Excel then reads it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    return out.getvalue().encode("utf-8-sig")


@bp.get("/<name>.csv")
@require_role(*ADMINS)
def export(name: str) -> ResponseReturnValue:
    if name not in TABLES:
        abort(404)
    values, errors, _choices_, found = _page()
    if errors:
        message = "\n".join(errors.values()) + "\n"
        return Response(message, status=400, mimetype="text/plain")
    table = found.get(name)
    if table is None:
        abort(404)
    filename = f"dashboard-{name.replace('_', '-')}-{values['from']}-{values['to']}.csv"
    return Response(csv_bytes(table), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
