"""Issue 11 (review inbox): the inbox queries of ``tongban.workflow.inbox`` on rows made by hand,
so that every list's rule (whose task, which states, which order, which filter) is seen alone."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session

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


def test_the_lists_use_the_flow_task_indexes(rows, session, db_backend) -> None:  # type: ignore[no-untyped-def]
    """The query shapes are ones the inbox indexes serve: the database's plan names the index
    (on PostgreSQL with sequential scans priced out, as they are with a million rows)."""
    from sqlalchemy.dialects import postgresql, sqlite

    tree = rows.tree()
    actor = Actor.of(rows.users["ann"], [("reviewer", "t1")])
    shapes = {
        "ix_flow_task_assignee_open": inbox._by_due(inbox._base(inbox._mine(rows.users["ann"]),
                                                                InboxFilter())),
        "ix_flow_task_group_open": inbox._by_due(inbox._base(inbox._groups(actor, tree),
                                                             InboxFilter())),
        "ix_flow_task_done_by": inbox._base(inbox._done(rows.users["ann"]), InboxFilter()),
    }
    if db_backend == "postgresql":
        session.execute(text("SET enable_seqscan = off"))
        dialect, explain = postgresql.dialect(), "EXPLAIN"
    else:
        dialect, explain = sqlite.dialect(), "EXPLAIN QUERY PLAN"
    for index, query in shapes.items():
        compiled = query.limit(50).compile(dialect=dialect,
                                           compile_kwargs={"literal_binds": True})
        plan = "\n".join(str(r[-1]) for r in session.execute(text(f"{explain} {compiled}")))
        assert index in plan, plan
