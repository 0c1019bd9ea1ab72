"""Deadlines in the flow engine: the clocks of tasks and of statutory periods, their timers, and
what happens when a clock runs out. Pure over :class:`~tongban.workflow.state.State` (the
calendar is ``state.calendar``, put there by the runtime or the test bench), except the two read
models at the end (:func:`current`, :func:`for_task`), which read the database for the pages.

A *task deadline* opens when a task is created on a node with a ``deadline:`` block
(``task.due_at`` is its due instant) and closes when the task is done or cancelled. An
*application deadline* (the flow's top-level ``deadlines:``) starts and stops on the flow's
events (:func:`sync`). Every clock change bumps the deadline's *generation*: its pending timers
are cancelled (``state.cancelled_timers``) and new ones scheduled, so a timer of an older
generation is stale when it fires (:func:`fire_timer` returns ``"stale"`` and changes nothing).

The calendar arithmetic is :mod:`tongban.worktime`'s; a due date past the calendar's published
data is never guessed: the deadline's ``due_at`` stays empty and an event ``deadline_unknown``
says why ("calendar for 2027 not yet published").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..models import FlowDeadline, FlowTask, FlowTimer
from ..worktime import (
    CalendarNotPublished,
    Period,
    due_at,
    end_of_day,
    is_working_day,
    local_day,
    resume_due,
    used,
)
from . import errors
from .deadline_spec import ApplicationDeadline, DeadlineSpec, Span
from .rows import build, put
from .state import WORK_OPEN, State, emit, ensure_live, is_work, require_text, set_data, take_seq
from .who import in_group

if TYPE_CHECKING:
    from sqlmodel import Session

LIVE = ("running", "paused")
DUE_SOON = "deadline.due_soon"
TIMEOUT = "deadline.timeout"
REMIND = "deadline.remind"
TIMER_KINDS = (DUE_SOON, TIMEOUT, REMIND)

RESTART_PRESETS = frozenset({"intake_answer", "disclosure_reply"})
"""Presets whose clock starts again when the corrected application arrives (补正: 行政许可法 §32
counts acceptance from the complete materials; 政府信息公开条例 §30 the reply period from the
corrected request). The clock stands still while the applicant corrects."""

PAUSE_REASONS = ("hearing", "inspection", "expert_review", "testing", "quarantine", "other")
"""Why a clock may stand still (时间不计入, 行政许可法 §45): 听证, 现场核查, 专家评审, 检验检测,
检疫, other (a note says what)."""

CORRECTION_PAUSE = "correction"


# --- Specs ---------------------------------------------------------------------------------


def spec_of(value: Any) -> DeadlineSpec | None:
    """A node's compiled deadline; the old raw form ``{working_days: 5}`` is read as a bare
    period (flows compiled before presets existed)."""
    if value is None or isinstance(value, DeadlineSpec):
        return value
    if isinstance(value, Mapping):
        for unit in ("working_days", "natural_days", "hours", "working_hours"):
            if unit in value:
                return DeadlineSpec(period=Span(unit, int(value[unit])))
    return None


def application_deadlines(state: State) -> tuple[ApplicationDeadline, ...]:
    return tuple(getattr(state.flow, "deadlines", ()) or ())


def spec_for(state: State, deadline: FlowDeadline) -> DeadlineSpec | None:
    if deadline.scope == "task":
        node = state.flow.nodes.get(deadline.node or "")
        return spec_of(node.deadline) if node is not None else None
    for entry in application_deadlines(state):
        if entry.id == deadline.data.get("id"):
            return entry.spec
    return None


# --- Clock arithmetic ------------------------------------------------------------------------


def _compute_due(state: State, deadline: FlowDeadline) -> datetime:
    """The due instant of a running clock (raises CalendarNotPublished)."""
    remaining = deadline.amount + deadline.extended - deadline.elapsed
    if remaining <= 0:
        return deadline.segment_start
    if deadline.elapsed == 0:
        return due_at(state.calendar, Period(deadline.unit, remaining), deadline.segment_start)
    return resume_due(state.calendar, deadline.unit, remaining, deadline.segment_start)


def _set_due(state: State, deadline: FlowDeadline, now: datetime) -> bool:
    """Recompute ``due_at`` (and the task's); False with a ``deadline_unknown`` event when the
    calendar has no data that far."""
    try:
        due: datetime | None = _compute_due(state, deadline)
    except CalendarNotPublished as exc:
        due = None
        set_data(deadline, unknown=str(exc))
        emit(state, "deadline_unknown", now, node=deadline.node,
             task=state.task(deadline.task_seq),
             data={"deadline": deadline.seq, "message": str(exc)})
    else:
        set_data(deadline, unknown=None)
    put(deadline, due_at=due)
    if due is not None:
        put(deadline, overdue=deadline.overdue and due <= now)
    _task_due(state, deadline)
    return due is not None


def _task_due(state: State, deadline: FlowDeadline) -> None:
    task = state.task(deadline.task_seq) if deadline.scope == "task" else None
    if task is not None and task.due_at != deadline.due_at:
        put(task, due_at=deadline.due_at)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _step_back(state: State, day: date, count: int, working: bool) -> date:
    """The day ``count`` (working) days before ``day``."""
    for _ in range(366 * 2):
        if count <= 0:
            break
        day -= timedelta(days=1)
        if not working or is_working_day(state.calendar, day):
            count -= 1
    return day


def due_soon_at(state: State, deadline: FlowDeadline, spec: DeadlineSpec | None) -> datetime | None:
    """When the clock becomes "due soon": ``spec.due_soon`` before the due instant, else one
    working day before (day units) or a quarter of the period before (hour units)."""
    due = deadline.due_at
    if due is None:
        return None
    lead = spec.due_soon if spec is not None else None
    try:
        if lead is None:
            if deadline.unit in ("hours", "working_hours"):
                total = deadline.amount + deadline.extended
                return due - timedelta(seconds=total * 3600 // 4)
            lead = Span("working_days" if deadline.unit == "working_days" else "natural_days", 1)
        if lead.unit in ("hours", "working_hours"):
            return due - timedelta(hours=lead.amount)
        day = _step_back(state, local_day(due), lead.amount, lead.unit == "working_days")
        return end_of_day(day)
    except CalendarNotPublished:
        return None


# --- Timers ----------------------------------------------------------------------------------


def add_timer(state: State, deadline: FlowDeadline, kind: str, at: datetime, n: int = 0) -> FlowTimer:
    generation = deadline.data.get("generation", 0)
    name = kind.split(".", 1)[1] + (str(n) if n else "")
    timer = build(FlowTimer, instance_id=state.instance.id, deadline_seq=deadline.seq, kind=kind,
                  key=f"{state.instance.id or 0}:{deadline.seq}:{name}:{generation}", due_at=at,
                  state="pending", payload={"generation": generation, **({"n": n} if n else {})},
                  attempts=0, created_at=at)
    state.new_rows.append(timer)
    return timer


def reschedule(state: State, deadline: FlowDeadline, now: datetime) -> None:
    """A new generation: the deadline's pending timers are cancelled (the runtime and the bench
    do that from ``state.cancelled_timers``) and, while the clock runs with a known due
    instant, its due-soon and timeout timers are scheduled."""
    set_data(deadline, generation=deadline.data.get("generation", 0) + 1)
    state.cancelled_timers.add(deadline.seq)
    if deadline.state != "running" or deadline.due_at is None:
        return
    spec = spec_for(state, deadline)
    soon = due_soon_at(state, deadline, spec)
    if soon is not None and now < soon < deadline.due_at:
        add_timer(state, deadline, DUE_SOON, soon)
    add_timer(state, deadline, TIMEOUT, max(deadline.due_at, now))


# --- Opening and closing ---------------------------------------------------------------------


def _new(state: State, *, scope: str, spec: DeadlineSpec, now: datetime, purpose: str,
         task: FlowTask | None = None, node: str | None = None,
         data: Mapping[str, Any] | None = None, started: datetime | None = None) -> FlowDeadline:
    calendar = state.calendar
    begin = started or now
    deadline = build(FlowDeadline, instance_id=state.instance.id, seq=take_seq(state), scope=scope,
                     task_seq=task.seq if task is not None else None, node=node, purpose=purpose,
                     unit=spec.period.unit, amount=spec.period.amount,
                     extension_limit=spec.extension_limit, extended=0,
                     calendar_id=calendar.id, calendar_version_id=state.calendar_version_id,
                     started_at=begin, segment_start=begin, elapsed=0, due_at=None,
                     state="running",
                     overdue=False, restarts=0, paused_at=None, pause_reason=None, pause_note="",
                     pending_extension=None,
                     data={"generation": 0, "calendar_version": calendar.version, **(data or {})},
                     created_at=now, ended_at=None)
    state.deadlines.append(deadline)
    state.new_rows.append(deadline)
    return deadline


def open_task_deadline(state: State, task: FlowTask, node: Any, now: datetime) -> FlowDeadline | None:
    """The clock of a new task on a node with a ``deadline:`` block (none without a calendar:
    engine tests that do not care about time). Its opening is told by the ``task_created``
    event (``data.deadline``, ``data.due_at``)."""
    spec = spec_of(getattr(node, "deadline", None))
    if spec is None or state.calendar is None or not is_work(task):
        return None
    deadline = _new(state, scope="task", spec=spec, now=now, purpose=spec.preset or "node",
                    task=task, node=node.id)
    _set_due(state, deadline, now)
    reschedule(state, deadline, now)
    return deadline


def _basis(spec: DeadlineSpec) -> dict[str, str]:
    """The legal basis a row and its event carry: Chinese, and English when the preset has it."""
    found = {"basis": spec.basis, "basis_en": spec.basis_en}
    return {key: value for key, value in found.items() if value}


def open_application_deadline(state: State, entry: ApplicationDeadline, now: datetime,
                              started: datetime | None = None) -> FlowDeadline:
    """A statutory period starts (event ``deadline_set``), at ``started`` when it counts from
    an earlier instant than now (a deemed acceptance: from the day the application arrived)."""
    spec = entry.spec
    deadline = _new(state, scope="application", spec=spec, now=now,
                    purpose=spec.preset or entry.id,
                    data={"id": entry.id, **_basis(spec)},
                    started=started)
    known = _set_due(state, deadline, now)
    reschedule(state, deadline, now)
    emit(state, "deadline_set", now,
         data={"deadline": deadline.seq, "id": entry.id, "due_at": iso(deadline.due_at),
               "unit": deadline.unit, "amount": deadline.amount,
               **_basis(spec),
               **({} if known else {"unknown": True})})
    return deadline


def recount(state: State, now: datetime) -> int:
    """Running clocks whose due day ran past the calendar's data (``deadline_unknown``) counted
    again, now that a calendar version with more data may be published: each one that is now
    known gets its due instant, its timers and the event ``deadline_known``. How many."""
    known = 0
    for deadline in [d for d in state.deadlines if d.state == "running" and d.due_at is None
                     and d.data.get("unknown")]:
        try:
            _compute_due(state, deadline)
        except CalendarNotPublished:
            continue  # still past the data: already said, nothing changes
        _set_due(state, deadline, now)
        reschedule(state, deadline, now)
        emit(state, "deadline_known", now, node=deadline.node,
             task=state.task(deadline.task_seq),
             data={"deadline": deadline.seq, "due_at": iso(deadline.due_at),
                   "calendar": state.calendar.id if state.calendar is not None else "",
                   "calendar_version": state.calendar.version
                   if state.calendar is not None else None})
        known += 1
    refresh_flags(state)
    return known


def close(state: State, deadline: FlowDeadline, now: datetime, cancelled: bool = False) -> None:
    """The clock stops for good: ``done`` (its task was done, its end event came) or
    ``cancelled``. An overdue deadline stays marked overdue; ``elapsed`` becomes the time used
    in all (working days for day units, seconds for hour units; pauses not counted)."""
    if deadline.state not in LIVE:
        return
    if deadline.state == "running":
        # A stopped clock keeps what it used in all (the dashboards' handling time): a paused
        # one already holds it in ``elapsed``.
        try:
            put(deadline, elapsed=deadline.elapsed
                + used(state.calendar, deadline.unit, deadline.segment_start, now))
        except CalendarNotPublished:
            pass
    put(deadline, state="cancelled" if cancelled else "done", ended_at=now)
    reschedule(state, deadline, now)
    if deadline.scope == "application":
        emit(state, "deadline_closed", now,
             data={"deadline": deadline.seq, "id": deadline.data.get("id"),
                   "overdue": deadline.overdue, **({"cancelled": True} if cancelled else {})})


def refresh_flags(state: State) -> None:
    """``instance.overdue``: a running clock is overdue. ``instance.clock_paused``: the
    governing clock (the application's, else any task's) stands still."""
    live = [d for d in state.deadlines if d.state in LIVE]
    overdue = any(d.overdue for d in live)
    governing = [d for d in live if d.scope == "application"] or live
    paused = any(d.state == "paused" for d in governing)
    if state.instance.overdue != overdue:
        put(state.instance, overdue=overdue)
    if state.instance.clock_paused != paused:
        put(state.instance, clock_paused=paused)


def _counts_from(state: State, event: Any) -> datetime | None:
    """行政许可法 §32: an intake not answered in time is accepted "自收到申请材料之日起" — as
    of the day the materials arrived, so a period starting on acceptance counts from when the
    intake's own clock started (the submission, or the corrected application that restarted
    it), not from the timer that deemed it accepted five working days later."""
    if event.type != "deemed_accepted":
        return None
    intake = next((d for d in state.deadlines if d.scope == "task"
                   and d.task_seq == event.task_seq), None)
    if intake is None:
        return None
    started = intake.started_at
    return started if started.tzinfo is not None else started.replace(tzinfo=UTC)


def _triggers(event: Any) -> list[str]:
    """The application events (deadline_spec.APPLICATION_EVENTS) an engine event stands for."""
    if event.type == "started":
        return ["submitted"]
    if event.type in ("accepted", "deemed_accepted"):
        return ["accepted"]
    if event.type == "ended":
        outcome = (event.data or {}).get("outcome")
        return ["decided", "completed"] if outcome in ("approved", "rejected") else ["completed"]
    if event.type == "node_entered" and event.node:
        return [f"node:{event.node}"]
    return []


def _restartable(state: State, deadline: FlowDeadline) -> bool:
    spec = spec_for(state, deadline)
    return spec is not None and spec.preset in RESTART_PRESETS


def sync(state: State, now: datetime) -> None:
    """Bring the clocks in step with what an operation did (the runtime and the bench call it
    after every operation): application deadlines start and stop on the operation's events, a
    correction request stops the restartable clocks and the corrected application restarts
    them, a task's clock closes with its task, an ended instance stops every clock."""
    if state.calendar is None:
        return
    while state.synced_events < len(state.events):  # events this adds are looked at too
        event = state.events[state.synced_events]
        state.synced_events += 1
        for trigger in _triggers(event):
            for entry in application_deadlines(state):
                running = [d for d in state.deadlines if d.scope == "application"
                           and d.data.get("id") == entry.id and d.state in LIVE]
                if entry.ends_on == trigger:
                    for deadline in running:
                        close(state, deadline, now)
                    running = []
                if entry.starts_on == trigger and not running:
                    open_application_deadline(state, entry, now, _counts_from(state, event))
        if event.type == "correction_requested":
            for deadline in [d for d in state.deadlines
                             if d.state == "running" and _restartable(state, d)]:
                _pause(state, deadline, None, now, CORRECTION_PAUSE, "", None)
        elif event.type == "corrected":
            for deadline in [d for d in state.deadlines if d.state == "paused"
                             and d.pause_reason == CORRECTION_PAUSE]:
                restart(state, now, deadline.seq)
    ended = state.instance.ended_at is not None
    for deadline in state.deadlines:
        if deadline.state not in LIVE:
            continue
        if deadline.scope == "task":
            task = state.task(deadline.task_seq)
            if task is None or task.state not in WORK_OPEN:
                close(state, deadline, now, cancelled=task is None or task.state != "done")
        elif ended:
            close(state, deadline, now, cancelled=True)
    refresh_flags(state)


