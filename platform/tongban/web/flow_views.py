"""What the review and progress pages show of a flow run: names instead of ids, the timeline in
words, where the application stands. Reads only; one query per kind of row, never per row."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlmodel import Session, col

from ..i18n import N_, pick
from ..models import (
    Application,
    DefinitionVersion,
    Department,
    FlowEvent,
    FlowInstance,
    FlowTask,
    FlowToken,
    Membership,
    Role,
    User,
)

STAFF_ROLES = frozenset({Role.COUNTER_CLERK, Role.REVIEWER, Role.DEPARTMENT_ADMIN,
                         Role.PLATFORM_ADMIN})

ROLE_NAMES = {
    Role.CITIZEN: N_("Applicant"),
    Role.ENTERPRISE: N_("Applicant"),
    Role.COUNTER_CLERK: N_("Counter clerk"),
    Role.REVIEWER: N_("Reviewer"),
    Role.DEPARTMENT_ADMIN: N_("Department administrator"),
    Role.PLATFORM_ADMIN: N_("Platform administrator"),
}

# C7 statuses in plain words (the applicant's view and the reviewers').
STATUS_NAMES = {
    "draft": N_("Not yet sent"),
    "submitted": N_("Submitted"),
    "correction_requested": N_("You need to correct something"),
    "accepted": N_("Accepted, waiting for review"),
    "in_progress": N_("Being reviewed"),
    "publicizing": N_("Being publicized"),
    "waiting_external": N_("Waiting for another department"),
    "returned": N_("Returned to you to change and send again"),
    "approved": N_("Approved"),
    "rejected": N_("Not approved"),
    "withdrawn": N_("Withdrawn"),
    "abandoned": N_("Closed: not resubmitted in time"),
    "completed": N_("Completed"),
    "result_held": N_("Result to be issued (promised materials not yet complete)"),
    "revoked": N_("Approval revoked"),
}

REFUSAL_CONFIRMED = N_("Confirmed the refusal")

EVENT_WORDS = {
    "started": N_("Application received"),
    "node_entered": N_("Reached this step"),
    "task_created": N_("Task created"),
    "task_claimed": N_("Took the task"),
    "task_released": N_("Gave the task back to the group"),
    "accepted": N_("Accepted the application"),
    "intake_refused": N_("Refused to accept the application"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "returned": N_("Returned"),
    "resubmitted": N_("Sent again"),
    "correction_requested": N_("Asked for corrections"),
    "corrected": N_("Corrections sent"),
    "transferred": N_("Transferred the task"),
    "signer_added": N_("Added a signer"),
    "withdrawn": N_("Withdrew the application"),
    "action_withdrawn": N_("Withdrew their action"),
    "commented": N_("Commented"),
    "cc_sent": N_("Sent a copy"),
    "cc_read": N_("Read the copy"),
    "reminded": N_("Sent a reminder"),
    "task_cancelled": N_("Task closed"),
    "task_auto_passed": N_("Passed automatically"),
    "gateway_taken": N_("Route chosen"),
    "split": N_("Split into parallel steps"),
    "joined": N_("Parallel steps joined"),
    "service_queued": N_("Automatic check queued"),
    "service_done": N_("Automatic check done"),
    "service_failed": N_("Automatic check failed"),
    "incident": N_("Problem reported to the administrator"),
    "message_received": N_("Answer received from another department"),
    "message_duplicate": N_("Duplicate answer ignored"),
    "repaired": N_("Moved by an administrator"),
    "migrated": N_("Moved to a newer version of the process"),
    "ended": N_("Finished"),
    # Time (issue 12): the clocks' events, written by the engine's deadline code.
    "deadline_set": N_("Time limit started"),
    "clock_paused": N_("Clock paused"),
    "clock_resumed": N_("Clock restarted after a pause"),
    "clock_restarted": N_("Time limit counted again from the corrections"),
    "extension_requested": N_("Extension asked for"),
    "extension_approved": N_("Time limit extended"),
    "deadline_known": N_("Due date set now the working-day calendar is published"),
    "extension_refused": N_("Extension refused"),
    "due_soon": N_("Due soon"),
    "overdue": N_("Time limit passed"),
    "escalated": N_("Escalated for supervision"),
    "auto_approved": N_("Approved automatically when the time limit passed"),
    "auto_returned": N_("Returned automatically when the time limit passed"),
    "deemed_accepted": N_("Deemed accepted (no answer in time)"),
    "deadline_unknown": N_("The working-day calendar does not reach the due day yet"),
    "deadline_closed": N_("Time limit ended"),
    # Decisions at intake (issue 17 item 3).
    "result_held": N_("Result held until the promised material arrives"),
    "hold_lifted": N_("Promised material received"),
    "commitment_broken": N_("Commitment found untrue: the application ends"),
    "hold_overdue": N_("Promised material overdue"),
    "hold_expired": N_("Ended: the promised material did not arrive in time"),
    "approval_revoked": N_("The approval was revoked"),
}

# How an intake was accepted when not plainly (counter-intake.md), by the event's ``mode``.
ACCEPT_MODE_WORDS = {
    "deficient": N_("Accepted with materials to follow (容缺受理)"),
    "commitment": N_("Accepted on a written commitment (告知承诺制)"),
}

# Why a task was closed (the engine's reason codes), in words; an unknown code is not shown.
# Steps the engine decided by itself when a time limit passed; their data's "reason" is a code.
SYSTEM_DECISIONS = frozenset({"deemed_accepted", "auto_approved", "auto_returned"})

CANCEL_REASONS = {
    "approved": N_("The application was finished"),
    "completed": N_("The application was finished"),
    "rejected": N_("The application was not approved"),
    "withdrawn": N_("The applicant withdrew the application"),
    "returned": N_("The application was returned"),
    "repaired": N_("Moved by an administrator"),
    "node completed": N_("The step was completed by others"),
    "action withdrawn": N_("An earlier action was withdrawn"),
}

# Engine bookkeeping the timeline leaves out: it says nothing a person did or must know.
QUIET_EVENTS = frozenset({"node_entered", "task_created", "gateway_taken", "split", "joined",
                          "service_queued", "message_duplicate", "cc_read"})
# The office's own housekeeping: staff see it, the applicant's timeline leaves it out (the
# office's reminders and supervision among it, and the clocks' internal steps: the applicant sees
# the time limit itself, a pause and an extension granted).
STAFF_ONLY_EVENTS = frozenset({"task_claimed", "task_released", "cc_sent", "deadline_set",
                               "due_soon", "reminded", "escalated", "extension_requested",
                               "extension_refused", "deadline_unknown", "deadline_closed"})

# Clock events whose words say the new due day.
NEW_DUE_EVENTS = frozenset({"clock_resumed", "clock_restarted", "extension_approved",
                            "deadline_known"})

GATEWAYS = frozenset({"parallel", "inclusive", "exclusive", "join"})

TASK_STATE_NAMES = {
    "open": N_("Waiting"), "claimed": N_("Taken"), "done": N_("Done"),
    "cancelled": N_("Closed"), "transferred": N_("Transferred"), "expired": N_("Expired"),
}


def status_name(status: str) -> str:
    return _(STATUS_NAMES.get(status, status))


def flow_content(session: Session, flow_version_id: int | None) -> dict[str, Any]:
    if flow_version_id is None:
        return {}
    row = session.get(DefinitionVersion, flow_version_id)
    return row.content if row is not None else {}


def confirms_refusal(content: dict[str, Any], node_id: str | None) -> bool:
    """Whether approving the task ends the application refused: its node leads straight to an
    end whose outcome is rejected (a score below the standard, confirmed by a person)."""
    nodes = content.get("nodes") or {}
    target = nodes.get((nodes.get(node_id or "") or {}).get("next") or "")
    return isinstance(target, dict) and target.get("type") == "end" \
        and target.get("outcome") == "rejected"


def node_name(content: dict[str, Any], node: str | None) -> str:
    if not node:
        return ""
    spec = content.get("nodes", {}).get(node) or {}
    name = spec.get("name") if isinstance(spec, dict) else None
    return pick(name) if name else node


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    username: str
    role: str  # translated role, "" when none
    department: str  # department name, "" when none

    # Every staff membership as (translated role, department code, department name), for
    # people who work in several departments: the timeline names the one a task was offered to.
    memberships: tuple[tuple[str, str, str], ...] = ()

    @property
    def where(self) -> str:
        """Department and role, e.g. "市人社局 审核人员"."""
        return " ".join(part for part in (self.department, self.role) if part)

    def department_in(self, department: str | None) -> str:
        """The name of ``department`` when the person works there, else their own one's."""
        for _role, code, name in self.memberships:
            if department and code == department:
                return name
        return self.department

    def where_in(self, department: str | None) -> str:
        """Department and role in ``department`` when the person works there, else ``where``."""
        for role, code, name in self.memberships:
            if department and code == department:
                return " ".join(part for part in (name, role) if part)
        return self.where


