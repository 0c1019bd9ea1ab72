"""The Chinese approval operations beyond approve and reject: 退回 (return) and resubmission,
补正 (correction request and answer), 转办 (transfer), 加签 (add a signer before, after or in
parallel), 撤回 by the applicant and by an approver of their own action.

Each validates everything, raises a :mod:`~tongban.workflow.errors` refusal before changing
anything, then changes the state in one go with its events. Leaving a part of the flow (a
return out of a parallel region, to the applicant, a withdrawal) cancels every open task there,
会签 siblings and added signers included, so no task stays open on a node the instance left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ..models import FlowTask
from . import errors
from .engine import (
    WORK_OPEN,
    State,
    cancel_open_tasks,
    cancel_tokens,
    descendants,
    emit,
    ensure_live,
    enter,
    finish,
    is_work,
    make_task,
    new_token,
    opening_status,
    require_text,
    set_data,
    set_status,
    set_var,
    task_for,
    visit_tasks,
)
from .state import replace_answers
from .who import excluded

__all__ = ["add_signer", "move_to", "request_correction", "resubmit", "return_by_system", "return_to",
           "submit_correction", "transfer", "withdraw", "withdraw_action"]


def _ancestors(state: State, token_seq: int) -> list[int]:
    """The token and the split tokens above it, innermost first."""
    chain = []
    token = state.token(token_seq)
    while token is not None:
        chain.append(token.seq)
        token = state.token(token.split_seq)
    return chain


def move_to(state: State, token_seq: int, target: str, now: datetime,
            actor_id: int | None = None, reason: str = "") -> None:
    """Move the instance from where ``token_seq`` stands to ``target``, cancelling the region
    being left: when the target lies outside the parallel regions the token is in, the split
    token of the outermost region left moves and every branch below it is cancelled; when the
    target lies inside regions the token is not in, only the target's branch is re-entered
    (its join then waits for that one branch)."""
    token = state.token(token_seq)
    assert token is not None
    flow = state.flow
    here = flow.nodes[token.node].enclosing if token.node in flow.nodes else ()
    there = flow.nodes[target].enclosing
    shared = 0
    while shared < min(len(here), len(there)) and here[shared] == there[shared]:
        shared += 1
    mover = token
    for _ in range(len(here) - shared):
        parent = state.token(mover.split_seq)
        if parent is None:
            break
        mover = parent
    cancel_open_tasks(state, [task for task in state.tasks if task.token_seq == mover.seq],
                      now, actor_id, reason)
    cancel_tokens(state, descendants(state, mover), now, actor_id, reason)
    for split in there[shared:]:
        mover.state = "waiting"
        mover.node = split
        mover.data = {"split": split, "expected": 1, "arrived": 0, "taken": [target]}
        emit(state, "split", now, node=split, actor_id=actor_id,
             data={"to": [target], "reentered": True})
        mover = new_token(state, target, now, split_seq=mover.seq)
    enter(state, mover, target, now, actor_id)


def _previous(state: State, token_seq: int, current: str) -> str | None:
    lineage = set(_ancestors(state, token_seq))
    for entry in reversed(state.vars.get("trail", [])):
        if entry.get("node") != current and entry.get("actors") and entry.get("token") in lineage:
            return str(entry["node"])
    return None


def _in_sibling_branch(state: State, token_seq: int, here: str, there: str,
                       ran: list[dict[str, Any]]) -> bool:
    """Whether ``there`` ran only in a branch running alongside the token's own: a return may
    go back along the token's path, out of its regions, or into a region already joined, but
    not across into a sibling branch."""
    lineage = set(_ancestors(state, token_seq))
    if any(entry.get("token") in lineage for entry in ran):
        return False
    inside, target = state.flow.nodes[here].enclosing, state.flow.nodes[there].enclosing
    return target[:len(inside)] == inside[:len(target)] and len(target) <= len(inside)


def return_to(state: State, actor_id: int, now: datetime, task_seq: int, target: str,
              comment: str = "") -> None:
    """退回: to the ``previous`` human node, any earlier task node that ran, or the
    ``applicant`` (status ``returned``). On resubmission the returning node's ``resubmit``
    decides: re-walk the flow, or come straight back here."""
    task = task_for(state, task_seq, actor_id, operation="return")
    text = require_text(comment)
    node = state.flow.nodes[task.node]
    if target == "previous":
        found = _previous(state, task.token_seq, node.id)
        if found is None:
            raise errors.invalid("no_previous")
        target = found
    if target != "applicant":
        target_node = state.flow.nodes.get(target)
        if target_node is None:
            raise errors.invalid("node_unknown", node=target)
        if target_node.type != "task":
            raise errors.invalid("not_a_task_node", node=target)
        if target == node.id:
            raise errors.invalid("return_to_self")
        ran = [entry for entry in state.vars.get("trail", []) if entry.get("node") == target]
        if not ran:
            raise errors.invalid("never_ran", node=target)
        if _in_sibling_branch(state, task.token_seq, node.id, target_node.id, ran):
            raise errors.invalid("other_branch", node=target)
    _return(state, task, target, now, actor_id, text)


def return_by_system(state: State, task: FlowTask, now: datetime) -> None:
    """The deadline of ``task`` ran out and its node says ``auto_return``: back to the previous
    step when there is one, else to the applicant (event ``auto_returned``, no actor)."""
    ensure_live(state)
    target = _previous(state, task.token_seq, task.node) or "applicant"
    if target != "applicant" and _in_sibling_branch(
            state, task.token_seq, task.node, target,
            [entry for entry in state.vars.get("trail", []) if entry.get("node") == target]):
        target = "applicant"
    _return(state, task, target, now, None, "", event="auto_returned")


def _return(state: State, task: FlowTask, target: str, now: datetime, actor_id: int | None,
            text: str, event: str = "returned") -> None:
    node = state.flow.nodes[task.node]
    if task.assignee_id is None and actor_id is not None:
        task.assignee_id = actor_id
    task.state = "done"
    task.outcome = "returned"
    task.done_by = actor_id
    task.done_at = now
    task.comment = text
    straight = node.resubmit == "straight_back"
    set_var(state, "straight_back", None)
    if target == "applicant":
        set_status(state, "returned")
        emit(state, event, now, task=task, actor_id=actor_id, on_behalf_of=task.on_behalf_of,
             data={"to": "applicant", "comment": text})
        # The root token keeps the lineage (``previous`` after a resubmission still finds
        # the nodes before); everything else of the instance is cancelled.
        root = state.token(_ancestors(state, task.token_seq)[-1])
        assert root is not None
        cancel_tokens(state, [token for token in state.tokens if token is not root
                              and token.state in ("active", "waiting")], now, actor_id, "returned")
        cancel_open_tasks(state, [other for other in state.tasks if other.token_seq == root.seq],
                          now, actor_id, "returned")
        root.node = state.flow.start
        root.state = "waiting"
        root.data = {"returned": True}
        set_var(state, "returned", {"from": node.id, "straight_back": straight,
                                    "token": root.seq, "at": now.isoformat()})
        return
    emit(state, event, now, task=task, actor_id=actor_id, on_behalf_of=task.on_behalf_of,
         data={"to": target, "comment": text})
    if straight:
        set_var(state, "straight_back", {"at": target, "to": node.id})
    move_to(state, task.token_seq, target, now, actor_id, "returned")


def resubmit(state: State, actor_id: int, now: datetime,
             answers: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The applicant sends a returned application again, with new answers or not. Returns the
    old answers when they were replaced (the runtime keeps them as an AnswerVersion)."""
    ensure_live(state)
    if actor_id != state.applicant_id:
        raise errors.not_yours("not_applicant")
    returned = state.vars.get("returned")
    if state.instance.status != "returned" or not returned:
        raise errors.not_actionable("not_returned")
    token = state.token(returned.get("token"))
    assert token is not None
    old = None
    if answers is not None:
        old = state.answers
        replace_answers(state, answers)
    set_var(state, "returned", None)
    set_status(state, "submitted")
    emit(state, "resubmitted", now, actor_id=actor_id,
         data={"answers_changed": answers is not None and answers != old,
               "straight_back": bool(returned.get("straight_back"))})
    set_var(state, "submitted_seq", state.instance.next_seq)
    target = str(returned["from"]) if returned.get("straight_back") else state.flow.start
    move_to(state, token.seq, target, now, actor_id, "resubmitted")
    return old


