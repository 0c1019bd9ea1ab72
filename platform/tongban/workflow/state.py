"""One flow instance as the engine sees it, and the bookkeeping every operation shares.

:class:`State` holds the instance's rows; the helpers here number and emit events, move and
cancel tokens and tasks, end the instance and keep the instance's ``vars`` (the trail of
finished human nodes, incidents). The engine (:mod:`~tongban.workflow.engine`), its operations
and the admin operations build on them; :mod:`~tongban.workflow.engine` re-exports them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..models import FlowDeadline, FlowEvent, FlowInstance, FlowTask, FlowToken
from ..policy import DepartmentTree
from . import errors
from .definition import Flow, Node
from .rows import build, put

FINAL_STATUSES = frozenset({"approved", "rejected", "completed", "withdrawn", "abandoned",
                            "revoked"})
WORK_OPEN = ("open", "claimed")
CC = "cc"


class Directory(Protocol):
    """Who-acts resolution: DB-backed in the runtime, in memory in tests and the bench."""

    def users_with(self, role: str, departments: frozenset[str]) -> list[int]: ...
    def department_admins(self, department: str) -> list[int]: ...
    def user_id(self, username: str) -> int | None: ...
    def department_for_region(self, region: str, under: str) -> str | None: ...
    def tree(self) -> DepartmentTree: ...
    def delegate_of(self, user_id: int, at: datetime) -> int | None: ...
    def memberships(self, user_id: int) -> frozenset[tuple[str, str | None]]: ...


@dataclass
class State:
    """Everything of one instance the engine may touch."""

    flow: Flow
    instance: FlowInstance
    tokens: list[FlowToken]
    tasks: list[FlowTask]
    answers: dict[str, Any]
    applicant_id: int | None
    directory: Directory
    new_rows: list[Any] = field(default_factory=list)
    events: list[FlowEvent] = field(default_factory=list)
    # Time (tongban.workflow.deadlines): the instance's clocks, the service's calendar (a
    # tongban.worktime.Calendar; None: no clocks at all), the deadlines whose pending timers
    # the caller cancels, and how many of ``events`` deadlines.sync has looked at.
    deadlines: list[FlowDeadline] = field(default_factory=list)
    calendar: Any = None
    calendar_version_id: int | None = None
    cancelled_timers: set[int] = field(default_factory=set)
    synced_events: int = 0
    # Points (a service with ``rules:``): the application's latest score as gateways read it
    # (``points.total``, ``points.eligible``, ``points.grade``; None while it has no score), and
    # how to score answers that an operation replaces (None: the service has no rules).
    points: dict[str, Any] | None = None
    score: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None

    def __post_init__(self) -> None:
        self._tokens = {token.seq: token for token in self.tokens}
        self._tasks = {task.seq: task for task in self.tasks}
        # Tasks by (token, node): a step looks at its own node's tasks, never the whole history.
        self._visits: dict[tuple[int, str], list[FlowTask]] = {}
        for task in self.tasks:
            self._visits.setdefault((task.token_seq, task.node), []).append(task)

    def token(self, seq: int | None) -> FlowToken | None:
        return self._tokens.get(seq) if seq is not None else None

    def task(self, seq: int | None) -> FlowTask | None:
        return self._tasks.get(seq) if seq is not None else None

    def add_token(self, token: FlowToken) -> None:
        self.tokens.append(token)
        self._tokens[token.seq] = token
        self.new_rows.append(token)

    def add_task(self, task: FlowTask) -> None:
        self.tasks.append(task)
        self._tasks[task.seq] = task
        self._visits.setdefault((task.token_seq, task.node), []).append(task)
        self.new_rows.append(task)

    def tasks_at(self, token_seq: int, node: str) -> list[FlowTask]:
        """Every task the token has had on ``node`` (all visits, cc included)."""
        return self._visits.get((token_seq, node), [])

    @property
    def vars(self) -> dict[str, Any]:
        return self.instance.vars


# --- Bookkeeping helpers -------------------------------------------------------------------


def take_seq(state: State) -> int:
    """The next number of the instance's tokens, tasks and events."""
    seq = state.instance.next_seq
    put(state.instance, next_seq=seq + 1)
    return seq


def set_var(state: State, key: str, value: Any) -> None:
    """Replace one key of ``instance.vars`` (a new dict, so the JSON column sees the change)."""
    values = dict(state.instance.vars)
    if value is None:
        values.pop(key, None)
    else:
        values[key] = value
    put(state.instance, vars=values)


def replace_answers(state: State, answers: Mapping[str, Any]) -> None:
    """The application's answers become ``answers`` (a correction, a resubmission); a service
    with rules is scored again at once, so a gateway further on reads the new score."""
    state.answers = copy.deepcopy(dict(answers))
    if state.score is not None:
        state.points = state.score(state.answers)


def set_data(row: FlowToken | FlowTask | FlowDeadline, **changes: Any) -> None:
    """Change keys of a row's ``data`` (a new dict; a None value removes the key)."""
    data = dict(row.data)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    put(row, data=data)


def set_status(state: State, status: str) -> None:
    put(state.instance, status=status)


def emit(state: State, type_: str, now: datetime, *, node: str | None = None,
         task: FlowTask | None = None, actor_id: int | None = None,
         on_behalf_of: int | None = None, data: Mapping[str, Any] | None = None) -> FlowEvent:
    """Record one event with the instance's status after it."""
    event = build(FlowEvent, instance_id=state.instance.id, seq=take_seq(state), at=now,
                  type=type_, node=node if node is not None else (task.node if task else None),
                  task_seq=task.seq if task else None, actor_id=actor_id,
                  on_behalf_of=on_behalf_of, status=state.instance.status,
                  data=dict(data or {}))
    state.events.append(event)
    state.new_rows.append(event)
    return event


