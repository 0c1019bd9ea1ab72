"""What the task page and the applicant's page show of the decisions at intake (容缺受理,
告知承诺): read-only, shared by web.review, web.progress and web.intake_views."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from .. import counter_intake
from ..models import Application, FlowEvent, FlowInstance, FlowTask, saved_id
from ..policy import REVIEW_ROLES, Actor, DepartmentTree, holds
from ..workflow.intake_decisions import OVERDUE_REASON, local_today

INTAKE_OPERATIONS = ("accept_deficient", "accept_commitment")


def task_panel(session: Session, application: Application, task: FlowTask) -> dict[str, Any]:
    """What the task page needs for the two ways of accepting with something to follow."""
    service = counter_intake.service_content(session, application)
    return {
        "materials": [(str(m.get("code")), m.get("name") or {})
                      for m in service.get("materials") or ()],
        "commitment": counter_intake.commitment_text(service),
        "bar": counter_intake.bar_for(session, application),
        "today": local_today(datetime.now(UTC)).isoformat(),
        "hold": counter_intake.hold_of(session, saved_id(application)),
        "decided": _intake_event(session, application),
        # Sent from the counter without materials marked 容缺 (ticked in the 容缺 form).
        "outstanding": list(application.outstanding_materials or ()),
    }


def _intake_event(session: Session, application: Application) -> str | None:
    """``accepted`` or ``intake_refused`` once the counter decided; None before."""
    found = session.scalars(select(col(FlowEvent.type)).join(
        FlowInstance, col(FlowInstance.id) == col(FlowEvent.instance_id)).where(
        col(FlowInstance.application_id) == saved_id(application),
        col(FlowEvent.type).in_(("accepted", "intake_refused", "deemed_accepted")))
        .order_by(col(FlowEvent.seq))).first()
    return str(found) if found else None


def applicant_panel(session: Session, application: Application) -> dict[str, Any]:
    hold = counter_intake.hold_of(session, saved_id(application))
    running = application.status not in ("approved", "rejected", "completed", "withdrawn",
                                         "abandoned", "revoked")
    return {"hold": hold, "missing": counter_intake.outstanding(hold) if running else [],
            "held": hold is not None and hold.state in counter_intake.OPEN_HOLD_STATES
            and running,
            "commitment": counter_intake.commitment_of(session, saved_id(application))}



def overdue_panel(session: Session, application: Application, actor: Actor,
                  tree: DepartmentTree) -> dict[str, Any] | None:
    """A 容缺 hold past its due day, on the staff pages: the materials still missing and
    whether this reviewer may end the application for it. None without such a hold."""
    hold = counter_intake.hold_of(session, saved_id(application))
    if hold is None or hold.state != "overdue" or application.status in (
            "approved", "rejected", "completed", "withdrawn", "abandoned", "revoked"):
        return None
    return {"hold": hold, "missing": counter_intake.outstanding(hold),
            "reference": application.reference, "reason": OVERDUE_REASON,
            "may_end": holds(actor, REVIEW_ROLES, application.department_code, tree)}