# --- Operations on a clock --------------------------------------------------------------------


def deadline_of(state: State, deadline_seq: int | None) -> FlowDeadline:
    """The instance's deadline ``deadline_seq``; None: the governing one (the running or paused
    application deadline, else the earliest live task deadline)."""
    if deadline_seq is None:
        found = governing(state.deadlines)
        if found is None:
            raise errors.invalid("no_deadline", deadline="-")
        return found
    for deadline in state.deadlines:
        if deadline.seq == deadline_seq:
            return deadline
    raise errors.invalid("no_deadline", deadline=deadline_seq)


def governing(deadlines: Iterable[FlowDeadline]) -> FlowDeadline | None:
    live = [d for d in deadlines if d.state in LIVE]
    application = [d for d in live if d.scope == "application"]
    if application:
        return min(application, key=lambda d: d.seq)
    tasks = sorted(live, key=lambda d: (d.due_at is None, d.due_at or d.started_at, d.seq))
    return tasks[0] if tasks else None


def _holds_task(state: State, actor_id: int | None, deadline: FlowDeadline) -> bool:
    """The actor holds an open work task the clock governs (its own task, or any open task of
    the instance for an application clock)."""
    if actor_id is None or actor_id == state.applicant_id:
        return False
    tasks = [state.task(deadline.task_seq)] if deadline.scope == "task" else state.tasks
    for task in tasks:
        if task is None or task.state not in WORK_OPEN or not is_work(task):
            continue
        if task.assignee_id == actor_id or actor_id in task.data.get("escalated_to", ()):
            return True
        if task.assignee_id is None and task.candidate_role and in_group(
                state.directory, actor_id, task.candidate_role, task.candidate_department or ""):
            return True
    return False


