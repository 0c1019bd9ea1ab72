"""Durable timers: the rows of ``flow_timer`` are the truth, the job queue only carries work.

A dispatcher claims a batch of due rows in one short transaction (``pending`` → ``claimed``:
``lease_until`` = now + lease, ``claimed_by`` = a claim token, ``attempts`` + 1; PostgreSQL
``FOR UPDATE SKIP LOCKED``, SQLite the write lock) and hands the claims to workers. A timer fires
in ONE transaction (on PostgreSQL its batch's): a guarded update re-checks the claim (same
state, token and attempt: a claim that was reaped and taken again elsewhere no longer
matches), the handler makes the effect, the row becomes ``done`` (or ``cancelled`` when the
handler found it no longer applies), all committed together.

On PostgreSQL a worker fires a claimed batch (the ``TIMER_BATCH`` setting, default 50; 1 keeps
one transaction per timer) optimistically (:func:`fire_optimistic`): ONE transaction, ONE
guard statement for the whole batch, the handlers in the order of their instances (two batches
then take their instances' row locks in the same order), the ``cancelled`` marks, one commit.
A timer then costs its handler's statements and a fiftieth of a commit's WAL flush. When any
handler raises (a failure, or its instance changed meanwhile), the whole transaction is rolled
back and the batch fired again the safe way (:func:`fire_batch`): one transaction, each timer
in a SAVEPOINT of its own, a failing one rolled back to its savepoint alone and its failure
recorded in the same transaction. A deadlock or serialization failure (another batch holding
the same rows) rolls the whole batch back and returns its timers to pending at once, the
attempt not counted. SQLite keeps one transaction per timer: its commit is cheap and its one
writer lock, held for a whole batch, would keep web requests waiting. So an effect happens
once, whoever dies when:

- a worker killed mid-transaction (mid-batch) commits nothing; the rows stay ``claimed``
  until their lease runs out, then the reaper puts them back to ``pending`` and they are
  claimed again;
- two workers holding the same row (a stale claim) cannot both pass the guard;
- a handler that raises is rolled back; the attempt counts and the row waits out a doubling
  backoff (a ``pending`` row whose ``lease_until`` is in the future is not due before then),
  and after ``max_attempts`` it is ``failed``: an incident on /admin/incidents;
- a handler that lost the instance's optimistic lock (``Stale``: someone acted on the
  application meanwhile) is retried at once without counting the attempt.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, bindparam, or_, select, tuple_, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

from .. import db
from ..models import FlowTimer, TimerFacts, utcnow
from .errors import Stale

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5
BACKOFF = timedelta(seconds=10)        # after the first failure; doubles each time
MAX_BACKOFF = timedelta(hours=1)
STALE_RETRY = timedelta(seconds=1)     # a lost optimistic lock: try again almost at once
BATCH = 200                            # timers claimed at a time by run_due
FIRE_BATCH = 50                        # timers per queued job, and TIMER_BATCH's default
# SQLSTATEs of a transaction the server aborted because of other transactions: deadlock
# detected, serialization failure. The batch is rolled back and its timers go back to pending.
CONFLICTS = frozenset({"40P01", "40001"})
log = logging.getLogger(__name__)
_SQLITE_TURNS = threading.Lock()

Handler = Callable[[Session, TimerFacts, datetime], str]
SessionFactory = db.SessionFactory

# Handlers by timer kind, or by family ("deadline.*"). A handler makes the timer's effect in the
# caller's transaction and returns "done", or "stale" when the timer no longer applies (the
# deadline moved on): the row is then "cancelled". It receives the row's facts as claimed.
HANDLERS: dict[str, Handler] = {}


@dataclass(frozen=True, slots=True)
class ClaimedTimer:
    """A claimed timer's facts as its handler reads them (:class:`TimerFacts`), copied from
    the row the worker's guard returned."""

    id: int
    instance_id: int | None
    deadline_seq: int | None
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


class NoHandler(LookupError):
    """No handler is registered for a timer's kind."""


def handler_for(kind: str) -> Handler:
    found = HANDLERS.get(kind) or HANDLERS.get(kind.split(".", 1)[0] + ".*")
    if found is None and kind.startswith("deadline."):
        # The engine's deadlines: runtime.timer_handler (loads the instance, applies the
        # timer's effect, stores its rows). Looked up late: runtime is the heavier module.
        from . import runtime

        found = runtime.timer_handler
    if found is None and kind.startswith("ledger."):
        # Points ledgers' expiry: the points package registers nothing here (it must not
        # import the workflow package), so it is looked up by its kind's family.
        from ..points.ledger import expiry

        found = expiry.fire
    if found is None and kind.startswith("intake."):
        # 容缺受理's reminder before the material's due day and its passing
        # (tongban.counter_intake).
        from ..counter_intake import fire as intake_fire

        found = intake_fire
    if found is None:
        raise NoHandler(f"no handler for timer kind {kind!r}")
    return found


