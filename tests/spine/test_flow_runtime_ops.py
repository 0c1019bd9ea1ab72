"""The flow runtime: operations on real rows in one transaction with their audit events, the
application's status always the instance's, answers versioned, refusals changing nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
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


def test_approve_return_resubmit_and_reject_keep_the_statuses_in_step(world: World) -> None:
    application_id = submit(world, "two-step", answers={"name": "张三", "age": 30})
    seen = []
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
        [first] = open_tasks(session, application_id)
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


def test_correction_at_intake_versions_the_answers_and_intake_carries_on(world: World) -> None:
    application_id = submit(world, "intake", answers={"name": "张三", "address": "旧"})
    seen = []
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
        [intake] = open_tasks(session, application_id)
    _act(world, "rev1", intake.id, "request_correction", questions=["address"],  # type: ignore[arg-type]
         materials=["身份证"], comment="地址不全")
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
    with pytest.raises(FlowError) as outside:  # only the named questions may change
        _act_on_application(world, "citizen", application_id, "submit_correction", minutes=6,
                            answers={"name": "李四", "address": "新"})
    assert outside.value.status == 422
    _act_on_application(world, "citizen", application_id, "submit_correction", minutes=6,
                        answers={"name": "张三", "address": "新"})
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
        application = session.get(Application, application_id)
        assert application is not None
        assert (application.answers["address"], application.answers_version) == ("新", 2)
        [kept] = session.scalars(select(AnswerVersion).where(
            col(AnswerVersion.application_id) == application_id)).all()
        assert (kept.answers["address"], kept.reason) == ("旧", "correction")
    _act(world, "rev1", intake.id, "accept", minutes=7)  # type: ignore[arg-type]
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
        [review] = open_tasks(session, application_id)
    _act(world, "rev2", review.id, "transfer", minutes=8, to_user_id=world.users["rev3"],  # type: ignore[arg-type]
         comment="请王审核办理")
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
        [moved] = open_tasks(session, application_id)
        assert moved.assignee_id == world.users["rev3"]
    _act(world, "rev3", moved.id, "approve", minutes=9)  # type: ignore[arg-type]
    with world.session() as session:
        seen.append(assert_in_step(session, application_id))
    # Accepting moves on at once: the review task opening makes it in_progress (C7).
    assert seen == ["submitted", "correction_requested", "submitted", "in_progress",
                    "in_progress", "approved"]


def test_claim_release_and_taking_back_an_approval(world: World) -> None:
    application_id = submit(world, "group")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
    _act(world, "rev1", task.id, "claim")  # type: ignore[arg-type]
    _act(world, "rev1", task.id, "release", minutes=6)  # type: ignore[arg-type]
    _act(world, "rev2", task.id, "claim", minutes=7)  # type: ignore[arg-type]
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        claimed = session.get(FlowTask, task.id)
        assert claimed is not None and claimed.assignee_id == world.users["rev2"]
    two = submit(world, "two-step")
    with world.session() as session:
        [first] = open_tasks(session, two)
    _act(world, "rev1", first.id, "approve", minutes=8)  # type: ignore[arg-type]
    _act(world, "rev1", first.id, "withdraw_action", minutes=9)  # type: ignore[arg-type]
    with world.session() as session:
        assert assert_in_step(session, two) == "in_progress"
        [again] = open_tasks(session, two)
        assert (again.node, again.assignee_id) == ("first", world.users["rev1"])


def test_refusing_intake_ends_the_application_rejected(world: World) -> None:
    application_id = submit(world, "intake")
    with world.session() as session:
        [intake] = open_tasks(session, application_id)
    with pytest.raises(FlowError) as refused:
        _act(world, "rev1", intake.id, "refuse_intake", reason="")  # type: ignore[arg-type]
    assert refused.value.status == 422
    _act(world, "rev1", intake.id, "refuse_intake", reason="不属于本部门受理范围")  # type: ignore[arg-type]
    with world.session() as session:
        assert assert_in_step(session, application_id) == "rejected"


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


def test_signed_out_only_the_submitting_session_acts_for_an_anonymous_application(
        world: World) -> None:
    from tongban.policy import Actor

    application_id = submit(world, "one-step")
    with world.session() as session, db.unit_of_work(session):
        application = session.get(Application, application_id)
        assert application is not None
        application.submitter_id = None  # as if submitted without an account
        session.execute(update(FlowInstance).where(
            col(FlowInstance.application_id) == application_id).values(applicant_id=None))
        reference = application.reference
    for stranger in (Actor.of(None), Actor.of(None, references=["2601-AAAA-BBBB"])):
        with pytest.raises(NotYours), world.session() as session, \
                db.unit_of_work(session) as tx:
            runtime.act_on_application(tx, stranger, application_id, "withdraw", now=later(5))
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
    with world.session() as session, db.unit_of_work(session) as tx:
        runtime.act_on_application(tx, Actor.of(None, references=[reference]), application_id,
                                   "withdraw", now=later(6))
    with world.session() as session:
        assert assert_in_step(session, application_id) == "withdrawn"


def test_comment_cc_and_remind_go_through_the_runtime_and_leave_the_status(world: World) -> None:
    from tongban.workflow.errors import TooSoon

    application_id = submit(world, "two-step")
    with world.session() as session:
        [first] = open_tasks(session, application_id)
    _act(world, "rev1", first.id, "comment", text="材料齐全")  # type: ignore[arg-type]
    _act(world, "rev1", first.id, "cc", minutes=6, user_ids=[world.users["rev3"]])  # type: ignore[arg-type]
    _act_on_application(world, "citizen", application_id, "remind", minutes=7,
                        task_seq=first.seq)
    with pytest.raises(TooSoon) as too_soon:
        _act_on_application(world, "citizen", application_id, "remind", minutes=30,
                            task_seq=first.seq)
    assert too_soon.value.status == 429
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        actions = session.scalars(select(AuditEvent.action).where(
            col(AuditEvent.action).in_(("flow.commented", "flow.cc_sent", "flow.reminded")))
            .order_by(col(AuditEvent.seq))).all()
        assert actions == ["flow.commented", "flow.cc_sent", "flow.reminded"]


def test_migration_moves_the_instance_and_the_application_to_the_new_version(
        world: World) -> None:
    import copy

    from tongban.models import DefinitionVersion

    from .flow_world import FLOWS

    application_id = submit(world, "two-step")
    newer = copy.deepcopy(FLOWS["two-step"])
    newer["nodes"]["second"]["name"] = {"zh": "复核", "en": "Check"}
    with world.session() as session, db.unit_of_work(session):
        version = DefinitionVersion(kind="flow", code="two-step", version=2, content_hash="v2",
                                    content=newer, source_path="flows/two-step.yaml",
                                    author="test")
        session.add(version)
        session.flush()
        new_id = version.id
    with pytest.raises(NotYours):
        _act_on_application(world, "rev1", application_id, "migrate", new_version_id=new_id,
                            mapping={})
    _act_on_application(world, "root", application_id, "migrate", new_version_id=new_id,
                        mapping={})
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        application = session.get(Application, application_id)
        instance = session.scalars(select(FlowInstance).where(
            col(FlowInstance.application_id) == application_id)).one()
        assert application is not None
        assert application.flow_version_id == instance.flow_version_id == new_id
        assert session.scalars(select(AuditEvent.actor_name).where(
            col(AuditEvent.action) == "flow.migrated")).one() == "root"