def _live(state: State, actor_id: int | None, deadline_seq: int | None) -> FlowDeadline:
    ensure_live(state)
    deadline = deadline_of(state, deadline_seq)
    if deadline.state not in LIVE:
        raise errors.not_actionable("deadline_finished", deadline=deadline.seq)
    if not _holds_task(state, actor_id, deadline):
        raise errors.not_yours("not_clock_holder")
    return deadline


def _pause(state: State, deadline: FlowDeadline, actor_id: int | None, now: datetime,
           reason: str, note: str, expected_days: int | None) -> None:
    elapsed = used(state.calendar, deadline.unit, deadline.segment_start, now)
    put(deadline, elapsed=deadline.elapsed + elapsed, state="paused", paused_at=now,
        due_at=None, pause_reason=reason, pause_note=note)
    set_data(deadline, expected_days=expected_days)
    _task_due(state, deadline)
    reschedule(state, deadline, now)
    emit(state, "clock_paused", now, node=deadline.node, task=state.task(deadline.task_seq),
         actor_id=actor_id,
         data={"deadline": deadline.seq, "reason": reason, "elapsed": deadline.elapsed,
               **({"note": note} if note else {}),
               **({"expected_days": expected_days} if expected_days else {})})


def pause(state: State, actor_id: int | None, now: datetime, deadline_seq: int | None,
          reason: str, note: str = "", expected_days: int | None = None) -> None:
    """时间不计入: the clock stands still (hearing, inspection, expert review …). C4: the working
    days used so far, in (segment start, pause], are kept in ``elapsed``."""
    deadline = _live(state, actor_id, deadline_seq)
    if deadline.state == "paused":
        raise errors.invalid("clock_already_paused")
    if reason not in PAUSE_REASONS:
        raise errors.invalid("pause_reason_unknown", reason=reason)
    note = (note or "").strip()
    if reason == "other":
        require_text(note, "pause_note_required")
    if expected_days is not None and (not isinstance(expected_days, int) or expected_days <= 0):
        raise errors.invalid("expected_days_invalid")
    try:
        used(state.calendar, deadline.unit, deadline.segment_start, now)
    except CalendarNotPublished as exc:
        raise errors.invalid("calendar_not_published", message=str(exc)) from None
    _pause(state, deadline, actor_id, now, reason, note, expected_days)
    refresh_flags(state)


