"""Service nodes through the outbox: the worker calls the hook outside any transaction, retries
with doubling backoff, raises an incident when the retries are spent and takes the fallback;
a row claimed by a worker that died is picked again after the lease."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from tongban import db
from tongban.models import AuditEvent, FlowInstance, FlowOutbox
from tongban.workflow import hooks, runtime, worker
from tongban.workflow.directory import DbDirectory

from .flow_world import World, assert_in_step, build, later, open_tasks, submit


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build(app.extensions["tongban.engine"])


@pytest.fixture
def double() -> Iterator[hooks.TestDouble]:
    yield hooks.test_double.configure()
    hooks.test_double.configure()


def _row(world: World, application_id: int) -> FlowOutbox:
    with world.session() as session:
        return session.scalars(select(FlowOutbox).join(
            FlowInstance, col(FlowInstance.id) == col(FlowOutbox.instance_id))
            .where(col(FlowInstance.application_id) == application_id)).one()


def test_the_submission_only_queues_the_call(world: World, double: hooks.TestDouble) -> None:
    application_id = submit(world, "service")
    row = _row(world, application_id)
    assert (row.state, row.hook, row.node, row.attempts) == ("pending", "test.double", "fetch", 0)
    assert double.calls == []
    with world.session() as session:
        assert assert_in_step(session, application_id) == "submitted"


def test_a_successful_call_moves_the_flow_on(world: World, double: hooks.TestDouble) -> None:
    double.configure(result={"hukou": "上海"})
    application_id = submit(world, "service")
    outcomes = worker.run_due(world.engine, later(1))
    assert [(o.state, o.attempt) for o in outcomes] == [("done", 1)]
    assert double.calls == [{"options": {"source": "police"}}]
    row = _row(world, application_id)
    assert (row.state, row.result) == ("done", {"hukou": "上海"})
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        [task] = open_tasks(session, application_id)
        assert task.node == "review"
        instance = session.scalars(select(FlowInstance).where(
            col(FlowInstance.application_id) == application_id)).one()
        assert instance.vars["services"]["fetch"] == {"hukou": "上海"}
    assert worker.run_due(world.engine, later(2)) == []


def test_failures_are_retried_with_doubling_backoff_then_succeed(
        world: World, double: hooks.TestDouble) -> None:
    double.configure(fail_times=2)
    application_id = submit(world, "service")
    [first] = worker.run_due(world.engine, later(1))
    assert (first.state, first.attempt) == ("pending", 1)
    assert _row(world, application_id).next_attempt_at == later(1) + timedelta(seconds=10)
    assert worker.run_due(world.engine, later(1) + timedelta(seconds=9)) == []
    [second] = worker.run_due(world.engine, later(1) + timedelta(seconds=10))
    assert (second.state, second.attempt) == ("pending", 2)
    assert _row(world, application_id).next_attempt_at \
        == later(1) + timedelta(seconds=10 + 20)
    [third] = worker.run_due(world.engine, later(2))
    assert (third.state, third.attempt) == ("done", 3)
    assert len(double.calls) == 3
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        failed = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.service_failed")).all()
        assert [event.after["data"]["final"] for event in failed] == [False, False]  # type: ignore[index]


def test_spent_retries_raise_an_incident_and_open_the_fallback_task(
        world: World, double: hooks.TestDouble) -> None:
    double.configure(always_fail=True)
    application_id = submit(world, "service")
    for minute in (1, 2, 3, 4):
        worker.run_due(world.engine, later(minute))
    assert len(double.calls) == 3  # the first attempt and 2 retries
    row = _row(world, application_id)
    assert (row.state, row.attempts) == ("failed", 3)
    assert "test double failed on call 3" in row.last_error
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        [task] = open_tasks(session, application_id)
        assert (task.node, task.kind, task.assignee_id) == ("manual", "data", world.users["rev1"])
        actions = session.scalars(select(AuditEvent.action).where(
            col(AuditEvent.action).in_(("flow.incident", "flow.service_failed")))).all()
        assert actions.count("flow.incident") == 1


def test_without_a_fallback_the_incident_stops_the_flow_until_an_admin_retries(
        world: World, double: hooks.TestDouble) -> None:
    from tongban.workflow import incidents

    double.configure(always_fail=True)
    application_id = submit(world, "service-bare")
    [outcome] = worker.run_due(world.engine, later(1))
    assert outcome.state == "failed"
    admin = world.actor("admin")
    with world.session() as session:
        tree = DbDirectory(session).tree()
        [incident] = incidents.list_incidents(session, admin, tree)
        assert (incident.kind, incident.node, incident.attempts) == ("service", "fetch", 1)
        assert incidents.list_incidents(session, world.actor("admin2"), tree) == []
        assert open_tasks(session, application_id) == []
    double.configure()
    with world.session() as session, db.unit_of_work(session) as tx:
        incidents.retry_service_call(tx, admin, tree, incident.outbox_id or 0, now=later(2),
                                     actor_name="admin")
    [again] = worker.run_due(world.engine, later(2))
    assert again.state == "done"
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        assert incidents.list_incidents(session, admin, tree) == []
        assert session.scalars(select(AuditEvent.actor_name).where(
            col(AuditEvent.action) == "flow.incident_retried")).one() == "admin"


def test_a_row_claimed_by_a_worker_that_died_is_picked_again_after_the_lease(
        world: World, double: hooks.TestDouble) -> None:
    application_id = submit(world, "service")
    with world.session() as session, db.unit_of_work(session):
        claim = worker.claim_next(session, later(1))  # ... and the worker dies here
    assert claim is not None and claim.attempt == 1
    assert worker.run_due(world.engine, later(1) + worker.LEASE - timedelta(seconds=1)) == []
    [outcome] = worker.run_due(world.engine, later(1) + worker.LEASE)
    assert (outcome.state, outcome.attempt) == ("done", 2)
    assert len(double.calls) == 1
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"


def test_a_late_worker_whose_lease_ran_out_does_not_finish_the_row_twice(
        world: World, double: hooks.TestDouble) -> None:
    application_id = submit(world, "service")
    with world.session() as session, db.unit_of_work(session):
        slow = worker.claim_next(session, later(1))
    assert slow is not None
    [outcome] = worker.run_due(world.engine, later(1) + worker.LEASE)
    assert outcome.state == "done"
    with world.session() as session, db.unit_of_work(session):
        late = worker.finish(session, slow, True, {}, "", later(8))
    assert late.state == "done"  # the row is done already: nothing changed
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        assert len(open_tasks(session, application_id)) == 1


def test_a_withdrawn_application_s_call_is_not_made(world: World, double: hooks.TestDouble) -> None:
    application_id = submit(world, "service")
    with world.session() as session, db.unit_of_work(session) as tx:
        runtime.act_on_application(tx, world.actor("citizen"), application_id, "withdraw",
                                   now=later(1))
    assert worker.run_due(world.engine, later(2)) == []
    assert _row(world, application_id).state == "cancelled"
    assert double.calls == []


def test_the_work_command_runs_the_due_calls_once(world: World, double: hooks.TestDouble,
                                                  cli) -> None:  # type: ignore[no-untyped-def]
    submit(world, "service")
    result = cli("flow", "work", "--once")
    assert result.exit_code == 0, result.output
    assert "attempt 1 done" in result.output
    assert "1 service call(s) handled." in result.output


def test_two_workers_claiming_at_once_take_different_rows(world: World,
                                                          double: hooks.TestDouble) -> None:
    import threading

    submit(world, "service")
    submit(world, "service")
    claims: dict[str, worker.Claim | None] = {}
    with world.session() as first:
        first.connection(execution_options={"sqlite_immediate": True})
        claims["a"] = worker.claim_next(first, later(1))
        first.flush()

        def second() -> None:  # PostgreSQL: skips the locked row; SQLite: waits for the lock
            with world.session() as session, db.unit_of_work(session):
                claims["b"] = worker.claim_next(session, later(1))

        thread = threading.Thread(target=second)
        thread.start()
        if world.engine.dialect.name == "postgresql":
            thread.join(5)
            assert not thread.is_alive()  # it did not wait for the first worker's row
        first.commit()
        thread.join(30)
    a, b = claims["a"], claims["b"]
    assert a is not None and b is not None and a.row_id != b.row_id


def test_a_result_that_loses_a_race_with_a_person_is_recorded_again(
        world: World, double: hooks.TestDouble, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tongban.workflow.errors import stale

    application_id = submit(world, "service")
    real = runtime.service_result
    raised: list[int] = []

    def once_stale(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not raised:
            raised.append(1)
            raise stale()
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime, "service_result", once_stale)
    [outcome] = worker.run_due(world.engine, later(1))
    assert (outcome.state, outcome.attempt) == ("done", 1)
    assert len(double.calls) == 1  # the hook was not called again
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        assert [task.node for task in open_tasks(session, application_id)] == ["review"]
