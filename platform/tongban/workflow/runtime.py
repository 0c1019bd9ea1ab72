"""The flow runtime: the engine's operations run on the rows of one instance, in the caller's
transaction, with the application's status and the audit trail kept in step.

Every entry point loads the instance with its tokens and tasks (three SELECTs by instance id),
builds the engine's :class:`State`, calls the pure operation, adds the rows the engine made,
copies the status to ``Application.status``, writes one audit event per flow event and flushes.
The caller owns the transaction (``db.unit_of_work`` / ``request_transaction``): a refusal, a
lost optimistic lock or a failed audit write rolls the whole transition back.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col

from .. import audit, decisions
from ..extend import events as plugin_events
from ..models import (
    AnswerVersion,
    Application,
    DefinitionVersion,
    FlowDeadline,
    FlowEvent,
    FlowInstance,
    FlowMessage,
    FlowOutbox,
    FlowTask,
    FlowTimer,
    FlowToken,
    Role,
    TimerFacts,
    User,
    saved_id,
    utcnow,
)
from ..notify import outbox as notifications
from ..points import scoring
from ..policy import Actor, DepartmentTree, holds
from ..ratings import rules as rating_rules
from ..worktime.store import Outcome as CalendarOutcome
from ..worktime.store import publish_text
from . import deadlines as flow_deadlines
from . import ops as flow_ops
from . import timeouts
from .definition import Flow, compile_flow
from .directory import DbDirectory
from .engine import decide_by_system
from .errors import (
    N_,
    AlreadyHandled,
    FlowError,
    NotActionable,
    already_handled,
    not_yours,
    stale,
)
from .state import State


def calendar_for(session: Session, calendar_id: str) -> tuple[Any, int | None]:
    """The latest published version of the calendar ``calendar_id`` and its definition
    version's id; while none is published (a fresh database, before ``tongban definitions
    publish``) the calendar file shipped with the code (workflow_definitions/calendars/,
    tests/calendars/) and None."""
    from ..worktime import calendar_for as published
    from ..worktime import file_calendar
    from ..worktime.calendars import UnknownCalendar
    from ..worktime.store import latest_version
    try:
        calendar = published(session, calendar_id)
    except UnknownCalendar:
        return file_calendar(calendar_id), None
    row = latest_version(session, calendar_id)
    return calendar, row.id if row is not None else None

# Operations on one task (they take its seq) and on the whole application.
TASK_OPERATIONS = frozenset({
    "claim", "release", "accept", "accept_deficient", "accept_commitment", "refuse_intake",
    "approve", "reject", "return_to",
    "request_correction", "transfer", "add_signer", "withdraw_action", "comment", "cc",
    "remind", "vote", "read_cc"})
APPLICATION_OPERATIONS = frozenset({
    "withdraw", "resubmit", "submit_correction", "comment", "cc", "remind", "repair",
    "migrate", "pause_clock", "resume_clock", "request_extension", "decide_extension",
    "lift_hold", "break_commitment", "end_overdue_hold", "revoke_approval"})
ADMIN_OPERATIONS = frozenset({"repair", "migrate"})
APPLICANT_OPERATIONS = frozenset({"withdraw", "resubmit", "submit_correction"})
ADMIN_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN})
# Operations whose ``answers`` replace the application's answers (the old ones are kept).
ANSWER_REASONS = {"resubmit": "resubmission", "submit_correction": "correction"}
DONE_TASK_STATES = frozenset({"done", "cancelled", "transferred", "expired"})
NOT_WAITING = N_("No step of this application's flow waits for the message %(name)s")


class FlowNotFound(LookupError):
    """No such task, application or instance (the web layer answers 404)."""


# --- Compiled flows: one per definition version, which never changes once published. --------
# Keyed by the version's id and content hash: a process that serves several databases (the
# tests do) never takes one database's version for another's with the same id.
_compiled: dict[tuple[int, str], Flow] = {}
_compiled_lock = threading.Lock()


def flow_for(session: Session, version_id: int) -> Flow:
    """The compiled flow of a published version, compiled once per process."""
    row = session.execute(select(col(DefinitionVersion.kind), col(DefinitionVersion.content_hash))
                          .where(col(DefinitionVersion.id) == version_id)).first()
    if row is None or row.kind != "flow":
        raise FlowNotFound(f"no flow definition version {version_id}")
    key = (version_id, row.content_hash)
    found = _compiled.get(key)
    if found is not None:
        return found
    version = session.get(DefinitionVersion, version_id)
    assert version is not None
    flow = compile_flow(version.content)
    with _compiled_lock:
        return _compiled.setdefault(key, flow)


def current_flow_version(session: Session, code: str) -> DefinitionVersion | None:
    """The newest published version of the flow ``code``."""
    return session.scalars(select(DefinitionVersion)
                           .where(col(DefinitionVersion.kind) == "flow",
                                  col(DefinitionVersion.code) == code)
                           .order_by(col(DefinitionVersion.version).desc()).limit(1)).first()


def service_flow_code(session: Session, application: Application) -> str | None:
    """The flow the application's pinned service version names, if any."""
    service = session.get(DefinitionVersion, application.service_version_id)
    code = (service.content if service is not None else {}).get("flow")
    return str(code) if code else None


