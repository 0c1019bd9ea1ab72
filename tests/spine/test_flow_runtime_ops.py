"""The flow runtime: operations on real rows in one transaction with their audit events, the
application's status always the instance's, answers versioned, refusals changing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from tongban import audit, db
from tongban.models import (
    AnswerVersion,
    Application,
    AuditEvent,
    FlowEvent,
    FlowInstance,
    FlowTask,
)
from tongban.workflow import runtime
from tongban.workflow.errors import AlreadyHandled, FlowError, NotActionable, NotYours, Stale

from .flow_world import World, assert_in_step, build, later, open_tasks, statuses, submit


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build(app.extensions["tongban.engine"])


def _act(world: World, username: str, task_id: int, operation: str, *,
         version: int | None = None, minutes: int = 5, **args: object) -> None:
    with world.session() as session, db.unit_of_work(session) as tx:
        runtime.act(tx, world.actor(username), task_id, operation, version=version,
                    now=later(minutes), **args)


def _act_on_application(world: World, username: str, application_id: int, operation: str, *,
                        minutes: int = 5, **args: object) -> None:
    with world.session() as session, db.unit_of_work(session) as tx:
        runtime.act_on_application(tx, world.actor(username), application_id, operation,
                                   now=later(minutes), **args)


def test_a_service_without_a_flow_stays_submitted_with_no_instance(world: World) -> None:
    application_id = submit(world, "none")
    with world.session() as session:
        assert statuses(session, application_id) == ("submitted", None)


def test_submission_starts_the_pinned_flow_in_the_same_transaction(world: World) -> None:
    application_id = submit(world, "one-step")
    with world.session() as session:
        instance = session.scalars(select(FlowInstance).where(
            col(FlowInstance.application_id) == application_id)).one()
        application = session.get(Application, application_id)
        assert application is not None
        assert instance.flow_version_id == application.flow_version_id is not None
        assert assert_in_step(session, application_id) == "in_progress"
        [task] = open_tasks(session, application_id)
        assert (task.node, task.assignee_id) == ("review", world.users["rev1"])
        actions = session.scalars(select(AuditEvent.action).where(
            col(AuditEvent.object_id) == application.reference)
            .order_by(col(AuditEvent.seq))).all()
        assert actions[0] == "application.submit"
        assert actions[1:4] == ["flow.started", "flow.node_entered", "flow.node_entered"]
        assert "flow.task_created" in actions


def test_approval_ends_the_flow_and_the_application_agrees(world: World) -> None:
    application_id = submit(world, "one-step")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
    _act(world, "rev1", task.id, "approve", version=task.version, comment="好")  # type: ignore[arg-type]
    with world.session() as session:
        assert assert_in_step(session, application_id) == "approved"
        done = session.get(FlowTask, task.id)
        assert done is not None and (done.state, done.done_by) == ("done", world.users["rev1"])
        approved = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.approved")).one()
        assert approved.actor_name == "rev1" and approved.after is not None
        assert approved.after["node"] == "review" and approved.after["data"]["comment"] == "好"
        ended = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.ended")).one()
        assert ended.after is not None and ended.after["status"] == "approved"


def test_a_failed_audit_write_rolls_the_whole_transition_back(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    application_id = submit(world, "one-step")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
        events_before = session.execute(select(func.count()).select_from(FlowEvent)).scalar()
    real_record = audit.record

    def failing(session, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs["action"] == "flow.ended":
            raise RuntimeError("audit store unavailable")
        return real_record(session, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        _act(world, "rev1", task.id, "approve", version=task.version)  # type: ignore[arg-type]
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        [still] = open_tasks(session, application_id)
        assert (still.id, still.state, still.version) == (task.id, "open", task.version)
        assert session.execute(select(func.count()).select_from(FlowEvent)).scalar() \
            == events_before


def test_a_stale_page_version_names_who_handled_the_task_and_when(world: World) -> None:
    application_id = submit(world, "group")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
    _act(world, "rev1", task.id, "claim", version=task.version)  # type: ignore[arg-type]
    _act(world, "rev1", task.id, "approve", minutes=7)  # type: ignore[arg-type]
    with pytest.raises(AlreadyHandled) as refused:
        _act(world, "rev2", task.id, "claim", version=task.version)  # type: ignore[arg-type]
    assert refused.value.params["who"] == "rev1"
    assert refused.value.params["when"].startswith(later(7).isoformat()[:16])
    assert refused.value.status == 409
    with world.session() as session:
        assert assert_in_step(session, application_id) == "approved"


def test_a_page_version_overtaken_by_a_claim_is_stale(world: World) -> None:
    application_id = submit(world, "group")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
    _act(world, "rev1", task.id, "claim", version=task.version)  # type: ignore[arg-type]
    with pytest.raises(Stale):
        _act(world, "rev2", task.id, "claim", version=task.version)  # type: ignore[arg-type]


def test_an_action_on_someone_elses_task_is_refused_and_changes_nothing(world: World) -> None:
    application_id = submit(world, "one-step")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
    with pytest.raises(NotYours) as refused:
        _act(world, "rev2", task.id, "approve")  # type: ignore[arg-type]
    assert refused.value.status == 403
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        [still] = open_tasks(session, application_id)
        assert still.version == task.version


def test_every_operation_keeps_the_application_status_equal_to_the_instance(world: World) -> None:
    application_id = submit(world, "two-step", answers={"name": "张三", "age": 30})
    seen = []
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
        [first] = open_tasks(session, application_id)
    _act(world, "rev1", first.id, "comment", text="请补充")  # type: ignore[arg-type]
    _act(world, "rev1", first.id, "approve", minutes=6)  # type: ignore[arg-type]
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
        [second] = open_tasks(session, application_id)
    _act(world, "rev2", second.id, "return_to", minutes=7, target="applicant",  # type: ignore[arg-type]
         comment="地址不全")
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
    _act_on_application(world, "citizen", application_id, "resubmit", minutes=8,
                        answers={"name": "张三", "age": 31})
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
        [again] = open_tasks(session, application_id)
        application = session.get(Application, application_id)
        assert application is not None
        assert (application.answers["age"], application.answers_version) == (31, 2)
        [kept] = session.scalars(select(AnswerVersion).where(
            col(AnswerVersion.application_id) == application_id)).all()
        assert (kept.number, kept.answers["age"], kept.reason) == (1, 30, "resubmission")
    _act(world, "rev1", again.id, "reject", minutes=9, comment="不符合条件")  # type: ignore[arg-type]
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
    assert seen == ["in_progress", "in_progress", "returned", "in_progress", "rejected"]


def test_an_operation_on_a_withdrawn_application_is_refused(world: World) -> None:
    application_id = submit(world, "one-step")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
    _act_on_application(world, "citizen", application_id, "withdraw")
    with world.session() as session:
        assert assert_in_step(session, application_id) == "withdrawn"
    with pytest.raises(FlowError) as refused:
        _act(world, "rev1", task.id, "approve", minutes=6)  # type: ignore[arg-type]
    assert refused.value.status == 409
    assert isinstance(refused.value, NotActionable | AlreadyHandled)


def test_repair_is_for_the_departments_administrators(world: World) -> None:
    application_id = submit(world, "two-step")
    with pytest.raises(NotYours):
        _act_on_application(world, "admin2", application_id, "repair", node="second",
                            reason="测试")
    _act_on_application(world, "admin", application_id, "repair", node="second",
                        reason="数据修复")
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        [task] = open_tasks(session, application_id)
        assert task.node == "second"
        assert session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.repaired")).one().actor_name == "admin"
