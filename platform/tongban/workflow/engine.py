"""The flow engine: pure functions over one instance's rows (no Flask, no session, no clock).

Every operation takes a :class:`State` (the instance, all its tokens and tasks, the answers and
a :class:`Directory`), the acting user and ``now``; it validates everything first and raises a
:mod:`~tongban.workflow.errors` refusal before touching anything, then changes the rows in
place, appends new rows to ``state.new_rows`` and every FlowEvent to ``state.events``. The
runtime adds the new rows, copies the status to the application and writes the audit chain in
the same transaction.

Tokens mark where the instance stands (one per parallel branch; a split's token waits while
its children run and carries on from the join). Human work is FlowTask rows; the node's mode
counts them by *slot* (one per person asked, a transfer or a 前/后加签 stays in its slot, a 并加签
opens a new one), so 会签, 或签, N-of-M, votes and distinct signatures are one rule each.

Helpers other modules call (operations, admin operations, the bench): :func:`emit`,
:func:`set_status`, :func:`set_var`, :func:`enter`, :func:`new_token`, :func:`make_task`,
:func:`cancel_task`, :func:`cancel_open_tasks`, :func:`cancel_tokens`, :func:`current_nodes`,
:func:`live_tokens`, :func:`finish`, :func:`settle`, :func:`ensure_live`, :func:`task_for`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..forms.logic import RuleError, evaluate
from ..models import FlowEvent, FlowInstance, FlowMessage, FlowOutbox, FlowTask, FlowToken
from ..policy import DepartmentTree
from . import errors
from .definition import Flow, Node
from .memory import InMemoryDirectory
from .who import Resolved, allowed_set, excluded, in_group, resolve

__all__ = ["Directory", "InMemoryDirectory", "State", "accept", "approve", "claim",
           "deliver_message", "reject", "refuse_intake", "release", "service_done",
           "service_failed", "start", "vote"]

FINAL_STATUSES = frozenset({"approved", "rejected", "completed", "withdrawn", "abandoned"})
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

    def __post_init__(self) -> None:
        self._tokens = {token.seq: token for token in self.tokens}
        self._tasks = {task.seq: task for task in self.tasks}

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
        self.new_rows.append(task)

    @property
    def vars(self) -> dict[str, Any]:
        return self.instance.vars


# --- Bookkeeping helpers -------------------------------------------------------------------


def take_seq(state: State) -> int:
    """The next number of the instance's tokens, tasks and events."""
    seq = state.instance.next_seq
    state.instance.next_seq = seq + 1
    return seq


def set_var(state: State, key: str, value: Any) -> None:
    """Replace one key of ``instance.vars`` (a new dict, so the JSON column sees the change)."""
    values = dict(state.instance.vars)
    if value is None:
        values.pop(key, None)
    else:
        values[key] = value
    state.instance.vars = values


def set_data(row: FlowToken | FlowTask, **changes: Any) -> None:
    """Change keys of a row's ``data`` (a new dict; a None value removes the key)."""
    data = dict(row.data)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    row.data = data


def set_status(state: State, status: str) -> None:
    state.instance.status = status


def emit(state: State, type_: str, now: datetime, *, node: str | None = None,
         task: FlowTask | None = None, actor_id: int | None = None,
         on_behalf_of: int | None = None, data: Mapping[str, Any] | None = None) -> FlowEvent:
    """Record one event with the instance's status after it."""
    event = FlowEvent(instance_id=state.instance.id, seq=take_seq(state), at=now, type=type_,
                      node=node if node is not None else (task.node if task else None),
                      task_seq=task.seq if task else None, actor_id=actor_id,
                      on_behalf_of=on_behalf_of, status=state.instance.status,
                      data=dict(data or {}))
    state.events.append(event)
    state.new_rows.append(event)
    return event