@dataclass(frozen=True)
class Claim:
    timer_id: int
    claimed_by: str
    attempt: int
    instance_id: int | None = None  # the order a batch fires in (None: as given)


@dataclass(frozen=True)
class Outcome:
    timer_id: int
    state: str  # done | cancelled | pending (will retry) | failed | lost (the claim was stale)
    attempt: int
    error: str = ""


def claimant() -> str:
    """A claim token: names the host and process that claimed, unique per call."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def backoff(attempt: int) -> timedelta:
    """The wait after the ``attempt``-th failure: 10 s, 20 s, 40 s … at most an hour."""
    return min(BACKOFF * 2 ** max(attempt - 1, 0), MAX_BACKOFF)


def _batch_session(target: Engine | SessionFactory) -> contextlib.AbstractContextManager[Session]:
    if isinstance(target, Engine):
        return db.held_session(target)
    return target()


def _turns(session: Session) -> contextlib.AbstractContextManager[object]:
    """SQLite has one writer at a time, and a writer that finds the lock taken sleeps in steps
    of up to 100 ms: the threads of one worker process take turns here instead."""
    if session.get_bind().dialect.name == "sqlite":
        return _SQLITE_TURNS
    return contextlib.nullcontext()


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def claim_due(session: Session, now: datetime, claimed_by: str, *, limit: int = BATCH,
              lease: timedelta = LEASE) -> list[Claim]:
    """Lease up to ``limit`` due pending timers, oldest due first; the caller commits.

    One statement: an UPDATE of the rows a sub-select picks, RETURNING what the claims need.
    On PostgreSQL the sub-select locks its rows ``FOR UPDATE SKIP LOCKED``, so concurrent
    dispatchers take disjoint batches without waiting; SQLite's writer holds the write lock."""
    due = (select(col(FlowTimer.id))
           .where(col(FlowTimer.state) == "pending", col(FlowTimer.due_at) <= now,
                  or_(col(FlowTimer.lease_until).is_(None), col(FlowTimer.lease_until) <= now))
           .order_by(col(FlowTimer.due_at), col(FlowTimer.id)).limit(limit))
    if _postgres(session):
        due = due.with_for_update(skip_locked=True)
    rows = session.execute(update(FlowTimer)
                           .where(col(FlowTimer.id).in_(due.scalar_subquery()))
                           .values(state="claimed", lease_until=now + lease,
                                   claimed_by=claimed_by, attempts=col(FlowTimer.attempts) + 1)
                           .returning(col(FlowTimer.id), col(FlowTimer.attempts),
                                      col(FlowTimer.due_at), col(FlowTimer.instance_id))
                           .execution_options(synchronize_session=False)).all()
    # RETURNING comes in no promised order: fire the oldest due first.
    return [Claim(row[0], claimed_by, row[1], row[3])
            for row in sorted(rows, key=lambda row: (row[2], row[0]))]


def _held(claim: Claim) -> ColumnElement[bool]:
    return and_(col(FlowTimer.id) == claim.timer_id, col(FlowTimer.state) == "claimed",
                col(FlowTimer.claimed_by) == claim.claimed_by,
                col(FlowTimer.attempts) == claim.attempt)


# SQLModel sets __table__ on table models at class creation; the model's type does not declare it.
TIMER = FlowTimer.__table__  # type: ignore[attr-defined]
# Built once: a worker runs these for every timer, and building the expression costs more
# than running it. The guard matches only while the claim still holds and marks the row done
# in the same statement (the firing's transaction commits both or neither), returning it.
_GUARD = (TIMER.update()
          .where(TIMER.c.id == bindparam("timer_id"), TIMER.c.state == "claimed",
                 TIMER.c.claimed_by == bindparam("token"),
                 TIMER.c.attempts == bindparam("attempt"))
          .values(state="done", fired_at=bindparam("now"), lease_until=None, last_error="")
          .returning(*(TIMER.c[name] for name in ClaimedTimer.__slots__)))
# The same guard for a whole batch of one claim token: (id, attempt) pairs in one statement.
_GUARD_MANY = (TIMER.update()
               .where(TIMER.c.state == "claimed", TIMER.c.claimed_by == bindparam("token"),
                      tuple_(TIMER.c.id, TIMER.c.attempts).in_(
                          bindparam("held", expanding=True)))
               .values(state="done", fired_at=bindparam("now"), lease_until=None,
                       last_error="")
               .returning(*(TIMER.c[name] for name in ClaimedTimer.__slots__)))
