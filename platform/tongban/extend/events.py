"""Application events for plugins (``tongban_application_event``): queued in the transaction
that made them, told to every plugin by the worker after commit.

The flow runtime calls :func:`queue` with the engine events of a transition; submitted (the
flow started), task done (a decision on a task) and completed (the flow ended) become
``plugin_event`` rows. :func:`deliver_due` (the worker, every few seconds) claims one row at a
time with a lease, calls each plugin on its own with the time limit (calls.py), records each
plugin's outcome in plugin health and deletes the row. A worker that dies in between leaves
the row to be claimed again when the lease runs out: a plugin may be told twice, and
``event.key`` lets it tell.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pluggy
from sqlalchemy import Engine, delete, select
from sqlmodel import Session, col

from .. import db, leases
from ..models import Application, FlowEvent, PluginEvent, saved_id, utcnow
from ..plugin_api import ApplicationEvent
from . import health
from .calls import call_each

HOOK = "tongban_application_event"
LEASE = timedelta(minutes=5)
log = logging.getLogger(__name__)

# Engine events that end a task with a decision.
TASK_DONE = frozenset({"approved", "rejected", "accepted", "deemed_accepted", "returned",
                       "auto_returned", "intake_refused", "task_auto_passed"})


def kind_of(event: FlowEvent) -> str | None:
    """The application event an engine event stands for, if any."""
    if event.type == "started":
        return "submitted"
    if event.type == "ended":
        return "completed"
    if event.type in TASK_DONE and event.task_seq is not None:
        return "task_done"
    return None


def queue(session: Session, application: Application, events: Iterable[FlowEvent], *,
          actor_name: str) -> None:
    """Add the plugin events of a transition to the caller's transaction."""
    for event in events:
        kind = kind_of(event)
        if kind is None:
            continue
        data: dict[str, Any] = {"status": event.status, "event": event.type}
        if event.node:
            data["node"] = event.node
        if event.task_seq is not None:
            data["task_seq"] = event.task_seq
        if kind == "completed" and (event.data or {}).get("outcome"):
            data["outcome"] = event.data["outcome"]
        session.add(PluginEvent(kind=kind, reference=application.reference,
                                service=application.service_code, actor=actor_name or None,
                                data=data, at=event.at))


@dataclass(frozen=True)
class Delivery:
    row_id: int
    kind: str
    outcomes: list[tuple[str, str]]   # (plugin, error or "") per plugin told


def _claim(session: Session, now: datetime,
           lease: timedelta) -> tuple[int, int, ApplicationEvent] | None:
    due = (select(PluginEvent).where(col(PluginEvent.next_attempt_at) <= now)
           .order_by(col(PluginEvent.id)))
    row = leases.claim(session, due, now, lease)
    if row is None:
        return None
    row_id = saved_id(row)
    event = ApplicationEvent(kind=row.kind, reference=row.reference, service=row.service,
                             at=row.at, actor=row.actor, data=dict(row.data),
                             key=f"event-{row_id}")
    return row_id, row.attempts, event


def deliver_one(target: Engine | db.SessionFactory, manager: pluggy.PluginManager, *,
                timeout: float, now: datetime | None = None,
                lease: timedelta = LEASE) -> Delivery | None:
    """Claim the oldest due event, tell every plugin, record how each did, forget the event."""
    factory = db.session_factory(target)
    with factory() as session:
        with db.unit_of_work(session):
            claimed = _claim(session, now or utcnow(), lease)
        if claimed is None:
            return None
        row_id, attempt, event = claimed
        outcomes = call_each(manager, HOOK, {"event": event}, timeout)
        with db.unit_of_work(session):
            gone = session.execute(delete(PluginEvent).where(
                col(PluginEvent.id) == row_id, col(PluginEvent.attempts) == attempt))
            if getattr(gone, "rowcount", 1) == 0:
                log.warning("plugin event %s: the lease ran out during the calls", row_id)
            for outcome in outcomes:
                health.record(session, outcome.plugin, HOOK, error=outcome.error)
    for outcome in outcomes:
        if not outcome.ok:
            log.warning("plugin %s failed on event %s (%s): %s", outcome.plugin, row_id,
                        event.kind, outcome.error)
    return Delivery(row_id, event.kind, [(o.plugin, o.error) for o in outcomes])


def deliver_due(target: Engine | db.SessionFactory, manager: pluggy.PluginManager, *,
                timeout: float, now: datetime | None = None, limit: int = 100) -> list[Delivery]:
    """Work through the events due, one at a time, up to ``limit``."""
    done: list[Delivery] = []
    while len(done) < limit:
        delivery = deliver_one(target, manager, timeout=timeout, now=now)
        if delivery is None:
            break
        done.append(delivery)
    return done