def new_token(state: State, node: str, now: datetime, split_seq: int | None = None) -> FlowToken:
    token = build(FlowToken, instance_id=state.instance.id, seq=take_seq(state), node=node,
                  state="active", split_seq=split_seq, data={}, arrived_at=now)
    state.add_token(token)
    return token


def live_tokens(state: State) -> list[FlowToken]:
    """Tokens standing on a node (not the waiting parents of splits)."""
    return [token for token in state.tokens
            if token.state in ("active", "waiting") and "expected" not in token.data]


def current_nodes(state: State) -> list[str]:
    """Where the instance stands now, one entry per live token."""
    return [token.node for token in live_tokens(state)]


def is_work(task: FlowTask) -> bool:
    return task.kind != CC


def visit_tasks(state: State, token: FlowToken, node_id: str | None = None) -> list[FlowTask]:
    """The work tasks of the token's current visit of its node."""
    entered = token.data.get("entered", 0)
    return [task for task in state.tasks_at(token.seq, node_id or token.node)
            if task.seq > entered and task.kind != CC]


def open_tasks(state: State, node: str | None = None) -> list[FlowTask]:
    """Open work tasks of the instance (of one node when given)."""
    return [task for task in state.tasks if task.state in WORK_OPEN and is_work(task)
            and (node is None or task.node == node)]


def cancel_task(state: State, task: FlowTask, now: datetime, actor_id: int | None = None,
                reason: str = "") -> None:
    put(task, state="cancelled", done_at=now)
    emit(state, "task_cancelled", now, task=task, actor_id=actor_id,
         data={"reason": reason} if reason else None)


def cancel_open_tasks(state: State, tasks: Iterable[FlowTask], now: datetime,
                      actor_id: int | None = None, reason: str = "") -> None:
    for task in list(tasks):
        if task.state in WORK_OPEN and is_work(task):
            cancel_task(state, task, now, actor_id, reason)


def descendants(state: State, token: FlowToken) -> list[FlowToken]:
    """Tokens split off ``token``, at any depth."""
    children: dict[int, list[FlowToken]] = {}
    for other in state.tokens:
        if other.split_seq is not None:
            children.setdefault(other.split_seq, []).append(other)
    found: list[FlowToken] = []
    stack = list(children.get(token.seq, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children.get(child.seq, []))
    return found


def cancel_tokens(state: State, tokens: Iterable[FlowToken], now: datetime,
                  actor_id: int | None = None, reason: str = "") -> None:
    """Cancel tokens and every open work task on them (会签 siblings and added signers too)."""
    tokens = list(tokens)
    seqs = {token.seq for token in tokens}
    cancel_open_tasks(state, [task for task in state.tasks if task.token_seq in seqs], now,
                      actor_id, reason)
    for token in tokens:
        if token.state in ("active", "waiting"):
            put(token, state="cancelled", left_at=now)


def finish(state: State, outcome: str, now: datetime, actor_id: int | None = None,
           status: str | None = None, event: str | None = "ended",
           on_behalf_of: int | None = None, node: str | None = None) -> None:
    """End the instance (WCP-20/43): every token and open work task is cancelled."""
    cancel_tokens(state, [token for token in state.tokens if token.state in ("active", "waiting")],
                  now, actor_id, outcome)
    put(state.instance, outcome=outcome, ended_at=now)
    set_status(state, status or outcome)
    set_var(state, "correction", None)
    if event:
        emit(state, event, now, node=node, actor_id=actor_id, on_behalf_of=on_behalf_of,
             data={"outcome": outcome})


def trail_append(state: State, token: FlowToken, node: Node, actors: list[int],
                 tasks: list[int], now: datetime, auto: bool = False) -> None:
    entry = {"node": node.id, "token": token.seq, "actors": actors, "tasks": tasks,
             "entered": token.data.get("entered", 0), "at": now.isoformat()}
    if auto:
        entry["auto"] = True
    set_var(state, "trail", [*state.vars.get("trail", []), entry])


def last_human(state: State) -> dict[str, Any] | None:
    for entry in reversed(state.vars.get("trail", [])):
        if entry.get("actors"):
            return dict(entry)
    return None


def incident(state: State, token: FlowToken, node: Node, now: datetime, reason: str,
             actor_id: int | None = None) -> None:
    """The token stays where it is and the admin sees why (repair or fix the data)."""
    put(token, state="active")
    set_data(token, incident=reason)
    set_var(state, "incidents", [*state.vars.get("incidents", []),
                                 {"node": node.id, "token": token.seq, "reason": reason,
                                  "at": now.isoformat()}])
    emit(state, "incident", now, node=node.id, actor_id=actor_id, data={"reason": reason})


# --- Shared validation ---------------------------------------------------------------------


def ensure_live(state: State) -> None:
    """Refuse any operation on a withdrawn or ended instance."""
    status = state.instance.status
    if status == "withdrawn":
        raise errors.not_actionable("withdrawn")
    if state.instance.ended_at is not None or status in FINAL_STATUSES:
        raise errors.not_actionable("ended", status=status)


def require_text(value: str | None, code: str = "comment_required") -> str:
    text = (value or "").strip()
    if not text:
        raise errors.invalid(code)
    return text
