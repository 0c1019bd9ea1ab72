"""Kill the worker in the middle of firing the engine's own deadline timers: every overdue
intake is deemed accepted exactly once (行政许可法 §32).

Many applications whose intake answer (preset ``intake_answer``: five working days, on timeout
``accept``) ran out long ago, started through the runtime with a ``now`` in the past. A real
worker process (huey's consumer, as `tongban flow work` runs it) fires their ``deadline.*``
timers through ``runtime.timer_handler``; a test-only hook (an environment variable of the
worker, see ``timer_worker_main``) sleeps with the transaction open right after the first
deemed acceptance, and the worker is SIGKILLed there. One or two successors carry on."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import col

from tongban import audit
from tongban.models import Application, AuditEvent, FlowEvent, FlowInstance, FlowTask, FlowTimer, saved_id
from tongban.workflow import runtime
from tongban.workflow.state import WORK_OPEN

from . import timer_handlers as th
from .flow_world import World, build
from .worker_processes import Workers, wait_for

APPLICATIONS = 60


@pytest.fixture
def world(app: Flask) -> World:
    runtime._compiled.clear()
    return build(app.extensions["tongban.engine"])


@pytest.fixture
def workers(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Workers]:
    key_file = Path(app.instance_path) / audit.KEY_FILE
    found = Workers(database_url, f"sqlite:///{tmp_path / 'queue.db'}",
                    {"TONGBAN_TEST_AUDIT_KEY_FILE": str(key_file)})
    yield found
    found.stop_all()


def _timers(world: World) -> dict[int, FlowTimer]:
    with world.session() as session:
        return {saved_id(row): row for row in session.scalars(select(FlowTimer))}


def _versions(world: World) -> dict[int, int]:
    with world.session() as session:
        return dict(session.execute(select(col(FlowInstance.id), col(FlowInstance.version))).all())


def _kill_mid_firing(world: World, workers: Workers, tmp_path: Path, successors: int) -> None:
    references = th.overdue_intakes(world, APPLICATIONS)
    before = _timers(world)
    assert Counter(row.kind for row in before.values()) == {
        "deadline.due_soon": APPLICATIONS, "deadline.timeout": APPLICATIONS}
    versions = _versions(world)
    marker = tmp_path / "slow-marker"
    first = workers.start(slow_marker=marker)
    wait_for(marker.exists, 60, "a deemed acceptance to be in flight")
    wait_for(lambda: marker.read_text() != "", 5, "the marker to name its timer")
    first.send_signal(signal.SIGKILL)  # the acceptance is written, not committed
    first.wait(timeout=30)
    killed_timer = int(marker.read_text())
    at_kill = _timers(world)
    held = {timer_id for timer_id, row in at_kill.items() if row.state == "claimed"}
    assert killed_timer in held  # the killed transaction committed nothing
    in_flight = {timer_id for timer_id in held
                 if at_kill[timer_id].claimed_by == at_kill[killed_timer].claimed_by}
    for _ in range(successors):
        workers.start()

    def settled() -> bool:
        states = {timer_id: row.state for timer_id, row in _timers(world).items()}
        failed = sorted(timer_id for timer_id, state in states.items() if state == "failed")
        assert not failed, f"timers failed (their tries used up): {failed}"
        return all(state in ("done", "cancelled") for state in states.values())

    # A bound on liveness, not a speed check: on a loaded machine the lease runs out late.
    wait_for(settled, 300, "every timer to be done or cancelled")
    after = _timers(world)
    with world.session() as session:
        events = session.execute(select(col(FlowEvent.instance_id), col(FlowEvent.seq),
                                        col(FlowEvent.type), col(FlowEvent.status))).all()
        reviews = Counter(session.scalars(select(col(FlowTask.instance_id)).where(
            col(FlowTask.node) == "review", col(FlowTask.state).in_(WORK_OPEN))))
        instances = {saved_id(row): row for row in session.scalars(select(FlowInstance))}
        applications = {row.reference: row.status for row in session.scalars(select(Application))}
        accepted_audit = Counter(session.scalars(select(col(AuditEvent.object_id)).where(
            col(AuditEvent.action) == "flow.deemed_accepted")))
        chain = audit.verify(session)
    deemed = Counter(instance for instance, _, kind, _ in events if kind == "deemed_accepted")
    # Every instance deemed accepted exactly once: one event (status accepted), one audit
    # entry, and the flow moved on once: one open review task, the status the review's.
    assert deemed == dict.fromkeys(references, 1)
    assert {status for _, _, kind, status in events if kind == "deemed_accepted"} == {"accepted"}
    assert accepted_audit == dict.fromkeys(references.values(), 1)
    assert reviews == dict.fromkeys(references, 1)
    assert {instances[i].status for i in references} == {"in_progress"}
    assert {applications[ref] for ref in references.values()} == {"in_progress"}
    # No timer lost: each timeout fired (done), each due-soon done or cancelled as stale.
    assert {row.state for row in after.values() if row.kind == "deadline.timeout"} == {"done"}
    assert {row.state for row in after.values()} <= {"done", "cancelled"}
    # The batch the killed worker was firing (its claim token) was handed on by the reaper
    # and claimed again; the batches it had left in the queue were taken as they were.
    assert all(after[timer_id].attempts >= 2 for timer_id in in_flight)
    assert after[killed_timer].fired_at is not None
    # The versions fit: each committed firing moved its instance on by one, nothing else did,
    # each instance was marked overdue once, and no event number was used twice.
    fired = Counter(row.instance_id for row in after.values() if row.fired_at is not None)
    assert {i: instances[i].version for i in references} \
        == {i: versions[i] + fired[i] for i in references}
    overdue = Counter(instance for instance, _, kind, _ in events if kind == "overdue")
    assert overdue == dict.fromkeys(references, 1)
    assert len({(instance, seq) for instance, seq, _, _ in events}) == len(events)
    assert chain.ok, chain.reason


def test_a_worker_killed_mid_acceptance_accepts_each_intake_once(
        world: World, workers: Workers, tmp_path: Path) -> None:
    _kill_mid_firing(world, workers, tmp_path, successors=1)


def test_two_workers_after_the_kill_accept_each_intake_once(
        world: World, workers: Workers, tmp_path: Path) -> None:
    _kill_mid_firing(world, workers, tmp_path, successors=2)