def resume(state: State, actor_id: int | None, now: datetime, deadline_seq: int | None) -> None:
    """The clock runs again. C4: due = the resume day + what was left (N + extended − E)."""
    deadline = _live(state, actor_id, deadline_seq)
    if deadline.state != "paused":
        raise errors.invalid("clock_not_paused")
    if deadline.pause_reason == CORRECTION_PAUSE:
        raise errors.not_actionable("awaiting_correction")
    put(deadline, state="running", segment_start=now, paused_at=None, pause_reason=None,
        pause_note="")
    set_data(deadline, expected_days=None)
    _set_due(state, deadline, now)
    reschedule(state, deadline, now)
    emit(state, "clock_resumed", now, node=deadline.node, task=state.task(deadline.task_seq),
         actor_id=actor_id,
         data={"deadline": deadline.seq, "due_at": iso(deadline.due_at),
               "elapsed": deadline.elapsed,
               "remaining": deadline.amount + deadline.extended - deadline.elapsed})
    refresh_flags(state)


def restart(state: State, now: datetime, deadline_seq: int) -> None:
    """补正 received: the clock starts again, in full, from the day the corrected application
    arrived (approved extensions lapse with the old count)."""
    deadline = deadline_of(state, deadline_seq)
    if deadline.state not in LIVE:
        raise errors.not_actionable("deadline_finished", deadline=deadline.seq)
    put(deadline, state="running", started_at=now, segment_start=now, elapsed=0, extended=0,
        overdue=False, restarts=deadline.restarts + 1, paused_at=None, pause_reason=None,
        pause_note="", pending_extension=None)
    _set_due(state, deadline, now)
    reschedule(state, deadline, now)
    emit(state, "clock_restarted", now, node=deadline.node, task=state.task(deadline.task_seq),
         data={"deadline": deadline.seq, "due_at": iso(deadline.due_at),
               "reason": "correction received"})
    refresh_flags(state)


