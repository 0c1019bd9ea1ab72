"""The counter's queue (排队叫号) and a clerk's day (docs/counter-intake.md).

A person takes a number for one window (``A007``: the window's letter and the day's count); the
clerk sitting at that window calls the next one waiting. Numbers start at 1 each day in the
time zone of the service centre; taking a number and calling one are one short transaction
each, and two clerks at the same window never call the same ticket (a guarded UPDATE)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from . import audit
from .models import (
    Application,
    FlowEvent,
    FlowInstance,
    IntakeHold,
    QueueTicket,
    User,
    utcnow,
)
from .worktime import TZ

MAX_REFERENCE = 32


def today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(TZ).date()


def shown(ticket: QueueTicket) -> str:
    """How the number is called out and printed: the window's letter and three digits."""
    return f"{ticket.window}{ticket.number:03d}"


def take(session: Session, window: str, *, reference: str = "",
         now: datetime | None = None) -> QueueTicket:
    """A new number for ``window`` today. Two takers at once: the unique (window, day,
    number) refuses the second, whose request fails rather than share a number."""
    now = now or utcnow()
    day = today(now)
    last = session.scalar(select(func.max(col(QueueTicket.number))).where(
        col(QueueTicket.window) == window, col(QueueTicket.day) == day)) or 0
    ticket = QueueTicket(window=window, day=day, number=int(last) + 1,
                         reference=reference.strip()[:MAX_REFERENCE], taken_at=now)
    session.add(ticket)
    session.flush()
    return ticket


def waiting(session: Session, window: str, now: datetime | None = None) -> int:
    return int(session.scalar(select(func.count()).select_from(QueueTicket).where(
        col(QueueTicket.window) == window, col(QueueTicket.day) == today(now),
        col(QueueTicket.state) == "waiting")) or 0)


def current(session: Session, window: str, clerk_id: int,
            now: datetime | None = None) -> QueueTicket | None:
    """The ticket this clerk called last at this window today and has not finished."""
    return session.scalars(select(QueueTicket).where(
        col(QueueTicket.window) == window, col(QueueTicket.day) == today(now),
        col(QueueTicket.state) == "called", col(QueueTicket.called_by) == clerk_id)
        .order_by(col(QueueTicket.called_at).desc())).first()


def call_next(session: Session, window: str, clerk_id: int, *, clerk_name: str = "",
              now: datetime | None = None, request_id: str = "") -> QueueTicket | None:
    """Finish the clerk's current ticket and call the next one waiting at ``window``; None
    when nobody waits."""
    now = now or utcnow()
    day = today(now)
    session.execute(update(QueueTicket).where(
        col(QueueTicket.window) == window, col(QueueTicket.day) == day,
        col(QueueTicket.state) == "called", col(QueueTicket.called_by) == clerk_id)
        .values(state="done"))
    for _attempt in range(5):
        nxt = session.scalars(select(QueueTicket).where(
            col(QueueTicket.window) == window, col(QueueTicket.day) == day,
            col(QueueTicket.state) == "waiting").order_by(col(QueueTicket.number))).first()
        if nxt is None:
            return None
        won = session.execute(update(QueueTicket).where(
            col(QueueTicket.id) == nxt.id, col(QueueTicket.state) == "waiting")
            .values(state="called", called_by=clerk_id, called_at=now))
        if getattr(won, "rowcount", 0) == 1:
            session.refresh(nxt)
            audit.record(session, action="queue.called", object_type="queue_ticket",
                         object_id=shown(nxt), actor_id=clerk_id, actor_name=clerk_name,
                         after={"window": window, "reference": nxt.reference},
                         request_id=request_id)
            return nxt
    return None


def application_of(session: Session, reference: str) -> Application | None:
    """The application a ticket's reference names (as typed at the kiosk), if any."""
    if not reference.strip():
        return None
    return session.scalars(select(Application).where(
        col(Application.reference) == reference.strip().upper())).first()


# --- A clerk's day ----------------------------------------------------------------------------

@dataclass
class DayRow:
    reference: str
    service_version_id: int
    at: datetime | None
    detail: str = ""


@dataclass
class Day:
    day: date
    called: list[QueueTicket] = field(default_factory=list)
    accepted: list[DayRow] = field(default_factory=list)
    refused: list[DayRow] = field(default_factory=list)
    waiting_material: list[tuple[DayRow, IntakeHold]] = field(default_factory=list)


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=TZ)
    return start, start + timedelta(days=1)


def day_of(session: Session, clerk_id: int, day: date) -> Day:
    """What the clerk did on ``day`` (local): tickets called, applications accepted (and how)
    and refused; and every application they accepted with materials still to come (overdue
    ones too, until the application ends)."""
    start, end = _bounds(day)
    found = Day(day=day)
    found.called = list(session.scalars(select(QueueTicket).where(
        col(QueueTicket.called_by) == clerk_id, col(QueueTicket.day) == day)
        .order_by(col(QueueTicket.called_at))))
    rows = session.execute(select(FlowEvent, Application).join(
        FlowInstance, col(FlowInstance.id) == col(FlowEvent.instance_id)).join(
        Application, col(Application.id) == col(FlowInstance.application_id)).where(
        col(FlowEvent.actor_id) == clerk_id, col(FlowEvent.type).in_(
            ("accepted", "intake_refused")),
        col(FlowEvent.at) >= start, col(FlowEvent.at) < end).order_by(col(FlowEvent.at))).all()
    for event, application in rows:
        data = event.data or {}
        row = DayRow(application.reference, application.service_version_id, event.at,
                     str(data.get("mode") or data.get("reason") or ""))
        (found.accepted if event.type == "accepted" else found.refused).append(row)
    holds = session.execute(select(IntakeHold, Application).join(
        Application, col(Application.id) == col(IntakeHold.application_id)).where(
        col(IntakeHold.created_by) == clerk_id,
        col(IntakeHold.state).in_(("pending", "overdue")),
        col(Application.status).not_in(("rejected", "withdrawn", "abandoned", "revoked")))
        .order_by(col(IntakeHold.due_on))).all()
    found.waiting_material = [(DayRow(a.reference, a.service_version_id, h.created_at), h)
                              for h, a in holds]
    return found


def clerk_name(session: Session, clerk_id: int) -> str:
    user = session.get(User, clerk_id)
    return user.display_name if user is not None else ""

