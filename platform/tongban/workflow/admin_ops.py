"""The flow operations around the approval itself: comment (评论), a copy by hand (抄送),
a reminder (催办), the administrator's repair (move an instance to a node) and the migration of
a running instance to a newer version of its flow.

Pure like the engine (no Flask, no session, no clock): each takes a
:class:`~tongban.workflow.engine.State`, the acting user and ``now``, validates everything and
raises a :mod:`~tongban.workflow.errors` refusal before touching anything, then changes the
rows in one go and records its FlowEvents. Who may repair or migrate (platform administrators,
the application's department administrators) is the runtime's check
(``runtime.act_on_application``), where the actor's roles are known; the engine records who did
it and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from . import errors
from .definition import Flow, Node
from .engine import (
    CC,
    WORK_OPEN,
    State,
    cancel_open_tasks,
    cancel_tokens,
    emit,
    ensure_live,
    enter,
    is_work,
    live_tokens,
    new_token,
    send_cc,
    set_data,
    set_status,
    set_var,
    task_for,
)
from .errors import N_, FlowError
from .who import in_group

__all__ = ["COMMENT_MAX", "REMIND_INTERVAL", "cc", "check_migration", "comment", "may_see",
           "migrate", "migration_problems", "positions", "remind", "repair", "same_kind",
           "standing"]

REMIND_INTERVAL = timedelta(hours=1)
COMMENT_MAX = 2000
# Roles that see every application of the departments they hold them in (policy.REVIEW_ROLES);
# a platform administrator sees all of them.
VIEW_ROLES = frozenset({"reviewer", "department_admin", "platform_admin"})
EVERYWHERE = "platform_admin"
STAFF_ROLES = frozenset({"counter_clerk", "reviewer", "department_admin", "platform_admin"})

MESSAGES: dict[str, str] = {
    "not_visible": N_("You may not see this application"),
    "comment_too_long": N_("A comment can be at most %(max)s characters long"),
    "cc_no_task": N_("Only someone with an open task on this application can send copies"),
    "cc_required": N_("Choose at least one person to send a copy to"),
    "cc_not_yours": N_("This copy was not sent to you"),
    "cc_applicant": N_("The applicant cannot be sent a copy"),
    "cc_self": N_("Choose someone other than yourself"),
    "cc_not_staff": N_("%(user)s is not a member of staff and cannot be sent a copy"),
    "cc_duplicate": N_("%(user)s has already been sent a copy of this application"),
    "not_remindable": N_("Only an open task can be reminded"),
    "remind_not_allowed": N_("Only the applicant or someone who acted earlier on this application "
                             "can send a reminder"),
    "remind_self": N_("This task is yours: there is nobody to remind"),
    "migrate_other_flow": N_("Version %(version)s belongs to the flow %(flow)s, not to this "
                             "application's flow %(own)s"),
    "migrate_same_version": N_("This application already runs on version %(version)s"),
    "mapping_source_unknown": N_("The mapping names %(node)s, which is not a step of the "
                                 "current version"),
    "mapping_target_unknown": N_("The mapping sends %(node)s to %(target)s, which is not a step "
                                 "of the new version"),
    "node_removed": N_("The new version has no step %(node)s, where this application stands; "
                       "map it to a step of the new version"),
    "node_changed": N_("The application stands on step %(node)s (%(old)s), but %(target)s in the "
                       "new version is a different kind of step (%(new)s)"),
    "node_moved_out": N_("In the new version the step %(target)s is no longer inside the "
                         "parallel part %(split)s that the application stands in"),
}
errors.MESSAGES.update(MESSAGES)  # one registry of every code the engine raises


def _refuse(cls: type[FlowError], code: str, **params: Any) -> FlowError:
    return cls(code, errors.MESSAGES[code], **params)


def _text(value: str | None, code: str) -> str:
    text = (value or "").strip()
    if not text:
        raise errors.invalid(code)
    if len(text) > COMMENT_MAX:
        raise _refuse(errors.Invalid, "comment_too_long", max=COMMENT_MAX)
    return text


# --- Who may see an instance ---------------------------------------------------------------


def may_see(state: State, actor_id: int | None) -> bool:
    """The applicant, the counter clerk who took it in, everyone who holds or held a task on it
    (a copy included, and the members of a task's candidate group), and the staff of its
    department (and the departments above it) who see its applications (policy)."""
    if actor_id is None:
        return False
    instance = state.instance
    if actor_id in (state.applicant_id, instance.applicant_id, instance.clerk_id):
        return True
    directory = state.directory
    for task in state.tasks:
        if actor_id in (task.assignee_id, task.done_by, task.on_behalf_of, task.added_by):
            return True
        if task.candidate_role and task.candidate_department and in_group(
                directory, actor_id, task.candidate_role, task.candidate_department):
            return True
    memberships = directory.memberships(actor_id)
    if any(role == EVERYWHERE for role, _department in memberships):
        return True
    if instance.department_code:
        tree = directory.tree()
        return any(role in VIEW_ROLES and (department is None
                                           or instance.department_code in tree.under(department))
                   for role, department in memberships)
    return False


# --- 评论 comment --------------------------------------------------------------------------


def comment(state: State, actor_id: int, now: datetime, text: str = "",
            task_seq: int | None = None) -> None:
    """A comment without a decision, by anyone who may see the application; on one task (its
    node is named) or on the whole application. The status does not change."""
    if not may_see(state, actor_id):  # before anything that would tell them about it
        raise _refuse(errors.NotYours, "not_visible")
    ensure_live(state)
    task = None
    if task_seq is not None:
        task = state.task(task_seq)
        if task is None:
            raise errors.invalid("task_unknown", task=task_seq)
        node = state.flow.nodes.get(task.node)
        if is_work(task) and node is not None and "comment" not in node.operations:
            raise errors.invalid("operation_not_allowed", node=node.id, operation="comment")
    body = _text(text, "comment_required")
    emit(state, "commented", now, task=task, actor_id=actor_id,
         on_behalf_of=task.on_behalf_of if task is not None and task.assignee_id == actor_id
         else None, data={"comment": body})


# --- 抄送 copy by hand ---------------------------------------------------------------------


def _own_open_task(state: State, actor_id: int) -> int:
    for task in state.tasks:
        if is_work(task) and task.state in WORK_OPEN and task.assignee_id == actor_id:
            return task.seq
    raise _refuse(errors.NotYours, "cc_no_task")


def cc(state: State, actor_id: int, now: datetime, user_ids: Iterable[int] = (),
       task_seq: int | None = None) -> list[int]:
    """抄送 by an approver on their open task (the first one they hold when ``task_seq`` is not
    given): one ``cc`` task per recipient, for information only, never counted as work. Nobody
    gets a copy twice in one application (automatic copies of ``cc`` nodes included). Returns
    the seqs of the copies."""
    ensure_live(state)
    seq = task_seq if task_seq is not None else _own_open_task(state, actor_id)
    task = task_for(state, seq, actor_id, operation="cc", claim_ok=False)
    users = list(dict.fromkeys(user_ids))
    if not users:
        raise _refuse(errors.Invalid, "cc_required")
    copied = {other.assignee_id for other in state.tasks if other.kind == CC}
    for user in users:
        if user in (state.applicant_id, state.instance.applicant_id):
            raise _refuse(errors.Invalid, "cc_applicant")
        if user == actor_id:
            raise _refuse(errors.Invalid, "cc_self")
        if not any(role in STAFF_ROLES for role, _dept in state.directory.memberships(user)):
            raise _refuse(errors.Invalid, "cc_not_staff", user=user)
        if user in copied:
            raise _refuse(errors.Invalid, "cc_duplicate", user=user)
    token = state.token(task.token_seq)
    created = send_cc(state, token, task.node, users, now, actor_id)
    for copy_task in created:
        set_data(copy_task, by=actor_id, task=task.seq)
    return [copy_task.seq for copy_task in created]


def read_cc(state: State, actor_id: int, now: datetime, task_seq: int) -> bool:
    """The recipient of a copy (抄送) has read it: their ``cc`` task is done. Returns False,
    changing nothing, when it was read before; a copy is only ever its recipient's to read."""
    task = state.task(task_seq)
    if task is None or task.kind != CC or task.assignee_id != actor_id:
        raise _refuse(errors.NotYours, "cc_not_yours")
    if task.state != "open":
        return False
    task.state, task.done_at, task.done_by = "done", now, actor_id
    emit(state, "cc_read", now, task=task, actor_id=actor_id)
    return True


# --- 催办 reminder -------------------------------------------------------------------------


def _earlier_approver(state: State, actor_id: int) -> bool:
    if any(actor_id in entry.get("actors", ()) for entry in state.vars.get("trail", ())):
        return True
    return any(is_work(task) and task.state == "done" and task.done_by == actor_id
               and not task.data.get("auto") for task in state.tasks)


def remind(state: State, actor_id: int, now: datetime, task_seq: int) -> None:
    """催办: the applicant, or someone who acted earlier on the application, reminds whoever
    holds an open task. One reminder per task per :data:`REMIND_INTERVAL` (429 with the time
    the next one is allowed)."""
    ensure_live(state)
    task = state.task(task_seq)
    if task is None:
        raise errors.invalid("task_unknown", task=task_seq)
    if not is_work(task):
        raise _refuse(errors.Invalid, "not_remindable")
    if task.state not in WORK_OPEN:
        raise errors.already_handled(who=task.done_by,
                                     when=task.done_at.isoformat() if task.done_at else None)
    if actor_id not in (state.applicant_id, state.instance.applicant_id) \
            and not _earlier_approver(state, actor_id):
        raise _refuse(errors.NotYours, "remind_not_allowed")
    if actor_id in (task.assignee_id, task.on_behalf_of):
        raise _refuse(errors.Invalid, "remind_self")
    # Kept on the instance, not the task: a reminder must not change the task's version under
    # the page its holder has open (their decision would be refused as stale).
    reminded = dict(state.vars.get("reminded", {}))
    last = (reminded.get(str(task.seq)) or {}).get("at")
    if last:
        sent = datetime.fromisoformat(str(last))
        if sent.tzinfo is None and now.tzinfo is not None:
            sent = sent.replace(tzinfo=now.tzinfo)
        elif sent.tzinfo is not None and now.tzinfo is None:
            sent = sent.replace(tzinfo=None)
        if now < sent + REMIND_INTERVAL:
            raise errors.too_soon(when=sent.isoformat(),
                                  next=(sent + REMIND_INTERVAL).isoformat())
    count = int((reminded.get(str(task.seq)) or {}).get("count", 0)) + 1
    reminded[str(task.seq)] = {"at": now.isoformat(), "count": count}
    set_var(state, "reminded", reminded)
    to: dict[str, Any] = {}
    if task.assignee_id is not None:
        to["to"] = task.assignee_id
        if task.on_behalf_of is not None:
            to["on_behalf_of"] = task.on_behalf_of
    else:
        to.update(role=task.candidate_role, department=task.candidate_department)
    emit(state, "reminded", now, task=task, actor_id=actor_id, data=to)


# --- Admin repair --------------------------------------------------------------------------


def standing(state: State) -> list[str]:
    """The nodes the instance stands on now (live tokens), each once, in token order; none
    while it is returned to the applicant."""
    return list(dict.fromkeys(token.node for token in live_tokens(state)
                              if not token.data.get("returned")))


def repair(state: State, actor_id: int, now: datetime, node: str, reason: str = "") -> None:
    """The administrator moves the instance to ``node`` (a reason is required): every open
    task and token is cancelled, a pending correction, return or straight-back is dropped,
    and the instance enters ``node`` as if it had just arrived there (its people resolved anew:
    a repair to the node it stands on re-asks that node, e.g. after a reviewer moved post)."""
    ensure_live(state)
    text = _text(reason, "reason_empty")
    target = state.flow.nodes.get(node)
    if target is None:
        raise errors.invalid("node_unknown", node=node)
    here = standing(state)
    emit(state, "repaired", now, node=node, actor_id=actor_id,
         data={"from": here, "to": node, "reason": text})
    active = [token for token in state.tokens if token.state in ("active", "waiting")]
    cancel_tokens(state, active, now, actor_id, "repaired")
    cancel_open_tasks(state, state.tasks, now, actor_id, "repaired")
    for key in ("correction", "returned", "straight_back"):
        set_var(state, key, None)
    set_status(state, "submitted" if target.type == "task" and target.kind == "intake"
               or target.type == "start" else "in_progress")
    token = new_token(state, node, now)
    enter(state, token, node, now, actor_id)


# --- Migration to a newer version ----------------------------------------------------------


def _describe(node: Node) -> str:
    return f"{node.type}/{node.kind}" if node.type == "task" else node.type


def same_kind(old: Node, new: Node) -> bool:
    """Whether an instance standing on ``old`` can stand on ``new`` instead: the same node
    type (a task of the same kind, a wait for the same message, a split closed the same way)."""
    if old.type != new.type:
        return False
    if old.type == "task":
        return old.kind == new.kind
    if old.type == "wait":
        return old.message == new.message
    if old.type in ("parallel", "inclusive"):
        return (old.join is None) == (new.join is None)
    return True


def positions(state: State) -> list[str]:
    """Every node a migration must find in the new version: where the live tokens and the split
    tokens waiting at their joins stand, the nodes of open tasks, and the node a pending return
    comes straight back to. Each once, in that order."""
    found: list[str] = []
    for token in state.tokens:
        if token.state in ("active", "waiting") and not token.data.get("returned"):
            found.append(token.node)
    found.extend(task.node for task in state.tasks if is_work(task) and task.state in WORK_OPEN)
    returned = state.vars.get("returned") or {}
    if returned.get("straight_back") and returned.get("from"):
        found.append(str(returned["from"]))
    pending = state.vars.get("straight_back") or {}
    found.extend(str(pending[key]) for key in ("at", "to") if pending.get(key))
    return list(dict.fromkeys(found))


def migration_problems(state: State, new_flow: Flow,
                       mapping: Mapping[str, str] | None = None) -> list[FlowError]:
    """Why the instance cannot move onto ``new_flow`` (empty: it can). Every node the instance
    stands on (live tokens, the split tokens waiting at their joins, a pending return) must be
    in the new version or be mapped to a node there of the same kind, inside the same parallel
    parts."""
    mapping = dict(mapping or {})
    old_flow = state.flow
    found: list[FlowError] = []
    for source, target in mapping.items():
        if source not in old_flow.nodes:
            found.append(_refuse(errors.Invalid, "mapping_source_unknown", node=source))
        elif target not in new_flow.nodes:
            found.append(_refuse(errors.Invalid, "mapping_target_unknown", node=source,
                                 target=target))
    if found:
        return found

    for node_id in positions(state):
        target_id = mapping.get(node_id, node_id)
        new = new_flow.nodes.get(target_id)
        old = old_flow.nodes.get(node_id)
        if new is None:
            found.append(_refuse(errors.Invalid, "node_removed", node=node_id))
        elif old is not None and not same_kind(old, new):
            found.append(_refuse(errors.Invalid, "node_changed", node=node_id, old=_describe(old),
                                 target=target_id, new=_describe(new)))
    if found:
        return found
    # A branch must stay inside the parallel parts it runs in, or its join never hears of it.
    for token in state.tokens:
        if token.state not in ("active", "waiting") or token.data.get("returned") \
                or "expected" in token.data:
            continue
        target_id = mapping.get(token.node, token.node)
        parent = state.token(token.split_seq)
        while parent is not None:
            split = mapping.get(parent.node, parent.node)
            if split not in new_flow.nodes[target_id].enclosing:
                found.append(_refuse(errors.Invalid, "node_moved_out", target=target_id,
                                     split=split))
                break
            parent = state.token(parent.split_seq)
    return found


def check_migration(state: State, new_flow: Flow,
                    mapping: Mapping[str, str] | None = None) -> list[str]:
    """The dry run for the admin page: the problems in English (empty: the migration can be
    applied). The page translates :func:`migration_problems` itself."""
    return [problem.text() for problem in migration_problems(state, new_flow, mapping)]


def migrate(state: State, actor_id: int, now: datetime, new_flow: Flow, new_version_id: int,
            mapping: Mapping[str, str] | None = None, reason: str = "") -> None:
    """Move a running instance onto ``new_flow`` (version ``new_version_id``): validated first
    (refused, naming the node, when it stands on a node the new version removed and no mapping
    names it), then tokens and the current visit's tasks on mapped nodes are renamed, a pending
    return or straight-back follows the mapping, and the instance runs on the new version. The
    tasks keep their people and decisions; a repair afterwards re-asks a node's people. The
    admin page asks for a ``reason``, kept with the event."""
    ensure_live(state)
    note = reason.strip()
    if len(note) > COMMENT_MAX:
        raise _refuse(errors.Invalid, "comment_too_long", max=COMMENT_MAX)
    mapping = {str(source): str(target) for source, target in (mapping or {}).items()}
    if new_flow.code != state.instance.flow_code and state.instance.flow_code:
        raise _refuse(errors.Invalid, "migrate_other_flow", version=new_version_id,
                      flow=new_flow.code, own=state.instance.flow_code)
    old_version = state.instance.flow_version_id
    if old_version is not None and old_version == new_version_id:
        raise _refuse(errors.Invalid, "migrate_same_version", version=new_version_id)
    problems = migration_problems(state, new_flow, mapping)
    if problems:
        raise problems[0]
    moved: dict[str, str] = {}
    for token in state.tokens:
        if token.state not in ("active", "waiting"):
            continue
        if token.data.get("returned"):
            token.node = new_flow.start
            continue
        target = mapping.get(token.node)
        if target is None or target == token.node:
            continue
        entered = token.data.get("entered", 0)
        for task in state.tasks:
            if task.token_seq == token.seq and task.node == token.node and task.seq > entered:
                task.node = target
        if "split" in token.data:
            set_data(token, split=target)
        moved[token.node] = target
        token.node = target
    for task in state.tasks:  # open work left on a mapped node by another path
        if task.state in WORK_OPEN and task.node in mapping:
            moved[task.node] = mapping[task.node]
            task.node = mapping[task.node]
    returned = state.vars.get("returned")
    if returned and returned.get("from") in mapping:
        set_var(state, "returned", {**returned, "from": mapping[returned["from"]]})
    correction = state.vars.get("correction")
    if correction and correction.get("node") in mapping:
        set_var(state, "correction", {**correction, "node": mapping[correction["node"]]})
    pending = state.vars.get("straight_back")
    if pending:
        set_var(state, "straight_back", {key: mapping.get(value, value) if key in ("at", "to")
                                         else value for key, value in pending.items()})
    if moved:
        # The state indexes tasks by (token, node); renamed tasks are indexed anew.
        state.__post_init__()
    state.instance.flow_version_id = new_version_id
    state.flow = new_flow
    emit(state, "migrated", now, actor_id=actor_id,
         data={"from_version": old_version, "to_version": new_version_id,
               "mapping": mapping, "moved": moved, **({"reason": note} if note else {})})