class Names:
    """Users and departments by id and code, read in one query each."""

    def __init__(self, session: Session, user_ids: Iterable[int | None] = (),
                 departments: Iterable[str | None] = ()):
        ids = {i for i in user_ids if i is not None}
        self.session = session
        self.people: dict[int, Person] = {}
        self.departments: dict[str, str] = {}
        codes = {c for c in departments if c}
        memberships: dict[int, tuple[str, str | None]] = {}
        every: dict[int, list[tuple[str, str | None]]] = {}
        if ids:
            for m in session.execute(
                    select(col(Membership.user_id), col(Membership.role),
                           col(Department.code))
                    .outerjoin(Department, col(Department.id) == col(Membership.department_id))
                    .where(col(Membership.user_id).in_(ids))
                    .order_by(col(Membership.id))):
                if m.role in STAFF_ROLES:
                    every.setdefault(m.user_id, []).append((m.role, m.code))
                    memberships.setdefault(m.user_id, (m.role, m.code))
                    if m.code:
                        codes.add(m.code)
        if codes:
            for d in session.execute(select(col(Department.code), col(Department.name_zh),
                                            col(Department.name_en))
                                     .where(col(Department.code).in_(codes))):
                self.departments[d.code] = pick({"zh": d.name_zh, "en": d.name_en})
        if ids:
            for u in session.execute(select(col(User.id), col(User.display_name),
                                            col(User.username)).where(col(User.id).in_(ids))):
                role, dept = memberships.get(u.id, (None, None))
                self.people[u.id] = Person(
                    u.id, u.display_name, u.username,
                    _(ROLE_NAMES[Role(role)]) if role else "",
                    self.department(dept),
                    tuple((_(ROLE_NAMES[Role(r)]), c, self.department(c))
                          for r, c in every.get(u.id, []) if c))

    def department(self, code: str | None) -> str:
        if not code:
            return ""
        return self.departments.get(code, code)

    def person(self, user_id: int | None) -> Person | None:
        return self.people.get(user_id) if user_id is not None else None

    def name(self, user_id: int | None) -> str:
        found = self.person(user_id)
        return found.name if found else ""


