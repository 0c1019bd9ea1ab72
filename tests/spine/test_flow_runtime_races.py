"""Two real sessions acting at once on the same task or application: exactly one succeeds, the
other is refused (409) naming who handled it, nothing is doubled. Run on SQLite (the write lock
serialises them) and PostgreSQL (the optimistic lock of the version columns decides)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, col

from tongban.models import AuditEvent, FlowEvent, FlowInstance, FlowTask
from tongban.workflow import runtime
from tongban.workflow.errors import AlreadyHandled, FlowError, Stale

from .flow_world import World, assert_in_step, build, later, open_tasks, submit

Step = Callable[[Session], object]


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build(app.extensions["tongban.engine"])


def race(world: World, first: Step, second: Step) -> tuple[object, BaseException | None]:
    """``first`` runs and flushes in its own transaction and holds it open; ``second`` starts
    in another session (it reads, then blocks on the rows or the write lock); then ``first``
    commits. Returns first's result and what ``second`` raised (None if it succeeded)."""
    outcome: dict[str, BaseException | None] = {"error": None}
    started = threading.Event()

    def run_second() -> None:
        with world.session() as session:
            started.set()
            try:
                session.connection(execution_options={"sqlite_immediate": True})
                second(session)
                session.commit()
            except BaseException as exc:  # the loser's refusal, reported to the test
                session.rollback()
                outcome["error"] = exc

    with world.session() as session:
        session.connection(execution_options={"sqlite_immediate": True})
        result = first(session)
        session.flush()
        thread = threading.Thread(target=run_second)
        thread.start()
        started.wait(5)
        time.sleep(0.5)  # the second transaction is now waiting on the first
        session.commit()
    thread.join(30)
    assert not thread.is_alive()
    return result, outcome["error"]


def _count(session: Session, model: type, application_id: int) -> int:
    return int(session.execute(
        select(func.count()).select_from(model)
        .join(FlowInstance, col(FlowInstance.id) == model.instance_id)  # type: ignore[attr-defined]
        .where(col(FlowInstance.application_id) == application_id)).scalar() or 0)


def test_two_reviewers_claiming_one_group_task_at_once_exactly_one_gets_it(world: World) -> None:
    application_id = submit(world, "group")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
    task_id, version = task.id, task.version
    assert task_id is not None

    def claim(username: str) -> Step:
        return lambda session: runtime.act(session, world.actor(username), task_id, "claim",
                                           version=version, now=later(5))

    _, error = race(world, claim("rev1"), claim("rev2"))
    assert isinstance(error, FlowError) and error.status in (403, 409)
    with world.session() as session:
        claimed = session.get(FlowTask, task_id)
        assert claimed is not None
        assert (claimed.state, claimed.assignee_id) == ("claimed", world.users["rev1"])
        assert session.scalars(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.action) == "flow.task_claimed")).one() == 1
        assert_in_step(session, application_id)


def test_the_same_approval_sent_twice_at_once_is_done_once(world: World) -> None:
    application_id = submit(world, "two-step")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
        events_before = _count(session, FlowEvent, application_id)
    task_id = task.id
    assert task_id is not None

    def approve(session: Session) -> object:
        return runtime.act(session, world.actor("rev1"), task_id, "approve", version=None,
                           now=later(5), comment="同意")

    _, error = race(world, approve, approve)
    assert isinstance(error, AlreadyHandled), error
    assert error.params["who"] == "rev1"
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        [second] = open_tasks(session, application_id)
        assert second.node == "second"
        assert session.scalars(select(func.count()).select_from(FlowEvent).where(
            col(FlowEvent.type) == "approved")).one() == 1
        assert _count(session, FlowTask, application_id) == 2
        assert _count(session, FlowEvent, application_id) > events_before


@pytest.mark.parametrize("winner", ["approve", "withdraw"])
def test_a_withdraw_racing_an_approval_has_exactly_one_winner(world: World, winner: str) -> None:
    application_id = submit(world, "one-step")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
    task_id = task.id
    assert task_id is not None

    def approve(session: Session) -> object:
        return runtime.act(session, world.actor("rev1"), task_id, "approve", version=None,
                           now=later(5))

    def withdraw(session: Session) -> object:
        return runtime.act_on_application(session, world.actor("citizen"), application_id,
                                          "withdraw", now=later(5))

    steps = (approve, withdraw) if winner == "approve" else (withdraw, approve)
    _, error = race(world, *steps)
    assert isinstance(error, FlowError) and error.status == 409, error
    assert isinstance(error, AlreadyHandled | Stale) or error.code in ("ended", "withdrawn")
    with world.session() as session:
        status = assert_in_step(session, application_id)
        assert status == ("approved" if winner == "approve" else "withdrawn")
        types = session.scalars(select(FlowEvent.type).join(
            FlowInstance, col(FlowInstance.id) == col(FlowEvent.instance_id)).where(
            col(FlowInstance.application_id) == application_id)).all()
        assert ("approved" in types) == (winner == "approve")
        assert ("withdrawn" in types) == (winner == "withdraw")


def test_two_reviewers_approving_one_group_task_at_once_the_second_hears_who_and_when(
        world: World) -> None:
    application_id = submit(world, "group")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
    task_id, version = task.id, task.version
    assert task_id is not None

    def approve(username: str) -> Step:
        return lambda session: runtime.act(session, world.actor(username), task_id, "approve",
                                           version=version, now=later(5), comment="同意")

    _, error = race(world, approve("rev1"), approve("rev2"))
    assert isinstance(error, AlreadyHandled), error
    assert error.params["who"] == "rev1"
    assert error.params["when"].startswith(later(5).isoformat()[:16])
    with world.session() as session:
        assert assert_in_step(session, application_id) == "approved"
        done = session.get(FlowTask, task_id)
        assert done is not None and done.done_by == world.users["rev1"]
        assert session.scalars(select(func.count()).select_from(FlowEvent).where(
            col(FlowEvent.type) == "approved")).one() == 1
