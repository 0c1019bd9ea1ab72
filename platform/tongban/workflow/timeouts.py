"""What a due timer does (the worker's and the test bench's :func:`fire_timer`): the "due soon"
mark, reminders, and on timeout the overdue mark and the node's ``on_timeout`` actions: remind,
escalate (督办), auto-approve, auto-return, deemed acceptance of an intake (行政许可法 §32).

Kept apart from :mod:`~tongban.workflow.deadlines`, which the engine's routing calls when tasks
open: the timeout actions call the engine back (a decision by the system, a return), and the
engine must not import them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..models import FlowDeadline, FlowTask, TimerFacts
from ..worktime import CalendarNotPublished, Period, due_at
from .deadline_spec import DeadlineSpec, Remind, Span
from .deadlines import DUE_SOON, REMIND, TIMEOUT, add_timer, iso, refresh_flags, spec_for, sync
from .engine import decide_by_system
from .operations import return_by_system
from .routing import send_cc
from .rows import put
from .state import WORK_OPEN, State, emit, set_data


def _recipients(state: State, task: FlowTask | None) -> list[int]:
    if task is None:
        return []
    if task.assignee_id is not None:
        return [task.assignee_id]
    if task.candidate_role:
        return state.directory.users_with(task.candidate_role,
                                          frozenset({task.candidate_department or ""}))
    return []


def _escalation_targets(state: State, spec: DeadlineSpec, task: FlowTask | None) -> list[int]:
    """The department administrators: for ``department_admin`` the instance's department; for
    ``supervisor`` the department the task is offered in (the directory knows no line
    manager, so a supervisor is that department's administrator)."""
    department = state.instance.department_code
    if spec.escalate_to == "supervisor" and task is not None and task.candidate_department:
        department = task.candidate_department
    users = state.directory.department_admins(department) if department else []
    holder = task.assignee_id if task is not None else None
    return [user for user in users if user not in (holder, state.applicant_id)]


def _remind(state: State, deadline: FlowDeadline, task: FlowTask | None, spec: DeadlineSpec,
            now: datetime, n: int) -> None:
    emit(state, "reminded", now, node=deadline.node, task=task,
         data={"deadline": deadline.seq, "to": _recipients(state, task), "n": n,
               "reason": "overdue"})
    remind = spec.remind or Remind()
    if n < remind.times and remind.every is not None:
        at = _after(state, now, remind.every)
        if at is not None:
            add_timer(state, deadline, REMIND, at, n + 1)


def _after(state: State, start: datetime, span: Span) -> datetime | None:
    try:
        return due_at(state.calendar, Period(span.unit, span.amount), start) \
            if span.unit in ("working_days", "natural_days") else \
            start + timedelta(hours=span.amount)
    except CalendarNotPublished:
        return None


def _escalate(state: State, deadline: FlowDeadline, task: FlowTask | None, spec: DeadlineSpec,
              now: datetime) -> None:
    targets = _escalation_targets(state, spec, task)
    if task is not None and targets:
        set_data(task, escalated_to=list(dict.fromkeys([*task.data.get("escalated_to", []),
                                                        *targets])))
    emit(state, "escalated", now, node=deadline.node, task=task,
         data={"deadline": deadline.seq, "to": targets, "escalate_to": spec.escalate_to})
    if targets:
        token = state.token(task.token_seq) if task is not None else None
        notices = send_cc(state, token, deadline.node or "", targets, now)
        for notice in notices:
            set_data(notice, notice="escalation", deadline=deadline.seq,
                     **({"task": task.seq} if task is not None else {}))


def _decide_by_timeout(state: State, deadline: FlowDeadline, task: FlowTask, action: str,
                       now: datetime) -> None:
    if action == "auto_approve" and task.kind in ("approve", "vote", "sign", "data"):
        decide_by_system(state, task, now, "approved", "auto_approved")
    elif action == "accept" and task.kind == "intake":
        decide_by_system(state, task, now, "accepted", "deemed_accepted")
    elif action == "auto_return":
        return_by_system(state, task, now)


def fire_timer(state: State, timer: TimerFacts, now: datetime) -> str:
    """What a due timer does; ``"stale"`` (nothing changes) when its deadline changed or
    closed since, or its task is no longer open."""
    deadline = next((d for d in state.deadlines if d.seq == timer.deadline_seq), None)
    if deadline is None or deadline.state != "running" or state.instance.ended_at is not None \
            or timer.payload.get("generation") != deadline.data.get("generation", 0):
        return "stale"
    task = state.task(deadline.task_seq) if deadline.scope == "task" else None
    if deadline.scope == "task" and (task is None or task.state not in WORK_OPEN):
        return "stale"
    spec = spec_for(state, deadline) or DeadlineSpec(period=Span(deadline.unit, deadline.amount))
    if timer.kind == DUE_SOON:
        emit(state, "due_soon", now, node=deadline.node, task=task,
             data={"deadline": deadline.seq, "due_at": iso(deadline.due_at)})
        return "done"
    if timer.kind == REMIND:
        if not deadline.overdue:
            return "stale"
        _remind(state, deadline, task, spec, now, int(timer.payload.get("n", 1)))
        return "done"
    if timer.kind != TIMEOUT or deadline.overdue:
        return "stale"
    put(deadline, overdue=True)
    refresh_flags(state)
    emit(state, "overdue", now, node=deadline.node, task=task,
         data={"deadline": deadline.seq, "due_at": iso(deadline.due_at)})
    waiting = bool(state.vars.get("correction"))
    for action in spec.on_timeout:
        if action == "remind":
            _remind(state, deadline, task, spec, now, 1)
        elif action == "escalate":
            _escalate(state, deadline, task, spec, now)
        elif task is not None and not waiting and task.state in WORK_OPEN:
            _decide_by_timeout(state, deadline, task, action, now)
    sync(state, now)
    return "done"
