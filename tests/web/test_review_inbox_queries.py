"""Issue 11 (review inbox): the inbox queries of ``tongban.workflow.inbox`` on rows made by hand,
so that every list's rule (whose task, which states, which order, which filter) is seen alone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from tongban import db
from tongban.models import (
    Application,
    DefinitionVersion,
    Department,
    FlowInstance,
    FlowTask,
    User,
    saved_id,
)
from tongban.policy import Actor, DepartmentTree
from tongban.workflow import inbox
from tongban.workflow.inbox import InboxFilter

T0 = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)


@dataclass
class Rows:
    engine: Any
    users: dict[str, int] = field(default_factory=dict)
    instances: dict[str, int] = field(default_factory=dict)  # reference -> instance id
    service_version: int = 0
    form_version: int = 0
    seq: int = 0

    def task(self, reference: str, **values: Any) -> int:
        self.seq += 1
        values.setdefault("created_at", T0 + timedelta(minutes=self.seq))
        with db.new_session(self.engine) as session, db.unit_of_work(session):
            row = FlowTask(instance_id=self.instances[reference], seq=self.seq, token_seq=1,
                           node=values.pop("node", "review"), **values)
            session.add(row)
            session.flush()
            return saved_id(row)

    def tree(self) -> DepartmentTree:
        with db.new_session(self.engine) as session:
            return DepartmentTree.load(session)


def _version(session: Session, kind: str, code: str, content: dict[str, Any]) -> int:
    row = DefinitionVersion(kind=kind, code=code, version=1, content=content,
                            content_hash=secrets.token_hex(8), source_path=f"{code}.yaml",
                            author="test")
    session.add(row)
    session.flush()
    return saved_id(row)


@pytest.fixture
def rows(app) -> Rows:  # type: ignore[no-untyped-def]
    world = Rows(app.extensions["tongban.engine"])
    with db.new_session(world.engine) as session, db.unit_of_work(session):
        top = Department(code="t0", name_zh="市局", name_en="City")
        session.add(top)
        session.flush()
        for code in ("t1", "t2"):
            session.add(Department(code=code, name_zh=code, name_en=code, parent_id=top.id))
        for name in ("ann", "bob", "cat", "citizen"):
            user = User(username=name, display_name=name.title(), password_hash="x")
            session.add(user)
            session.flush()
            world.users[name] = saved_id(user)
        world.form_version = _version(session, "form", "f", {"code": "f", "pages": []})
        versions = {code: _version(session, "service", code, {"code": code, "name": code,
                                                                  "department": {"code": "t1"}})
                    for code in ("svc-a", "svc-b")}
        world.service_version = versions["svc-a"]
        for number, (service, status) in enumerate([("svc-a", "in_progress"),
                                                    ("svc-b", "accepted"),
                                                    ("svc-a", "submitted")]):
            reference = f"REF-{number}"
            application = Application(
                reference=reference, idempotency_key=secrets.token_hex(8), service_code=service,
                service_version_id=versions[service], form_version_id=world.form_version,
                answers={}, status=status, submitter_id=world.users["citizen"],
                department_code="t1", submitted_at=T0 + timedelta(hours=number))
            session.add(application)
            session.flush()
            instance = FlowInstance(application_id=saved_id(application), flow_code="x",
                                    status=status, department_code="t1")
            session.add(instance)
            session.flush()
            world.instances[reference] = saved_id(instance)
    return world


def _ids(found: list[inbox.InboxRow]) -> list[int]:
    return [r.task_id for r in found]


def test_my_tasks_are_my_open_work_by_due_date_then_creation(rows, session) -> None:  # type: ignore[no-untyped-def]
    ann = rows.users["ann"]
    no_due = rows.task("REF-0", assignee_id=ann)
    late = rows.task("REF-1", assignee_id=ann, due_at=T0 + timedelta(days=5))
    soon = rows.task("REF-2", assignee_id=ann, due_at=T0 + timedelta(days=1), state="claimed",
                     candidate_role="reviewer", candidate_department="t1")
    rows.task("REF-0", assignee_id=ann, state="done", done_by=ann, done_at=T0)
    rows.task("REF-0", assignee_id=ann, kind="cc")  # a notice, not work
    rows.task("REF-0", assignee_id=rows.users["bob"])  # someone else's
    rows.task("REF-0", assignee_id=ann, state="cancelled")
    found = inbox.my_tasks(session, ann)
    assert _ids(found) == [soon, late, no_due]
    first = found[0]
    assert (first.reference, first.service_code, first.status, first.node, first.state) == (
        "REF-2", "svc-a", "submitted", "review", "claimed")
    assert first.submitted_at == T0 + timedelta(hours=2)
    assert _ids(inbox.my_tasks(session, ann, limit=1, offset=1)) == [late]


def test_group_tasks_follow_the_role_and_the_department_tree(rows, session) -> None:  # type: ignore[no-untyped-def]
    in_t1 = rows.task("REF-0", candidate_role="reviewer", candidate_department="t1")
    in_t2 = rows.task("REF-1", candidate_role="reviewer", candidate_department="t2",
                      due_at=T0)
    rows.task("REF-0", candidate_role="counter_clerk", candidate_department="t1")  # other role
    rows.task("REF-0", candidate_role="reviewer", candidate_department="t1", state="claimed",
              assignee_id=rows.users["bob"])  # taken already
    tree = rows.tree()
    parent = Actor.of(rows.users["ann"], [("reviewer", "t0")])
    child = Actor.of(rows.users["cat"], [("reviewer", "t1")])
    clerk_elsewhere = Actor.of(rows.users["bob"], [("counter_clerk", "t2")])
    assert _ids(inbox.group_tasks(session, parent, tree)) == [in_t2, in_t1]
    assert _ids(inbox.group_tasks(session, child, tree)) == [in_t1]
    assert inbox.group_tasks(session, clerk_elsewhere, tree) == []
    assert inbox.group_tasks(session, Actor.of(rows.users["bob"], [("citizen", None)]),
                             tree) == []
    everywhere = Actor.of(rows.users["bob"], [("platform_admin", None)])
    assert inbox.group_tasks(session, everywhere, tree) == []  # no task is offered to admins


def test_done_by_me_is_newest_first_and_cc_unread_first(rows, session) -> None:  # type: ignore[no-untyped-def]
    ann = rows.users["ann"]
    older = rows.task("REF-0", assignee_id=ann, state="done", done_by=ann, done_at=T0)
    newer = rows.task("REF-1", assignee_id=ann, state="done", done_by=ann,
                      done_at=T0 + timedelta(hours=1))
    rows.task("REF-1", kind="cc", assignee_id=ann, state="done", done_by=ann, done_at=T0)
    read = rows.task("REF-0", kind="cc", assignee_id=ann, state="done")
    unread = rows.task("REF-1", kind="cc", assignee_id=ann)
    assert _ids(inbox.done_by_me(session, ann)) == [newer, older]
    assert _ids(inbox.cc_to_me(session, ann))[:2] == [unread, read]


def test_filters_by_service_status_and_due_date(rows, session) -> None:  # type: ignore[no-untyped-def]
    ann = rows.users["ann"]
    a = rows.task("REF-0", assignee_id=ann, due_at=datetime(2026, 10, 10, 3, tzinfo=UTC))
    b = rows.task("REF-1", assignee_id=ann, due_at=datetime(2026, 10, 12, 3, tzinfo=UTC))
    c = rows.task("REF-2", assignee_id=ann)
    assert _ids(inbox.my_tasks(session, ann, InboxFilter(service="svc-a"))) == [a, c]
    assert _ids(inbox.my_tasks(session, ann, InboxFilter(status="accepted"))) == [b]
    assert _ids(inbox.my_tasks(session, ann, InboxFilter(due_before=date(2026, 10, 11)))) == [a]
    assert _ids(inbox.my_tasks(session, ann, InboxFilter(
        due_before=datetime(2026, 10, 12, 4, tzinfo=UTC)))) == [a, b]
    assert inbox.my_tasks(session, ann, InboxFilter(service="svc-a", status="accepted")) == []


def test_counts_leave_out_cc_and_stop_at_the_cap(rows, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ann = rows.users["ann"]
    for _ in range(3):
        rows.task("REF-0", assignee_id=ann)
    rows.task("REF-0", assignee_id=ann, kind="cc")
    rows.task("REF-0", candidate_role="reviewer", candidate_department="t1")
    actor = Actor.of(ann, [("reviewer", "t1")])
    assert inbox.counts(session, actor, rows.tree()) == {"mine": 3, "group": 1, "cc": 1}
    monkeypatch.setattr(inbox, "COUNT_CAP", 2)
    assert inbox.counts(session, actor, rows.tree()) == {"mine": 2, "group": 1, "cc": 1}
    assert inbox.counts(session, Actor(), rows.tree()) == {"mine": 0, "group": 0, "cc": 0}


def _plan(session, db_backend, query) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.engine import Dialect

    dialect: Dialect
    if db_backend == "postgresql":
        session.execute(text("SET enable_seqscan = off"))
        dialect, explain = postgresql.dialect(), "EXPLAIN"
    else:
        dialect, explain = sqlite.dialect(), "EXPLAIN QUERY PLAN"
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    return "\n".join(str(r[-1]) for r in session.execute(text(f"{explain} {compiled}")))


def test_the_lists_use_the_flow_task_indexes(rows, session, db_backend) -> None:  # type: ignore[no-untyped-def]
    """The query shapes are ones the inbox indexes serve: the database's plan names the index
    (on PostgreSQL with sequential scans priced out, as they are with a million rows). The group
    lists must reach the partial group indexes (their predicate proved from the query's
    constants); which of the two a tiny table gets is the planner's choice, the benchmark shows
    the choice at scale."""
    tree = rows.tree()
    ann = rows.users["ann"]
    narrow = Actor.of(ann, [("reviewer", "t1")])
    wide = Actor.of(ann, [("reviewer", "t0")])  # t0 and both its offices: most of the tree
    everywhere = Actor.of(ann, [("reviewer", None)])
    shapes: dict[str, list[Any]] = {
        "ix_flow_task_assignee_open": [inbox._by_due(inbox._base(inbox._mine(ann),
                                                                 InboxFilter())).limit(50)],
        "ix_flow_task_group_": [inbox._group_query(actor, tree, InboxFilter(), limit=50, offset=0)
                                for actor in (narrow, wide, everywhere)],
        "ix_flow_task_done_by": [inbox._base(inbox._done(ann), InboxFilter()).limit(50)],
    }
    for index, queries in shapes.items():
        for query in queries:
            plan = _plan(session, db_backend, query)
            assert index in plan, plan


def _group_reference(rows: Rows, actor: Actor, filters: InboxFilter | None = None) -> list[int]:
    """The group list by its definition, straight from the rows: unclaimed open work offered to
    a role the actor holds in the task's department or above, ordered by due date (none last),
    creation and id."""
    filters = filters or InboxFilter()
    tree = rows.tree()
    scope: dict[str, set[str] | None] = {}
    for role, department in actor.memberships:
        if role.value not in ("counter_clerk", "reviewer", "department_admin", "platform_admin"):
            continue
        if department is None or role.value == "platform_admin":
            scope[role.value] = None
        elif scope.get(role.value, set()) is not None:
            scope.setdefault(role.value, set()).update(tree.under(department))  # type: ignore[union-attr]
    with db.new_session(rows.engine) as session:
        found = []
        for task in session.exec(select(FlowTask)).all():
            if task.state != "open" or task.assignee_id is not None or task.kind == "cc":
                continue
            if task.candidate_role not in scope or task.candidate_department is None:
                continue
            covered = scope[task.candidate_role]
            if covered is not None and task.candidate_department not in covered:
                continue
            if filters.due_before is not None and (
                    task.due_at is None
                    or task.due_at.replace(tzinfo=UTC) >= inbox._instant(filters.due_before)):
                continue
            if filters.service or filters.status:
                instance = session.get(FlowInstance, task.instance_id)
                application = session.get(Application, instance.application_id)  # type: ignore[union-attr]
                assert application is not None
                if filters.service and application.service_code != filters.service:
                    continue
                if filters.status and application.status != filters.status:
                    continue
            due = task.due_at.replace(tzinfo=UTC) if task.due_at is not None else None
            found.append((due is None, due or T0, task.created_at.replace(tzinfo=UTC),
                          saved_id(task)))
    return [key[-1] for key in sorted(found)]


@pytest.fixture
def wide(rows) -> Rows:  # type: ignore[no-untyped-def]
    """A deeper tree (t0 > t1, t2; t1 > t1a, t1b) and 60 group tasks spread over it: both roles,
    equal due dates and equal creation times (ties broken by id), no due date, claimed, done,
    cc and tasks of a department outside the tree."""
    with db.new_session(rows.engine) as session, db.unit_of_work(session):
        t1 = session.exec(select(Department).where(Department.code == "t1")).one()
        for code in ("t1a", "t1b"):
            session.add(Department(code=code, name_zh=code, name_en=code, parent_id=t1.id))
    departments = ["t0", "t1", "t2", "t1a", "t1b", "elsewhere"]
    dues = [None, T0, T0 + timedelta(days=1), T0 + timedelta(days=1), T0 - timedelta(days=2)]
    same_time = T0 + timedelta(hours=5)
    for n in range(60):
        extra: dict[str, Any] = {}
        if n % 11 == 3:
            extra = {"state": "claimed", "assignee_id": rows.users["bob"]}
        elif n % 13 == 4:
            extra = {"state": "done", "done_by": rows.users["bob"], "done_at": T0}
        elif n % 17 == 5:
            extra = {"kind": "cc", "assignee_id": rows.users["bob"]}
        if n % 4 == 0:
            extra["created_at"] = same_time  # ties on (due, created): the id decides
        rows.task(f"REF-{n // 6 % 3}", candidate_role=("reviewer", "counter_clerk")[n // 6 % 2],
                  candidate_department=departments[n % len(departments)], due_at=dues[n % 5],
                  **extra)
    return rows


MEMBERSHIPS: dict[str, list[tuple[str, str | None]]] = {
    "one office": [("reviewer", "t1a")],
    "a middle office": [("reviewer", "t1")],
    "two memberships": [("reviewer", "t1a"), ("counter_clerk", "t2")],
    "the whole tree": [("reviewer", "t0")],
    "the tree and an office": [("reviewer", "t0"), ("counter_clerk", "t1b")],
    "both roles everywhere": [("reviewer", "t0"), ("counter_clerk", "t0")],
    "everywhere (no department)": [("reviewer", None), ("counter_clerk", "t1")],
}


@pytest.mark.parametrize("shape", sorted(MEMBERSHIPS))
def test_group_tasks_are_the_same_list_for_every_membership_shape_and_page(  # type: ignore[no-untyped-def]
        wide, session, shape, monkeypatch) -> None:
    """Per-department parts and the wide scan give exactly the list's definition, in order,
    whichever the breadth chooses, on every page (also pages past the end)."""
    actor = Actor.of(wide.users["ann"], MEMBERSHIPS[shape])
    tree = wide.tree()
    expected = _group_reference(wide, actor)
    assert expected, shape
    for threshold in (0, 2, 1000):  # always the scan, the tree's choice, never the scan
        monkeypatch.setattr(inbox, "WIDE_BRANCHES", threshold)
        assert _ids(inbox.group_tasks(session, actor, tree, limit=1000)) == expected, threshold
        for size in (1, 4, 7):
            pages = [_ids(inbox.group_tasks(session, actor, tree, limit=size, offset=offset))
                     for offset in range(0, len(expected) + size, size)]
            assert [task for page in pages for task in page] == expected, (threshold, size)
            assert pages[-1] == []
        # counts agree with the list, up to the cap
        assert inbox.counts(session, actor, tree)["group"] == min(len(expected), inbox.COUNT_CAP)
        monkeypatch.setattr(inbox, "COUNT_CAP", 3)
        assert inbox.counts(session, actor, tree)["group"] == min(len(expected), 3)
        monkeypatch.setattr(inbox, "COUNT_CAP", 100)


def test_group_tasks_order_puts_no_due_date_last_and_breaks_ties_by_creation_then_id(  # type: ignore[no-untyped-def]
        wide, session) -> None:
    actor = Actor.of(wide.users["ann"], MEMBERSHIPS["both roles everywhere"])
    found = inbox.group_tasks(session, actor, wide.tree(), limit=1000)
    keys = [(r.due_at is None, r.due_at.replace(tzinfo=UTC) if r.due_at else T0,
             r.created_at.replace(tzinfo=UTC), r.task_id) for r in found]
    assert keys == sorted(keys)
    assert found[-1].due_at is None and found[0].due_at is not None
    dues = [k[:2] for k in keys]
    assert len(set(dues)) < len(dues)  # ties on due date are really there
    assert len({k[:3] for k in keys}) < len(keys)  # and ties on due date and creation


@pytest.mark.parametrize("shape", ["one office", "the whole tree", "everywhere (no department)"])
def test_group_tasks_filters_apply_inside_every_part(wide, session, shape) -> None:  # type: ignore[no-untyped-def]
    actor = Actor.of(wide.users["ann"], MEMBERSHIPS[shape])
    tree = wide.tree()
    everything = _group_reference(wide, actor)
    kept = 0
    for filters in (InboxFilter(service="svc-b"), InboxFilter(status="in_progress"),
                    InboxFilter(due_before=T0 + timedelta(hours=1)),
                    InboxFilter(service="svc-a", due_before=date(2026, 10, 11))):
        expected = _group_reference(wide, actor, filters)
        assert len(expected) < len(everything), filters  # the filter leaves some out
        kept += len(expected)
        assert _ids(inbox.group_tasks(session, actor, tree, filters, limit=1000)) == expected
        assert _ids(inbox.group_tasks(session, actor, tree, filters, limit=2, offset=1)) == (
            expected[1:3])
    assert kept > 0


def test_group_tasks_with_no_limit_or_no_group_are_empty(wide, session) -> None:  # type: ignore[no-untyped-def]
    tree = wide.tree()
    actor = Actor.of(wide.users["ann"], MEMBERSHIPS["the whole tree"])
    assert inbox.group_tasks(session, actor, tree, limit=0) == []
    nobody = Actor.of(wide.users["ann"], [("citizen", None)])
    assert inbox.group_tasks(session, nobody, tree) == []
    assert inbox.counts(session, nobody, tree)["group"] == 0
