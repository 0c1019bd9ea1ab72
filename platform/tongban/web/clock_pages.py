"""Staff: the task page's "办理时限" (time limit) panel and its forms: stop the clock (§45
hearing, inspection, expert review), restart it, ask for an extension and, for the person asked,
grant or refuse it.

The forms post here; each change goes through the flow runtime (the engine owns the clock rows
and writes their events and audit) in the request's one transaction, then redirects back to the
task page. Bad input is answered on the task page in the user's language, with nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlmodel import Session, col

from ..models import Department, FlowTask, Membership, Role, User, saved_id
from . import deadline_views, flow_views
from .deadline_views import Clock, DeadlineView

OPERATIONS = ("pause_clock", "resume_clock", "request_extension", "decide_extension")
MAX_EXPECTED_DAYS = 365
APPROVER_ROLES = (Role.DEPARTMENT_ADMIN,)
"""Who may be asked to grant an extension (负责人): the department's administrators."""

# The engine's error codes that belong beside a field of the clock forms (by form).
FIELD_OF_CODE = {
    "pause_clock": {"pause_reason_unknown": "reason", "reason_required": "note",
                    "expected_days_invalid": "expected_days"},
    "request_extension": {"extension_units": "units", "extension_over_limit": "units",
                          "extension_needs_approver": "approver",
                          "reason_required": "extension_reason"},
    "decide_extension": {"reason_required": "decision_comment",
                         "extension_over_limit": "decision"},
}


def _now() -> datetime:
    return deadline_views.now()


def engine_has(operation: str) -> bool:
    """Whether the runtime offers ``operation`` (a form for one it lacks is not drawn)."""
    from ..workflow import ops, runtime

    return operation in ops.BY_NAME and (operation in runtime.TASK_OPERATIONS
                                         or operation in runtime.APPLICATION_OPERATIONS)


@dataclass(frozen=True)
class PanelClock:
    """One clock on the panel, with what the signed-in user may do to it."""

    view: DeadlineView
    clock: Clock
    title: str
    actions: tuple[str, ...]
    approver: str = ""  # the name of the person an extension waits for

    @property
    def key(self) -> str:
        return str(self.view.seq)


def panel(session: Session, run: flow_views.Run, task: FlowTask, user_id: int | None,
          candidate: bool = False) -> list[PanelClock]:
    """The task's own clock and the application's statutory ones, each with its actions.
    The person handling the task (its assignee, or a candidate of its group while nobody has
    taken it) may stop, restart and ask to extend them; the person an extension waits for
    decides it. The engine checks the same again."""
    own = deadline_views.for_task(session, saved_id(task))
    views = ([own] if own is not None else []) + [
        v for v in deadline_views.application_deadlines(
            session, run.instance.id if run.instance else None) if v.live]
    calendars = deadline_views.Calendars(session)
    at = deadline_views.now()
    holder = user_id is not None and user_id != run.application.submitter_id \
        and task.state in ("open", "claimed") and task.kind != "cc" \
        and (task.assignee_id == user_id or (task.assignee_id is None and candidate))
    asked = flow_views.Names(session, [(v.pending_extension or {}).get("approver_id")
                                       for v in views])
    clocks = []
    for view in views:
        state = deadline_views.clock(view, at, calendars.days(view.calendar_id))
        title = _("This step") if view.scope == "task" else _("The application")
        approver = asked.name((view.pending_extension or {}).get("approver_id"))
        clocks.append(PanelClock(view, state, title, _actions(view, holder, user_id), approver))
    return clocks


def _actions(view: DeadlineView, holder: bool, user_id: int | None) -> tuple[str, ...]:
    actions: list[str] = []
    if holder and view.state == "running":
        actions.append("pause_clock")
    if holder and view.state == "paused":
        actions.append("resume_clock")
    if holder and view.live and view.extension_limit > view.extended \
            and not view.pending_extension:
        actions.append("request_extension")
    pending = view.pending_extension or {}
    if view.live and pending and pending.get("approver_id") == user_id:
        actions.append("decide_extension")
    return tuple(a for a in actions if engine_has(a))


def approvers(session: Session, department: str, exclude: set[int | None]
              ) -> list[tuple[int, str]]:
    """People who may grant an extension: administrators of the application's department
    (as the engine's ``deadlines.approvers``), by name and where they work."""
    found = session.execute(
        select(col(Membership.user_id), col(Membership.role), col(Department.code))
        .outerjoin(Department, col(Department.id) == col(Membership.department_id))
        .where(col(Membership.role).in_([r.value for r in APPROVER_ROLES]))).all()
    ids = {m.user_id for m in found if m.user_id not in exclude and m.code == department}
    active = set(session.scalars(select(col(User.id)).where(col(User.id).in_(ids),
                                                             col(User.is_active))))
    people = flow_views.Names(session, active)
    choices = [(p.id, f"{p.name}（{p.where}）" if p.where else p.name)
               for p in people.people.values()]
    return sorted(choices, key=lambda c: c[1])


# --- the forms --------------------------------------------------------------------------------

def _whole(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def arguments(op: str, form: Any, view: DeadlineView | None, approver_ids: set[int]
              ) -> tuple[dict[str, Any], dict[str, str]]:
    """The runtime arguments of a clock form and the fields' errors (keyed ``field-seq``)."""
    errors: dict[str, str] = {}
    args: dict[str, Any] = {}
    if view is None:
        return args, {"op": _("This time limit is no longer running.")}
    seq = view.seq
    args["deadline_seq"] = seq
    if op == "pause_clock":
        reason = form.get("reason", "")
        note = form.get("note", "").strip()
        if reason not in deadline_views.PAUSE_REASONS:
            errors[f"reason-{seq}"] = _("Choose why the clock stops")
        if reason == "other" and not note:
            errors[f"note-{seq}"] = _("Say why the clock stops")
        days_text = form.get("expected_days", "")
        expected = _whole(days_text)
        if days_text.strip() and (expected is None or not 1 <= expected <= MAX_EXPECTED_DAYS):
            errors[f"expected_days-{seq}"] = _(
                "Enter the working days needed as a whole number from 1 to %(most)d",
                most=MAX_EXPECTED_DAYS)
        elif expected is None and reason in deadline_views.TOLD_IN_WRITING:
            errors[f"expected_days-{seq}"] = _(
                "Enter how many working days this will take: the applicant is told in writing")
        args.update(reason=reason, note=note, expected_days=expected)
    elif op == "request_extension":
        most = view.extension_limit - view.extended
        count = _whole(form.get("units", ""))
        if count is None or not 1 <= count <= most:
            errors[f"units-{seq}"] = _("Enter a whole number of days from 1 to %(most)d",
                                       most=most)
        reason = form.get("reason", "").strip()
        if not reason:
            errors[f"extension_reason-{seq}"] = _("Enter why more time is needed")
        approver = _whole(form.get("approver", ""))
        if approver is None or approver not in approver_ids:
            errors[f"approver-{seq}"] = _("Choose who approves the extension")
        args.update(units=count, reason=reason, approver_id=approver)
    elif op == "decide_extension":
        decision = form.get("decision", "")
        comment = form.get("comment", "").strip()
        if decision not in ("approve", "refuse"):
            errors[f"decision-{seq}"] = _("Choose whether to grant the extension")
        elif decision == "refuse" and not comment:
            errors[f"decision_comment-{seq}"] = _("Enter why the extension is refused")
        args.update(approve=decision == "approve", comment=comment)
    return args, errors


def _field(op: str, code: str, seq: int) -> str:
    field = FIELD_OF_CODE.get(op, {}).get(code)
    return f"{field}-{seq}" if field else "op"