def approvers(state: State, deadline: FlowDeadline) -> list[int]:
    """Who may approve an extension: a holder of the spec's ``extension_approver`` role in the
    instance's department, or the department's administrator."""
    spec = spec_for(state, deadline)
    department = state.instance.department_code
    found: list[int] = []
    if spec is not None and spec.extension_approver and department:
        found += state.directory.users_with(spec.extension_approver, frozenset({department}))
    if department:
        found += state.directory.department_admins(department)
    return [user for user in dict.fromkeys(found) if user != state.applicant_id]


def request_extension(state: State, actor_id: int | None, now: datetime,
                      deadline_seq: int | None = None, units: int = 0, reason: str = "",
                      approver_id: int | None = None) -> None:
    """延长: ask the named approver for ``units`` more (at most the spec's limit in all)."""
    deadline = _live(state, actor_id, deadline_seq)
    if deadline.pending_extension:
        raise errors.invalid("extension_pending")
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
        raise errors.invalid("extension_units")
    left = deadline.extension_limit - deadline.extended
    if units > left:
        raise errors.invalid("extension_over_limit", units=units, left=max(left, 0))
    text = require_text(reason, "reason_required")
    if approver_id is None or approver_id not in approvers(state, deadline) \
            or approver_id == actor_id:
        raise errors.invalid("extension_needs_approver")
    put(deadline, pending_extension={"units": units, "reason": text, "requested_by": actor_id,
                                     "approver_id": approver_id, "at": now.isoformat()})
    emit(state, "extension_requested", now, node=deadline.node,
         task=state.task(deadline.task_seq), actor_id=actor_id,
         data={"deadline": deadline.seq, "units": units, "reason": text,
               "approver": approver_id})


