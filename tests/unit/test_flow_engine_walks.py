"""Random walks (fixed seeds) through a flow with every construct, trying every operation on
whatever is open: each one either refuses and changes nothing, or leaves the instance
consistent (status, open tasks only where tokens stand, nothing stuck, numbering intact)."""

from __future__ import annotations

import random

import pytest
from flow_fixtures import APPLICANT, ID, at, no_open_task_left_behind, started

from tongban.models import APPLICATION_STATUSES
from tongban.workflow import engine
from tongban.workflow import operations as op
from tongban.workflow.errors import FlowError

NODES = {
    "start": {"type": "start", "next": "intake"},
    "intake": {"type": "task", "kind": "intake",
               "who": {"role": "counter_clerk", "department": "sh-xh"}, "next": "split"},
    "split": {"type": "parallel", "next": ["police", "hr"]},
    "police": {"type": "task", "who": {"user": "cop"}, "next": "join", "resubmit": "straight_back"},
    "hr": {"type": "task", "who": {"users": ["rev_a", "rev_b"]}, "mode": "all", "next": "join"},
    "join": {"type": "join", "split": "split", "next": "panel"},
    "panel": {"type": "task", "kind": "vote", "who": {"users": ["rev_a", "rev_b", "rev_d"]},
              "vote": {"pass": 2, "veto": False}, "next": "reply"},
    "reply": {"type": "wait", "message": "answer", "next": "publicity"},
    "publicity": {"type": "task", "who": {"role": "reviewer", "department": "sh-rsj"},
                  "status": "publicizing", "next": "done"},
    "done": {"type": "end", "outcome": "completed"},
}
STAFF = [ID[name] for name in ("clerk_xh", "cop", "rev_a", "rev_b", "rev_c", "rev_d", "boss")]


def _actor(rng: random.Random, task) -> int:  # type: ignore[no-untyped-def]
    if task.assignee_id is not None and rng.random() < 0.9:
        return task.assignee_id
    return rng.choice(STAFF)


def _attempt(rng: random.Random, run):  # type: ignore[no-untyped-def]
    """One random operation and its arguments, mostly ones that can succeed."""
    status = run.instance.status
    if status == "correction_requested" and rng.random() < 0.8:
        return op.submit_correction, APPLICANT, ({**run.answers, "name": "改正"},)
    if status == "returned" and rng.random() < 0.8:
        return op.resubmit, APPLICANT, ({"name": "改"} if rng.random() < 0.5 else None,)
    if status == "waiting_external" and rng.random() < 0.8:
        return engine.deliver_message, None, ("answer", f"k{rng.randint(1, 3)}", {}, "gz")
    tasks = run.open_tasks()
    done = [task for task in run.tasks if task.state == "done" and task.done_by is not None]
    if not tasks or rng.random() < 0.06:
        return rng.choice([
            (op.resubmit, APPLICANT, (None,)),
            (op.submit_correction, APPLICANT, ({**run.answers, "name": "改正"},)),
            (op.withdraw, APPLICANT, ()),
            (engine.deliver_message, None, ("answer", "k1", {}, "gz")),
        ])
    if done and rng.random() < 0.08:
        task = rng.choice(done)
        return op.withdraw_action, task.done_by, (task.seq,)
    task = rng.choice(tasks)
    actor = _actor(rng, task)
    return rng.choice([
        (engine.approve, actor, (task.seq,)),
        (engine.approve, actor, (task.seq,)),
        (engine.approve, actor, (task.seq,)),
        (engine.accept, actor, (task.seq,)),
        (engine.vote, actor, (task.seq, rng.choice(["approve", "approve", "veto"]))),
        (engine.reject, actor, (task.seq, "驳回" if rng.random() < 0.3 else "")),
        (engine.claim, actor, (task.seq,)),
        (engine.release, actor, (task.seq,)),
        (op.return_to, actor, (task.seq, rng.choice(["previous", "applicant", "intake", "hr",
                                                      "police", "panel"]), "退回")),
        (op.transfer, actor, (task.seq, rng.choice(STAFF + [APPLICANT]), "转办")),
        (op.add_signer, actor, (task.seq, [rng.choice(STAFF)],
                                rng.choice(["before", "after", "parallel"]))),
        (op.request_correction, actor, (task.seq, ["name"], [])),
    ])


def _consistent(run) -> None:  # type: ignore[no-untyped-def]
    assert run.instance.status in APPLICATION_STATUSES
    no_open_task_left_behind(run)
    seqs = [row.seq for row in [*run.tokens, *run.tasks, *run.events]]
    assert len(seqs) == len(set(seqs)) and max(seqs) < run.instance.next_seq
    state = run.state()
    if run.instance.ended_at is not None:
        assert engine.live_tokens(state) == [] and run.open_tasks() == []
        return
    for token in engine.live_tokens(state):
        node = run.flow.nodes[token.node]
        if node.type == "task" and token.state == "active" and "incident" not in token.data:
            pending = engine.settle(state, token, node)
            assert [t for t in engine.visit_tasks(state, token) if t.state in ("open", "claimed")] \
                or pending is None and token.data.get("queue"), (token.node, token.data)


@pytest.mark.parametrize("seed", range(100))
def test_a_random_walk_keeps_the_instance_consistent(seed: int) -> None:
    rng = random.Random(seed)
    run = started(NODES, {"name": "张三"})
    for step in range(80):
        operation, actor, args = _attempt(rng, run)
        before = run.snapshot()
        try:
            run.run(operation, actor, at(step), *args)
        except FlowError:
            assert run.snapshot() == before, (operation.__name__, args)
        _consistent(run)
        if run.instance.ended_at is not None:
            break