def _operation(name: str) -> Callable[..., object]:
    """The engine's operation ``name``."""
    try:
        return flow_ops.BY_NAME[name]
    except KeyError:
        raise ValueError(f"the flow engine has no operation {name!r}") from None


# --- Loading and storing one instance. ---------------------------------------------------------
@dataclass
class Loaded:
    application: Application
    instance: FlowInstance
    tokens: list[FlowToken]
    tasks: list[FlowTask]
    deadlines: list[FlowDeadline] = field(default_factory=list)


def _fresh(statement: Any) -> Any:
    # Rows already in the session (read before the transaction began, say) are overwritten by
    # what the database holds now: a transition never starts from a stale copy.
    return statement.execution_options(populate_existing=True)


def load_instance(session: Session, instance_id: int) -> Loaded:
    instance = session.scalars(_fresh(select(FlowInstance)
                                      .where(col(FlowInstance.id) == instance_id))).first()
    if instance is None or instance.application_id is None:
        raise FlowNotFound(f"no flow instance {instance_id}")
    application = session.scalars(_fresh(select(Application).where(
        col(Application.id) == instance.application_id))).one()
    tokens = list(session.scalars(_fresh(select(FlowToken)
                                         .where(col(FlowToken.instance_id) == instance_id)
                                         .order_by(col(FlowToken.seq)))))
    tasks = list(session.scalars(_fresh(select(FlowTask)
                                        .where(col(FlowTask.instance_id) == instance_id)
                                        .order_by(col(FlowTask.seq)))))
    deadlines = list(session.scalars(_fresh(select(FlowDeadline)
                                            .where(col(FlowDeadline.instance_id) == instance_id)
                                            .order_by(col(FlowDeadline.seq)))))
    return Loaded(application, instance, tokens, tasks, deadlines)


def load_for_application(session: Session, application_id: int) -> Loaded:
    instance_id = session.execute(select(col(FlowInstance.id)).where(
        col(FlowInstance.application_id) == application_id)).scalar()
    if instance_id is None:
        raise FlowNotFound(f"application {application_id} has no flow")
    return load_instance(session, instance_id)


DEFAULT_CALENDAR = "shanghai"


def service_calendar_id(session: Session, application: Application) -> str:
    """The calendar the application's service names (``calendar:``), ``shanghai`` if none."""
    service = session.get(DefinitionVersion, application.service_version_id)
    value = (service.content if service is not None else {}).get("calendar")
    return str(value) if value else DEFAULT_CALENDAR


def _keeps_time(flow: Flow) -> bool:
    """Whether the flow has any clock (a node's ``deadline:`` or an application deadline)."""
    return bool(flow.deadlines) or any(node.deadline is not None for node in flow.nodes.values())


def _state(session: Session, loaded: Loaded, flow: Flow) -> State:
    calendar, version_id = None, None
    if _keeps_time(flow) or loaded.deadlines:
        calendar, version_id = calendar_for(session,
                                            service_calendar_id(session, loaded.application))
    return State(
        flow=flow, instance=loaded.instance, tokens=loaded.tokens, tasks=loaded.tasks,
        answers=copy.deepcopy(loaded.application.answers),
        applicant_id=loaded.instance.applicant_id, directory=DbDirectory(session),
        new_rows=[], events=[], deadlines=loaded.deadlines, calendar=calendar,
        calendar_version_id=version_id,
        points=scoring.summary(scoring.current(session, loaded.application)),
        score=scoring.answers_scorer(session, loaded.application))