_NOT_FIRED = (TIMER.update().where(TIMER.c.id == bindparam("timer_id"))
              .values(state="cancelled", last_error=bindparam("error")))


def fire_claimed(session: Session, claim: Claim, now: datetime) -> Outcome:
    """Fire one claimed timer in the caller's transaction; the caller commits (or rolls back
    when this raises: then nothing of the effect, and not the row's ``done``, remains). The
    bookkeeping is one statement (two when the handler finds the timer no longer applies):
    the hot path of a worker firing thousands of timers a minute."""
    # On PostgreSQL the guard row-locks the timer, so the reaper cannot hand it on until we end.
    row = session.execute(_GUARD, {"timer_id": claim.timer_id, "token": claim.claimed_by,
                                   "attempt": claim.attempt, "now": now}).first()
    if row is None:
        return Outcome(claim.timer_id, "lost", claim.attempt)
    # The handler's copy of the facts as claimed (the row itself is already marked done).
    timer = ClaimedTimer(*row)
    result = handler_for(timer.kind)(session, timer, now)
    if result == "done":
        return Outcome(claim.timer_id, "done", claim.attempt)
    session.flush()
    session.execute(_NOT_FIRED, {"timer_id": claim.timer_id, "error": f"not fired: {result}"})
    return Outcome(claim.timer_id, "cancelled", claim.attempt)


def record_failure(session: Session, claim: Claim, now: datetime, error: str, *,
                   stale: bool = False, max_attempts: int = MAX_ATTEMPTS) -> Outcome:
    """After a rolled-back firing: back to pending (at once for a lost race, after a backoff
    for an error) or, the attempts spent, failed. The caller commits."""
    query = select(FlowTimer).where(_held(claim)).execution_options(populate_existing=True)
    if _postgres(session):
        query = query.with_for_update()
    timer = session.scalars(query).first()
    if timer is None:
        return Outcome(claim.timer_id, "lost", claim.attempt, error)
    timer.claimed_by, timer.last_error = None, error[:2000]
    if stale:  # not the timer's fault: the attempt does not count
        timer.state, timer.lease_until, timer.attempts = "pending", now + STALE_RETRY, \
            timer.attempts - 1
    elif timer.attempts >= max_attempts:
        timer.state, timer.lease_until = "failed", None
    else:
        timer.state, timer.lease_until = "pending", now + backoff(timer.attempts)
    session.add(timer)
    return Outcome(claim.timer_id, timer.state, claim.attempt, error)


def fire(target: Engine | SessionFactory, claim: Claim, now: datetime | None = None, *,
         max_attempts: int = MAX_ATTEMPTS) -> Outcome:
    """Fire one claimed timer in its own transaction, recording a failure in a second one."""
    [outcome] = fire_many(target, [claim], now, max_attempts=max_attempts)
    return outcome


def fire_many(target: Engine | SessionFactory, claims: list[Claim], now: datetime | None = None,
              *, max_attempts: int = MAX_ATTEMPTS, batch: int = 1) -> list[Outcome]:
    """Fire claimed timers on one session: on PostgreSQL ``batch`` at a time in one
    transaction (see :func:`fire_batch`), on SQLite each in its own transaction (a failure
    recorded in a second one)."""
    outcomes: list[Outcome] = []
    with _batch_session(target) as session:
        if _postgres(session) and batch > 1:
            for start in range(0, len(claims), batch):
                outcomes.extend(fire_optimistic(session, claims[start:start + batch], now,
                                                max_attempts=max_attempts))
            return outcomes
        for claim in claims:
            with _turns(session):
                outcomes.append(_fire_one(session, claim, now, max_attempts))
            session.expunge_all()
    return outcomes


def _failure(exc: Exception) -> tuple[str, bool]:
    """(the error recorded, whether it was a lost race rather than the timer's fault)."""
    if isinstance(exc, Stale | StaleDataError):
        return f"the instance changed meanwhile ({type(exc).__name__})", True
    return f"{type(exc).__name__}: {exc}", False


def conflict(exc: BaseException) -> bool:
    """Whether the server aborted the transaction because of another one (a deadlock, a
    serialization failure): nobody's fault, the work is simply done again."""
    orig = getattr(exc, "orig", None)
    return isinstance(exc, DBAPIError) and getattr(orig, "sqlstate", None) in CONFLICTS


