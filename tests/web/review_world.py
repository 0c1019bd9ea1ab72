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


# --- Runs the real runtime starts: a test flow named by a new version of the service. ---------

FLOWS: dict[str, dict[str, Any]] = {
    "web-approve": {
        "code": "web-approve", "name": {"zh": "单人审批", "en": "One approver"},
        "nodes": {
            "start": {"type": "start", "next": "review"},
            "review": {"type": "task", "name": {"zh": "初审", "en": "Initial review"},
                       "who": {"user": "reviewer"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "web-intake": {
        "code": "web-intake", "name": {"zh": "受理后审核", "en": "Intake then review"},
        "nodes": {
            "start": {"type": "start", "next": "intake"},
            "intake": {"type": "task", "kind": "intake",
                       "name": {"zh": "窗口受理", "en": "Counter intake"},
                       "who": {"user": "clerk"}, "next": "review"},
            "review": {"type": "task", "name": {"zh": "初审", "en": "Initial review"},
                       "who": {"role": "reviewer", "department": "sh-rsj"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "web-countersign": {
        "code": "web-countersign", "name": {"zh": "会签", "en": "Countersign"},
        "nodes": {
            "start": {"type": "start", "next": "sign"},
            "sign": {"type": "task", "mode": "all", "name": {"zh": "联合会签", "en": "Joint sign-off"},
                     "who": {"users": ["reviewer", "deptadmin"]}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "web-straight-back": {
        "code": "web-straight-back", "name": {"zh": "两级审核", "en": "Two reviews"},
        "nodes": {
            "start": {"type": "start", "next": "first"},
            "first": {"type": "task", "name": {"zh": "初审", "en": "Initial review"},
                      "who": {"user": "deptadmin"}, "next": "second"},
            "second": {"type": "task", "name": {"zh": "复审", "en": "Second review"},
                       "who": {"user": "reviewer"}, "resubmit": "straight_back",
                       "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
}

ANSWERS: dict[str, Any] = {"applicant": {"name": "张三", "mobile": "13812345678"}}


def forget_compiled_flows() -> None:
    from tongban.workflow import runtime

    with runtime._compiled_lock:
        runtime._compiled.clear()


def publish_flow(engine: Any, code: str) -> None:
    """The flow, and a new current version of the residence-points service that names it."""
    with db.new_session(engine) as session, db.unit_of_work(session):
        service = current_version(session, "service", "residence-points")
        assert service is not None
        flows = len(list(session.scalars(select(DefinitionVersion).where(
            col(DefinitionVersion.kind) == "flow", col(DefinitionVersion.code) == code))))
        session.add(DefinitionVersion(kind="flow", code=code, version=flows + 1,
                                      content=FLOWS[code], content_hash=secrets.token_hex(8),
                                      source_path=f"flows/{code}.yaml", author="test"))
        session.add(DefinitionVersion(kind="service", code="residence-points",
                                      version=service.version + 1,
                                      content={**service.content, "flow": code},
                                      content_hash=secrets.token_hex(8),
                                      source_path=service.source_path, author="test"))


def start(engine: Any, code: str, *, reference: str = "2610-RSJ2-WEB1",
          clerk: bool = False) -> Run:
    """An application of the citizen's, its flow started by the runtime (as submission does)."""
    from tongban.workflow import runtime

    publish_flow(engine, code)
    run = Run(engine, reference=reference)
    with db.new_session(engine) as session, db.unit_of_work(session):
        run.users = user_ids(session)
        service = current_version(session, "service", "residence-points")
        form = current_version(session, "form", "residence-points")
        assert service is not None and form is not None
        application = run.add(session, Application(
            reference=reference, idempotency_key=secrets.token_hex(8),
            service_code="residence-points", service_version_id=saved_id(service),
            form_version_id=saved_id(form), answers=ANSWERS, status="submitted",
            submitter_id=run.users["citizen"], department_code="sh-rsj",
            clerk_id=run.users["clerk"] if clerk else None, submitted_at=T0))
        run.application_id = saved_id(application)
        instance = runtime.start_flow(session, application, now=T0)
        assert instance is not None
        run.instance_id = saved_id(instance)
    return run


def open_task(run: Run, node: str, username: str | None = None) -> FlowTask:
    with run.session() as session:
        query = select(FlowTask).where(col(FlowTask.instance_id) == run.instance_id,
                                       col(FlowTask.node) == node,
                                       col(FlowTask.state).in_(("open", "claimed")),
                                       col(FlowTask.kind) != "cc")
        if username is not None:
            query = query.where(col(FlowTask.assignee_id) == run.users[username])
        return session.scalars(query.order_by(col(FlowTask.seq))).first()  # type: ignore[return-value]


def status(run: Run) -> str:
    with run.session() as session:
        application = session.get(Application, run.application_id)
        instance = session.get(FlowInstance, run.instance_id)
        assert application is not None and instance is not None
        assert application.status == instance.status
        return application.status
