"""Incidents: service calls that spent their retries, timers whose handler failed for good, and
instances stopped because a step found nobody to act on it. Administrators see those of their
departments and retry them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlmodel import Session, col

from .. import audit
from ..models import (
    Application,
    FlowEvent,
    FlowInstance,
    FlowOutbox,
    FlowTimer,
    FlowToken,
    Role,
)
from ..policy import Actor, DepartmentTree, departments
from .errors import N_, Invalid, not_yours
from .runtime import act_on_application

ADMIN_ROLES = (Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
FINAL_STATUSES = ("approved", "rejected", "completed", "withdrawn", "abandoned", "revoked")
MESSAGES = {
    "incident_gone": N_("This incident has already been dealt with"),
}


@dataclass(frozen=True)
class Incident:
    kind: str                  # service | timer | no_approvers
    reference: str
    application_id: int
    service_code: str
    department_code: str
    node: str
    detail: str
    at: datetime
    outbox_id: int | None = None
    attempts: int = 0
    retryable: bool = True     # False: a fallback task took over the failed call's step
    timer_id: int | None = None


def _scope(actor: Actor, tree: DepartmentTree) -> ColumnElement[bool] | None:
    """A where-clause on FlowInstance for the actor's departments; None: no incidents at all."""
    covered = departments(actor, ADMIN_ROLES, tree)
    if covered is None:
        return true()
    if not covered:
        return None
    return col(FlowInstance.department_code).in_(sorted(covered))


def may_handle(actor: Actor, tree: DepartmentTree, department_code: str) -> bool:
    covered = departments(actor, ADMIN_ROLES, tree)
    return covered is None or department_code in covered


def list_incidents(session: Session, actor: Actor, tree: DepartmentTree,
                   limit: int = 200) -> list[Incident]:
    scope = _scope(actor, tree)
    if scope is None:
        return []
    found: list[Incident] = []
    failed = session.execute(
        select(FlowOutbox, col(Application.reference), col(Application.service_code),
               col(FlowInstance.department_code), col(Application.id))
        .join(FlowInstance, col(FlowInstance.id) == col(FlowOutbox.instance_id))
        .join(Application, col(Application.id) == col(FlowInstance.application_id))
        .where(col(FlowOutbox.state) == "failed", col(FlowInstance.status).not_in(FINAL_STATUSES),
               scope)
        .order_by(col(FlowOutbox.done_at).desc()).limit(limit)).all()
    standing = _standing(session, {row.instance_id for row, *_rest in failed})
    for row, reference, service, department, application_id in failed:
        found.append(Incident("service", reference, application_id, service, department,
                              row.node, row.last_error, row.done_at or row.created_at,
                              outbox_id=row.id, attempts=row.attempts,
                              retryable=(row.instance_id, row.token_seq, row.node) in standing))
    found.extend(failed_timers(session, scope, limit))
    found.extend(stopped_instances(session, scope, limit))
    found.sort(key=lambda incident: incident.at, reverse=True)
    return found


def failed_timers(session: Session, scope: ColumnElement[bool], limit: int) -> list[Incident]:
    """Timers of running instances whose handler failed on every try (or whose worker died on
    every try): their effect (a reminder, a timeout action) never happened."""
    rows = session.execute(
        select(FlowTimer, col(Application.reference), col(Application.service_code),
               col(FlowInstance.department_code), col(Application.id))
        .join(FlowInstance, col(FlowInstance.id) == col(FlowTimer.instance_id))
        .join(Application, col(Application.id) == col(FlowInstance.application_id))
        .where(col(FlowTimer.state) == "failed", col(FlowInstance.status).not_in(FINAL_STATUSES),
               scope)
        .order_by(col(FlowTimer.due_at).desc()).limit(limit)).all()
    return [Incident("timer", reference, application_id, service, department, timer.kind,
                     timer.last_error, timer.due_at, attempts=timer.attempts,
                     timer_id=timer.id)
            for timer, reference, service, department, application_id in rows]


def retry_timer(session: Session, actor: Actor, tree: DepartmentTree, timer_id: int, *,
                now: datetime, actor_name: str, request_id: str = "") -> FlowTimer:
    """Make a failed timer due again now, its attempts counted from zero."""
    timer = session.get(FlowTimer, timer_id)
    instance = session.get(FlowInstance, timer.instance_id) if timer and timer.instance_id \
        else None
    if timer is None or instance is None or timer.state != "failed" \
            or instance.status in FINAL_STATUSES:
        raise Invalid("incident_gone", MESSAGES["incident_gone"])
    if not may_handle(actor, tree, instance.department_code):
        raise not_yours()
    before = {"state": timer.state, "attempts": timer.attempts, "last_error": timer.last_error}
    timer.state, timer.attempts, timer.lease_until, timer.claimed_by = "pending", 0, None, None
    session.add(timer)
    reference = session.execute(select(col(Application.reference)).where(
        col(Application.id) == instance.application_id)).scalar_one()
    audit.record(session, action="flow.incident_retried", object_type="application",
                 object_id=reference, actor_id=actor.user_id, actor_name=actor_name,
                 before=before, after={"timer": timer_id, "kind": timer.kind, "state": "pending"},
                 request_id=request_id)
    return timer


