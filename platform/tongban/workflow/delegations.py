"""Delegation while away (代 X 审批): tasks created for a user inside a date window go to their
delegate. Setting and cancelling one are audited state changes in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..models import Delegation, User, saved_id, utcnow
from ..policy import Actor
from .errors import N_, Invalid, invalid, not_yours

MESSAGES = {
    "delegate_self": N_("Choose someone other than yourself to act for you"),
    "delegate_unknown": N_("There is no active user to delegate to"),
    "delegation_unknown": N_("There is no such delegation of yours"),
}


def _refuse(code: str) -> Invalid:
    return Invalid(code, MESSAGES[code])


def _signed_in(actor: Actor) -> int:
    if actor.user_id is None:
        raise not_yours()
    return actor.user_id


def set_delegation(session: Session, actor: Actor, delegate_user_id: int, starts_at: datetime,
                   ends_at: datetime, *, request_id: str = "") -> Delegation:
    """From ``starts_at`` until ``ends_at``, the actor's new tasks go to the delegate. A window
    that ends before it starts, the actor as their own delegate, or an unknown or inactive
    delegate is refused (422) and nothing is stored."""
    user_id = _signed_in(actor)
    if ends_at <= starts_at:
        raise invalid("delegation_window")
    if delegate_user_id == user_id:
        raise _refuse("delegate_self")
    delegate = session.get(User, delegate_user_id)
    if delegate is None or not delegate.is_active:
        raise _refuse("delegate_unknown")
    delegation = Delegation(user_id=user_id, delegate_id=delegate_user_id, starts_at=starts_at,
                            ends_at=ends_at, created_at=utcnow())
    session.add(delegation)
    session.flush()
    audit.record(session, action="flow.delegation_set", object_type="user", object_id=user_id,
                 actor_id=user_id, actor_name=_name(session, user_id),
                 after={"delegation": saved_id(delegation), "delegate": delegate.username,
                        "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
                 request_id=request_id)
    return delegation


def cancel_delegation(session: Session, actor: Actor, delegation_id: int, *,
                      request_id: str = "") -> Delegation:
    """End one of the actor's delegations now: tasks created from now on are the actor's again
    (tasks the delegate already holds stay with the delegate)."""
    user_id = _signed_in(actor)
    delegation = session.get(Delegation, delegation_id)
    if delegation is None or delegation.user_id != user_id or delegation.cancelled:
        raise _refuse("delegation_unknown")
    delegation.cancelled = True
    session.add(delegation)
    audit.record(session, action="flow.delegation_cancelled", object_type="user",
                 object_id=user_id, actor_id=user_id, actor_name=_name(session, user_id),
                 before={"delegation": delegation_id, "cancelled": False},
                 after={"delegation": delegation_id, "cancelled": True}, request_id=request_id)
    return delegation


def delegations_of(session: Session, user_id: int) -> list[Delegation]:
    return list(session.scalars(select(Delegation).where(col(Delegation.user_id) == user_id)
                                .order_by(col(Delegation.starts_at).desc())))


def _name(session: Session, user_id: int) -> str:
    return session.execute(select(col(User.username)).where(col(User.id) == user_id)).scalar() \
        or "unknown"