def new_token(state: State, node: str, now: datetime, split_seq: int | None = None) -> FlowToken:
    token = FlowToken(instance_id=state.instance.id, seq=take_seq(state), node=node,
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
    node_id = node_id or token.node
    entered = token.data.get("entered", 0)
    return [task for task in state.tasks
            if task.token_seq == token.seq and task.node == node_id and task.seq > entered
            and is_work(task)]


def open_tasks(state: State, node: str | None = None) -> list[FlowTask]:
    """Open work tasks of the instance (of one node when given)."""
    return [task for task in state.tasks if task.state in WORK_OPEN and is_work(task)
            and (node is None or task.node == node)]


def cancel_task(state: State, task: FlowTask, now: datetime, actor_id: int | None = None,
                reason: str = "") -> None:
    task.state = "cancelled"
    task.done_at = now
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
            token.state = "cancelled"
            token.left_at = now


def finish(state: State, outcome: str, now: datetime, actor_id: int | None = None,
           status: str | None = None, event: str | None = "ended",
           on_behalf_of: int | None = None, node: str | None = None) -> None:
    """End the instance (WCP-20/43): every token and open work task is cancelled."""
    cancel_tokens(state, [token for token in state.tokens if token.state in ("active", "waiting")],
                  now, actor_id, outcome)
    state.instance.outcome = outcome
    state.instance.ended_at = now
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
    token.state = "active"
    set_data(token, incident=reason)
    set_var(state, "incidents", [*state.vars.get("incidents", []),
                                 {"node": node.id, "token": token.seq, "reason": reason,
                                  "at": now.isoformat()}])
    emit(state, "incident", now, node=node.id, actor_id=actor_id, data={"reason": reason})


# --- Moving tokens -------------------------------------------------------------------------


def _truthy(rule: Any, data: Mapping[str, Any]) -> bool:
    return evaluate(rule, data) is True


def _rule_data(state: State) -> dict[str, Any]:
    return {"answers": state.answers, "vars": state.instance.vars}


def enter(state: State, token: FlowToken, node_id: str, now: datetime,
          actor_id: int | None = None) -> None:
    """Move ``token`` onto ``node_id`` and run it forward until it waits for people, a
    service, a message or a join, or the instance ends."""
    flow = state.flow
    while True:
        node = flow.nodes[node_id]
        token.node = node_id
        token.state = "active"
        token.arrived_at = now
        token.data = {"entered": state.instance.next_seq}
        kind = node.type
        if kind == "wait":
            set_status(state, "waiting_external")
        emit(state, "node_entered", now, node=node_id, actor_id=actor_id)
        if kind == "start":
            node_id = node.next[0]
        elif kind == "end":
            token.state = "done"
            token.left_at = now
            finish(state, node.outcome or "completed", now, actor_id, node=node_id)
            return
        elif kind == "exclusive":
            try:
                target = next((branch.to for branch in node.branches
                               if _truthy(branch.when, _rule_data(state))), node.default)
            except RuleError as exc:
                incident(state, token, node, now, str(exc), actor_id)
                return
            emit(state, "gateway_taken", now, node=node_id, actor_id=actor_id, data={"to": target})
            node_id = target or ""
        elif kind in ("parallel", "inclusive"):
            if kind == "parallel":
                targets = list(node.next)
            else:
                try:
                    targets = [branch.to for branch in node.branches
                               if _truthy(branch.when, _rule_data(state))]
                except RuleError as exc:
                    incident(state, token, node, now, str(exc), actor_id)
                    return
                targets = targets or [node.default or ""]
            split_token(state, token, node, targets, now, actor_id)
            return
        elif kind == "join":
            parent = state.token(token.split_seq)
            if parent is None or parent.data.get("split") != node.split:
                node_id = node.next[0]  # a token that came without its split passes on
                continue
            token.state = "done"
            token.left_at = now
            arrived = parent.data.get("arrived", 0) + 1
            set_data(parent, arrived=arrived)
            if arrived < parent.data.get("expected", 0):
                return
            emit(state, "joined", now, node=node_id, actor_id=actor_id, data={"branches": arrived})
            token = parent
            node_id = node.next[0]
        elif kind == "task":
            if not open_node(state, token, node, now, actor_id):
                return
            node_id = leave_target(state, node)
        elif kind == "service":
            token.state = "waiting"
            state.new_rows.append(FlowOutbox(
                instance_id=state.instance.id, token_seq=token.seq, node=node_id,
                hook=node.hook or "noop", payload={"options": dict(node.options)},
                state="pending", attempts=0, next_attempt_at=now, created_at=now))
            emit(state, "service_queued", now, node=node_id, data={"hook": node.hook})
            return
        elif kind == "wait":
            token.state = "waiting"
            stored = state.vars.get("messages", {}).get(node.message or "")
            if stored and not stored.get("consumed"):
                _consume_message(state, node.message or "")
                emit(state, "message_received", now, node=node_id,
                     data={"message": node.message, "key": stored.get("keys", [""])[-1],
                           "stored": True})
                node_id = node.next[0]
                continue
            return
        elif kind == "cc":
            _send_cc(state, token, node, now, actor_id)
            node_id = node.next[0]


def split_token(state: State, token: FlowToken, node: Node, targets: list[str],
                now: datetime, actor_id: int | None = None) -> None:
    """Start one child token per branch; the parent waits for them at the split's join."""
    targets = list(dict.fromkeys(targets))
    token.state = "waiting" if node.join else "done"
    set_data(token, split=node.id, expected=len(targets), arrived=0, taken=targets)
    emit(state, "split", now, node=node.id, actor_id=actor_id, data={"to": targets})
    children = [new_token(state, target, now, split_seq=token.seq) for target in targets]
    for child, target in zip(children, targets, strict=True):
        if child.state == "active":  # an earlier branch may have ended the instance
            enter(state, child, target, now, actor_id)


def leave_target(state: State, node: Node) -> str:
    """Where a finished task node goes: its next node, or straight back to the node that
    returned the application here (``resubmit: straight_back``)."""
    pending = state.vars.get("straight_back")
    if pending and pending.get("at") == node.id:
        set_var(state, "straight_back", None)
        return str(pending["to"])
    return node.next[0]


def _consume_message(state: State, name: str) -> None:
    messages = dict(state.vars.get("messages", {}))
    messages[name] = {**messages[name], "consumed": True}
    set_var(state, "messages", messages)


def _send_cc(state: State, token: FlowToken, node: Node, now: datetime,
             actor_id: int | None) -> None:
    resolved = resolve(state, node)
    users = list(resolved.users)
    if resolved.group is not None and not users:
        users = state.directory.users_with(resolved.group[0], frozenset({resolved.group[1]}))
    send_cc(state, token, node.id, users, now, actor_id)


def send_cc(state: State, token: FlowToken | None, node_id: str, users: list[int],
            now: datetime, actor_id: int | None = None) -> list[FlowTask]:
    """One open cc task per recipient and a ``cc_sent`` event (cc is never work)."""
    created = []
    for user in dict.fromkeys(users):
        task = FlowTask(instance_id=state.instance.id, seq=take_seq(state),
                        token_seq=token.seq if token else 0, node=node_id, kind=CC, state="open",
                        assignee_id=user, data={}, created_at=now)
        state.add_task(task)
        created.append(task)
    emit(state, "cc_sent", now, node=node_id, actor_id=actor_id,
         data={"to": [task.assignee_id for task in created]})
    return created


# --- Human tasks ---------------------------------------------------------------------------


def make_task(state: State, token: FlowToken, node: Node, now: datetime, *,
              assignee: int | None = None, group: tuple[str, str] | None = None,
              position: int = 0, added_by: int | None = None, slot: int | None = None,
              data: Mapping[str, Any] | None = None) -> FlowTask:
    """Create one task (with delegation: a task for X while X is away goes to X's delegate,
    on behalf of X) and its ``task_created`` event."""
    on_behalf_of = None
    if assignee is not None:
        delegate = state.directory.delegate_of(assignee, now)
        if delegate is not None and node.mode == "sign" and any(
                delegate in (other.assignee_id, other.done_by)
                for other in visit_tasks(state, token, node.id)):
            delegate = None  # a signature node never gives one person two of its tasks
        if delegate is not None and delegate != assignee:
            assignee, on_behalf_of = delegate, assignee
    seq = take_seq(state)
    task = FlowTask(instance_id=state.instance.id, seq=seq, token_seq=token.seq, node=node.id,
                    kind=node.kind, state="open", assignee_id=assignee,
                    candidate_role=group[0] if group else None,
                    candidate_department=group[1] if group else None,
                    on_behalf_of=on_behalf_of, position=position, added_by=added_by,
                    data={"slot": slot if slot is not None else seq, **(data or {})},
                    created_at=now)
    state.add_task(task)
    details: dict[str, Any] = {}
    if assignee is not None:
        details["assignee"] = assignee
    if group:
        details.update(role=group[0], department=group[1])
    emit(state, "task_created", now, task=task, on_behalf_of=on_behalf_of, actor_id=added_by,
         data=details)
    return task


def opening_status(state: State, node: Node) -> None:
    if node.status:
        set_status(state, node.status)
    elif node.kind != "intake":
        set_status(state, "in_progress")


def _empty(state: State, token: FlowToken, node: Node, resolved: Resolved, now: datetime,
           actor_id: int | None) -> Resolved | None:
    """Apply ``when_empty``: the people to ask instead, or None (passed or incident)."""
    if node.when_empty == "department_admin" and resolved.department:
        banned = excluded(state, node)
        admins = [user for user in state.directory.department_admins(resolved.department)
                  if user not in banned]
        if admins:
            if node.mode == "single":
                return Resolved(group=("department_admin", resolved.department), users=admins,
                                department=resolved.department)
            return Resolved(users=admins, department=resolved.department)
    if node.when_empty == "auto_pass":
        emit(state, "task_auto_passed", now, node=node.id, actor_id=actor_id,
             data={"reason": resolved.problem or "nobody to act"})
        trail_append(state, token, node, [], [], now, auto=True)
        return None
    incident(state, token, node, now, resolved.problem or "nobody to act", actor_id)
    return None


def open_node(state: State, token: FlowToken, node: Node, now: datetime,
              actor_id: int | None = None) -> bool:
    """Open the tasks of a task node. True when the node passed at once (auto-pass)."""
    resolved = resolve(state, node)
    if resolved.empty:
        replacement = _empty(state, token, node, resolved, now, actor_id)
        if replacement is None:
            return token.state == "active" and "incident" not in token.data
        resolved = replacement
    previous = last_human(state) if node.same_approver == "auto_pass" else None
    repeat = set(previous["actors"]) if previous else set()
    if resolved.group is not None and repeat & set(resolved.users) \
            and not (node.mode == "sign" and (node.distinct or 1) > 1):
        who = next(user for user in resolved.users if user in repeat)
        emit(state, "task_auto_passed", now, node=node.id, actor_id=who,
             data={"reason": "same approver"})
        trail_append(state, token, node, [who], [], now, auto=True)
        return True
    opening_status(state, node)
    if resolved.group is not None:
        copies = (node.distinct or 1) if node.mode == "sign" else 1
        for _ in range(copies):
            make_task(state, token, node, now, group=resolved.group)
        return False
    users = list(dict.fromkeys(resolved.users))
    if node.mode == "sequential":
        first = make_task(state, token, node, now, assignee=users[0], position=0)
        set_data(token, queue=users[1:])
        created = [first]
    else:
        created = [make_task(state, token, node, now, assignee=user, position=index)
                   for index, user in enumerate(users)]
    passed_any = False
    for task in created:
        original = task.on_behalf_of or task.assignee_id
        if original in repeat:
            _auto_pass_task(state, task, now)
            passed_any = True
    if passed_any:
        return _apply_verdict(state, token, node, now, None, auto=True)
    return False


def _auto_pass_task(state: State, task: FlowTask, now: datetime) -> None:
    task.state = "done"
    task.outcome = "approved"
    task.done_at = now
    task.done_by = task.assignee_id
    set_data(task, auto=True)
    emit(state, "task_auto_passed", now, task=task, actor_id=task.assignee_id,
         data={"reason": "same approver"})


def slots(state: State, token: FlowToken, node: Node) -> dict[int, str]:
    """Each slot of the visit: pending, approved or rejected (cancelled slots are left out)."""
    found: dict[int, str] = {}
    for task in visit_tasks(state, token, node.id):
        slot = task.data.get("slot", task.seq)
        current = found.get(slot)
        if task.state in WORK_OPEN:
            found[slot] = "pending"
        elif task.state == "done" and task.outcome == "rejected":
            if current != "pending":
                found[slot] = "rejected"
        elif task.state == "done" and task.outcome in ("approved", "accepted"):
            if current is None:
                found[slot] = "approved"
    return found


def settle(state: State, token: FlowToken, node: Node) -> str | None:
    """What the node's mode says now: ``complete``, ``fail``, ``next`` (a sequential node's
    next person) or None (keep waiting)."""
    counted = list(slots(state, token, node).values())
    approved = counted.count("approved")
    rejected = counted.count("rejected")
    pending = counted.count("pending")
    queued = len(token.data.get("queue", ()))
    asked = approved + rejected + pending + queued
    mode = node.mode
    if rejected and (mode in ("single", "any", "all", "sequential", "sign")
                     or (mode == "vote" and node.veto)):
        return "fail"
    need = node.threshold(asked)
    if mode in ("all", "sequential"):
        if pending == 0 and queued == 0:
            return "complete" if approved else None
        if mode == "sequential" and pending == 0:
            return "next"
        return None
    if approved >= need:
        return "complete"
    if approved + pending + queued < need:
        return "fail"
    return None


def _apply_verdict(state: State, token: FlowToken, node: Node, now: datetime,
                   actor_id: int | None, auto: bool = False,
                   on_behalf_of: int | None = None) -> bool:
    """Act on :func:`settle`. True when the node completed and the caller should move on
    (only when called from :func:`open_node`; otherwise the token is moved here)."""
    verdict = settle(state, token, node)
    if verdict == "next":
        queue = list(token.data.get("queue", ()))
        position = max((task.position for task in visit_tasks(state, token, node.id)),
                       default=-1) + 1
        set_data(token, queue=queue[1:])
        task = make_task(state, token, node, now, assignee=queue[0], position=position)
        if node.same_approver == "auto_pass" and (task.on_behalf_of or task.assignee_id) in \
                set((last_human(state) or {}).get("actors", ())):
            _auto_pass_task(state, task, now)
            return _apply_verdict(state, token, node, now, actor_id, auto, on_behalf_of)
        return False
    if verdict == "fail":
        finish(state, "rejected", now, actor_id, on_behalf_of=on_behalf_of, node=node.id)
        return False
    if verdict == "complete":
        complete_node(state, token, node, now, actor_id, move=not auto)
        return auto
    return False


def complete_node(state: State, token: FlowToken, node: Node, now: datetime,
                  actor_id: int | None, move: bool = True) -> None:
    """The node is done: close the visit's remaining tasks (或签 / N-of-M / vote), write the
    trail and move the token on."""
    tasks = visit_tasks(state, token, node.id)
    cancel_open_tasks(state, tasks, now, actor_id, "node completed")
    actors = list(dict.fromkeys(task.done_by for task in tasks
                                if task.state == "done" and task.done_by is not None
                                and not task.data.get("auto")))
    trail_append(state, token, node, [actor for actor in actors if actor is not None],
                 [task.seq for task in tasks if task.state == "done"], now)
    if move:
        enter(state, token, leave_target(state, node), now, actor_id)


# --- Validation shared by the operations ---------------------------------------------------


def ensure_live(state: State) -> None:
    """Refuse any operation on a withdrawn or ended instance."""
    status = state.instance.status
    if status == "withdrawn":
        raise errors.not_actionable("withdrawn")
    if state.instance.ended_at is not None or status in FINAL_STATUSES:
        raise errors.not_actionable("ended", status=status)


def task_for(state: State, task_seq: int, actor_id: int, *, operation: str,
             kinds: Iterable[str] | None = None, claim_ok: bool = True) -> FlowTask:
    """The open work task ``task_seq`` if ``actor_id`` may do ``operation`` on it now."""
    ensure_live(state)
    task = state.task(task_seq)
    if task is None:
        raise errors.invalid("task_unknown", task=task_seq)
    if task.kind == CC:
        raise errors.invalid("task_is_cc")
    if task.state not in WORK_OPEN:
        raise errors.already_handled(who=task.done_by,
                                     when=task.done_at.isoformat() if task.done_at else None)
    if state.vars.get("correction") and operation not in ("claim", "release"):
        raise errors.not_actionable("awaiting_correction")
    node = state.flow.nodes.get(task.node)
    if node is None:
        raise errors.invalid("node_unknown", node=task.node)
    if kinds is not None and task.kind not in kinds:
        raise errors.invalid("wrong_kind", operation=operation, kind=task.kind)
    if operation in ("reject", "return", "transfer", "add_signer", "correction", "cc",
                     "comment") and operation not in node.operations:
        raise errors.invalid("operation_not_allowed", node=node.id, operation=operation)
    if actor_id == state.applicant_id:
        raise errors.not_yours("own_application")
    for entry in state.vars.get("trail", ()):
        if entry.get("node") in node.exclusive_with and actor_id in entry.get("actors", ()):
            raise errors.not_yours("four_eyes", node=entry["node"])
    if task.assignee_id is not None:
        if task.assignee_id != actor_id:
            raise errors.not_yours("claimed_by_other" if task.candidate_role else "task_not_yours")
    else:
        if not claim_ok:
            raise errors.not_yours("claim_first")
        check_candidate(state, task, actor_id)
    return task


def check_candidate(state: State, task: FlowTask, actor_id: int) -> None:
    """A group task's claimer holds the role over its department and, on a node that needs
    distinct people, holds no other task of the visit."""
    if not in_group(state.directory, actor_id, task.candidate_role or "",
                    task.candidate_department or ""):
        raise errors.not_yours("not_candidate")
    token = state.token(task.token_seq)
    if token is not None:
        for other in visit_tasks(state, token, task.node):
            if other.seq != task.seq and actor_id in (other.assignee_id, other.done_by) \
                    and other.state in ("open", "claimed", "done"):
                raise errors.not_yours("already_holds")


def _claim(state: State, task: FlowTask, actor_id: int, now: datetime) -> None:
    task.assignee_id = actor_id
    task.state = "claimed"
    task.claimed_at = now
    emit(state, "task_claimed", now, task=task, actor_id=actor_id)


def _done(task: FlowTask, actor_id: int, outcome: str, now: datetime, comment: str) -> None:
    if task.assignee_id is None:
        task.assignee_id = actor_id
    task.state = "done"
    task.outcome = outcome
    task.done_by = actor_id
    task.done_at = now
    task.comment = comment


def require_text(value: str | None, code: str = "comment_required") -> str:
    text = (value or "").strip()
    if not text:
        raise errors.invalid(code)
    return text


# --- Operations ----------------------------------------------------------------------------


def start(state: State, actor_id: int | None, now: datetime) -> None:
    """Start the flow of a submitted application (status ``submitted``)."""
    if state.tokens:
        raise errors.invalid("start_twice")
    set_status(state, "submitted")
    state.instance.started_at = now
    set_var(state, "trail", [])
    emit(state, "started", now, actor_id=actor_id, data={"flow": state.flow.code})
    set_var(state, "submitted_seq", state.instance.next_seq)
    token = new_token(state, state.flow.start, now)
    enter(state, token, state.flow.start, now, actor_id)


def claim(state: State, actor_id: int, now: datetime, task_seq: int) -> None:
    task = task_for(state, task_seq, actor_id, operation="claim")
    if task.candidate_role is None or task.assignee_id is not None:
        raise errors.not_yours("claimed_by_other" if task.assignee_id != actor_id
                               else "task_not_yours")
    _claim(state, task, actor_id, now)


def release(state: State, actor_id: int, now: datetime, task_seq: int) -> None:
    task = task_for(state, task_seq, actor_id, operation="release")
    if task.candidate_role is None or task.state != "claimed":
        raise errors.not_yours("task_not_yours")
    task.assignee_id = None
    task.state = "open"
    task.claimed_at = None
    emit(state, "task_released", now, task=task, actor_id=actor_id)


def _decide(state: State, actor_id: int, now: datetime, task: FlowTask, outcome: str,
            event: str, comment: str, data: Mapping[str, Any] | None = None) -> None:
    """Record a decision and apply the node's mode (after 前/后加签 bookkeeping)."""
    if task.assignee_id is None:
        _claim(state, task, actor_id, now)
    node = state.flow.nodes[task.node]
    token = state.token(task.token_seq)
    assert token is not None
    _done(task, actor_id, outcome, now, comment)
    if outcome in ("approved", "accepted"):
        _after_approval(state, token, node, task, now, actor_id)
    verdict = settle(state, token, node)
    if verdict == "fail":
        set_status(state, "rejected")
    elif event == "accepted":
        set_status(state, "accepted")
    emit(state, event, now, task=task, actor_id=actor_id, on_behalf_of=task.on_behalf_of,
         data={"comment": comment, **(data or {})} if comment or data else None)
    _apply_verdict(state, token, node, now, actor_id, on_behalf_of=task.on_behalf_of)


def _after_approval(state: State, token: FlowToken, node: Node, task: FlowTask, now: datetime,
                    actor_id: int) -> None:
    """前加签: when every signer added before the adder has approved, the task returns to the
    adder. 后加签: the adder's approval hands the slot to the added signers."""
    slot = task.data.get("slot", task.seq)
    adder_task = state.task(task.data.get("before_of"))
    if adder_task is not None:
        pending = [other for other in visit_tasks(state, token, node.id)
                   if other.data.get("before_of") == adder_task.seq and other.state in WORK_OPEN]
        if not pending:
            make_task(state, token, node, now, assignee=adder_task.on_behalf_of
                      or adder_task.assignee_id, position=adder_task.position, slot=slot,
                      data={"returned_from": [t.seq for t in visit_tasks(state, token, node.id)
                                              if t.data.get("before_of") == adder_task.seq]})
    for user in task.data.get("after", ()):
        make_task(state, token, node, now, assignee=user, position=task.position,
                  added_by=actor_id, slot=slot, data={"after_of": task.seq})


def _choose(state: State, task: FlowTask, choose: Mapping[str, list[int]] | None) -> None:
    """Validate the approver's choices for later ``chosen_by: previous`` nodes."""
    if not choose:
        return
    for node_id, users in choose.items():
        target = state.flow.nodes.get(node_id)
        if target is None:
            raise errors.invalid("node_unknown", node=node_id)
        who = target.who or {}
        if who.get("chosen_by") != "previous":
            raise errors.invalid("choice_not_expected", node=node_id)
        allowed = set(allowed_set(who.get("from") or {}, state.answers, state.directory))
        allowed -= excluded(state, target)
        for user in users:
            if user not in allowed:
                raise errors.invalid("choice_outside", user=user, node=node_id)


def approve(state: State, actor_id: int, now: datetime, task_seq: int, comment: str = "",
            choose: Mapping[str, list[int]] | None = None) -> None:
    """Approve (同意). ``choose`` names the people for later ``chosen_by: previous`` nodes."""
    task = task_for(state, task_seq, actor_id, operation="approve",
                    kinds=("approve", "vote", "sign", "data"))
    _choose(state, task, choose)
    if choose:
        chosen = dict(state.vars.get("chosen", {}))
        chosen.update({node_id: list(users) for node_id, users in choose.items()})
        set_var(state, "chosen", chosen)
    _decide(state, actor_id, now, task, "approved", "approved", comment.strip())


def reject(state: State, actor_id: int, now: datetime, task_seq: int, comment: str = "") -> None:
    """Reject (驳回): ends the instance as rejected, except on N-of-M and vote nodes where it
    is one vote against (the node fails as soon as its threshold cannot be reached)."""
    task = task_for(state, task_seq, actor_id, operation="reject",
                    kinds=("approve", "vote", "sign", "data"))
    text = require_text(comment)
    _decide(state, actor_id, now, task, "rejected", "rejected", text)


def vote(state: State, actor_id: int, now: datetime, task_seq: int, choice: str,
         comment: str = "") -> None:
    """A vote on a vote node: ``approve`` or ``veto``."""
    if choice not in ("approve", "veto"):
        raise errors.invalid("vote_unknown")
    task = task_for(state, task_seq, actor_id, operation="approve", kinds=("vote",))
    if choice == "approve":
        _decide(state, actor_id, now, task, "approved", "approved", comment.strip(),
                {"vote": "approve"})
    else:
        _decide(state, actor_id, now, task, "rejected", "rejected", comment.strip(),
                {"vote": "veto"})


def accept(state: State, actor_id: int, now: datetime, task_seq: int, comment: str = "") -> None:
    """Accept at intake (受理): status ``accepted``, the flow moves on."""
    task = task_for(state, task_seq, actor_id, operation="accept", kinds=("intake",))
    _decide(state, actor_id, now, task, "accepted", "accepted", comment.strip())


def refuse_intake(state: State, actor_id: int, now: datetime, task_seq: int,
                  reason: str = "") -> None:
    """Refuse at intake (不予受理, a reason required): the instance ends as rejected."""
    task = task_for(state, task_seq, actor_id, operation="refuse_intake", kinds=("intake",))
    text = require_text(reason, "reason_required")
    if task.assignee_id is None:
        _claim(state, task, actor_id, now)
    _done(task, actor_id, "rejected", now, text)
    set_status(state, "rejected")
    emit(state, "intake_refused", now, task=task, actor_id=actor_id,
         on_behalf_of=task.on_behalf_of, data={"reason": text})
    finish(state, "rejected", now, actor_id, on_behalf_of=task.on_behalf_of)


def _service_token(state: State, token_seq: int) -> tuple[FlowToken, Node]:
    ensure_live(state)
    token = state.token(token_seq)
    node = state.flow.nodes.get(token.node) if token is not None else None
    if token is None or node is None or node.type != "service" \
            or token.state not in ("active", "waiting"):
        raise errors.invalid("token_unknown", token=token_seq)
    return token, node


def service_done(state: State, actor_id: int | None, now: datetime, token_seq: int,
                 result: Mapping[str, Any] | None) -> None:
    """The worker's hook call succeeded: keep the result under ``vars.services.<node>``."""
    token, node = _service_token(state, token_seq)
    services = dict(state.vars.get("services", {}))
    services[node.id] = dict(result or {})
    set_var(state, "services", services)
    emit(state, "service_done", now, node=node.id, actor_id=actor_id)
    enter(state, token, node.next[0], now, actor_id)


def service_failed(state: State, actor_id: int | None, now: datetime, token_seq: int,
                   error: str, final: bool) -> None:
    """A hook call failed. Not final: recorded (the worker retries). Final: an incident, and
    the fallback task when the node names one (a person does what the service could not)."""
    token, node = _service_token(state, token_seq)
    emit(state, "service_failed", now, node=node.id, actor_id=actor_id,
         data={"error": error, "final": final})
    if not final:
        return
    if node.fallback:
        emit(state, "incident", now, node=node.id, actor_id=actor_id,
             data={"reason": error, "fallback": node.fallback})
        enter(state, token, node.fallback, now, actor_id)
    else:
        incident(state, token, node, now, error, actor_id)


def deliver_message(state: State, actor_id: int | None, now: datetime, name: str, key: str,
                    payload: Mapping[str, Any] | None, sender: str) -> str:
    """A message for a ``wait`` node. Returns ``duplicate`` (the key came before: audited,
    nothing else changes), ``received`` (a waiting token moves on) or ``stored`` (kept for a
    wait node the instance has not reached yet)."""
    messages = dict(state.vars.get("messages", {}))
    known = messages.get(name, {})
    if key in known.get("keys", ()):
        emit(state, "message_duplicate", now, actor_id=actor_id,
             data={"message": name, "key": key, "sender": sender})
        return "duplicate"
    ensure_live(state)
    state.new_rows.append(FlowMessage(instance_id=state.instance.id, name=name,  # type: ignore[arg-type]
                                      message_key=key, payload=dict(payload or {}),
                                      sender=sender, received_at=now))
    waiting = next((token for token in live_tokens(state) if token.state == "waiting"
                    and state.flow.nodes[token.node].type == "wait"
                    and state.flow.nodes[token.node].message == name), None)
    messages[name] = {"keys": [*known.get("keys", []), key], "payload": dict(payload or {}),
                      "consumed": waiting is not None}
    set_var(state, "messages", messages)
    node = waiting.node if waiting else None
    emit(state, "message_received", now, node=node, actor_id=actor_id,
         data={"message": name, "key": key, "sender": sender, "stored": waiting is None})
    if waiting is not None:
        enter(state, waiting, state.flow.nodes[waiting.node].next[0], now, actor_id)
        return "received"
    return "stored"