def decide_extension(state: State, actor_id: int | None, now: datetime,
                     deadline_seq: int | None = None, approve: bool = False,
                     comment: str = "") -> None:
    """The named approver grants or refuses a requested extension (a refusal says why)."""
    ensure_live(state)
    deadline = deadline_of(state, deadline_seq)
    if deadline.state not in LIVE:
        raise errors.not_actionable("deadline_finished", deadline=deadline.seq)
    pending = deadline.pending_extension
    if not pending:
        raise errors.invalid("no_extension_pending")
    if actor_id is None or actor_id != pending.get("approver_id"):
        raise errors.not_yours("not_the_approver")
    text = (comment or "").strip()
    if not approve:
        require_text(text, "reason_required")
    units = int(pending["units"])
    if approve and deadline.extended + units > deadline.extension_limit:
        raise errors.invalid("extension_over_limit", units=units,
                             left=deadline.extension_limit - deadline.extended)
    put(deadline, pending_extension=None)
    data: dict[str, Any] = {"deadline": deadline.seq, "units": units,
                            **({"comment": text} if text else {})}
    if approve:
        put(deadline, extended=deadline.extended + units)
        if deadline.state == "running":
            _set_due(state, deadline, now)
            reschedule(state, deadline, now)
        data["due_at"] = iso(deadline.due_at)
    emit(state, "extension_approved" if approve else "extension_refused", now,
         node=deadline.node, task=state.task(deadline.task_seq), actor_id=actor_id, data=data)
    refresh_flags(state)


