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

The engine is three modules: :mod:`.state` (State, the Directory protocol and the bookkeeping:
events, tokens, cancelling, ending), :mod:`.routing` (moving tokens, creating and counting
tasks, validating an actor) and this one (the operations on tasks, services and messages).
Everything other modules build on is re-exported here (see ``__all__``); the operations beyond
approve and reject are in :mod:`.operations`, the admin ones in ``admin_ops``, all by name in
:mod:`.ops`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..models import FlowMessage, FlowTask, FlowToken
from . import errors
from .definition import Node
from .memory import InMemoryDirectory
from .routing import (
    apply_verdict,
    check_candidate,
    claim_task,
    complete_node,
    enter,
    leave_target,
    make_task,
    mark_done,
    open_node,
    opening_status,
    send_cc,
    settle,
    slots,
    split_token,
    task_for,
)
from .rows import build, put
from .state import (
    CC,
    FINAL_STATUSES,
    WORK_OPEN,
    Directory,
    State,
    cancel_open_tasks,
    cancel_task,
    cancel_tokens,
    current_nodes,
    descendants,
    emit,
    ensure_live,
    finish,
    incident,
    is_work,
    last_human,
    live_tokens,
    new_token,
    open_tasks,
    require_text,
    set_data,
    set_status,
    set_var,
    take_seq,
    trail_append,
    visit_tasks,
)
from .who import allowed_set, excluded

__all__ = [
    # operations
    "accept", "approve", "claim", "decide_by_system", "deliver_message", "refuse_intake", "reject", "release",
    "service_done", "service_failed", "start", "vote",
    # the engine's parts other modules build on
    "apply_verdict", "check_candidate", "claim_task", "complete_node", "enter", "leave_target",
    "make_task", "mark_done", "open_node", "opening_status", "send_cc", "settle", "slots",
    "split_token", "task_for",
    # re-exported from .state and .memory
    "CC", "FINAL_STATUSES", "WORK_OPEN", "Directory", "InMemoryDirectory", "State",
    "cancel_open_tasks", "cancel_task", "cancel_tokens", "current_nodes", "descendants", "emit",
    "ensure_live", "finish", "incident", "is_work", "last_human", "live_tokens", "new_token",
    "open_tasks", "require_text", "set_data", "set_status", "set_var", "take_seq",
    "trail_append", "visit_tasks",
]


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
    if task.candidate_role is None or task.assignee_id == actor_id:
        return  # a personal task, or claimed by this person already: nothing to do
    claim_task(state, task, actor_id, now)


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
        claim_task(state, task, actor_id, now)
    node = state.flow.nodes[task.node]
    token = state.token(task.token_seq)
    assert token is not None
    mark_done(task, actor_id, outcome, now, comment)
    approving = outcome in ("approved", "accepted")
    # An approval never fails a node; a rejection may (the event carries the status after it).
    if not approving and settle(state, token, node) == "fail":
        set_status(state, "rejected")
    elif event == "accepted":
        set_status(state, "accepted")
    emit(state, event, now, task=task, actor_id=actor_id, on_behalf_of=task.on_behalf_of,
         data={**({"comment": comment} if comment else {}), **(data or {})})
    if approving:
        _after_approval(state, token, node, task, now, actor_id)
    apply_verdict(state, token, node, now, actor_id, on_behalf_of=task.on_behalf_of)


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
            choose: Mapping[str, list[int]] | None = None,
            values: Mapping[str, Any] | None = None) -> None:
    """Approve (同意). ``choose`` names the people for later ``chosen_by: previous`` nodes;
    ``values`` are what a person entered on a ``data`` task (kept under ``vars.data.<node>``,
    where gateway rules read them)."""
    task = task_for(state, task_seq, actor_id, operation="approve",
                    kinds=("approve", "vote", "sign", "data"))
    _choose(state, task, choose)
    if values is not None:
        if task.kind != "data":
            raise errors.invalid("wrong_kind", operation="values", kind=task.kind)
        entered = dict(state.vars.get("data", {}))
        entered[task.node] = dict(values)
        set_var(state, "data", entered)
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


def decide_by_system(state: State, task: FlowTask, now: datetime, outcome: str,
                     event: str, reason: str = "timeout") -> None:
    """A task decided by the engine itself when its deadline ran out (no actor): approved
    (``auto_approved``) or, at intake, deemed accepted (``deemed_accepted``, 行政许可法 §32:
    the status moves to accepted)."""
    ensure_live(state)
    if event == "deemed_accepted":
        set_status(state, "accepted")
    node = state.flow.nodes[task.node]
    token = state.token(task.token_seq)
    assert token is not None
    put(task, state="done", outcome=outcome, done_at=now, comment="")
    set_data(task, auto=event)
    emit(state, event, now, task=task, data={"reason": reason})
    apply_verdict(state, token, node, now, None)


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
        claim_task(state, task, actor_id, now)
    mark_done(task, actor_id, "rejected", now, text)
    set_status(state, "rejected")
    emit(state, "intake_refused", now, task=task, actor_id=actor_id,
         on_behalf_of=task.on_behalf_of, data={"reason": text})
    finish(state, "rejected", now, actor_id, on_behalf_of=task.on_behalf_of, node=task.node)


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
    state.new_rows.append(build(FlowMessage, instance_id=state.instance.id, name=name,
                                message_key=key, payload=dict(payload or {}), sender=sender,
                                received_at=now))
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