def _record(session: Session, claim: Claim, now: datetime | None, exc: Exception,
            max_attempts: int) -> Outcome:
    """Record a rolled-back firing in the caller's transaction, and log a real failure."""
    error, stale = _failure(exc)
    outcome = record_failure(session, claim, now or utcnow(), error, stale=stale,
                             max_attempts=max_attempts)
    if outcome.state in ("pending", "failed") and not stale:
        log.warning("timer %s attempt %s %s: %s", claim.timer_id, claim.attempt,
                    "failed for good" if outcome.state == "failed" else "failed", error)
    return outcome


def _fire_one(session: Session, claim: Claim, now: datetime | None,
              max_attempts: int) -> Outcome:
    try:
        with db.unit_of_work(session):
            return fire_claimed(session, claim, now or utcnow())
    except Exception as exc:  # any failure of the handler is counted and retried
        failure = exc
    with db.unit_of_work(session):
        return _record(session, claim, now, failure, max_attempts)


def fire_batch(session: Session, claims: list[Claim], now: datetime | None = None, *,
               max_attempts: int = MAX_ATTEMPTS) -> list[Outcome]:
    """Fire claimed timers in ONE transaction on ``session``, each in a SAVEPOINT of its own,
    in the order of their instances; commits once. A timer that fails is rolled back to its
    savepoint alone and its failure recorded in the same transaction. When the server aborts
    the transaction (a deadlock with another batch, a serialization failure), nothing of the
    batch is kept and every timer of it goes back to pending at once, the attempt not counted
    (outcome ``pending``, or ``lost`` for a claim that no longer held). Any other error ending
    the transaction propagates: the claims stay ``claimed`` until the reaper hands them on."""
    ordered = _in_instance_order(claims)
    try:
        with _turns(session), db.unit_of_work(session):
            outcomes = {claim.timer_id: _fire_nested(session, claim, now, max_attempts)
                        for claim in ordered}
    except DBAPIError as exc:
        if not conflict(exc):
            raise
        outcomes = _returned_to_pending(session, ordered, now, exc, max_attempts)
    session.expunge_all()
    return [outcomes[claim.timer_id] for claim in claims]


def fire_optimistic(session: Session, claims: list[Claim], now: datetime | None = None, *,
                    max_attempts: int = MAX_ATTEMPTS) -> list[Outcome]:
    """Fire claimed timers in ONE transaction on ``session`` without a savepoint each,
    betting that none fails: one guard statement for the whole batch (per claim token), the
    handlers in the order of their instances, the ``cancelled`` marks of the timers that no
    longer applied, one commit. A timer costs its handler's statements and nothing more.

    When any handler raises (a Stale too), the whole transaction is rolled back and the
    batch fired again the safe way (:func:`fire_batch`: a savepoint each), so the failing
    timer gets its own recorded failure and the others still fire. A deadlock or
    serialization failure returns the batch to pending as :func:`fire_batch` does; an error
    that is no handler's (``BaseException``) propagates with nothing committed."""
    ordered = _in_instance_order(claims)
    moment = now or utcnow()
    try:
        with _turns(session), db.unit_of_work(session):
            outcomes = _fire_together(session, ordered, moment)
    except Exception as exc:
        session.expunge_all()
        if conflict(exc):
            outcomes = _returned_to_pending(session, ordered, now, exc, max_attempts)
        else:
            log.info("optimistic timer batch of %s rolled back (%s); fired again one savepoint "
                     "each", len(claims), _failure(exc)[0])
            return fire_batch(session, claims, now, max_attempts=max_attempts)
    session.expunge_all()
    return [outcomes[claim.timer_id] for claim in claims]


def _in_instance_order(claims: list[Claim]) -> list[Claim]:
    # Two batches then take their instances' row locks in the same order.
    return sorted(claims, key=lambda claim: claim.instance_id or 0)


def _fire_together(session: Session, ordered: list[Claim], now: datetime) -> dict[int, Outcome]:
    """The optimistic batch's work in the caller's transaction; raises what a handler raises."""
    held: dict[str, list[tuple[int, int]]] = {}
    for claim in ordered:  # a job's claims share one token, but nothing relies on it
        held.setdefault(claim.claimed_by, []).append((claim.timer_id, claim.attempt))
    rows: dict[tuple[int, int], ClaimedTimer] = {}
    for token, pairs in held.items():
        for row in session.execute(_GUARD_MANY, {"token": token, "held": pairs, "now": now}):
            held_timer = ClaimedTimer(*row)
            rows[(held_timer.id, held_timer.attempts)] = held_timer
    outcomes: dict[int, Outcome] = {}
    not_fired: list[dict[str, Any]] = []
    for claim in ordered:
        timer = rows.get((claim.timer_id, claim.attempt))
        if timer is None:
            outcomes[claim.timer_id] = Outcome(claim.timer_id, "lost", claim.attempt)
            continue
        result = handler_for(timer.kind)(session, timer, now)
        # What the handler changed goes to the server now (a failure surfaces here, its
        # timer's), and the next timer reads its rows afresh, as in a transaction of its own.
        session.flush()
        session.expunge_all()
        if result == "done":
            outcomes[claim.timer_id] = Outcome(claim.timer_id, "done", claim.attempt)
        else:
            outcomes[claim.timer_id] = Outcome(claim.timer_id, "cancelled", claim.attempt)
            not_fired.append({"timer_id": claim.timer_id, "error": f"not fired: {result}"})
    if not_fired:
        session.execute(_NOT_FIRED, not_fired)
    return outcomes


