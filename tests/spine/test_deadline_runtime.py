"""Deadlines through the runtime on the database (SQLite and PostgreSQL): the clocks stored and
loaded with their instance, the clock operations with their permission checks, timers
cancelled and scheduled in the same transaction, fire_timer once only (a second fire is stale,
a concurrent one loses the optimistic lock), and the read models the pages use."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from tongban import db
from tongban.applications import new_reference
from tongban.models import (
    Application,
    FlowDeadline,
    FlowEvent,
    FlowInstance,
    FlowTimer,
    saved_id,
)
from tongban.workflow import deadlines, runtime
from tongban.workflow.errors import Invalid, NotYours, Stale

from .flow_world import World, _version, assert_in_step, build, open_tasks

SH = ZoneInfo("Asia/Shanghai")

FLOW: dict[str, Any] = {
    "code": "timed", "name": {"zh": "限时审批", "en": "Timed"},
    "deadlines": [{"id": "decision", "preset": "licence_decision", "starts_on": "submitted",
                   "ends_on": "decided"}],
    "nodes": {
        "start": {"type": "start", "next": "review"},
        "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                   "who": {"user": "rev1"},
                   "deadline": {"working_days": 2, "on_timeout": ["remind"]}, "next": "done"},
        "done": {"type": "end", "outcome": "approved"},
    },
}


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(UTC)


def local(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(SH).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    runtime._compiled.clear()
    return build(app.extensions["tongban.engine"])


def start(world: World, at: str = "2026-10-12T09:00") -> int:
    """An application to the timed service (calendar CAL-T), its flow started at ``at``."""
    with world.session() as session, db.unit_of_work(session):
        flow_id = _version(session, "flow", "timed", copy.deepcopy(FLOW))
        service_id = _version(session, "service", "svc-timed", {
            "code": "svc-timed", "flow": "timed", "department": {"code": "d1"},
            "calendar": "cal-t"})
        application = Application(
            reference=new_reference(t(at)), idempotency_key=secrets.token_hex(16),
            service_code="svc-timed", service_version_id=service_id,
            form_version_id=world.form_version_id, answers={"name": "张三"}, status="submitted",
            flow_version_id=flow_id, submitter_id=world.users["citizen"], department_code="d1",
            submitted_at=t(at))
        session.add(application)
        session.flush()
        runtime.start_flow(session, application, now=t(at))
        return saved_id(application)


def clocks(session: Session, application_id: int) -> list[FlowDeadline]:
    return list(session.scalars(
        select(FlowDeadline).join(FlowInstance, col(FlowInstance.id) == col(FlowDeadline.instance_id))
        .where(col(FlowInstance.application_id) == application_id)
        .order_by(col(FlowDeadline.seq)).execution_options(populate_existing=True)))


def timers(session: Session, application_id: int, state: str = "pending") -> list[FlowTimer]:
    return list(session.scalars(
        select(FlowTimer).join(FlowInstance, col(FlowInstance.id) == col(FlowTimer.instance_id))
        .where(col(FlowInstance.application_id) == application_id, col(FlowTimer.state) == state)
        .order_by(col(FlowTimer.due_at), col(FlowTimer.id))
        .execution_options(populate_existing=True)))


def task_timeout(session: Session, application_id: int) -> FlowTimer:
    task_clock = clocks(session, application_id)[0]
    return next(x for x in timers(session, application_id)
                if x.kind == "deadline.timeout" and x.deadline_seq == task_clock.seq)


def events(session: Session, application_id: int, type_: str) -> int:
    return int(session.execute(
        select(func.count()).select_from(FlowEvent)
        .join(FlowInstance, col(FlowInstance.id) == col(FlowEvent.instance_id))
        .where(col(FlowInstance.application_id) == application_id,
               col(FlowEvent.type) == type_)).scalar() or 0)


def instance(session: Session, application_id: int) -> FlowInstance:
    return session.scalars(select(FlowInstance).where(
        col(FlowInstance.application_id) == application_id)
        .execution_options(populate_existing=True)).one()


def test_the_clocks_are_stored_with_the_instance_and_their_timers_scheduled(world: World) -> None:
    application_id = start(world)
    with world.session() as session:
        task_clock, application_clock = clocks(session, application_id)
        assert (application_clock.scope, application_clock.purpose, application_clock.calendar_id,
                local(application_clock.due_at)) == \
            ("application", "licence_decision", "cal-t", "2026-11-09 23:59:59")
        [task] = open_tasks(session, application_id)
        assert (task_clock.scope, task_clock.task_seq) == ("task", task.seq)
        assert local(task.due_at) == local(task_clock.due_at) == "2026-10-14 23:59:59"
        pending = timers(session, application_id)
        assert [(x.kind, x.deadline_seq) for x in pending] == [
            ("deadline.due_soon", task_clock.seq), ("deadline.timeout", task_clock.seq),
            ("deadline.due_soon", application_clock.seq),
            ("deadline.timeout", application_clock.seq)]
        assert local(pending[-1].due_at) == "2026-11-09 23:59:59"
        assert len({x.key for x in pending}) == 4
        assert events(session, application_id, "deadline_set") == 1
        assert_in_step(session, application_id)


def test_pause_and_resume_through_the_runtime_cancel_and_reschedule_timers(world: World) -> None:
    application_id = start(world)
    with world.session() as session, db.unit_of_work(session):
        with pytest.raises(NotYours) as refused:
            runtime.act_on_application(session, world.actor("rev2"), application_id,
                                       "pause_clock", now=t("2026-10-16T10:00"),
                                       reason="hearing")
        assert refused.value.code == "not_clock_holder"
    with world.session() as session, db.unit_of_work(session):
        runtime.act_on_application(session, world.actor("rev1"), application_id, "pause_clock",
                                   now=t("2026-10-16T10:00"), reason="hearing", note="听证",
                                   expected_days=10)
    with world.session() as session:
        application_clock = clocks(session, application_id)[1]
        assert (application_clock.state, application_clock.elapsed, application_clock.due_at) == \
            ("paused", 4, None)
        assert instance(session, application_id).clock_paused
        assert not any(x.deadline_seq == application_clock.seq
                       for x in timers(session, application_id))
        assert len(timers(session, application_id, "cancelled")) == 2
    with world.session() as session, db.unit_of_work(session):
        runtime.act_on_application(session, world.actor("rev1"), application_id,
                                   "resume_clock", now=t("2026-10-26T09:00"))
    with world.session() as session:
        application_clock = clocks(session, application_id)[1]
        assert local(application_clock.due_at) == "2026-11-17 23:59:59"  # C4: R + 16
        assert not instance(session, application_id).clock_paused
        view = deadlines.current(session, application_id)
        assert view is not None and (view.seq, view.state, view.elapsed) == \
            (application_clock.seq, "running", 4)
        assert_in_step(session, application_id)


def test_an_extension_is_requested_and_decided_through_the_runtime(world: World) -> None:
    application_id = start(world)
    with world.session() as session, db.unit_of_work(session):
        with pytest.raises(Invalid) as refused:
            runtime.act_on_application(session, world.actor("rev1"), application_id,
                                       "request_extension", now=t("2026-11-02T10:00"),
                                       units=10, reason="现场核查", approver_id=None)
        assert refused.value.code == "extension_needs_approver"
    with world.session() as session, db.unit_of_work(session):
        runtime.act_on_application(session, world.actor("rev1"), application_id,
                                   "request_extension", now=t("2026-11-02T10:00"), units=10,
                                   reason="现场核查", approver_id=world.users["admin"])
    with world.session() as session, db.unit_of_work(session):
        with pytest.raises(NotYours):
            runtime.act_on_application(session, world.actor("rev1"), application_id,
                                       "decide_extension", now=t("2026-11-02T11:00"),
                                       approve=True)
    with world.session() as session, db.unit_of_work(session):
        runtime.act_on_application(session, world.actor("admin"), application_id,
                                   "decide_extension", now=t("2026-11-02T11:00"), approve=True,
                                   comment="同意")
    with world.session() as session:
        application_clock = clocks(session, application_id)[1]
        assert (application_clock.extended, application_clock.pending_extension,
                local(application_clock.due_at)) == (10, None, "2026-11-23 23:59:59")
        assert_in_step(session, application_id)


def test_a_timer_fired_twice_acts_once(world: World) -> None:
    application_id = start(world)
    with world.session() as session:
        timeout = task_timeout(session, application_id)
    timer_id = saved_id(timeout)
    with world.session() as session, db.unit_of_work(session):
        assert runtime.fire_timer(session, timer_id, t("2026-10-15T00:00")) == "done"
    with world.session() as session, db.unit_of_work(session):
        assert runtime.fire_timer(session, timer_id, t("2026-10-15T00:01")) == "stale"
    with world.session() as session:
        assert events(session, application_id, "overdue") == 1
        assert events(session, application_id, "reminded") == 1
        assert instance(session, application_id).overdue
        [task] = open_tasks(session, application_id)
        view = deadlines.for_task(session, saved_id(task))
        assert view is not None and view.overdue and view.scope == "task"
        assert session.get(FlowTimer, timer_id).state == "done"  # type: ignore[union-attr]
        assert_in_step(session, application_id)


def test_a_stale_timer_after_the_task_was_done_changes_nothing(world: World) -> None:
    application_id = start(world)
    with world.session() as session:
        timeout = task_timeout(session, application_id)
        [task] = open_tasks(session, application_id)
    with world.session() as session, db.unit_of_work(session):
        runtime.act(session, world.actor("rev1"), saved_id(task), "approve", version=None,
                    now=t("2026-10-13T10:00"))
    with world.session() as session:
        assert session.get(FlowTimer, saved_id(timeout)).state == "cancelled"  # type: ignore[union-attr]
        assert timers(session, application_id) == []  # the decision ended both clocks
        assert [c.state for c in clocks(session, application_id)] == ["done", "done"]
    with world.session() as session, db.unit_of_work(session):
        assert runtime.fire_timer(session, saved_id(timeout), t("2026-10-15T00:00")) == "stale"
    with world.session() as session:
        assert events(session, application_id, "overdue") == 0


def test_two_workers_firing_one_timer_at_once_fire_it_once(world: World) -> None:
    application_id = start(world)
    with world.session() as session:
        timeout = task_timeout(session, application_id)
    timer_id = saved_id(timeout)
    outcome: dict[str, Any] = {}
    started = threading.Event()

    def second() -> None:
        with world.session() as session:
            started.set()
            try:
                session.connection(execution_options={"sqlite_immediate": True})
                outcome["result"] = runtime.fire_timer(session, timer_id, t("2026-10-15T00:00"))
                session.commit()
            except BaseException as exc:  # the loser's refusal, reported to the test
                session.rollback()
                outcome["error"] = exc

    with world.session() as session:
        session.connection(execution_options={"sqlite_immediate": True})
        assert runtime.fire_timer(session, timer_id, t("2026-10-15T00:00")) == "done"
        session.flush()
        thread = threading.Thread(target=second)
        thread.start()
        started.wait(5)
        time.sleep(0.5)  # the second worker now waits on the first
        session.commit()
    thread.join(30)
    assert not thread.is_alive()
    # SQLite serialises the two (the second sees the timer done); PostgreSQL's second loses
    # the instance's optimistic lock.
    assert outcome.get("result") == "stale" or isinstance(outcome.get("error"), Stale)
    with world.session() as session:
        assert events(session, application_id, "overdue") == 1
        assert_in_step(session, application_id)


def test_a_clock_past_the_calendar_gets_its_due_day_when_the_next_year_is_published(
        world: World) -> None:
    """20 working days from 2026-12-15 run into 2027, which CAL-T lacks: the clock says so and
    has no timers. Publishing CAL-T with 2027 counts it again in the same transaction: due
    2027-01-12, its timers scheduled, one ``deadline_known`` event; counting again changes
    nothing."""
    from tongban import PROJECT_ROOT
    from tongban.workflow.runtime import publish_calendar

    application_id = start(world, "2026-12-15T09:00")
    with world.session() as session:
        application_clock = clocks(session, application_id)[1]
        assert application_clock.due_at is None
        assert application_clock.data["unknown"] == "calendar for 2027 not yet published"
        assert [x.deadline_seq for x in timers(session, application_id)] == [
            clocks(session, application_id)[0].seq] * 2
    text = (PROJECT_ROOT / "tests/calendars/cal-t.yaml").read_text("utf-8") + (
        "  2027:\n    source: test\n    holidays: []\n    workdays: []\n")
    with world.session() as session, db.unit_of_work(session):
        outcome = publish_calendar(session, text, file="cal-t.yaml", author="admin")
        assert not outcome.problems and outcome.version is not None
    with world.session() as session:
        application_clock = clocks(session, application_id)[1]
        assert local(application_clock.due_at) == "2027-01-12 23:59:59"
        assert "unknown" not in application_clock.data
        assert [(x.kind, local(x.due_at)) for x in timers(session, application_id)
                if x.deadline_seq == application_clock.seq] == [
            ("deadline.due_soon", "2027-01-11 23:59:59"),
            ("deadline.timeout", "2027-01-12 23:59:59")]
        assert events(session, application_id, "deadline_known") == 1
        assert_in_step(session, application_id)
    with world.session() as session, db.unit_of_work(session):
        assert runtime.recount_unknown_deadlines(session) == 0
    with world.session() as session:
        assert events(session, application_id, "deadline_known") == 1


def test_a_deemed_acceptance_starts_the_decision_period_on_the_day_the_application_arrived(
        world: World) -> None:
    """行政许可法 §32: no answer at intake within 5 working days and the application is accepted
    as of the day it arrived, so the 20 working days run from Monday 2026-10-12 (due 11-09 on
    CAL-T), not from the timer that deemed it accepted on 10-20 (which would give 11-17)."""
    flow = copy.deepcopy(FLOW)
    flow["code"] = "timed-intake"
    flow["deadlines"][0]["starts_on"] = "accepted"
    flow["nodes"]["start"]["next"] = "intake"
    flow["nodes"]["intake"] = {
        "type": "task", "kind": "intake", "name": {"zh": "受理", "en": "Intake"},
        "who": {"user": "rev1"}, "operations": ["accept", "refuse_intake"],
        "deadline": {"preset": "intake_answer"}, "next": "review"}
    at = t("2026-10-12T09:00")
    with world.session() as session, db.unit_of_work(session):
        flow_id = _version(session, "flow", "timed-intake", flow)
        service_id = _version(session, "service", "svc-timed-intake", {
            "code": "svc-timed-intake", "flow": "timed-intake", "department": {"code": "d1"},
            "calendar": "cal-t"})
        application = Application(
            reference=new_reference(at), idempotency_key=secrets.token_hex(16),
            service_code="svc-timed-intake", service_version_id=service_id,
            form_version_id=world.form_version_id, answers={"name": "张三"}, status="submitted",
            flow_version_id=flow_id, submitter_id=world.users["citizen"], department_code="d1",
            submitted_at=at)
        session.add(application)
        session.flush()
        runtime.start_flow(session, application, now=at)
        application_id = saved_id(application)
    with world.session() as session:
        [intake_clock] = clocks(session, application_id)
        assert local(intake_clock.due_at) == "2026-10-19 23:59:59"
        timeout = next(x for x in timers(session, application_id) if x.kind == "deadline.timeout")
    with world.session() as session, db.unit_of_work(session):
        assert runtime.fire_timer(session, saved_id(timeout), t("2026-10-20T00:00:05")) == "done"
    with world.session() as session:
        assert events(session, application_id, "deemed_accepted") == 1
        application_clock = next(c for c in clocks(session, application_id)
                                 if c.scope == "application")
        assert local(application_clock.started_at) == "2026-10-12 09:00:00"
        assert local(application_clock.due_at) == "2026-11-09 23:59:59"
        assert_in_step(session, application_id)
