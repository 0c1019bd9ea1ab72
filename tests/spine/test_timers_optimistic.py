"""The optimistic batch (``timers.fire_optimistic``, what ``TIMER_BATCH`` > 1 fires on
PostgreSQL): ONE guard statement for the whole batch, the handlers, one commit, no savepoints.
It fires every timer once with its effect; when a handler fails or finds its instance changed,
the batch is fired again a savepoint each and ends as one transaction per timer would; a claim
that no longer holds is lost with no effect; its statements per timer are the handler's own."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from tongban import db
from tongban.models import TimerFacts
from tongban.workflow import timers
from tongban.workflow.errors import Stale

from . import timer_handlers as th
from .flow_world import T0, World

NOW = T0 + timedelta(minutes=5)
LEASE = timedelta(seconds=60)
MIXED = ["test.bump", "test.fail", "test.bump", "test.gone", "test.race", "test.bump"]


@pytest.fixture
def world(timer_world: World) -> World:
    races: set[int] = set()

    def race(session: Session, timer: TimerFacts, now: datetime) -> str:
        th.bump(session, timer, now)
        if timer.id not in races:  # someone acted on the application meanwhile, once
            races.add(timer.id)
            raise Stale("stale", "the instance changed meanwhile")
        return "done"

    timers.HANDLERS["test.race"] = race
    return timer_world  # the test handlers are removed again by timer_world


def _fire_optimistic(world: World, claims: list[timers.Claim]) -> list[timers.Outcome]:
    with db.held_session(world.engine) as session:
        return timers.fire_optimistic(session, claims, NOW)


def _statements(world: World) -> list[str]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(world.engine, "before_cursor_execute", count)
    return seen


def test_an_optimistic_batch_fires_every_timer_once_with_its_effect(world: World) -> None:
    ids = th.schedule(world, th.instances(world, 3), 9, NOW)
    claims = timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="w1")
    outcomes = _fire_optimistic(world, claims)
    assert sorted((o.timer_id, o.state, o.attempt) for o in outcomes) \
        == [(i, "done", 1) for i in ids]
    assert th.effects(world) == {i: 1 for i in ids}
    rows = th.timer_rows(world)
    assert {(rows[i].state, rows[i].fired_at, rows[i].lease_until) for i in ids} \
        == {("done", NOW, None)}


def test_a_batch_of_50_bump_timers_costs_the_handlers_statements_and_a_few_more(
        world: World) -> None:
    """A test.bump handler runs four statements; the batch adds its one guard (and on
    SQLite the BEGIN IMMEDIATE), not two savepoint statements and a guard per timer."""
    ids = th.schedule(world, th.many_instances(world, 50), 50, NOW)
    claims = timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="w1")
    statements = _statements(world)
    outcomes = _fire_optimistic(world, claims)
    fired = list(statements)
    assert {o.state for o in outcomes} == {"done"}
    assert th.effects(world) == {i: 1 for i in ids}
    assert len(fired) <= 4 * 50 + 3, [s for s in fired if "flow_instance" not in s
                                      and "flow_event" not in s]


def test_the_savepoint_batch_costs_three_statements_more_a_timer(world: World) -> None:
    """The measure the bound above is set against: the same 50 timers a savepoint each."""
    th.schedule(world, th.many_instances(world, 50), 50, NOW)
    claims = timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="w1")
    statements = _statements(world)
    with db.held_session(world.engine) as session:
        timers.fire_batch(session, claims, NOW)
    assert len(statements) >= 7 * 50


def _mixed(world: World, prefix: str) -> list[int]:
    """One timer of each MIXED kind, each on an instance of its own; their ids."""
    instance_ids = sorted(th.many_instances(world, len(MIXED)))
    return [th.schedule(world, [instance], 1, NOW, kind=kind, prefix=f"{prefix}{n}")[0]
            for n, (instance, kind) in enumerate(zip(instance_ids, MIXED, strict=True))]


def _ended(world: World, ids: list[int], outcomes: list[timers.Outcome]) -> list[tuple[Any, ...]]:
    rows = th.timer_rows(world)
    effects = th.effects(world)
    by_id = {o.timer_id: o for o in outcomes}
    return [(by_id[i].state, by_id[i].error, rows[i].state, rows[i].attempts,
             rows[i].lease_until, rows[i].last_error, rows[i].fired_at, rows[i].claimed_by,
             effects.get(i, 0)) for i in ids]


def test_a_failing_and_a_stale_handler_end_as_with_one_transaction_per_timer(
        world: World) -> None:
    optimistic = _mixed(world, "o")
    claims = timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="w1")
    outcomes = _fire_optimistic(world, claims)
    one_each = _mixed(world, "e")
    outcomes_one_each = timers.fire_many(
        world.engine, timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="w1"),
        NOW, batch=1)
    ended = _ended(world, optimistic, outcomes)
    assert ended == _ended(world, one_each, outcomes_one_each)
    assert [row[:2] for row in ended] == [
        ("done", ""), ("pending", "RuntimeError: the handler broke"), ("done", ""),
        ("cancelled", ""), ("pending", "the instance changed meanwhile (Stale)"), ("done", "")]
    assert [row[-1] for row in ended] == [1, 0, 1, 0, 0, 1]  # the effects, once or not at all


def test_a_claim_that_no_longer_holds_is_lost_and_makes_no_effect(world: World) -> None:
    instance_ids = th.instances(world, 2)
    [reclaimed] = th.schedule(world, instance_ids[:1], 1, NOW, prefix="r")
    stale_claims = timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="w1")
    # w1's lease runs out, the reaper hands the timer on and w2 holds it now; another timer,
    # due then, is w1's again: one batch with two tokens, the first one no longer holding.
    later = NOW + LEASE + timedelta(seconds=1)
    assert timers.reap_expired(world.engine, later) == (1, 0)
    [current] = timers.claim_batch(world.engine, later, lease=LEASE, claimed_by="w2")
    [fresh] = th.schedule(world, instance_ids[1:], 1, later, prefix="f")
    fresh_claims = timers.claim_batch(world.engine, later, lease=LEASE, claimed_by="w1")
    with db.held_session(world.engine) as session:
        outcomes = timers.fire_optimistic(session, stale_claims + fresh_claims, later)
    assert [(o.timer_id, o.state) for o in outcomes] == [(reclaimed, "lost"), (fresh, "done")]
    assert th.effects(world) == {fresh: 1}
    row = th.timer_rows(world)[reclaimed]
    assert (row.state, row.claimed_by, row.attempts) == ("claimed", "w2", 2)
    with db.held_session(world.engine) as session:
        [again] = timers.fire_optimistic(session, [current], later)
    assert (again.timer_id, again.state, again.attempt) == (reclaimed, "done", 2)
    assert th.effects(world) == {fresh: 1, reclaimed: 1}