def _json_snapshot(rows: Iterable[FlowToken | FlowTask]) -> list[tuple[Any, Any]]:
    return [(row, copy.deepcopy(row.data)) for row in rows]


def _run(session: Session, loaded: Loaded, flow: Flow,
         call: Callable[[State], object], *, now: datetime,
         actor_name: str, request_id: str, answers_reason: str | None = None,
         task_id: int | None = None) -> State:
    """Call the engine on the loaded instance and write everything it did."""
    state = _state(session, loaded, flow)
    before = _json_snapshot([*loaded.tokens, *loaded.tasks])
    old_answers = copy.deepcopy(loaded.application.answers)
    try:
        # The engine's directory reads must not flush half-changed rows.
        with session.no_autoflush:
            call(state)
            flow_deadlines.sync(state, now)
    except AlreadyHandled:
        if task_id is None:
            raise
        # Name the person, not their id, read as the database has it now.
        raise _lost_race(session, task_id) from None
    try:
        _store(session, loaded, state, before, old_answers, now=now, actor_name=actor_name,
               request_id=request_id, answers_reason=answers_reason)
    except StaleDataError:
        # Another transition of this instance committed first (optimistic lock lost).
        raise _lost_race(session, task_id) from None
    return state


def _store(session: Session, loaded: Loaded, state: State,
           before: list[tuple[Any, Any]], old_answers: dict[str, Any], *, now: datetime,
           actor_name: str, request_id: str, answers_reason: str | None) -> None:
    instance, application = loaded.instance, loaded.application
    instance_id = saved_id(instance)
    for row, data in before:
        if row.data != data:  # changed in place: JSON columns do not see that by themselves
            flag_modified(row, "data")
    # Every transition writes the instance row first, so its version moves on and a concurrent
    # transition that read the same version fails (optimistic lock) before it adds a thing.
    flag_modified(instance, "vars")
    session.flush()
    if state.cancelled_timers:
        # A clock that changed cancels its pending timers; the new ones are among new_rows.
        session.execute(update(FlowTimer).where(
            col(FlowTimer.instance_id) == instance_id,
            col(FlowTimer.deadline_seq).in_(sorted(state.cancelled_timers)),
            col(FlowTimer.state) == "pending").values(state="cancelled"),
            execution_options={"synchronize_session": "fetch"})
    for row in state.new_rows:
        if getattr(row, "instance_id", 0) is None:
            row.instance_id = instance_id
        session.add(row)
    application.status = instance.status
    if application.flow_version_id != instance.flow_version_id:
        application.flow_version_id = instance.flow_version_id
    if answers_reason is not None and state.answers != old_answers:
        session.add(AnswerVersion(application_id=saved_id(application),
                                  number=application.answers_version, answers=old_answers,
                                  reason=answers_reason, created_at=now))
        application.answers = copy.deepcopy(state.answers)
        application.answers_version += 1
        flag_modified(application, "answers")
        session.add(application)
        scoring.score(session, application, reason=scoring.ANSWERS_CHANGED,
                      actor_name=actor_name, request_id=request_id,
                      reason_text=answers_reason)
    session.add(application)
    session.flush()
    _cancel_dead_calls(session, instance_id, state.tokens)
    _audit_events(session, application, state.events, actor_name=actor_name,
                  request_id=request_id)
    plugin_events.queue(session, application, state.events, actor_name=actor_name)
    notifications.queue(session, application, state.events)
    decisions.queue(session, application, state.events)
    rating_rules.invite(session, application, state.events)  # 好差评: ask the applicant to rate
    for event in state.events:
        if event.type == "ended":
            for listener in _ENDED_LISTENERS:
                listener(session, application, (event.data or {}).get("outcome"))


# Called in the transaction of a flow that ended, with its application and outcome: what
# follows an application's end elsewhere (a 一件事 bundle opening its next service) without
# the runtime importing it.
EndedListener = Callable[[Session, Application, "str | None"], None]
_ENDED_LISTENERS: list[EndedListener] = []


