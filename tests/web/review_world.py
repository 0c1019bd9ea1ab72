"""A flow run written as rows, on the demo's residence-points service: for the review and
progress pages' tests that look at what a run shows, whatever the engine would do next."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from tongban import db
from tongban.definitions.publish import current_version
from tongban.models import (
    Application,
    DefinitionVersion,
    FlowEvent,
    FlowInstance,
    FlowTask,
    FlowToken,
    User,
    saved_id,
)

T0 = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

FLOW: dict[str, Any] = {
    "code": "page-test", "name": {"zh": "页面测试", "en": "Page test"},
    "nodes": {
        "start": {"type": "start", "next": "intake"},
        "intake": {"type": "task", "kind": "intake", "name": {"zh": "窗口受理", "en": "Counter intake"},
                   "who": {"user": "clerk"}, "next": "review"},
        "review": {"type": "task", "name": {"zh": "初审", "en": "Initial review"},
                   "who": {"role": "reviewer", "department": "sh-rsj"}, "next": "done"},
        "done": {"type": "end", "outcome": "approved"},
    },
}


@dataclass
class Run:
    engine: Any
    application_id: int = 0
    reference: str = ""
    instance_id: int = 0
    users: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)
    seq: int = 0

    def session(self) -> Session:
        return db.new_session(self.engine)

    def add(self, session: Session, row: Any) -> Any:
        session.add(row)
        session.flush()
        return row

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


def user_ids(session: Session) -> dict[str, int]:
    return {u.username: saved_id(u) for u in session.scalars(select(User))}


def build(engine: Any, *, status: str = "in_progress", show_names: bool = False,
          clerk: bool = False, answers: dict[str, Any] | None = None,
          reference: str = "2610-RSJ2-TEST") -> Run:
    """An application through intake (accepted by the clerk) waiting at the group review."""
    run = Run(engine, reference=reference)
    with db.new_session(engine) as session, db.unit_of_work(session):
        run.users = user_ids(session)
        service = current_version(session, "service", "residence-points")
        form = current_version(session, "form", "residence-points")
        assert service is not None and form is not None
        flow = dict(FLOW, show_names=show_names)
        flow_row = run.add(session, DefinitionVersion(
            kind="flow", code="page-test", version=1 + len(list(session.scalars(
                select(DefinitionVersion).where(col(DefinitionVersion.kind) == "flow")))),
            content=flow, content_hash=secrets.token_hex(8), source_path="flows/page-test.yaml",
            author="test"))
        application = run.add(session, Application(
            reference=reference, idempotency_key=secrets.token_hex(8),
            service_code="residence-points", service_version_id=saved_id(service),
            form_version_id=saved_id(form), flow_version_id=saved_id(flow_row),
            answers=answers or {"applicant": {"name": "张三", "mobile": "13812345678"}},
            status=status, submitter_id=run.users["citizen"],
            clerk_id=run.users["clerk"] if clerk else None, department_code="sh-rsj",
            submitted_at=T0))
        run.application_id = saved_id(application)
        instance = run.add(session, FlowInstance(
            application_id=run.application_id, flow_code="page-test",
            flow_version_id=saved_id(flow_row), status=status,
            applicant_id=run.users["citizen"], department_code="sh-rsj", started_at=T0))
        run.instance_id = saved_id(instance)
        token = run.next_seq()
        run.add(session, FlowToken(instance_id=run.instance_id, seq=token, node="review",
                                   state="active", arrived_at=T0 + timedelta(minutes=30)))
        intake = run.add(session, FlowTask(
            instance_id=run.instance_id, seq=run.next_seq(), token_seq=token, node="intake",
            kind="intake", state="done", assignee_id=run.users["clerk"], outcome="accepted",
            done_by=run.users["clerk"], done_at=T0 + timedelta(minutes=30),
            created_at=T0, comment="材料齐全"))
        run.tasks["intake"] = saved_id(intake)
        review = run.add(session, FlowTask(
            instance_id=run.instance_id, seq=run.next_seq(), token_seq=token, node="review",
            candidate_role="reviewer", candidate_department="sh-rsj",
            created_at=T0 + timedelta(minutes=30), due_at=T0 + timedelta(days=5)))
        run.tasks["review"] = saved_id(review)
        for minutes, kind, node, actor, task_seq, after, data in (
                (0, "started", None, "citizen", None, "submitted", {}),
                (30, "accepted", "intake", "clerk", intake.seq, "accepted",
                 {"comment": "材料齐全"}),
                (30, "task_created", "review", None, review.seq, "in_progress", {})):
            run.add(session, FlowEvent(
                instance_id=run.instance_id, seq=run.next_seq(),
                at=T0 + timedelta(minutes=minutes), type=kind, node=node,
                task_seq=task_seq, actor_id=run.users[actor] if actor else None,
                status=after, data=data))
        instance.next_seq = run.seq + 1
    return run


def add_event(run: Run, kind: str, *, node: str | None, actor: str | None, status: str,
              minutes: int, data: dict[str, Any] | None = None) -> None:
    with run.session() as session, db.unit_of_work(session):
        run.add(session, FlowEvent(
            instance_id=run.instance_id, seq=run.next_seq(), at=T0 + timedelta(minutes=minutes),
            type=kind, node=node, actor_id=run.users[actor] if actor else None, status=status,
            data=data or {}))
        application = session.get(Application, run.application_id)
        instance = session.get(FlowInstance, run.instance_id)
        assert application is not None and instance is not None
        application.status = instance.status = status