@dataclass(frozen=True)
class Step:
    at: Any
    what: str
    node: str
    who: str  # the person's name (staff view, or show_names) or ""
    where: str  # department and role
    on_behalf_of: str
    comment: str
    items: list[str]


@dataclass
class Run:
    """One application's flow run as the pages show it."""

    application: Application
    instance: FlowInstance | None
    content: dict[str, Any]
    tasks: list[FlowTask]
    events: list[FlowEvent]
    tokens: list[FlowToken]
    names: Names

    @property
    def current_nodes(self) -> list[str]:
        open_nodes = [t.node for t in self.tokens if t.state in ("active", "waiting")]
        nodes = self.content.get("nodes", {})
        # A split's token waits on the split while its branches run: the branches are where
        # the application stands, not the gateway.
        steps = [n for n in dict.fromkeys(open_nodes)
                 if (nodes.get(n) or {}).get("type") not in GATEWAYS] or \
            list(dict.fromkeys(open_nodes))
        # A return to the applicant parks the flow on its start node: the applicant has it.
        return [_("With the applicant") if (nodes.get(n) or {}).get("type") == "start"
                else node_name(self.content, n) for n in steps]

    @property
    def current_node_ids(self) -> list[str]:
        return list(dict.fromkeys(t.node for t in self.tokens
                                  if t.state in ("active", "waiting")))

    def task_by_seq(self, seq: int | None) -> FlowTask | None:
        for task in self.tasks:
            if task.seq == seq:
                return task
        return None

    def open_correction(self) -> dict[str, Any] | None:
        """The correction request or return the applicant has to answer, if any."""
        if self.application.status not in ("correction_requested", "returned"):
            return None
        wanted = ("correction_requested",) if self.application.status == \
            "correction_requested" else ("returned",)
        for event in reversed(self.events):
            if event.type in wanted:
                return {"type": event.type, "questions": list(event.data.get("questions", [])),
                        "materials": list(event.data.get("materials", [])),
                        "comment": event.data.get("comment", ""), "at": event.at}
        return None

    def timeline(self, *, staff: bool, label: Callable[[str], str] | None = None,
                 public: bool = False) -> list[Step]:
        """Every step in words: what, at which step, who (department and role; a name for
        staff, or for applicants when the flow says ``show_names: true``), when.

        ``public`` is the applicant's timeline for anyone holding the reference (the public
        progress page): department names and step names only, none of the words people wrote
        (comments, reasons, notes) and no question names."""
        staff = staff and not public
        show_names = not public and (staff or bool(self.content.get("show_names")))
        steps = []
        for event in self.events:
            if event.type in QUIET_EVENTS or (not staff and event.type in STAFF_ONLY_EVENTS):
                continue
            person = self.names.person(event.actor_id)
            applicant = event.actor_id is not None and event.actor_id in (
                self.application.submitter_id,)
            task = self.task_by_seq(event.task_seq)
            where = person.where_in(task.candidate_department if task else None) \
                if person else ""
            if public and person is not None:
                where = person.department_in(task.candidate_department if task else None)
            if applicant and not (person and person.role):
                where = _("Applicant")
            if person is None and event.actor_id is None and event.type not in (
                    "started", "ended"):
                where = _("The system")
            reason = event.data.get("reason")
            if event.type == "task_cancelled":  # a code of the engine's, not a person's words
                reason = _(CANCEL_REASONS[reason]) if reason in CANCEL_REASONS else ""
            if event.type in SYSTEM_DECISIONS:  # "timeout": the event's words say it all
                reason = ""
            if event.type == "clock_paused" or event.type in NEW_DUE_EVENTS:
                reason = clock_words(event.type, event.data)
            decided = task is not None and event.type in (
                "approved", "rejected", "returned", "accepted", "intake_refused")
            comment = str(event.data.get("comment") or reason
                          or (task.comment if task is not None and decided else "") or "")
            if public:  # only the words the platform itself writes: a new due day
                comment = str(reason or "") if event.type in NEW_DUE_EVENTS else ""
            behalf = self.names.name(event.on_behalf_of) if event.on_behalf_of else ""
            items = [] if public else [
                label(str(key)) if label else str(key)
                for key in [*event.data.get("questions", []), *event.data.get("materials", [])]]
            words = EVENT_WORDS.get(event.type, event.type)
            if event.type == "accepted" and event.data.get("mode") in ACCEPT_MODE_WORDS:
                words = ACCEPT_MODE_WORDS[event.data["mode"]]  # 容缺受理, 告知承诺受理
            if event.type == "approved" and confirms_refusal(self.content, event.node):
                words = REFUSAL_CONFIRMED  # "approved" there ends the application refused
            steps.append(Step(
                at=event.at, what=_(words),
                node=node_name(self.content, event.node),
                who=(person.name if person and show_names else ""), where=where,
                on_behalf_of=behalf if show_names else "", comment=comment, items=items))
        return steps


