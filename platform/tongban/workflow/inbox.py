"""The review inbox: the task lists a member of staff works from, and their counts.

Every list is one SELECT (tasks joined to their instance and application), shaped so that the
indexes on ``flow_task`` serve it: ``ix_flow_task_assignee_open`` (assignee, state, due) for my
tasks and cc's, ``ix_flow_task_done_by`` (done_by, done_at) for what I did, and for my groups'
tasks the partial indexes over unclaimed open work ``ix_flow_task_group_due`` (department, role,
due, created, id) and ``ix_flow_task_group_role_due`` (role, due, created, id, department), read
part by part as :func:`group_tasks` explains. The open lists are ordered by due date
(no due date last) then creation, as their index is; what I did is newest first. Counts are
capped (:data:`COUNT_CAP`): a header shows "99+", and counting a million rows for that would be
waste.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Select, and_, bindparam, false, func, or_, select, true, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from ..models import Application, FlowInstance, FlowTask
from ..policy import EVERYWHERE_ROLES, Actor, DepartmentTree, Role

OPEN_STATES = ("open", "claimed")
"""Task states that are still someone's work."""

WORK = col(FlowTask.kind) != "cc"
"""cc (抄送) tasks are notices, never work: the work lists and counts leave them out."""

COUNT_CAP = 100
"""Counts stop here: the header shows "99+" beyond it."""

GROUP_ROLES = frozenset({Role.COUNTER_CLERK, Role.REVIEWER, Role.DEPARTMENT_ADMIN,
                         Role.PLATFORM_ADMIN})
"""Roles that candidate-group tasks are offered to (a flow's ``who: {role: ...}``)."""


@dataclass(frozen=True)
class InboxFilter:
    service: str | None = None  # service code
    status: str | None = None  # C7 application status
    due_before: date | datetime | None = None
    """Due strictly before this instant; a date means the start of that day in UTC (the web
    layer passes the start of the day after the chosen one in the page's zone)."""


@dataclass(frozen=True)
class InboxRow:
    task_id: int
    seq: int
    node: str
    kind: str
    state: str
    version: int
    due_at: datetime | None
    created_at: datetime
    done_at: datetime | None
    outcome: str | None
    assignee_id: int | None
    candidate_role: str | None
    candidate_department: str | None
    on_behalf_of: int | None
    instance_id: int
    flow_version_id: int | None
    application_id: int
    reference: str
    service_code: str
    service_version_id: int
    department_code: str
    status: str
    submitted_at: datetime


_COLUMNS: tuple[Any, ...] = (
    col(FlowTask.id), col(FlowTask.seq), col(FlowTask.node), col(FlowTask.kind),
    col(FlowTask.state), col(FlowTask.version), col(FlowTask.due_at),
    col(FlowTask.created_at), col(FlowTask.done_at), col(FlowTask.outcome),
    col(FlowTask.assignee_id), col(FlowTask.candidate_role),
    col(FlowTask.candidate_department), col(FlowTask.on_behalf_of),
    col(FlowInstance.id).label("instance_id"), col(FlowInstance.flow_version_id),
    col(Application.id).label("application_id"), col(Application.reference),
    col(Application.service_code), col(Application.service_version_id),
    col(Application.department_code), col(Application.status),
    col(Application.submitted_at),
)


def _base(where: ColumnElement[bool], filters: InboxFilter) -> Select[Any]:
    query = (select(*_COLUMNS)
             .join(FlowInstance, col(FlowInstance.id) == col(FlowTask.instance_id))
             .join(Application, col(Application.id) == col(FlowInstance.application_id))
             .where(where))
    if filters.service:
        query = query.where(col(Application.service_code) == filters.service)
    if filters.status:
        query = query.where(col(Application.status) == filters.status)
    if filters.due_before is not None:
        query = query.where(col(FlowTask.due_at) < _instant(filters.due_before))
    return query


def _instant(value: date | datetime) -> datetime:
    """A date means the start of that day in UTC."""
    return value if isinstance(value, datetime) else datetime.combine(value, time.min, tzinfo=UTC)


def _by_due(query: Select[Any]) -> Select[Any]:
    return query.order_by(col(FlowTask.due_at).asc().nulls_last(), col(FlowTask.created_at),
                          col(FlowTask.id))


def _rows(session: Session, query: Select[Any], limit: int, offset: int) -> list[InboxRow]:
    result = session.execute(query.limit(limit).offset(offset))
    return [InboxRow(task_id=r.id, **{k: v for k, v in r._mapping.items() if k != "id"})
            for r in result]


def _mine(user_id: int) -> ColumnElement[bool]:
    return and_(col(FlowTask.assignee_id) == user_id, col(FlowTask.state).in_(OPEN_STATES),
                WORK)


