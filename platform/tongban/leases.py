"""Claiming rows of a work queue by lease: the flow outbox (workflow/worker.py), notifications
(notify/delivery.py) and plugin events (extend/events.py) are each worked one row at a time by
any number of workers, none holding a lock while the slow call runs.

A short transaction takes the first due row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
write lock of the caller's unit of work on SQLite), counts the attempt and pushes
``next_attempt_at`` out by the lease; the call runs with no transaction open; a second
transaction reads the row again, locked (:func:`relock`), and records the outcome only if the
lease it took is still the row's. A worker that dies in between leaves the row to be claimed
again when the lease runs out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlmodel import Session, col


class Leasable(Protocol):
    """A queue row: its attempts so far and when it is next due."""

    id: int | None
    attempts: int
    next_attempt_at: datetime


Row = TypeVar("Row", bound=Leasable)


def oldest_pending(model: type[Row], now: datetime) -> Select[Row]:
    """The rows of ``model`` (one with a ``state`` column) waiting and due at ``now``, the
    longest due first."""
    table: Any = model  # the columns are the model's own; the protocol names only the lease's
    return (select(model)
            .where(col(table.state) == "pending", col(table.next_attempt_at) <= now)
            .order_by(col(table.next_attempt_at), col(table.id)))


def claim(session: Session, due: Select[Row], now: datetime,
          lease: timedelta) -> Row | None:
    """The first row ``due`` selects, with its attempt counted and leased until ``now + lease``,
    or None when nothing is due. The caller's unit of work commits the claim."""
    query = due.limit(1).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = session.scalars(query).first()
    if row is None:
        return None
    row.attempts += 1
    row.next_attempt_at = now + lease
    session.add(row)
    return row


def relock(session: Session, model: type[Row], row_id: int) -> Row:
    """The claimed row again, as the database has it now and locked on PostgreSQL, for
    recording how the call went (the caller compares its lease with ``next_attempt_at``)."""
    table: Any = model
    query = select(model).where(col(table.id) == row_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one()


Done = TypeVar("Done")


def drain(work_one: Callable[[], Done | None], limit: int) -> list[Done]:
    """Call ``work_one`` (claim and work one row) until it finds nothing due or ``limit`` rows
    are done; the outcomes in order."""
    done: list[Done] = []
    while len(done) < limit:
        outcome = work_one()
        if outcome is None:
            break
        done.append(outcome)
    return done