def clock_words(kind: str, data: dict[str, Any]) -> str:
    """A clock event's particulars in words: why it paused, or the new due day."""
    from datetime import datetime

    from ..localtime import local_time
    from .deadline_views import pause_reason_words

    if kind == "clock_paused":
        words = [pause_reason_words(data.get("reason")), str(data.get("note") or "")]
        return " · ".join(w for w in words if w)
    due = data.get("due_at")
    try:
        when = datetime.fromisoformat(due) if isinstance(due, str) else None
    except ValueError:
        when = None
    return _("Now due by %(day)s", day=local_time(when, "date")) if when else ""


def load_run(session: Session, application: Application) -> Run:
    instance = session.scalars(select(FlowInstance).where(
        col(FlowInstance.application_id) == application.id)).first()
    tasks: list[FlowTask] = []
    events: list[FlowEvent] = []
    tokens: list[FlowToken] = []
    if instance is not None:
        tasks = list(session.scalars(select(FlowTask).where(
            col(FlowTask.instance_id) == instance.id).order_by(col(FlowTask.seq))))
        events = list(session.scalars(select(FlowEvent).where(
            col(FlowEvent.instance_id) == instance.id).order_by(col(FlowEvent.seq))))
        tokens = list(session.scalars(select(FlowToken).where(
            col(FlowToken.instance_id) == instance.id).order_by(col(FlowToken.seq))))
    content = flow_content(session, instance.flow_version_id if instance else
                           application.flow_version_id)
    user_ids: set[int | None] = {application.submitter_id, application.clerk_id}
    for task in tasks:
        user_ids |= {task.assignee_id, task.done_by, task.on_behalf_of, task.added_by}
    for event in events:
        user_ids |= {event.actor_id, event.on_behalf_of}
    departments = {t.candidate_department for t in tasks} | {application.department_code}
    return Run(application, instance, content, tasks, events, tokens,
               Names(session, user_ids, departments))


def question_label(form: Any) -> Callable[[str], str]:
    """A question key in words (its label in the page's language), for the timeline's
    correction items; a key the pinned form does not know stays as it is."""
    from ..forms import render
    from ..i18n import current_lang

    lang = current_lang()

    def label(key: str) -> str:
        fields = form.fields.get(key) or []
        return str(render.text_for(fields[0].label, lang)) if fields else key
    return label