def when_ended(listener: EndedListener) -> EndedListener:
    """Register ``listener`` to be called whenever a flow ends (once per listener)."""
    if listener not in _ENDED_LISTENERS:
        _ENDED_LISTENERS.append(listener)
    return listener


def _cancel_dead_calls(session: Session, instance_id: int, tokens: list[FlowToken]) -> None:
    """A queued service call whose token no longer stands on its node (withdrawn, returned,
    repaired, ended) is not made. A token stopped by an incident stands there, active."""
    waiting = {(token.seq, token.node) for token in tokens
               if token.state in ("waiting", "active")}
    for row in session.scalars(select(FlowOutbox).where(
            col(FlowOutbox.instance_id) == instance_id, col(FlowOutbox.state) == "pending")):
        if (row.token_seq, row.node) not in waiting:
            row.state, row.last_error = "cancelled", "the step no longer waits for this call"
            session.add(row)


def _audit_events(session: Session, application: Application, events: list[FlowEvent], *,
                  actor_name: str, request_id: str) -> None:
    ids = {event.actor_id for event in events} | {event.on_behalf_of for event in events}
    ids.discard(None)
    names = dict(session.execute(select(col(User.id), col(User.username))
                                 .where(col(User.id).in_(ids))).all()) if ids else {}
    audit.record_many(session, [
        audit.Entry(action=f"flow.{event.type}", object_type="application",
                    object_id=application.reference, actor_id=event.actor_id,
                    actor_name=names.get(event.actor_id, actor_name)
                    if event.actor_id is not None else actor_name,
                    after={"instance": event.instance_id, "seq": event.seq, "node": event.node,
                           "task_seq": event.task_seq,
                           "on_behalf_of": names.get(event.on_behalf_of),
                           "status": event.status, "data": event.data},
                    request_id=request_id)
        for event in events])


def _lost_race(session: Session, task_id: int | None) -> FlowError:
    """The refusal for a transition whose optimistic lock was lost: who handled the task and
    when, read in a fresh session (this one must roll back)."""
    if task_id is not None:
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        with OrmSession(engine) as fresh:
            row = fresh.execute(select(col(FlowTask.state), col(FlowTask.done_at),
                                       col(User.username))
                                .outerjoin(User, col(User.id) == col(FlowTask.done_by))
                                .where(col(FlowTask.id) == task_id)).first()
        if row is not None and row.state in DONE_TASK_STATES:
            return already_handled(who=row.username or "system",
                                   when=row.done_at.isoformat() if row.done_at else "")
    return stale()


# --- Entry points. -----------------------------------------------------------------------------
def start_flow(session: Session, application: Application, *, now: datetime | None = None,
               actor_id: int | None = None, actor_name: str = "system",
               request_id: str = "") -> FlowInstance | None:
    """Start the application's pinned flow, inside the submission transaction. A service
    without a flow leaves the application submitted, with no instance."""
    now = now or utcnow()
    code = service_flow_code(session, application)
    if code is None:
        application.status = "submitted"
        session.add(application)
        return None
    if application.flow_version_id is None:  # a draft begun before its service had a flow
        version = current_flow_version(session, code)
        if version is None:
            raise FlowNotFound(f"the service {application.service_code} names the flow "
                               f"{code}, which is not published")
        application.flow_version_id = saved_id(version)
    flow = flow_for(session, application.flow_version_id)
    instance = FlowInstance(
        application_id=saved_id(application), flow_code=code,
        flow_version_id=application.flow_version_id, status="submitted",
        applicant_id=application.submitter_id, clerk_id=application.clerk_id,
        department_code=application.department_code, vars={}, next_seq=1, started_at=now)
    session.add(instance)
    session.flush()
    loaded = Loaded(application, instance, [], [])
    if actor_id is None:  # the applicant, or the counter clerk who submitted for them
        actor_id = application.submitter_id or application.clerk_id
    _run(session, loaded, flow,
         lambda state: _operation("start")(state, actor_id, now),
         now=now, actor_name=actor_name, request_id=request_id)
    return instance


