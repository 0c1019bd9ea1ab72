"""The dashboards' figures, each one aggregate query (GROUP BY in the database, never a loop over
every row in Python) that gives the same answer on SQLite and PostgreSQL.

Percentiles are nearest-rank: the p90 of n values is the ceil(0.9 n)-th smallest. Both
databases number rows with ``row_number()`` over the group, and the p90 is the smallest value
whose number is at least 0.9 n (``rn * 10 >= n * 9``), so no database's own percentile function
(PostgreSQL has one, SQLite none) decides the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from ..models import Application, FlowDeadline, FlowEvent, FlowInstance, FlowTask
from .sql import hours_between, period_start

DAY_UNITS = ("working_days", "natural_days")
WORK_STATES = ("open", "claimed")
RETURN_EVENTS = ("returned", "auto_returned")


@dataclass(frozen=True)
class Scope:
    """What a dashboard counts: applications submitted (or clocks closed, or returns made) in
    [start, end), the instants in UTC; bucketed by ``period`` in the zone ``offset_minutes``
    from UTC; one service or all; the departments the reader may see (None: all)."""

    start: datetime
    end: datetime
    period: str = "month"
    offset_minutes: int = 480
    service: str | None = None
    departments: frozenset[str] | None = None


@dataclass(frozen=True)
class Count:
    key: str
    count: int


@dataclass(frozen=True)
class PeriodCount:
    period: str
    key: str
    count: int


@dataclass(frozen=True)
class Backlog:
    service: str
    open: int
    overdue: int
    due_soon: int


@dataclass(frozen=True)
class HandlingTime:
    """Closed statutory clocks of a service: how many, the working (or natural) days they used
    on average and at the 90th percentile, the legal limit, and how many closed in time."""

    service: str
    unit: str
    closed: int
    average: float
    p90: int
    limit: int
    on_time: int


@dataclass(frozen=True)
class CorrectionRate:
    service: str
    applications: int
    corrected: int


@dataclass(frozen=True)
class ReturnReason:
    reason: str
    automatic: bool
    count: int


@dataclass(frozen=True)
class ClosedLoop:
    """Reports of one period: how many came in, were closed, the hours from report to close
    (average and p90), closed without any step overdue, and closed after being sent back."""

    period: str
    reports: int
    closed: int
    average_hours: float | None
    p90_hours: float | None
    on_time: int
    reopened: int


def _application_filters(scope: Scope, *, submitted: bool = True) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if submitted:
        found += [col(Application.submitted_at) >= scope.start,
                  col(Application.submitted_at) < scope.end]
    if scope.service is not None:
        found.append(col(Application.service_code) == scope.service)
    if scope.departments is not None:
        found.append(handled_in(scope.departments))
    return found


def handled_in(departments: frozenset[str]) -> ColumnElement[bool]:
    """Applications that ``departments`` handle: the service's department is one of them, or
    one of its flow's tasks was offered to one of them (a city bureau's service whose steps a
    district office takes: the district's figures count it). A task given to a named person
    carries no department and does not count here."""
    codes = sorted(departments)
    handled = (select(col(FlowInstance.application_id))
               .join(FlowTask, col(FlowTask.instance_id) == col(FlowInstance.id))
               .where(col(FlowTask.candidate_department).in_(codes)))
    return or_(col(Application.department_code).in_(codes), col(Application.id).in_(handled))


def _instance_join() -> ColumnElement[bool]:
    return col(FlowInstance.application_id) == col(Application.id)


def volumes(session: Session, scope: Scope) -> list[PeriodCount]:
    """Applications submitted per period and service."""
    bucket = period_start(col(Application.submitted_at), scope.period, scope.offset_minutes)
    rows = session.execute(
        select(bucket.label("bucket"), col(Application.service_code), func.count())
        .where(*_application_filters(scope))
        .group_by(bucket, col(Application.service_code))
        .order_by(bucket, col(Application.service_code))).all()
    return [PeriodCount(row[0], row[1], row[2]) for row in rows]


def volumes_by_department(session: Session, scope: Scope) -> list[Count]:
    """Applications submitted per department (the service's, also when the reader sees them
    because a sub-department handled them), most first."""
    count = func.count().label("n")
    rows = session.execute(
        select(col(Application.department_code), count).where(*_application_filters(scope))
        .group_by(col(Application.department_code))
        .order_by(count.desc(), col(Application.department_code))).all()
    return [Count(row[0], row[1]) for row in rows]


def backlog(session: Session, scope: Scope, *, now: datetime, soon: datetime) -> list[Backlog]:
    """Human tasks waiting now (the date range does not apply: a backlog is today's), per
    service: all, those past due, and those due by ``soon`` (not yet past due)."""
    due = col(FlowTask.due_at)
    rows = session.execute(
        select(col(Application.service_code), func.count(),
               func.sum(case((due < now, 1), else_=0)),
               func.sum(case((and_(due >= now, due <= soon), 1), else_=0)))
        .select_from(FlowTask)
        .join(FlowInstance, col(FlowInstance.id) == col(FlowTask.instance_id))
        .join(Application, _instance_join())
        .where(col(FlowTask.state).in_(WORK_STATES), col(FlowTask.kind) != "cc",
               *_application_filters(scope, submitted=False))
        .group_by(col(Application.service_code)).order_by(col(Application.service_code))).all()
    return [Backlog(row[0], row[1], int(row[2] or 0), int(row[3] or 0)) for row in rows]


def _ranked(value: Any, partition: Sequence[Any], columns: Sequence[Any]) -> list[ColumnElement[Any]]:
    """The columns for a percentile: ``value`` numbered within its group (``rn``) and the
    group's size (``n``)."""
    return [*columns, value.label("v"),
            func.row_number().over(partition_by=list(partition), order_by=value).label("rn"),
            func.count().over(partition_by=list(partition)).label("n")]


def handling_times(session: Session, scope: Scope) -> list[HandlingTime]:
    """Statutory (application) clocks of day units that closed in the range, per service."""
    service, unit = col(Application.service_code), col(FlowDeadline.unit)
    inner = (
        select(*_ranked(col(FlowDeadline.elapsed), [service, unit], [
            service.label("service"), unit.label("unit"),
            col(FlowDeadline.amount).label("amount"),
            case((col(FlowDeadline.overdue), 0), else_=1).label("on_time")]))
        .select_from(FlowDeadline)
        .join(FlowInstance, col(FlowInstance.id) == col(FlowDeadline.instance_id))
        .join(Application, _instance_join())
        .where(col(FlowDeadline.scope) == "application", col(FlowDeadline.state) == "done",
               unit.in_(DAY_UNITS), col(FlowDeadline.ended_at) >= scope.start,
               col(FlowDeadline.ended_at) < scope.end,
               *_application_filters(scope, submitted=False))
        .subquery())
    rows = session.execute(
        select(inner.c.service, inner.c.unit, func.count(), func.avg(inner.c.v),
               func.min(case((inner.c.rn * 10 >= inner.c.n * 9, inner.c.v))),
               func.max(inner.c.amount), func.sum(inner.c.on_time))
        .group_by(inner.c.service, inner.c.unit).order_by(inner.c.service, inner.c.unit)).all()
    return [HandlingTime(row[0], row[1], row[2], round(float(row[3]), 1), int(row[4]), int(row[5]),
                         int(row[6])) for row in rows]


def correction_rates(session: Session, scope: Scope) -> list[CorrectionRate]:
    """Applications submitted in the range per service, and how many of them were asked for a
    correction (补正) at least once."""
    asked = (select(col(FlowEvent.instance_id).label("instance_id"))
             .where(col(FlowEvent.type) == "correction_requested").distinct().subquery())
    rows = session.execute(
        select(col(Application.service_code), func.count(), func.count(asked.c.instance_id))
        .select_from(Application)
        .join(FlowInstance, _instance_join())
        .outerjoin(asked, asked.c.instance_id == col(FlowInstance.id))
        .where(*_application_filters(scope))
        .group_by(col(Application.service_code)).order_by(col(Application.service_code))).all()
    return [CorrectionRate(row[0], row[1], row[2]) for row in rows]


def _returns(scope: Scope, *columns: Any) -> Select[Any]:
    return (select(*columns).select_from(FlowEvent)
            .join(FlowInstance, col(FlowInstance.id) == col(FlowEvent.instance_id))
            .join(Application, _instance_join())
            .where(col(FlowEvent.type).in_(RETURN_EVENTS), col(FlowEvent.at) >= scope.start,
                   col(FlowEvent.at) < scope.end, *_application_filters(scope, submitted=False)))


def return_reasons(session: Session, scope: Scope, *, limit: int = 10) -> list[ReturnReason]:
    """The commonest reasons given when a step sent an application back (退回), over returns
    made in the range; a return by a deadline (``auto_returned``) has no words of its own."""
    reason = func.trim(func.coalesce(FlowEvent.data["comment"].as_string(), literal("")))
    automatic = case((col(FlowEvent.type) == "auto_returned", 1), else_=0)
    count = func.count().label("n")
    rows = session.execute(
        _returns(scope, reason.label("reason"), automatic.label("automatic"), count)
        .group_by(reason, automatic).order_by(count.desc(), reason, automatic)
        .limit(limit)).all()
    return [ReturnReason(row[0], bool(row[1]), row[2]) for row in rows]


def return_count(session: Session, scope: Scope) -> int:
    """All returns made in the range (the reasons' shares are of this)."""
    return int(session.scalar(_returns(scope, func.count())) or 0)


def closed_loop(session: Session, scope: Scope, services: Sequence[str]) -> list[ClosedLoop]:
    """The closed loop of event reports (城市管理: report → dispatch → handle → verify →
    close) for ``services``, per period of the report."""
    if not services:
        return []
    instance = col(FlowInstance.id)
    is_closed = and_(col(FlowInstance.ended_at).is_not(None), col(FlowInstance.status) == "completed")
    closed = case((is_closed, 1), else_=0)
    hours = case((is_closed, hours_between(col(Application.submitted_at),
                                           col(FlowInstance.ended_at))))
    # Which instances ever had a late clock, and which were sent back to a step: each one
    # set, joined (a hash join), not a subquery per report.
    late = (select(col(FlowDeadline.instance_id).label("instance_id"))
            .where(col(FlowDeadline.overdue)).distinct().subquery())
    sent_back = (select(col(FlowEvent.instance_id).label("instance_id"))
                 .where(col(FlowEvent.type) == "returned",
                        FlowEvent.data["to"].as_string() != "applicant").distinct().subquery())
    bucket = period_start(col(Application.submitted_at), scope.period, scope.offset_minutes)
    inner = (
        select(*_ranked(hours, [bucket, closed], [
            bucket.label("bucket"), closed.label("closed"),
            case((and_(is_closed, late.c.instance_id.is_(None)), 1), else_=0).label("on_time"),
            case((and_(is_closed, sent_back.c.instance_id.is_not(None)), 1),
                 else_=0).label("reopened")]))
        .select_from(Application).join(FlowInstance, _instance_join())
        .outerjoin(late, late.c.instance_id == instance)
        .outerjoin(sent_back, sent_back.c.instance_id == instance)
        .where(col(Application.service_code).in_(list(services)), *_application_filters(scope))
        .subquery())
    p90 = case((and_(inner.c.closed == 1, inner.c.rn * 10 >= inner.c.n * 9), inner.c.v))
    rows = session.execute(
        select(inner.c.bucket, func.count(), func.sum(inner.c.closed), func.avg(inner.c.v),
               func.min(p90), func.sum(inner.c.on_time), func.sum(inner.c.reopened))
        .group_by(inner.c.bucket).order_by(inner.c.bucket)).all()
    return [ClosedLoop(row[0], row[1], int(row[2] or 0),
                       None if row[3] is None else round(float(row[3]), 1),
                       None if row[4] is None else round(float(row[4]), 1),
                       int(row[5] or 0), int(row[6] or 0)) for row in rows]
