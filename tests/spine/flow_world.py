"""A small world for the flow runtime tests: departments, staff, a published service, form and
flow, and applications submitted through the real submission path."""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from tongban import applications, audit, db
from tongban.accounts import hash_password
from tongban.models import (
    Application,
    AuditEvent,
    DefinitionVersion,
    Department,
    FlowEvent,
    FlowInstance,
    FlowTask,
    Membership,
    Role,
    User,
    saved_id,
)
from tongban.policy import Actor

T0 = datetime(2030, 1, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, after any real submission

# Flows by code: each test service names one of them.
FLOWS: dict[str, dict[str, Any]] = {
    "one-step": {
        "code": "one-step", "name": {"zh": "一步审批", "en": "One step"},
        "nodes": {
            "start": {"type": "start", "next": "review"},
            "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                       "who": {"user": "rev1"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "group": {
        "code": "group", "name": {"zh": "组审批", "en": "Group"},
        "nodes": {
            "start": {"type": "start", "next": "review"},
            "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                       "who": {"role": "reviewer", "department": "d1"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "two-step": {
        "code": "two-step", "name": {"zh": "两步审批", "en": "Two steps"},
        "nodes": {
            "start": {"type": "start", "next": "first"},
            "first": {"type": "task", "name": {"zh": "初审", "en": "First"},
                      "who": {"user": "rev1"}, "next": "second"},
            "second": {"type": "task", "name": {"zh": "复审", "en": "Second"},
                       "who": {"user": "rev2"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "service": {
        "code": "service", "name": {"zh": "核验", "en": "Check"},
        "nodes": {
            "start": {"type": "start", "next": "fetch"},
            "fetch": {"type": "service", "hook": "test.double", "options": {"source": "police"},
                      "retries": 2, "backoff_seconds": 10, "fallback": "manual",
                      "next": "review"},
            "manual": {"type": "task", "kind": "data", "name": {"zh": "人工录入", "en": "Enter"},
                       "who": {"user": "rev1"}, "next": "review"},
            "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                       "who": {"user": "rev2"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "service-bare": {
        "code": "service-bare", "name": {"zh": "核验", "en": "Check"},
        "nodes": {
            "start": {"type": "start", "next": "fetch"},
            "fetch": {"type": "service", "hook": "test.double", "retries": 0,
                      "backoff_seconds": 10, "next": "review"},
            "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                       "who": {"user": "rev2"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "wait": {
        "code": "wait", "name": {"zh": "等待回复", "en": "Wait"},
        "nodes": {
            "start": {"type": "start", "next": "reply"},
            "reply": {"type": "wait", "message": "transfer_reply", "next": "review"},
            "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                       "who": {"user": "rev1"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "service-wait": {
        "code": "service-wait", "name": {"zh": "核验后等待", "en": "Check then wait"},
        "nodes": {
            "start": {"type": "start", "next": "fetch"},
            "fetch": {"type": "service", "hook": "test.double", "next": "reply"},
            "reply": {"type": "wait", "message": "transfer_reply", "next": "review"},
            "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                       "who": {"user": "rev1"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "notice": {
        "code": "notice", "name": {"zh": "公示", "en": "Notice"},
        "nodes": {
            "start": {"type": "start", "next": "notice"},
            "notice": {"type": "task", "name": {"zh": "公示", "en": "Notice"},
                       "status": "publicizing", "who": {"user": "rev1"}, "next": "objected"},
            "objected": {"type": "exclusive",
                         "branches": [{"when": {"!!": [{"var": "vars.messages.objection"}]},
                                       "to": "objection_review"}],
                         "default": "done"},
            "objection_review": {"type": "task", "name": {"zh": "异议核查", "en": "Objection"},
                                 "who": {"user": "rev2"}, "next": "done"},
            "done": {"type": "end", "outcome": "completed"},
        },
    },
    "intake": {
        "code": "intake", "name": {"zh": "受理审批", "en": "Intake"},
        "nodes": {
            "start": {"type": "start", "next": "intake"},
            "intake": {"type": "task", "kind": "intake", "name": {"zh": "受理", "en": "Intake"},
                       "who": {"user": "rev1"}, "next": "review"},
            "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                       "who": {"user": "rev2"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
    "nobody": {
        "code": "nobody", "name": {"zh": "无人", "en": "Nobody"},
        "nodes": {
            "start": {"type": "start", "next": "review"},
            "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                       "who": {"role": "reviewer", "department": "d2"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"},
        },
    },
}


ROLES: dict[str, list[tuple[str, str | None]]] = {
    "rev1": [("reviewer", "d1")], "rev2": [("reviewer", "d1")], "rev3": [("reviewer", "d1")],
    "admin": [("department_admin", "d1")], "admin2": [("department_admin", "d2")],
    "root": [("platform_admin", None)], "citizen": [("citizen", None)],
    "citizen2": [("citizen", None)]}


@dataclass
class World:
    engine: Any
    users: dict[str, int] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)  # service code -> version id
    form_version_id: int = 0

    def actor(self, username: str) -> Actor:
        return Actor.of(self.users[username], ROLES[username])

    def session(self) -> Session:
        return db.new_session(self.engine)


PASSWORD = "flow-world-2026"
_hashes: list[str] = []


def _password_hash() -> str:
    if not _hashes:  # argon2 on purpose is slow: once per test run
        _hashes.append(hash_password(PASSWORD))
    return _hashes[0]


def _version(session: Session, kind: str, code: str, content: dict[str, Any],
             version: int = 1) -> int:
    row = DefinitionVersion(kind=kind, code=code, version=version,
                            content_hash=secrets.token_hex(8), content=content,
                            source_path=f"{kind}s/{code}.yaml", author="test")
    session.add(row)
    session.flush()
    return saved_id(row)


def build(engine: Any) -> World:
    world = World(engine)
    with db.new_session(engine) as session, db.unit_of_work(session):
        top = Department(code="d0", name_zh="市局", name_en="City bureau")
        session.add(top)
        session.flush()
        for code, region in (("d1", "310101"), ("d2", "310104")):
            session.add(Department(code=code, name_zh=code, name_en=code, parent_id=top.id,
                                   region=region))
        session.flush()
        dept = {d.code: d.id for d in session.scalars(select(Department))}
        for username, held in ROLES.items():
            user = User(username=username, display_name=username.title(),
                        password_hash=_password_hash())
            session.add(user)
            session.flush()
            world.users[username] = saved_id(user)
            for role, department in held:
                session.add(Membership(user_id=saved_id(user), role=str(Role(role)),
                                       department_id=dept[department] if department else None))
        world.form_version_id = _version(session, "form", "f", {"code": "f", "pages": []})
        for code, flow in FLOWS.items():
            _version(session, "flow", code, copy.deepcopy(flow))
            world.services[code] = _version(session, "service", f"svc-{code}", {
                "code": f"svc-{code}", "flow": code, "department": {"code": "d1"}})
        world.services["none"] = _version(session, "service", "svc-none", {
            "code": "svc-none", "department": {"code": "d1"}})
    return world


def submit(world: World, flow: str, answers: dict[str, Any] | None = None,
           applicant: str = "citizen") -> int:
    """Submit an application to the service using ``flow`` (its id), through the real path."""
    with world.session() as session, db.unit_of_work(session):
        service = session.get(DefinitionVersion, world.services[flow])
        assert service is not None
        form = session.get(DefinitionVersion, world.form_version_id)
        assert form is not None
        draft = applications.start_draft(session, service, form,
                                         user_id=world.users[applicant],
                                         answers=answers or {"name": "张三"})
        submitted = applications.submit(session, draft, answers or {"name": "张三"},
                                        department_code="d1",
                                        actor_id=world.users[applicant], actor_name=applicant)
        return saved_id(submitted.application)


def open_tasks(session: Session, application_id: int, node: str | None = None) -> list[FlowTask]:
    query = (select(FlowTask).join(FlowInstance, col(FlowInstance.id) == col(FlowTask.instance_id))
             .where(col(FlowInstance.application_id) == application_id,
                    col(FlowTask.state).in_(("open", "claimed")), col(FlowTask.kind) != "cc")
             .order_by(col(FlowTask.seq)).execution_options(populate_existing=True))
    if node is not None:
        query = query.where(col(FlowTask.node) == node)
    return list(session.scalars(query))


def statuses(session: Session, application_id: int) -> tuple[str, str | None]:
    application = session.scalars(select(Application).where(col(Application.id) == application_id)
                                  .execution_options(populate_existing=True)).one()
    instance = session.scalars(select(FlowInstance)
                               .where(col(FlowInstance.application_id) == application_id)
                               .execution_options(populate_existing=True)).first()
    return application.status, instance.status if instance else None


def assert_in_step(session: Session, application_id: int) -> str:
    """The application's status equals its instance's, and every flow event has its audit
    event: the runtime writes them together."""
    application_status, instance_status = statuses(session, application_id)
    assert application_status == instance_status
    reference = session.execute(select(col(Application.reference))
                                .where(col(Application.id) == application_id)).scalar_one()
    events = session.execute(select(func.count()).select_from(FlowEvent)
                             .join(FlowInstance, col(FlowInstance.id) == col(FlowEvent.instance_id))
                             .where(col(FlowInstance.application_id) == application_id)).scalar()
    audited = session.execute(select(func.count()).select_from(AuditEvent).where(
        col(AuditEvent.object_id) == reference, col(AuditEvent.action).like("flow.%"),
        col(AuditEvent.action) != "flow.incident_retried")
    ).scalar()
    assert events == audited, (events, audited)
    assert audit.verify(session).ok  # the events were chained like any others
    return application_status


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)
