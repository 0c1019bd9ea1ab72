"""Timers fired in batches: on PostgreSQL a claimed batch is ONE transaction (one commit shared
by the batch; optimistic, see test_timers_optimistic.py, or with a SAVEPOINT per timer, the way
a batch in which a handler raised is fired again), on SQLite one transaction per timer. In the
savepoint batch a failing or stale timer is rolled back alone and its failure recorded in the
same transaction; a batch that dies commits nothing and the reaper re-drives it; a deadlock between
two batches returns the victim's timers to pending, none lost and none doubled."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

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


@pytest.fixture
def world(timer_world: World) -> World:
    return timer_world  # the test handlers registered (tests/spine/conftest.py)


def _one_each(world: World, kinds: list[str]) -> tuple[list[int], list[int]]:
    """One instance per kind (ascending ids, so a batch fires them in this order) and one
    timer of that kind on it, due at NOW: (instance ids, timer ids)."""
    instance_ids = sorted(th.instances(world, len(kinds)))
    timer_ids = [th.schedule(world, [instance], 1, NOW, kind=kind, prefix=f"k{n}")[0]
                 for n, (instance, kind) in enumerate(zip(instance_ids, kinds, strict=True))]
    return instance_ids, timer_ids


def _fire_as_one_batch(world: World) -> list[timers.Outcome]:
    claims = timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="w1")
    with db.held_session(world.engine) as session:
        return timers.fire_batch(session, claims, NOW)


def _commits(world: World) -> list[int]:
    counted: list[int] = []
    event.listen(world.engine, "commit", lambda _connection: counted.append(1))
    return counted


def test_a_batch_on_postgresql_commits_once_and_on_sqlite_once_per_timer(
        world: World, db_backend: str) -> None:
    instance_ids = th.instances(world, 3)
    ids = th.schedule(world, instance_ids, 6, NOW)
    claims = timers.claim_batch(world.engine, NOW, lease=LEASE, claimed_by="w1")
    assert {claim.instance_id for claim in claims} == set(instance_ids)
    commits = _commits(world)
    outcomes = timers.fire_many(world.engine, claims, NOW, batch=timers.FIRE_BATCH)
    assert [(o.timer_id, o.state) for o in outcomes] == [(i, "done") for i in ids]
    assert len(commits) == (1 if db_backend == "postgresql" else 6)
    assert th.effects(world) == {i: 1 for i in ids}


def test_the_batch_size_splits_the_claims_into_transactions(world: World, db_backend: str) -> None:
    instance_ids = th.instances(world, 2)
    ids = th.schedule(world, instance_ids, 5, NOW)
    commits = _commits(world)
    outcomes = timers.run_due(world.engine, NOW, batch=2)
    assert sorted((o.timer_id, o.state) for o in outcomes) == [(i, "done") for i in ids]
    # run_due's reap and its two claims (the second finds nothing) commit once each; the
    # firings: batches of 2 (2 + 2 + 1) on PostgreSQL, one each on SQLite
    assert len(commits) == 3 + (3 if db_backend == "postgresql" else 5)


def test_a_failing_handler_mid_batch_rolls_back_only_its_own_effect(world: World) -> None:
    _, [first, broken, last, gone] = _one_each(
        world, ["test.bump", "test.fail", "test.bump", "test.gone"])
    versions = th.bumps(world)
    outcomes = _fire_as_one_batch(world)
    assert [(o.timer_id, o.state, o.error) for o in outcomes] == [
        (first, "done", ""), (broken, "pending", "RuntimeError: the handler broke"),
        (last, "done", ""), (gone, "cancelled", "")]
    assert th.effects(world) == {first: 1, last: 1}
    assert th.bumps(world) == versions + 2  # the failed handler's bump was rolled back
    rows = th.timer_rows(world)
    assert (rows[broken].state, rows[broken].attempts, rows[broken].lease_until,
            rows[broken].claimed_by, rows[broken].last_error, rows[broken].fired_at) \
        == ("pending", 1, NOW + timedelta(seconds=10), None, "RuntimeError: the handler broke", None)
    assert [(rows[i].state, rows[i].fired_at) for i in (first, last)] == [("done", NOW)] * 2
    assert (rows[gone].state, rows[gone].last_error) == ("cancelled", "not fired: stale")


def test_a_stale_instance_mid_batch_is_retried_at_once_without_counting(world: World) -> None:
    _, [first, raced, last] = _one_each(world, ["test.bump", "test.race", "test.bump"])
    tries: list[int] = []

    def race(session: Session, timer: TimerFacts, now: datetime) -> str:
        th.bump(session, timer, now)
        tries.append(1)
        if len(tries) == 1:  # someone acted on the application meanwhile
            raise Stale("stale", "the instance changed meanwhile")
        return "done"

    timers.HANDLERS["test.race"] = race
    versions = th.bumps(world)
    outcomes = _fire_as_one_batch(world)
    assert [(o.timer_id, o.state) for o in outcomes] \
        == [(first, "done"), (raced, "pending"), (last, "done")]
    assert th.effects(world) == {first: 1, last: 1}
    assert th.bumps(world) == versions + 2
    row = th.timer_rows(world)[raced]
    assert (row.state, row.attempts, row.lease_until, row.last_error) \
        == ("pending", 0, NOW + timedelta(seconds=1), "the instance changed meanwhile (Stale)")
    [again] = timers.run_due(world.engine, NOW + timedelta(seconds=1))
    assert (again.timer_id, again.state, again.attempt) == (raced, "done", 1)
    assert th.effects(world) == {first: 1, raced: 1, last: 1}


def test_a_batch_that_dies_mid_way_commits_nothing_and_the_reaper_redrives_it(
        world: World) -> None:
    _, ids = _one_each(world, ["test.bump", "test.crash", "test.bump"])
    crashed: list[int] = []

    def crash(session: Session, timer: TimerFacts, now: datetime) -> str:
        th.bump(session, timer, now)
        if not crashed:
            crashed.append(1)
            raise SystemExit("the worker was stopped")  # not a handler's failure: it ends all
        return "done"

    timers.HANDLERS["test.crash"] = crash
    with pytest.raises(SystemExit):
        _fire_as_one_batch(world)
    assert th.effects(world) == {}
    rows = th.timer_rows(world)
    assert {(rows[i].state, rows[i].attempts) for i in ids} == {("claimed", 1)}
    assert timers.reap_expired(world.engine, NOW + LEASE + timedelta(seconds=1)) == (3, 0)
    outcomes = timers.run_due(world.engine, NOW + LEASE + timedelta(seconds=1))
    assert sorted((o.timer_id, o.state, o.attempt) for o in outcomes) \
        == [(i, "done", 2) for i in ids]
    assert th.effects(world) == {i: 1 for i in ids}


def _claims_in(order: list[int], claims: dict[int, timers.Claim],
               keep_instance: bool) -> list[timers.Claim]:
    return [claims[i] if keep_instance else timers.Claim(claims[i].timer_id,
                                                         claims[i].claimed_by,
                                                         claims[i].attempt)
            for i in order]


def _two_batches(world: World, kind: str, keep_instance: bool) -> tuple[
        list[int], list[list[timers.Outcome]]]:
    """Timers a1, b1 (batch one) and b2, a2 (batch two) on instances A < B, fired by two
    threads at once: batch two is given its claims in the opposite order. Returns the timer
    ids (a1, b1, b2, a2) and each batch's outcomes."""
    instance_a, instance_b = sorted(th.instances(world, 2))
    ids = [th.schedule(world, [instance], 1, NOW, kind=kind, prefix=name)[0]
           for instance, name in ((instance_a, "a1"), (instance_b, "b1"),
                                  (instance_b, "b2"), (instance_a, "a2"))]
    claims = {c.timer_id: c for c in timers.claim_batch(world.engine, NOW, lease=LEASE)}
    batches = [_claims_in(ids[:2], claims, keep_instance),
               _claims_in(ids[2:], claims, keep_instance)]
    results: list[list[timers.Outcome]] = [[], []]
    failures: list[BaseException] = []

    def fire(n: int) -> None:
        try:
            results[n] = timers.fire_many(world.engine, batches[n], NOW,
                                           batch=timers.FIRE_BATCH)
        except BaseException as exc:  # the test reports it below
            failures.append(exc)

    threads = [threading.Thread(target=fire, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    return ids, results


def test_a_deadlock_between_two_batches_loses_and_doubles_nothing(
        world: World, db_backend: str) -> None:
    """Two batches lock the same two instances in opposite orders (claims without their
    instance, so each fires in the order given): each bumps its first instance, they meet,
    each reaches for the other's. PostgreSQL aborts one transaction; that batch is rolled back
    whole and its timers are pending again at once, the attempt not counted."""
    if db_backend != "postgresql":
        return  # SQLite has one writer at a time: two batches never hold rows together
    meeting = threading.Barrier(2)

    def meet(session: Session, timer: TimerFacts, now: datetime) -> str:
        result = th.bump(session, timer, now)
        if timer.key in ("a1:0", "b2:0"):  # each batch's first: both now hold one instance
            meeting.wait(timeout=20)
        return result

    timers.HANDLERS["test.meet"] = meet
    ids, results = _two_batches(world, "test.meet", keep_instance=False)
    states = sorted(tuple(o.state for o in outcomes) for outcomes in results)
    assert states == [("done", "done"), ("pending", "pending")]
    victim = next(outcomes for outcomes in results if outcomes[0].state == "pending")
    assert {o.error for o in victim} == {"the batch was rolled back: DeadlockDetected"}
    rows = th.timer_rows(world)
    assert {(rows[o.timer_id].state, rows[o.timer_id].attempts,
             rows[o.timer_id].lease_until) for o in victim} \
        == {("pending", 0, NOW + timedelta(seconds=1))}
    assert len(th.effects(world)) == 2  # the winner's two; nothing of the victim's
    meeting.reset()
    timers.HANDLERS["test.meet"] = th.bump
    again = timers.run_due(world.engine, NOW + timedelta(seconds=1))
    assert sorted((o.timer_id, o.state, o.attempt) for o in again) \
        == sorted((o.timer_id, "done", 1) for o in victim)
    assert th.effects(world) == {i: 1 for i in ids}
    assert {row.state for row in th.timer_rows(world).values()} == {"done"}


def test_batches_fire_in_instance_order_so_opposite_claims_do_not_deadlock(
        world: World, db_backend: str) -> None:
    """The same two batches with their instances known: both fire A before B, so the second
    waits for the first rather than deadlocking (given as they came, the second would take B
    while the first holds A, and each would then wait for the other). The wait ends with the
    first batch's commit, which moved A's version on: the second batch's timer on A lost the
    optimistic lock, so that optimistic batch is rolled back whole and fired again a savepoint
    each, where A is read afresh: every timer fires once, none waits for a retry."""
    if db_backend != "postgresql":
        return  # SQLite has one writer at a time: two batches never hold rows together
    holding = threading.Event()

    def linger(session: Session, timer: TimerFacts, now: datetime) -> str:
        if timer.key in ("b2:0", "a2:0"):
            holding.wait(timeout=20)  # the second batch begins once the first holds A
        result = th.bump(session, timer, now)
        if timer.key == "a1:0":
            holding.set()
            time.sleep(0.5)  # hold A while the second batch reaches for its first instance
        return result

    timers.HANDLERS["test.linger"] = linger
    [a1, b1, b2, a2], results = _two_batches(world, "test.linger", keep_instance=True)
    assert [[(o.timer_id, o.state, o.error) for o in outcomes] for outcomes in results] == [
        [(a1, "done", ""), (b1, "done", "")],
        [(b2, "done", ""), (a2, "done", "")]]
    assert th.effects(world) == {i: 1 for i in (a1, b1, b2, a2)}
    assert {(row.state, row.attempts) for row in th.timer_rows(world).values()} == {("done", 1)}