def _username(session: Session, actor: Actor) -> str:
    if actor.user_id is None:
        return "anonymous"
    name = session.execute(select(col(User.username))
                           .where(col(User.id) == actor.user_id)).scalar()
    return name or "unknown"


def act(session: Session, actor: Actor, task_id: int, operation: str, *,
        version: int | None, now: datetime | None = None, request_id: str = "",
        **args: Any) -> State:
    """Do ``operation`` on one task as ``actor``. ``version`` is the task's version the actor
    saw (the page's hidden field): a task changed since is refused, not acted on twice."""
    if operation not in TASK_OPERATIONS:
        raise ValueError(f"{operation!r} is not an operation on a task")
    now = now or utcnow()
    task = session.scalars(_fresh(select(FlowTask).where(col(FlowTask.id) == task_id))).first()
    if task is None or task.instance_id is None:
        raise FlowNotFound(f"no task {task_id}")
    if actor.user_id is None:
        raise not_yours()
    if version is not None and task.version != version:
        if task.state in DONE_TASK_STATES:
            raise _lost_race(session, task_id)
        raise stale()
    loaded = load_instance(session, task.instance_id)
    flow = flow_for(session, _pinned(loaded))
    operate = _operation(operation)
    task_seq, actor_id = task.seq, actor.user_id
    return _run(session, loaded, flow,
                lambda state: operate(state, actor_id, now, task_seq=task_seq, **args),
                now=now, actor_name=_username(session, actor), request_id=request_id,
                task_id=task_id)


def act_on_application(session: Session, actor: Actor, application_id: int, operation: str,
                       *, now: datetime | None = None, request_id: str = "",
                       tree: DepartmentTree | None = None, **args: Any) -> State:
    """Do an application-level ``operation`` (withdraw, resubmit, submit_correction, comment,
    cc, remind, repair, migrate) as ``actor``. Repair and migration are for the platform's
    administrators and the administrators of the application's department."""
    if operation not in APPLICATION_OPERATIONS:
        raise ValueError(f"{operation!r} is not an operation on an application")
    now = now or utcnow()
    loaded = load_for_application(session, application_id)
    if actor.user_id is None and not (
            operation in APPLICANT_OPERATIONS and loaded.application.submitter_id is None
            and loaded.application.reference in actor.references):
        # Signed out, only the session that submitted an application without an account
        # acts as its applicant (the engine sees both as "no user").
        raise not_yours("not_applicant")
    if operation in ADMIN_OPERATIONS and not holds(
            actor, ADMIN_ROLES, loaded.application.department_code,
            tree or DepartmentTree.load(session)):
        raise not_yours()
    if operation == "migrate":
        new_version_id = int(args.pop("new_version_id"))
        new_version = session.get(DefinitionVersion, new_version_id)
        if new_version is None or new_version.kind != "flow" \
                or new_version.code != loaded.instance.flow_code:
            raise FlowNotFound(f"no version {new_version_id} of the flow "
                               f"{loaded.instance.flow_code}")
        args["new_flow"] = flow_for(session, new_version_id)
        args["new_version_id"] = new_version_id
    flow = flow_for(session, _pinned(loaded))
    operate = _operation(operation)
    actor_id = actor.user_id
    return _run(session, loaded, flow, lambda state: operate(state, actor_id, now, **args),
                now=now, actor_name=_username(session, actor), request_id=request_id,
                answers_reason=ANSWER_REASONS.get(operation))


def _pinned(loaded: Loaded) -> int:
    if loaded.instance.flow_version_id is None:
        raise FlowNotFound(f"flow instance {loaded.instance.id} names no flow version")
    return loaded.instance.flow_version_id


# --- The worker's and the message API's transitions. ------------------------------------------
def service_result(session: Session, row: FlowOutbox, *, ok: bool,
                   result: dict[str, Any] | None = None, error: str = "", final: bool = False,
                   now: datetime | None = None) -> State:
    """Tell the engine how a service call ended (the worker, after the hook returned)."""
    now = now or utcnow()
    if row.instance_id is None:
        raise FlowNotFound(f"outbox row {row.id} belongs to no instance")
    loaded = load_instance(session, row.instance_id)
    flow = flow_for(session, _pinned(loaded))
    token_seq = row.token_seq
    if ok:
        return _run(session, loaded, flow,
                    lambda state: _operation("service_done")(
                        state, None, now, token_seq=token_seq, result=result or {}),
                    now=now, actor_name="worker", request_id="")
    return _run(session, loaded, flow,
                lambda state: _operation("service_failed")(
                    state, None, now, token_seq=token_seq, error=error, final=final),
                now=now, actor_name="worker", request_id="")


