"""Durable timers without the worker process: claiming with a lease, firing in one transaction,
the reaper, backoff after a failing handler, failure for good, and the queue's dispatcher."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from huey import MemoryHuey
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from tongban.models import TimerFacts
from tongban.workflow import queue, timers

from . import timer_handlers as th
from .flow_world import T0, World, build

NOW = T0 + timedelta(minutes=5)
PAST = datetime(2020, 1, 1, tzinfo=UTC)  # due whatever the real clock says
LEASE = timedelta(seconds=60)


@pytest.fixture
def world(app) -> Iterator[World]:  # type: ignore[no-untyped-def]
    th.register()
    yield build(app.extensions["tongban.engine"])
    th.unregister()


def test_due_timers_are_claimed_once_each_with_a_lease(world: World) -> None:
    [instance] = th.instances(world, 1)
    due = th.schedule(world, [instance], 3, NOW - timedelta(seconds=1))
    [later] = th.schedule(world, [instance], 1, NOW + timedelta(seconds=1), prefix="later")
    claims = timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="w1")
    assert [(c.timer_id, c.claimed_by, c.attempt) for c in claims] == [(i, "w1", 1) for i in due]
    rows = th.timer_rows(world)
    assert {(rows[i].state, rows[i].lease_until, rows[i].attempts) for i in due} \
        == {("claimed", NOW + LEASE, 1)}
    assert rows[later].state == "pending"
    assert timers.claim_batch(world.engine, NOW, claimed_by="w2") == []


def test_firing_makes_the_effect_once_and_marks_the_timer_done(world: World) -> None:
    instance_ids = th.instances(world, 2)
    ids = th.schedule(world, instance_ids, 4, NOW)
    versions = th.bumps(world)
    outcomes = timers.run_due(world.engine, NOW)
    assert sorted((o.timer_id, o.state, o.attempt) for o in outcomes) == [(i, "done", 1) for i in ids]
    assert th.effects(world) == {i: 1 for i in ids}
    assert th.bumps(world) == versions + 4  # each effect moved an instance's version on
    rows = th.timer_rows(world)
    assert {(rows[i].state, rows[i].fired_at, rows[i].lease_until) for i in ids} \
        == {("done", NOW, None)}
    assert timers.run_due(world.engine, NOW + timedelta(hours=1)) == []


def test_a_claim_the_reaper_handed_on_fires_nothing(world: World) -> None:
    [instance] = th.instances(world, 1)
    [timer_id] = th.schedule(world, [instance], 1, NOW)
    [old] = timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="dead-worker")
    assert timers.reap_expired(world.engine, NOW + LEASE) == (0, 0)  # not yet run out
    assert timers.reap_expired(world.engine, NOW + LEASE + timedelta(seconds=1)) == (1, 0)
    assert th.timer_rows(world)[timer_id].state == "pending"
    [new] = timers.claim_batch(world.engine, NOW + LEASE * 2, lease=LEASE, claimed_by="w2")
    assert (new.timer_id, new.attempt) == (timer_id, 2)
    assert timers.fire(world.engine, old, NOW + LEASE * 2).state == "lost"
    assert th.effects(world) == {}
    assert timers.fire(world.engine, new, NOW + LEASE * 2).state == "done"
    assert timers.fire(world.engine, new, NOW + LEASE * 2).state == "lost"
    assert th.effects(world) == {timer_id: 1}


def test_the_reaper_fails_a_timer_whose_tries_are_spent(world: World) -> None:
    [instance] = th.instances(world, 1)
    [timer_id] = th.schedule(world, [instance], 1, NOW)
    at = NOW
    for attempt in (1, 2):
        [claim] = timers.claim_batch(world.engine, at, lease=LEASE, claimed_by=f"w{attempt}")
        assert claim.attempt == attempt
        at += LEASE + timedelta(seconds=1)
        assert timers.reap_expired(world.engine, at, max_attempts=2) \
            == ((1, 0) if attempt == 1 else (0, 1))
    row = th.timer_rows(world)[timer_id]
    assert (row.state, row.attempts, row.claimed_by) == ("failed", 2, None)
    assert "lease ran out" in row.last_error
    assert th.effects(world) == {}


def test_a_failing_handler_is_retried_with_doubling_backoff_then_fails(world: World) -> None:
    [instance] = th.instances(world, 1)
    [timer_id] = th.schedule(world, [instance], 1, NOW, kind="test.fail")
    versions = th.bumps(world)
    [first] = timers.run_due(world.engine, NOW, max_attempts=3)
    assert (first.state, first.attempt, first.error) == ("pending", 1, "RuntimeError: the handler broke")
    row = th.timer_rows(world)[timer_id]
    assert (row.state, row.lease_until, row.claimed_by) == ("pending", NOW + timedelta(seconds=10), None)
    assert timers.run_due(world.engine, NOW + timedelta(seconds=9), max_attempts=3) == []
    [second] = timers.run_due(world.engine, NOW + timedelta(seconds=10), max_attempts=3)
    assert (second.state, second.attempt) == ("pending", 2)
    assert th.timer_rows(world)[timer_id].lease_until == NOW + timedelta(seconds=30)
    [third] = timers.run_due(world.engine, NOW + timedelta(seconds=30), max_attempts=3)
    assert (third.state, third.attempt) == ("failed", 3)
    row = th.timer_rows(world)[timer_id]
    assert (row.state, row.attempts, row.fired_at, row.last_error) \
        == ("failed", 3, None, "RuntimeError: the handler broke")
    assert th.effects(world) == {} and th.bumps(world) == versions  # every try was rolled back
    assert timers.run_due(world.engine, NOW + timedelta(days=1), max_attempts=3) == []


def test_a_timer_of_an_unknown_kind_counts_as_a_failed_try(world: World) -> None:
    [instance] = th.instances(world, 1)
    th.schedule(world, [instance], 1, NOW, kind="nobody.knows")
    [outcome] = timers.run_due(world.engine, NOW)
    assert (outcome.state, outcome.error) \
        == ("pending", "NoHandler: no handler for timer kind 'nobody.knows'")


def test_a_timer_that_no_longer_applies_is_cancelled(world: World) -> None:
    [instance] = th.instances(world, 1)
    [timer_id] = th.schedule(world, [instance], 1, NOW, kind="test.gone")
    [outcome] = timers.run_due(world.engine, NOW)
    assert outcome.state == "cancelled"
    row = th.timer_rows(world)[timer_id]
    assert (row.state, row.fired_at, row.last_error) == ("cancelled", NOW, "not fired: stale")


def test_a_lost_optimistic_lock_is_retried_at_once_without_counting(world: World) -> None:
    [instance] = th.instances(world, 1)
    [timer_id] = th.schedule(world, [instance], 1, NOW, kind="test.race")
    raced: list[int] = []

    def race(session: Session, timer: TimerFacts, now: datetime) -> str:
        th.bump(session, timer, now)
        if not raced:
            raced.append(1)  # what the flush of a changed instance raises
            raise StaleDataError("UPDATE statement on table 'flow_instance' matched 0 rows")
        return "done"

    timers.HANDLERS["test.race"] = race
    try:
        [first] = timers.run_due(world.engine, NOW)
        assert first.state == "pending"
        row = th.timer_rows(world)[timer_id]
        assert (row.attempts, row.lease_until) == (0, NOW + timedelta(seconds=1))
        [second] = timers.run_due(world.engine, NOW + timedelta(seconds=1))
        assert (second.state, second.attempt) == ("done", 1)
    finally:
        del timers.HANDLERS["test.race"]
    assert th.effects(world) == {timer_id: 1}


def test_the_dispatcher_fills_the_queue_a_few_batches_ahead_and_each_job_refills_it(
        world: World) -> None:
    [instance] = th.instances(world, 1)
    ids = th.schedule(world, [instance], 7, PAST)
    huey = MemoryHuey("test-timers", results=False, utc=True)
    jobs = queue.build(world.engine, queue.QueueSettings(url="sqlite:///unused", job=2, workers=1,
                                                         outbox=False), huey=huey)
    assert jobs.dispatch() == 4  # two batches of two: the fill level of one worker
    assert jobs.backlog() == 2
    assert jobs.dispatch() == 0  # full: nothing more is claimed
    huey.execute(huey.dequeue())  # fires two, then claims the next batch into the free place
    assert sorted(th.effects(world)) == ids[:2]
    assert jobs.backlog() == 2
    rows = th.timer_rows(world)
    assert [rows[i].state for i in ids] \
        == ["done"] * 2 + ["claimed"] * 4 + ["pending"]
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    assert th.effects(world) == {i: 1 for i in ids}
    assert jobs.dispatch() == 0


def test_the_work_command_once_fires_due_timers(world: World, cli) -> None:  # type: ignore[no-untyped-def]
    [instance] = th.instances(world, 1)
    [timer_id] = th.schedule(world, [instance], 1, PAST)
    result = cli("flow", "work", "--once")
    assert result.exit_code == 0, result.output
    assert f"timer {timer_id} attempt 1 done" in result.output
    assert "1 timer(s) handled." in result.output
