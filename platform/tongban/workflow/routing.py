"""How an instance moves: tokens run through gateways, splits and joins, service, wait and cc
nodes to the next human node, whose tasks are created for the people :mod:`.who` resolves and
counted by the node's mode until it completes or fails.

A node's tasks are counted by *slot*: one per person asked; a transfer and a 前/后加签 stay in
the slot they came from, a 并加签 opens a new one. 会签 (all), 或签 (any), 依次 (sequential),
N-of-M, votes and distinct signatures are then one rule each (:func:`settle`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..forms.logic import RuleError, evaluate
from ..models import FlowOutbox, FlowTask, FlowToken
from . import errors
from .deadlines import open_task_deadline
from .definition import NODE_OPERATIONS, Node
from .rows import build, put
from .state import (
    CC,
    WORK_OPEN,
    State,
    cancel_open_tasks,
    emit,
    ensure_live,
    finish,
    incident,
    last_human,
    new_token,
    set_data,
    set_status,
    set_var,
    take_seq,
    trail_append,
    visit_tasks,
)
from .who import Resolved, excluded, in_group, resolve

# --- Moving tokens -------------------------------------------------------------------------


def _truthy(rule: Any, data: Mapping[str, Any]) -> bool:
    return evaluate(rule, data) is True


def _rule_data(state: State) -> dict[str, Any]:
    """What a condition reads: the answers, the flow's data and (a service with rules) the
    latest score, ``points.total`` / ``points.eligible`` / ``points.grade`` (empty unscored)."""
    return {"answers": state.answers, "vars": state.instance.vars, "points": state.points or {}}


def enter(state: State, token: FlowToken, node_id: str, now: datetime,
          actor_id: int | None = None) -> None:
    """Move ``token`` onto ``node_id`` and run it forward until it waits for people, a
    service, a message or a join, or the instance ends."""
    flow = state.flow
    while True:
        node = flow.nodes[node_id]
        put(token, node=node_id, state="active", arrived_at=now)
        put(token, data={"entered": state.instance.next_seq})
        kind = node.type
        if kind == "wait":
            set_status(state, "waiting_external")
        emit(state, "node_entered", now, node=node_id, actor_id=actor_id)
        if kind == "start":
            node_id = node.next[0]
        elif kind == "end":
            if state.vars.get("hold") and (node.outcome or "completed") != "rejected":
                # 容缺受理: the result waits for the missing material (intake_decisions.lift_hold)
                put(token, state="waiting")
                set_status(state, "result_held")
                emit(state, "result_held", now, node=node_id, actor_id=actor_id)
                return
            put(token, state="done", left_at=now)
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
            put(token, state="done", left_at=now)
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
            put(token, state="waiting")
            call = build(FlowOutbox, instance_id=state.instance.id, token_seq=token.seq,
                         node=node_id, hook=node.hook or "noop",
                         payload={"options": dict(node.options)}, state="pending", attempts=0,
                         next_attempt_at=now, created_at=now)
            state.new_rows.append(call)
            emit(state, "service_queued", now, node=node_id, data={"hook": node.hook})
            return
        elif kind == "wait":
            put(token, state="waiting")
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
        else:  # compile_flow admits no other type
            raise ValueError(f"node {node_id}: unknown type {kind!r}")


def split_token(state: State, token: FlowToken, node: Node, targets: list[str],
                now: datetime, actor_id: int | None = None) -> None:
    """Start one child token per branch; the parent waits for them at the split's join."""
    targets = list(dict.fromkeys(targets))
    put(token, state="waiting" if node.join else "done")
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
        task = build(FlowTask, instance_id=state.instance.id, seq=take_seq(state),
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
    task = build(FlowTask, instance_id=state.instance.id, seq=seq, token_seq=token.seq,
                 node=node.id, kind=node.kind, state="open", assignee_id=assignee,
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
    deadline = open_task_deadline(state, task, node, now)
    if deadline is not None:
        details.update(deadline=deadline.seq,
                       due_at=deadline.due_at.isoformat() if deadline.due_at else None)
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
        return apply_verdict(state, token, node, now, None, auto=True)
    return False


def _auto_pass_task(state: State, task: FlowTask, now: datetime) -> None:
    put(task, state="done", outcome="approved", done_at=now, done_by=task.assignee_id)
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


def apply_verdict(state: State, token: FlowToken, node: Node, now: datetime,
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
            return apply_verdict(state, token, node, now, actor_id, auto, on_behalf_of)
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
    if operation in NODE_OPERATIONS and operation not in node.operations:
        raise errors.invalid("operation_not_allowed", node=node.id, operation=operation)
    if actor_id == state.applicant_id:
        raise errors.not_yours("own_application")
    if node.exclusive_with:
        for entry in state.vars.get("trail", ()):
            if entry.get("node") in node.exclusive_with and actor_id in entry.get("actors", ()):
                raise errors.not_yours("four_eyes", node=entry["node"])
    if actor_id in task.data.get("escalated_to", ()):
        pass  # 督办: the task was offered to this administrator as well when it ran out of time
    elif task.assignee_id is not None:
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
    if token is not None and state.flow.nodes[task.node].mode == "sign":
        for other in visit_tasks(state, token, task.node):
            if other.seq != task.seq and actor_id in (other.assignee_id, other.done_by) \
                    and other.state in ("open", "claimed", "done"):
                raise errors.not_yours("already_holds")


def claim_task(state: State, task: FlowTask, actor_id: int, now: datetime) -> None:
    put(task, assignee_id=actor_id, state="claimed", claimed_at=now)
    emit(state, "task_claimed", now, task=task, actor_id=actor_id)


def mark_done(task: FlowTask, actor_id: int, outcome: str, now: datetime, comment: str) -> None:
    if task.assignee_id is None:
        put(task, assignee_id=actor_id)
    put(task, state="done", outcome=outcome, done_by=actor_id, done_at=now, comment=comment)