def _group_scope(actor: Actor, tree: DepartmentTree) -> dict[str, frozenset[str] | None]:
    """Role name -> the departments whose group tasks of that role the actor may take (``None``:
    every department)."""
    by_role: dict[str, set[str] | None] = {}
    for role, department in actor.memberships:
        if role not in GROUP_ROLES:
            continue
        if department is None or role in EVERYWHERE_ROLES:
            by_role[role.value] = None
        elif role.value not in by_role:
            by_role[role.value] = set(tree.under(department))
        else:
            covered = by_role[role.value]
            if covered is not None:
                covered.update(tree.under(department))
    return {role: None if departments is None else frozenset(departments)
            for role, departments in sorted(by_role.items())}


def _literal(value: str) -> Any:
    """A constant written into the SQL, so that PostgreSQL can match the partial group indexes
    (their predicate is proved from the query's constants, which a parameter would hide)."""
    return bindparam(None, value, literal_execute=True)


def _group_open() -> ColumnElement[bool]:
    """The partial group indexes' predicate: unclaimed open work."""
    return and_(col(FlowTask.state) == _literal("open"), col(FlowTask.assignee_id).is_(None),
                col(FlowTask.kind) != _literal("cc"))


def _groups(actor: Actor, tree: DepartmentTree) -> ColumnElement[bool]:
    """Unclaimed group tasks whose role the actor holds in (or above) the task's department."""
    scope = _group_scope(actor, tree)
    if not scope:
        return false()
    clauses = []
    for role_name, departments in scope.items():
        clause = col(FlowTask.candidate_role) == role_name
        if departments is not None:
            clause = and_(col(FlowTask.candidate_department).in_(sorted(departments)), clause)
        else:
            clause = and_(col(FlowTask.candidate_department).is_not(None), clause)
        clauses.append(clause)
    return and_(or_(*clauses), _group_open())


def _done(user_id: int) -> ColumnElement[bool]:
    return and_(col(FlowTask.done_by) == user_id, WORK)


def _cc(user_id: int) -> ColumnElement[bool]:
    return and_(col(FlowTask.assignee_id) == user_id, col(FlowTask.kind) == "cc",
                col(FlowTask.state).in_(("open", "done")))


def my_tasks(session: Session, user_id: int, filters: InboxFilter = InboxFilter(), *,
             limit: int = 50, offset: int = 0) -> list[InboxRow]:
    """Open work assigned to me (claimed group tasks included)."""
    return _rows(session, _by_due(_base(_mine(user_id), filters)), limit, offset)


_KEYS: tuple[Any, ...] = (col(FlowTask.id), col(FlowTask.due_at), col(FlowTask.created_at))
"""A group task's place in the list: its id and sort keys."""

WIDE_BRANCHES = 64
"""A role held over more departments than this (or over more than half of all departments) is
read as one scan of the role's tasks in due order, filtered by department; fewer departments
are read one index range each."""