def request_correction(state: State, actor_id: int, now: datetime, task_seq: int,
                       questions: Iterable[str], materials: Iterable[str] = (),
                       comment: str = "") -> None:
    """补正: ask the applicant to fix the named questions and materials. At intake this is
    one-time (行政许可法 §32: every item at once); the task waits for the answer."""
    task = task_for(state, task_seq, actor_id, operation="correction")
    questions = [str(question) for question in questions if str(question).strip()]
    materials = [str(material) for material in materials if str(material).strip()]
    if not questions and not materials:
        raise errors.invalid("correction_empty")
    token = state.token(task.token_seq)
    assert token is not None
    visit = {"token": token.seq, "entered": token.data.get("entered", 0)}
    if task.kind == "intake" and visit in state.vars.get("corrections_done", []):
        raise errors.invalid("second_correction")
    if task.assignee_id is None:
        task.assignee_id = actor_id
        task.state = "claimed"
        task.claimed_at = now
        emit(state, "task_claimed", now, task=task, actor_id=actor_id)
    set_var(state, "correction", {
        "task": task.seq, "node": task.node, **visit, "questions": questions,
        "materials": materials, "comment": comment.strip(), "by": actor_id,
        "requested_at": now.isoformat(), "status_before": state.instance.status})
    set_var(state, "corrections_done", [*state.vars.get("corrections_done", []), visit])
    set_status(state, "correction_requested")
    emit(state, "correction_requested", now, task=task, actor_id=actor_id,
         on_behalf_of=task.on_behalf_of,
         data={"questions": questions, "materials": materials, "comment": comment.strip()})