def fire_timer(session: Session, timer_id: int, now: datetime | None = None) -> str:
    """Fire one due timer (the test bench and tests, in the caller's transaction; the caller
    commits): the engine's effect (``timeouts.fire_timer``) on the timer's instance, its rows
    stored, the timer marked done. ``"stale"``: the clock changed or closed since, nothing
    else changed. Two callers firing the same timer: the second's optimistic lock fails
    (Stale)."""
    now = now or utcnow()
    timer = session.scalars(_fresh(select(FlowTimer).where(col(FlowTimer.id) == timer_id))).first()
    if timer is None or timer.instance_id is None:
        raise FlowNotFound(f"no timer {timer_id}")
    if timer.state in ("done", "cancelled"):
        return "stale"
    outcome = _fire(session, timer, now)
    timer.state = "done" if outcome == "done" else "cancelled"
    timer.fired_at = now
    session.add(timer)
    session.flush()
    return outcome


def _fire(session: Session, timer: TimerFacts, now: datetime) -> str:
    """The timer's effect on its instance, stored; the timer's own row is the caller's."""
    if timer.instance_id is None:
        raise FlowNotFound(f"timer {timer.id} belongs to no instance")
    loaded = load_instance(session, timer.instance_id)
    flow = flow_for(session, _pinned(loaded))
    outcome: list[str] = []
    _run(session, loaded, flow,
         lambda state: outcome.append(timeouts.fire_timer(state, timer, now)),
         now=now, actor_name="timer", request_id="")
    return outcome[0]


def accept_by_system(session: Session, application: Application, *, reason: str,
                     now: datetime | None = None, request_id: str = "") -> bool:
    """Accept the application's open intake tasks without a clerk (``deemed_accepted`` with
    ``reason``, such as a bundle's passed pre-check); False when it has none open."""
    now = now or utcnow()
    loaded = load_for_application(session, saved_id(application))
    seqs = [task.seq for task in loaded.tasks
            if task.kind == "intake" and task.state in ("open", "claimed")]
    if not seqs:
        return False
    flow = flow_for(session, _pinned(loaded))

    def accept_all(state: State) -> None:
        for task in state.tasks:
            if task.seq in seqs and task.state in ("open", "claimed"):
                decide_by_system(state, task, now, "accepted", "deemed_accepted", reason)

    _run(session, loaded, flow, accept_all, now=now, actor_name="system",
         request_id=request_id)
    return True


def mark_hold_overdue(session: Session, application: Application, *, missing: list[str],
                      now: datetime | None = None) -> None:
    """The 容缺 due day passed with ``missing`` materials still to come (the timer's work, no
    person acting): ``hold_overdue`` on the instance."""
    now = now or utcnow()
    loaded = load_for_application(session, saved_id(application))
    flow = flow_for(session, _pinned(loaded))
    _run(session, loaded, flow,
         lambda state: flow_ops.BY_NAME["mark_hold_overdue"](state, None, now, missing=missing),
         now=now, actor_name="system", request_id="")


def publish_calendar(session: Session, text: str, *, file: str, author: str, comment: str = "",
                     actor_id: int | None = None, request_id: str = "") -> CalendarOutcome:
    """Publish a calendar text (:func:`tongban.worktime.store.publish_text`) and, when a new
    version was stored, count again in the same transaction the clocks that ran past the old
    data ("calendar for 2027 not yet published")."""
    outcome = publish_text(session, text, file=file, author=author, comment=comment,
                           actor_id=actor_id, request_id=request_id)
    if outcome.version is not None:
        recount_unknown_deadlines(session, request_id=request_id)
    return outcome