def _returned_to_pending(session: Session, ordered: list[Claim], now: datetime | None,
                         exc: Exception, max_attempts: int) -> dict[int, Outcome]:
    """After the server aborted a batch's transaction: its timers back to pending at once,
    the attempt not counted (``lost`` for a claim that no longer held)."""
    session.expunge_all()
    error = f"the batch was rolled back: {type(getattr(exc, 'orig', exc)).__name__}"
    log.info("timer batch of %s rolled back (%s); returned to pending", len(ordered), error)
    with _turns(session), db.unit_of_work(session):
        return {claim.timer_id: record_failure(session, claim, now or utcnow(), error,
                                               stale=True, max_attempts=max_attempts)
                for claim in ordered}


def _fire_nested(session: Session, claim: Claim, now: datetime | None,
                 max_attempts: int) -> Outcome:
    try:
        with session.begin_nested():
            outcome = fire_claimed(session, claim, now or utcnow())
    except Exception as exc:  # any failure of the handler is counted and retried ...
        if conflict(exc):  # ... but a deadlock ends the whole batch (see fire_batch)
            raise
        return _record(session, claim, now, exc, max_attempts)
    # The next timer reads its rows afresh, as in a transaction of its own (what this one
    # changed is flushed: the transaction sees it).
    session.expunge_all()
    return outcome


def reap(session: Session, now: datetime, *, max_attempts: int = MAX_ATTEMPTS) -> tuple[int, int]:
    """Hand back the timers whose lease ran out (their worker died or hangs): (returned to
    pending, failed because their tries are spent). The caller commits."""
    expired = and_(col(FlowTimer.state) == "claimed", col(FlowTimer.lease_until) < now)
    failed = session.execute(
        update(FlowTimer).where(expired, col(FlowTimer.attempts) >= max_attempts)
        .values(state="failed", lease_until=None, claimed_by=None,
                last_error="the lease ran out on every try (the worker died or hung)")
        .execution_options(synchronize_session=False))
    returned = session.execute(
        update(FlowTimer).where(expired)
        .values(state="pending", lease_until=None, claimed_by=None)
        .execution_options(synchronize_session=False))
    # An UPDATE's result is a CursorResult at run time, which has rowcount; Session.execute is
    # typed as returning the base Result.
    return returned.rowcount, failed.rowcount  # type: ignore[attr-defined]


def claim_batch(target: Engine | SessionFactory, now: datetime | None = None, *,
                limit: int = BATCH, lease: timedelta = LEASE,
                claimed_by: str | None = None) -> list[Claim]:
    """Claim up to ``limit`` due timers in one short transaction."""
    with db.session_factory(target)() as session, _turns(session), db.unit_of_work(session):
        return claim_due(session, now or utcnow(), claimed_by or claimant(), limit=limit,
                         lease=lease)


def reap_expired(target: Engine | SessionFactory, now: datetime | None = None, *,
                 max_attempts: int = MAX_ATTEMPTS) -> tuple[int, int]:
    with db.session_factory(target)() as session, _turns(session), db.unit_of_work(session):
        return reap(session, now or utcnow(), max_attempts=max_attempts)


def run_due(target: Engine | SessionFactory, now: datetime | None = None, *,
            limit: int = 1000, lease: timedelta = LEASE,
            max_attempts: int = MAX_ATTEMPTS, batch: int = 1) -> list[Outcome]:
    """Reap, claim and fire what is due at ``now`` in this process, without the queue
    (``tongban flow work --once``, the tests' virtual clock)."""
    reap_expired(target, now, max_attempts=max_attempts)
    outcomes: list[Outcome] = []
    while len(outcomes) < limit:
        claims = claim_batch(target, now, limit=min(BATCH, limit - len(outcomes)), lease=lease)
        if not claims:
            break
        outcomes.extend(fire_many(target, claims, now, max_attempts=max_attempts, batch=batch))
    return outcomes