def _standing(session: Session, instance_ids: set[int | None]) -> set[tuple[int | None, int, str]]:
    """(instance, token seq, node) of the live tokens of these instances."""
    if not instance_ids:
        return set()
    rows = session.execute(select(col(FlowToken.instance_id), col(FlowToken.seq),
                                  col(FlowToken.node))
                           .where(col(FlowToken.instance_id).in_(instance_ids),
                                  col(FlowToken.state).in_(("active", "waiting")))).all()
    return {(row[0], row[1], row[2]) for row in rows}


def stopped_instances(session: Session, scope: ColumnElement[bool],
                      limit: int) -> list[Incident]:
    """Running instances with a token stopped by an incident on a step that is not a service
    call (those are listed by their outbox row): a step that found nobody to act on it."""
    candidates = session.execute(
        select(col(FlowInstance.id), col(Application.reference), col(Application.service_code),
               col(FlowInstance.department_code), col(Application.id))
        .join(Application, col(Application.id) == col(FlowInstance.application_id))
        .where(col(FlowInstance.status).not_in(FINAL_STATUSES), scope)
        .where(select(col(FlowEvent.id)).where(col(FlowEvent.instance_id) == col(FlowInstance.id),
                                          col(FlowEvent.type) == "incident").exists())
        .order_by(col(FlowInstance.id).desc()).limit(limit)).all()
    if not candidates:
        return []
    ids = [row[0] for row in candidates]
    stopped: dict[int, list[FlowToken]] = {}
    for token in session.scalars(select(FlowToken).where(col(FlowToken.instance_id).in_(ids),
                                                         col(FlowToken.state) == "active")):
        if "incident" in token.data and token.instance_id is not None:
            stopped.setdefault(token.instance_id, []).append(token)
    calls = set(session.execute(select(col(FlowOutbox.instance_id), col(FlowOutbox.token_seq))
                                .where(col(FlowOutbox.instance_id).in_(ids))).all())
    at: dict[int | None, datetime] = {
        row[0]: row[1] for row in session.execute(
            select(col(FlowEvent.instance_id), func.max(col(FlowEvent.at)))
            .where(col(FlowEvent.instance_id).in_(ids), col(FlowEvent.type) == "incident")
            .group_by(col(FlowEvent.instance_id)))}
    found: list[Incident] = []
    for instance_id, reference, service, department, application_id in candidates:
        for token in stopped.get(instance_id, []):
            if (instance_id, token.seq) in calls:
                continue
            found.append(Incident("no_approvers", reference, application_id, service,
                                  department, token.node, str(token.data["incident"]),
                                  at.get(instance_id) or token.arrived_at))
    return found


def retry_service_call(session: Session, actor: Actor, tree: DepartmentTree, outbox_id: int,
                       *, now: datetime, actor_name: str, request_id: str = "") -> FlowOutbox:
    """Queue a failed service call again, due now, with its attempts counted from zero."""
    row = session.get(FlowOutbox, outbox_id)
    instance = session.get(FlowInstance, row.instance_id) if row and row.instance_id else None
    if row is None or instance is None or row.state != "failed":
        raise Invalid("incident_gone", MESSAGES["incident_gone"])
    if not may_handle(actor, tree, instance.department_code):
        raise not_yours()
    token = session.scalars(select(FlowToken).where(
        col(FlowToken.instance_id) == instance.id, col(FlowToken.seq) == row.token_seq)).first()
    if token is None or token.node != row.node or token.state not in ("active", "waiting"):
        # The fallback step took over (or the flow moved on): the call is not wanted any more.
        raise Invalid("incident_gone", MESSAGES["incident_gone"])
    before = {"state": row.state, "attempts": row.attempts, "last_error": row.last_error}
    row.state, row.attempts, row.next_attempt_at, row.done_at = "pending", 0, now, None
    session.add(row)
    reference = session.execute(select(col(Application.reference)).where(
        col(Application.id) == instance.application_id)).scalar_one()
    audit.record(session, action="flow.incident_retried", object_type="application",
                 object_id=reference, actor_id=actor.user_id, actor_name=actor_name,
                 before=before, after={"outbox": outbox_id, "node": row.node, "state": "pending"},
                 request_id=request_id)
    return row


def retry_stopped(session: Session, actor: Actor, tree: DepartmentTree, application_id: int,
                  node: str, *, now: datetime, request_id: str = "") -> None:
    """Enter the stopped step again (an admin repair onto the same node), so its approvers are
    resolved anew, e.g. after someone was given the missing role."""
    act_on_application(session, actor, application_id, "repair", now=now, tree=tree,
                       request_id=request_id, node=node,
                       reason="retry after an empty approver set")