def _changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    # A group answered for the first time (or emptied) changes only the questions inside it.
    if old is None and isinstance(new, Mapping):
        old = {}
    if new is None and isinstance(old, Mapping):
        new = {}
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        found: list[str] = []
        for key in sorted(set(old) | set(new), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            found.extend(_changed_paths(old.get(key), new.get(key), path))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        found = []
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            found.extend(_changed_paths(before, after, f"{prefix}.{index}" if prefix else str(index)))
        return found
    return [] if old == new else [prefix]


def _covered(path: str, questions: Iterable[str]) -> bool:
    return any(path == question or path.startswith(question + ".") for question in questions)


def submit_correction(state: State, actor_id: int, now: datetime,
                      answers: dict[str, Any]) -> dict[str, Any]:
    """The applicant's corrected answers: only the named questions and materials may change. Returns the old
    answers (the runtime keeps them as an AnswerVersion); the task that asked carries on."""
    ensure_live(state)
    if actor_id != state.applicant_id:
        raise errors.not_yours("not_applicant")
    request = state.vars.get("correction")
    if not request:
        raise errors.not_actionable("correction_closed")
    changed = _changed_paths(state.answers, answers)
    named = [*request.get("questions", []), *request.get("materials", [])]
    outside = [path for path in changed if not _covered(path, named)]
    if outside:
        raise errors.invalid("correction_question_unknown", questions=", ".join(outside))
    old = state.answers
    replace_answers(state, answers)
    set_var(state, "correction", None)
    set_status(state, request.get("status_before") or "submitted")
    emit(state, "corrected", now, node=request.get("node"), actor_id=actor_id,
         data={"changed": changed})
    return old


def transfer(state: State, actor_id: int, now: datetime, task_seq: int, to_user_id: int,
             comment: str = "") -> None:
    """转办: the task goes to another person (the old one ends as ``transferred``)."""
    task = task_for(state, task_seq, actor_id, operation="transfer")
    text = require_text(comment)
    node = state.flow.nodes[task.node]
    if to_user_id == state.applicant_id:
        raise errors.invalid("applicant_transfer")
    if to_user_id == actor_id:
        raise errors.invalid("transfer_to_self")
    if to_user_id in excluded(state, node):
        raise errors.invalid("choice_outside", user=to_user_id, node=node.id)
    token = state.token(task.token_seq)
    assert token is not None
    if node.mode == "sign" and _holds(state, token, node.id, to_user_id):
        raise errors.invalid("signer_duplicate", user=to_user_id)
    task.state = "transferred"
    task.done_by = actor_id
    task.done_at = now
    task.comment = text
    if task.assignee_id is None:
        task.assignee_id = actor_id
    emit(state, "transferred", now, task=task, actor_id=actor_id, on_behalf_of=task.on_behalf_of,
         data={"to": to_user_id, "comment": text})
    make_task(state, token, node, now, assignee=to_user_id, position=task.position,
              added_by=task.added_by, slot=task.data.get("slot", task.seq),
              data={key: value for key, value in task.data.items()
                    if key in ("before_of", "after_of", "after")} | {"transferred_from": task.seq})


def _holds(state: State, token: Any, node_id: str, user: int) -> bool:
    return any(user in (other.assignee_id, other.on_behalf_of) and other.state in WORK_OPEN
               for other in visit_tasks(state, token, node_id))


def add_signer(state: State, actor_id: int, now: datetime, task_seq: int, user_ids: Iterable[int],
               where: str, comment: str = "") -> None:
    """加签. ``before``: the added people act first (all of them), then the task returns to the
    adder. ``after``: the adder's approval hands over to the added people, not back. ``parallel``:
    the added people join the node under its mode. The applicant can never be added."""
    task = task_for(state, task_seq, actor_id, operation="add_signer")
    if where not in ("before", "after", "parallel"):
        raise errors.invalid("where_unknown")
    users = list(dict.fromkeys(user_ids))
    if not users:
        raise errors.invalid("signers_required")
    node = state.flow.nodes[task.node]
    token = state.token(task.token_seq)
    assert token is not None
    banned = excluded(state, node)
    for user in users:
        if user == state.applicant_id:
            raise errors.invalid("applicant_signer")
        if user in banned:
            raise errors.invalid("choice_outside", user=user, node=node.id)
        if user == actor_id or _holds(state, token, node.id, user) \
                or user in task.data.get("after", ()) or user in token.data.get("queue", ()):
            raise errors.invalid("signer_duplicate", user=user)
    if task.assignee_id is None:
        task.assignee_id = actor_id
        task.state = "claimed"
        task.claimed_at = now
        emit(state, "task_claimed", now, task=task, actor_id=actor_id)
    slot = task.data.get("slot", task.seq)
    emit(state, "signer_added", now, task=task, actor_id=actor_id, on_behalf_of=task.on_behalf_of,
         data={"users": users, "where": where, "comment": comment.strip()})
    if where == "before":
        task.state = "done"
        task.outcome = "signer_added"
        task.done_by = actor_id
        task.done_at = now
        for user in users:
            make_task(state, token, node, now, assignee=user, position=task.position,
                      added_by=actor_id, slot=slot, data={"before_of": task.seq})
    elif where == "after":
        set_data(task, after=[*task.data.get("after", []), *users])
    elif node.mode == "sequential":
        set_data(token, queue=[*token.data.get("queue", []), *users])
    else:
        for user in users:
            make_task(state, token, node, now, assignee=user, added_by=actor_id,
                      position=task.position)


def withdraw(state: State, actor_id: int, now: datetime) -> None:
    """撤回 by the applicant, only while no person has acted since the (re)submission: the
    instance ends as ``withdrawn`` and everything open is cancelled."""
    ensure_live(state)
    if actor_id != state.applicant_id:
        raise errors.not_yours("not_applicant")
    since = state.vars.get("submitted_seq", 0)
    for task in state.tasks:
        if is_work(task) and task.seq >= since and task.done_by is not None \
                and not task.data.get("auto"):
            raise errors.not_actionable("someone_acted")
    if state.vars.get("correction") or state.instance.status == "returned":
        raise errors.not_actionable("someone_acted")
    set_status(state, "withdrawn")
    finish(state, "withdrawn", now, actor_id, status="withdrawn", event="withdrawn")


def withdraw_action(state: State, actor_id: int, now: datetime, task_seq: int) -> None:
    """An approver takes back their own approval while the next step has not acted: the next
    node's open tasks are cancelled and the approver's task is open again."""
    ensure_live(state)
    task = state.task(task_seq)
    if task is None:
        raise errors.invalid("task_unknown", task=task_seq)
    if task.done_by != actor_id or task.state != "done":
        raise errors.not_yours("not_your_action")
    if task.outcome not in ("approved", "accepted") or task.data.get("auto") \
            or state.vars.get("correction"):
        raise errors.not_actionable("not_withdrawable")
    token = state.token(task.token_seq)
    assert token is not None
    node = state.flow.nodes[task.node]
    later = [other for other in state.tasks if other.token_seq == token.seq and is_work(other)
             and other.seq > task.seq]
    entered = token.data.get("entered", 0)
    if token.node == node.id and token.state == "active" and task.seq > entered:
        # The node is still open (会签 waiting for others): only tasks this approval started
        # (后加签 signers) go.
        followers = [other for other in later if other.data.get("after_of") == task.seq]
        if any(other.done_by is not None for other in followers):
            raise errors.not_actionable("next_acted")
        cancel_open_tasks(state, followers, now, actor_id, "action withdrawn")
    else:
        trail = state.vars.get("trail", [])
        index = next((i for i in range(len(trail) - 1, -1, -1)
                      if task.seq in trail[i].get("tasks", ())), None)
        current = state.flow.nodes.get(token.node)
        if index is None or token.state not in ("active", "waiting") or current is None \
                or current.type not in ("task", "wait") or "expected" in token.data:
            raise errors.not_actionable("not_withdrawable")
        if any(entry.get("token") == token.seq for entry in trail[index + 1:]):
            raise errors.not_actionable("next_acted")
        if any(other.done_by is not None and other.state in ("done", "transferred")
               and not other.data.get("auto") and other.node != node.id for other in later):
            raise errors.not_actionable("next_acted")
        entry = trail[index]
        cancel_open_tasks(state, later, now, actor_id, "action withdrawn")
        set_var(state, "trail", trail[:index] + trail[index + 1:])
        token.node = node.id
        token.state = "active"
        token.data = {"entered": entry.get("entered", 0)}
    task.state = "claimed" if task.candidate_role else "open"
    task.outcome = None
    task.done_by = None
    task.done_at = None
    task.comment = ""
    if node.kind == "intake":
        set_status(state, "submitted")
    else:
        opening_status(state, node)
    emit(state, "action_withdrawn", now, task=task, actor_id=actor_id,
         on_behalf_of=task.on_behalf_of)


ADMIN_OPERATIONS = frozenset({"cc", "comment", "migrate", "read_cc", "remind", "repair"})


def __getattr__(name: str) -> Any:
    """The operations around the approval (comment, cc, remind, repair, migrate) live in
    :mod:`~tongban.workflow.admin_ops`; they are found here too, where the runtime and the web
    layer look operations up by name."""
    if name in ADMIN_OPERATIONS:
        from . import admin_ops
        return getattr(admin_ops, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