def _group_branches(actor: Actor, tree: DepartmentTree) -> list[ColumnElement[bool]]:
    """The actor's group tasks as disjoint parts, each one index range read in due order.

    A task has one role and one department, so the parts never overlap. Narrow memberships give
    one part per (role, department), served by ``ix_flow_task_group_due`` (department, role,
    due, created, id); a role held everywhere or over most departments gives one part per role,
    served by ``ix_flow_task_group_role_due`` (role, due, created, id, department), whose scan
    in due order stops as soon as it has found enough rows."""
    wide = min(WIDE_BRANCHES, len(tree.covered) // 2)
    branches: list[ColumnElement[bool]] = []
    for role_name, departments in _group_scope(actor, tree).items():
        role = col(FlowTask.candidate_role) == role_name
        if departments is None:
            branches.append(and_(role, col(FlowTask.candidate_department).is_not(None)))
        elif len(departments) > wide:
            branches.append(and_(role, col(FlowTask.candidate_department).in_(
                sorted(departments))))
        else:
            branches += [and_(col(FlowTask.candidate_department) == department, role)
                         for department in sorted(departments)]
    return branches


def _task_filters(query: Select[Any], filters: InboxFilter) -> Select[Any]:
    """The filters on a query of tasks alone (joining the application only when it is asked)."""
    if filters.service or filters.status:
        query = (query.join(FlowInstance, col(FlowInstance.id) == col(FlowTask.instance_id))
                 .join(Application, col(Application.id) == col(FlowInstance.application_id)))
    if filters.service:
        query = query.where(col(Application.service_code) == filters.service)
    if filters.status:
        query = query.where(col(Application.status) == filters.status)
    if filters.due_before is not None:
        query = query.where(col(FlowTask.due_at) < _instant(filters.due_before))
    return query


def group_tasks(session: Session, actor: Actor, tree: DepartmentTree,
                filters: InboxFilter = InboxFilter(), *, limit: int = 50,
                offset: int = 0) -> list[InboxRow]:
    """Tasks offered to a role I hold in its department, nobody has claimed yet.

    Each part of :func:`_group_branches` gives its first ``offset + limit`` tasks in the list's
    order (due date, no due date last, then creation, then id) from its index; the parts'
    union, sorted again, holds the page, and only the page's rows are joined to their
    application. So a page costs at most ``offset + limit`` rows per part, however many tasks
    the groups hold."""
    query = _group_query(actor, tree, filters, limit=limit, offset=offset)
    if query is None:
        return []
    result = session.execute(query)
    return [InboxRow(task_id=r.id, **{k: v for k, v in r._mapping.items() if k != "id"})
            for r in result]


def _group_query(actor: Actor, tree: DepartmentTree, filters: InboxFilter, *, limit: int,
                 offset: int) -> Select[Any] | None:
    """The query of :func:`group_tasks` (``None`` when the actor has no group)."""
    branches = _group_branches(actor, tree)
    if not branches or limit <= 0:
        return None
    enough = offset + limit
    parts = []
    for branch in branches:
        keys = select(*_KEYS).where(branch, _group_open())
        part = _by_due(_task_filters(keys, filters)).limit(enough).subquery()
        parts.append(select(part.c.id, part.c.due_at, part.c.created_at))
    found = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("found")
    page = (select(found.c.id)
            .order_by(found.c.due_at.asc().nulls_last(), found.c.created_at, found.c.id)
            .limit(limit).offset(offset).subquery("page"))
    return _by_due(select(*_COLUMNS)
                   .join(page, page.c.id == col(FlowTask.id))
                   .join(FlowInstance, col(FlowInstance.id) == col(FlowTask.instance_id))
                   .join(Application, col(Application.id) == col(FlowInstance.application_id)))


def done_by_me(session: Session, user_id: int, filters: InboxFilter = InboxFilter(), *,
               limit: int = 50, offset: int = 0) -> list[InboxRow]:
    """Tasks I finished, newest first."""
    query = _base(_done(user_id), filters).order_by(col(FlowTask.done_at).desc(),
                                                    col(FlowTask.id).desc())
    return _rows(session, query, limit, offset)


def cc_to_me(session: Session, user_id: int, filters: InboxFilter = InboxFilter(), *,
             limit: int = 50, offset: int = 0) -> list[InboxRow]:
    """Notices copied to me: unread first, then by due date and creation."""
    query = _base(_cc(user_id), filters).order_by(
        col(FlowTask.state).desc(),  # "open" (unread) before "done" (read)
        col(FlowTask.due_at).asc().nulls_last(), col(FlowTask.created_at).desc(),
        col(FlowTask.id).desc())
    return _rows(session, query, limit, offset)


def _count(session: Session, where: ColumnElement[bool]) -> int:
    inner = select(true().label("one")).select_from(FlowTask).where(where).limit(COUNT_CAP)
    return int(session.execute(select(func.count()).select_from(inner.subquery())).scalar_one())


def _count_groups(session: Session, actor: Actor, tree: DepartmentTree) -> int:
    """Group tasks up to the cap, each part of :func:`_group_branches` read up to the cap."""
    branches = _group_branches(actor, tree)
    if not branches:
        return 0
    parts = [select(part.c.one) for part in (
        select(true().label("one")).select_from(FlowTask).where(branch, _group_open())
        .limit(COUNT_CAP).subquery() for branch in branches)]
    found = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    inner = select(found.c.one).limit(COUNT_CAP).subquery()
    return int(session.execute(select(func.count()).select_from(inner)).scalar_one())


def overdue_count(session: Session, user_id: int, now: datetime) -> int:
    """How many of my open tasks are past their due time (capped like the other counts): read
    from ``ix_flow_task_assignee_open`` (assignee, state, due)."""
    return _count(session, and_(_mine(user_id), col(FlowTask.due_at) < now))


def counts(session: Session, actor: Actor, tree: DepartmentTree) -> dict[str, int]:
    """How many tasks are mine, my groups' and unread cc's, each capped at :data:`COUNT_CAP`."""
    if actor.user_id is None:
        return {"mine": 0, "group": 0, "cc": 0}
    unread_cc = and_(col(FlowTask.assignee_id) == actor.user_id, col(FlowTask.kind) == "cc",
                     col(FlowTask.state) == "open")
    return {"mine": _count(session, _mine(actor.user_id)),
            "group": _count_groups(session, actor, tree),
            "cc": _count(session, unread_cc)}