# The operations by the names the runtime and the bench call them (ops.BY_NAME).
def pause_clock(state: State, actor_id: int | None, now: datetime, deadline_seq: int | None = None,
                reason: str = "", note: str = "", expected_days: int | None = None) -> None:
    pause(state, actor_id, now, deadline_seq, reason, note, expected_days)


def resume_clock(state: State, actor_id: int | None, now: datetime,
                 deadline_seq: int | None = None) -> None:
    resume(state, actor_id, now, deadline_seq)


# --- Read models for the pages ----------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineView:
    seq: int
    purpose: str
    unit: str
    amount: int
    extended: int
    due_at: datetime | None
    state: str
    overdue: bool
    paused_at: datetime | None
    pause_reason: str | None
    pause_note: str
    pending_extension: dict[str, Any] | None
    calendar_id: str
    scope: str = "task"
    extension_limit: int = 0
    elapsed: int = 0
    unknown: str | None = None  # "calendar for 2027 not yet published"


def view(deadline: FlowDeadline) -> DeadlineView:
    return DeadlineView(
        seq=deadline.seq, purpose=deadline.purpose, unit=deadline.unit, amount=deadline.amount,
        extended=deadline.extended, due_at=deadline.due_at, state=deadline.state,
        overdue=deadline.overdue, paused_at=deadline.paused_at,
        pause_reason=deadline.pause_reason, pause_note=deadline.pause_note,
        pending_extension=dict(deadline.pending_extension) if deadline.pending_extension else None,
        calendar_id=deadline.calendar_id, scope=deadline.scope,
        extension_limit=deadline.extension_limit, elapsed=deadline.elapsed,
        unknown=deadline.data.get("unknown"))


def current(session: Session, application_id: int) -> DeadlineView | None:
    """The application's governing clock: its application deadline if any, else the earliest
    running task deadline."""
    from sqlmodel import col, select

    from ..models import FlowInstance
    instance_id = session.execute(select(col(FlowInstance.id)).where(
        col(FlowInstance.application_id) == application_id)).scalar()
    if instance_id is None:
        return None
    rows = session.scalars(select(FlowDeadline).where(
        col(FlowDeadline.instance_id) == instance_id,
        col(FlowDeadline.state).in_(LIVE))).all()
    found = governing(rows)
    return view(found) if found is not None else None


def for_task(session: Session, task_id: int) -> DeadlineView | None:
    """The clock of one task (its latest, live or not)."""
    from sqlmodel import col, select
    task = session.get(FlowTask, task_id)
    if task is None:
        return None
    row = session.scalars(select(FlowDeadline).where(
        col(FlowDeadline.instance_id) == task.instance_id, col(FlowDeadline.scope) == "task",
        col(FlowDeadline.task_seq) == task.seq).order_by(col(FlowDeadline.seq).desc())).first()
    return view(row) if row is not None else None


__all__ = ["DUE_SOON", "PAUSE_REASONS", "REMIND", "RESTART_PRESETS", "TIMEOUT", "DeadlineView",
           "add_timer", "approvers", "close", "current", "deadline_of", "decide_extension",
           "for_task", "governing", "iso", "open_application_deadline", "open_task_deadline",
           "pause", "pause_clock", "refresh_flags", "request_extension", "reschedule", "restart",
           "resume", "resume_clock", "spec_for", "spec_of", "sync", "view"]
