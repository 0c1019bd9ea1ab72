"""Points lapse on a durable timer: earning a lot schedules one ``ledger.expire`` timer per
ledger and expiry instant (the key makes a second scheduling keep the one row); firing it takes
what is left of every lot of that ledger lapsing by then, one ``expire`` entry per account.
Firing twice expires once: the lots are then empty and the entry's id is taken.

The flow engine's timer worker runs it: ``workflow.timers.handler_for`` finds
:func:`fire` for the ``ledger.`` kinds (this package never imports the workflow package).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from ... import audit
from ...models import FlowTimer, LedgerAccount, LedgerEntry, LedgerLot, LedgerPosting, TimerFacts, saved_id
from .accounts import locked, system_account

KIND = "ledger.expire"


def timer_key(ledger_id: str, at: datetime) -> str:
    return f"{KIND}:{ledger_id}:{at.astimezone(UTC).isoformat()}"


def schedule(session: Session, ledger_id: str, at: datetime, now: datetime) -> None:
    """A pending timer at ``at`` for the ledger, unless one is there already."""
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(make(FlowTimer).values(
        kind=KIND, key=timer_key(ledger_id, at), due_at=at, state="pending",
        payload={"ledger": ledger_id}, attempts=0, last_error="", created_at=now)
        .on_conflict_do_nothing(index_elements=["key"]))


def expire(session: Session, ledger_id: str, at: datetime, *, now: datetime,
           key: str) -> int:
    """Lapse every lot of the ledger due by ``at``; the points expired. The caller commits."""
    accounts = session.scalars(select(col(LedgerLot.account_id)).distinct().where(
        col(LedgerLot.ledger) == ledger_id, col(LedgerLot.expires_at) <= at,
        col(LedgerLot.remaining) > 0)).all()
    total = 0
    for account_id in sorted(accounts):
        # The account row first, as a redemption takes it: then its lots cannot change under us.
        session.execute(locked(session, select(col(LedgerAccount.id))
                                .where(col(LedgerAccount.id) == account_id)))
        lots = session.scalars(locked(session, select(LedgerLot).where(
            col(LedgerLot.account_id) == account_id, col(LedgerLot.expires_at) <= at,
            col(LedgerLot.remaining) > 0)).execution_options(populate_existing=True)).all()
        points = sum(lot.remaining for lot in lots)
        if not points:
            continue
        for lot in lots:
            lot.remaining = 0
            session.add(lot)
        entry = LedgerEntry(ledger=ledger_id, ledger_version=0, kind="expire",
                            event_id=f"expire:{at.astimezone(UTC).isoformat()}:{account_id}",
                            account_id=account_id, requested=points, points=points,
                            source="timer", reason=f"lapsed at {at.isoformat()}",
                            occurred_at=at, created_at=now)
        session.add(entry)
        session.flush()
        sink = system_account(session, ledger_id, "expiry")
        for target, amount in ((account_id, -points), (saved_id(sink), points)):
            session.add(LedgerPosting(entry_id=saved_id(entry), account_id=target, amount=amount))
            session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == target)
                            .values(balance=col(LedgerAccount.balance) + amount)
                            .execution_options(synchronize_session=False))
        total += points
    if total:
        session.flush()
        audit.record(session, action="ledger.expire", object_type="ledger", object_id=ledger_id,
                     actor_name="timer", after={"at": at.isoformat(), "points": total,
                                                "accounts": len(accounts), "timer": key})
    return total


def fire(session: Session, timer: TimerFacts, now: datetime) -> str:
    """The timer handler (see ``workflow.timers.HANDLERS``)."""
    expire(session, timer.payload["ledger"], timer.due_at, now=now, key=timer.key)
    return "done"


def timer_counts(session: Session, ledger_id: str) -> dict[str, int]:
    """The ledger's expiry timers by state (pending, claimed, done, failed ...)."""
    return {state: int(count) for state, count in session.execute(
        select(col(FlowTimer.state), func.count()).where(
            col(FlowTimer.kind) == KIND, col(FlowTimer.key).startswith(f"{KIND}:{ledger_id}:"))
        .group_by(col(FlowTimer.state))).all()}