def recount_unknown_deadlines(session: Session, now: datetime | None = None, *,
                              request_id: str = "") -> int:
    """After a calendar version is published (the caller's transaction): every running clock
    whose due day ran past the data it was counted on is counted again on the calendars as
    they are now (``deadlines.recount``); those now known get their due instant, timers and a
    ``deadline_known`` event. Returns how many clocks became known."""
    now = now or utcnow()
    waiting = session.scalars(select(FlowDeadline).where(
        col(FlowDeadline.state) == "running", col(FlowDeadline.due_at).is_(None))).all()
    instance_ids = sorted({row.instance_id for row in waiting
                           if row.instance_id is not None and (row.data or {}).get("unknown")})
    counted: list[int] = []

    def recount(state: State) -> None:
        counted.append(flow_deadlines.recount(state, now))

    for instance_id in instance_ids:
        loaded = load_instance(session, instance_id)
        if loaded.instance.ended_at is not None:
            continue
        _run(session, loaded, flow_for(session, _pinned(loaded)), recount, now=now,
             actor_name="calendar", request_id=request_id)
    return sum(counted)


def timer_handler(session: Session, timer: TimerFacts, now: datetime) -> str:
    """The durable timers' handler of the engine's deadlines
    (``tongban.workflow.timers.HANDLERS["deadline.*"]``): ``timer`` is the claimed row the
    worker's guard returned, so it is not read again, and the worker marks it."""
    return _fire(session, timer, now)


@dataclass(frozen=True)
class Delivered:
    duplicate: bool
    status: str
    duplicates: int = 0
    stored: bool = False  # kept for a step the instance has not reached yet


def deliver_message(session: Session, application: Application, name: str, key: str,
                    payload: dict[str, Any], *, sender: str, now: datetime | None = None,
                    request_id: str = "") -> Delivered:
    """Deliver an external message to the application: the step waiting for it moves on, or,
    when the instance has not reached that step yet, the engine keeps it for then (and for
    gateways that read it). A message the flow never uses, or one for an ended instance, is
    refused (409). A second message with the same name and key changes nothing but its count
    on the first one's row (and is audited)."""
    now = now or utcnow()
    loaded = load_for_application(session, saved_id(application))
    instance_id = saved_id(loaded.instance)
    earlier = session.scalars(_fresh(select(FlowMessage).where(
        col(FlowMessage.instance_id) == instance_id, col(FlowMessage.name) == name,
        col(FlowMessage.message_key) == key))).first()
    if earlier is not None:
        earlier.duplicates += 1
        session.add(earlier)
        # The engine knows the key and changes nothing but the timeline: a
        # ``message_duplicate`` event, audited with the rest.
        _run(session, loaded, flow_for(session, _pinned(loaded)),
             lambda state: _operation("deliver_message")(
                 state, None, now, name=name, key=key, payload=payload, sender=sender),
             now=now, actor_name=sender, request_id=request_id)
        return Delivered(True, loaded.instance.status, earlier.duplicates)
    flow = flow_for(session, _pinned(loaded))
    if not expects_message(flow, name):  # nothing in this flow would ever read it
        raise NotActionable("not_waiting", NOT_WAITING, name=name)
    outcome: list[object] = []
    _run(session, loaded, flow,
         lambda state: outcome.append(_operation("deliver_message")(
             state, None, now, name=name, key=key, payload=payload, sender=sender)),
         now=now, actor_name=sender, request_id=request_id)
    return Delivered(False, loaded.instance.status, stored=outcome == ["stored"])


def expects_message(flow: Flow, name: str) -> bool:
    """Whether the flow uses the message ``name``: a ``wait`` node waits for it, or a gateway
    reads it (``vars.messages.<name>``, e.g. an objection received during a public notice)."""
    path = f"vars.messages.{name}"
    for node in flow.nodes.values():
        if node.type == "wait" and node.message == name:
            return True
        if any(path in json.dumps(branch.when, ensure_ascii=False) for branch in node.branches):
            return True
    return False


__all__ = ["ADMIN_OPERATIONS", "APPLICATION_OPERATIONS", "TASK_OPERATIONS", "Delivered",
           "FlowNotFound", "Loaded", "act", "act_on_application", "current_flow_version",
           "deliver_message", "expects_message", "fire_timer", "flow_for", "load_for_application",
           "load_instance", "service_calendar_id", "service_result", "start_flow", "timer_handler"]
