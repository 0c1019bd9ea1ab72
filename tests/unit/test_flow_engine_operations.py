"""The operations beyond approve and reject, alone and in the combinations the Chinese engines'
users report broken: 退回 under 会签 and 加签, 驳回 after 加签, a withdrawal racing an approval."""

from __future__ import annotations

from flow_fixtures import (
    APPLICANT,
    ID,
    at,
    linear,
    no_open_task_left_behind,
    refused,
    reviewer,
    started,
    types,
)

from tongban.workflow import engine
from tongban.workflow import operations as op
from tongban.workflow.errors import Invalid, NotActionable, NotYours


def _three(**last):
    return linear(("a", reviewer("rev_a")), ("b", reviewer("rev_b")), ("c", reviewer("rev_d", **last)))


def _approve(run, node, user, minute=1):
    run.run(engine.approve, ID[user], at(minute), run.task_on(node, ID[user]).seq)


# --- 退回 return and resubmission ---

def test_return_to_the_previous_node_reopens_it_and_the_flow_rewalks():
    run = started(_three())
    _approve(run, "a", "rev_a")
    b = run.task_on("b")
    run.run(op.return_to, ID["rev_b"], at(2), b.seq, "previous", comment="请补充意见")
    assert (b.state, b.outcome) == ("done", "returned")
    assert run.current_nodes() == ["a"] and run.instance.status == "in_progress"
    returned = [event for event in run.events if event.type == "returned"][0]
    assert returned.data == {"to": "a", "comment": "请补充意见"}
    _approve(run, "a", "rev_a", 3)
    assert run.current_nodes() == ["b"]
    no_open_task_left_behind(run)


def test_return_to_any_earlier_node_and_straight_back_on_resubmission():
    run = started(_three(resubmit="straight_back"))
    _approve(run, "a", "rev_a")
    _approve(run, "b", "rev_b")
    run.run(op.return_to, ID["rev_d"], at(3), run.task_on("c").seq, "a", comment="重新核对")
    assert run.current_nodes() == ["a"]
    _approve(run, "a", "rev_a", 4)
    assert run.current_nodes() == ["c"]  # straight back, b is not asked again
    rewalk = started(_three())
    _approve(rewalk, "a", "rev_a")
    _approve(rewalk, "b", "rev_b")
    rewalk.run(op.return_to, ID["rev_d"], at(3), rewalk.task_on("c").seq, "a", comment="重新核对")
    _approve(rewalk, "a", "rev_a", 4)
    assert rewalk.current_nodes() == ["b"]


def test_bad_return_targets_are_422_and_change_nothing():
    run = started(_three())
    _approve(run, "a", "rev_a")
    seq = run.task_on("b").seq
    error = refused(run, Invalid, "never_ran", op.return_to, ID["rev_b"], seq, "c", comment="x")
    assert error.status == 422
    assert error.text() == "The step c has not run in this application, so nothing can be returned to it"
    refused(run, Invalid, "node_unknown", op.return_to, ID["rev_b"], seq, "zzz", comment="x")
    refused(run, Invalid, "return_to_self", op.return_to, ID["rev_b"], seq, "b", comment="x")
    refused(run, Invalid, "comment_required", op.return_to, ID["rev_b"], seq, "a", comment="")
    refused(run, Invalid, "not_a_task_node", op.return_to, ID["rev_b"], seq, "start", comment="x")
    first = started(_three())
    refused(first, Invalid, "no_previous", op.return_to, ID["rev_a"], first.task_on("a").seq,
            "previous", comment="x")


def test_return_to_the_applicant_then_resubmit_rewalks_from_the_start():
    run = started(_three(), {"name": "张三"})
    _approve(run, "a", "rev_a")
    run.run(op.return_to, ID["rev_b"], at(2), run.task_on("b").seq, "applicant", comment="请补充")
    assert run.instance.status == "returned" and run.open_tasks() == []
    no_open_task_left_behind(run)
    refused(run, NotYours, "not_applicant", op.resubmit, ID["rev_b"])
    old = run.run(op.resubmit, APPLICANT, at(3), {"name": "张三丰"})
    assert old == {"name": "张三"} and run.answers == {"name": "张三丰"}
    assert "resubmitted" in types(run) and run.current_nodes() == ["a"]
    refused(run, NotActionable, "not_returned", op.resubmit, APPLICANT)


def test_return_to_the_applicant_with_straight_back_comes_back_to_the_returner():
    nodes = linear(("a", reviewer("rev_a")), ("b", reviewer("rev_b", resubmit="straight_back")),
                   ("c", reviewer("rev_d")))
    run = started(nodes)
    _approve(run, "a", "rev_a")
    run.run(op.return_to, ID["rev_b"], at(2), run.task_on("b").seq, "applicant", comment="请补充")
    assert run.run(op.resubmit, APPLICANT, at(3)) is None
    assert run.current_nodes() == ["b"] and run.instance.status == "in_progress"
    run.run(op.return_to, ID["rev_b"], at(4), run.task_on("b").seq, "previous", comment="再看")
    assert run.current_nodes() == ["a"]  # the lineage survives the return to the applicant


def _countersign(**panel):
    return linear(("intro", reviewer("cop")),
                  ("panel", {"who": {"users": ["rev_a", "rev_b", "rev_d"]}, "mode": "all", **panel}),
                  ("final", reviewer("boss")))


def test_a_return_while_a_countersign_node_has_open_tasks_cancels_the_siblings():
    run = started(_countersign())
    _approve(run, "intro", "cop")
    _approve(run, "panel", "rev_a", 2)
    run.run(op.return_to, ID["rev_b"], at(3), run.task_on("panel", ID["rev_b"]).seq, "previous",
            comment="前置意见不清")
    assert run.current_nodes() == ["intro"]
    assert [task.node for task in run.open_tasks()] == ["intro"]
    panel = [task for task in run.tasks if task.node == "panel"]
    assert [task.state for task in panel] == ["done", "done", "cancelled"]
    no_open_task_left_behind(run)
    _approve(run, "intro", "cop", 4)
    # a new visit: the earlier approval by rev_a does not count again
    assert sorted(task.assignee_id for task in run.open_tasks("panel")) == \
        [ID["rev_a"], ID["rev_b"], ID["rev_d"]]
    for index, user in enumerate(("rev_a", "rev_b", "rev_d")):
        _approve(run, "panel", user, 5 + index)
    assert run.current_nodes() == ["final"]


def test_an_add_signer_on_a_node_that_is_then_returned_leaves_no_task_behind():
    run = started(_countersign())
    _approve(run, "intro", "cop")
    run.run(op.add_signer, ID["rev_a"], at(2), run.task_on("panel", ID["rev_a"]).seq,
            [ID["boss"]], "before")
    run.run(op.add_signer, ID["rev_b"], at(3), run.task_on("panel", ID["rev_b"]).seq,
            [ID["cop"]], "parallel")
    assert len(run.open_tasks("panel")) == 4
    run.run(op.return_to, ID["rev_d"], at(4), run.task_on("panel", ID["rev_d"]).seq, "intro",
            comment="重来")
    assert run.open_tasks("panel") == [] and run.current_nodes() == ["intro"]
    no_open_task_left_behind(run)


def test_reject_under_countersign_and_after_add_signer_ends_everything():
    run = started(_countersign())
    _approve(run, "intro", "cop")
    run.run(op.add_signer, ID["rev_a"], at(2), run.task_on("panel", ID["rev_a"]).seq,
            [ID["boss"]], "before")
    run.run(engine.reject, ID["boss"], at(3), run.task_on("panel", ID["boss"]).seq,
            comment="加签人驳回")
    assert (run.instance.status, run.instance.outcome) == ("rejected", "rejected")
    assert run.open_tasks() == [] and run.current_nodes() == []
    no_open_task_left_behind(run)


def _parallel_region():
    return {"start": {"type": "start", "next": "intro"},
            "intro": {"type": "task", "who": {"user": "boss"}, "next": "split"},
            "split": {"type": "parallel", "next": ["police", "hr"]},
            "police": {"type": "task", "who": {"user": "cop"}, "next": "police2"},
            "police2": {"type": "task", "who": {"user": "rev_d"}, "next": "join"},
            "hr": {"type": "task", "who": {"users": ["rev_a", "rev_b"]}, "mode": "all",
                   "next": "join"},
            "join": {"type": "join", "split": "split", "next": "decision"},
            "decision": {"type": "task", "who": {"user": "rev_c"}, "next": "done"},
            "done": {"type": "end", "outcome": "approved"}}


def test_a_return_out_of_a_parallel_region_cancels_every_branch():
    run = started(_parallel_region())
    _approve(run, "intro", "boss")
    _approve(run, "hr", "rev_a", 2)
    run.run(op.return_to, ID["cop"], at(3), run.task_on("police").seq, "intro", comment="重审")
    assert run.current_nodes() == ["intro"] and [t.node for t in run.open_tasks()] == ["intro"]
    no_open_task_left_behind(run)
    _approve(run, "intro", "boss", 4)
    assert sorted(run.current_nodes()) == ["hr", "police"]


def test_a_return_within_a_branch_leaves_the_other_branch_alone():
    run = started(_parallel_region())
    _approve(run, "intro", "boss")
    _approve(run, "police", "cop", 2)
    run.run(op.return_to, ID["rev_d"], at(3), run.task_on("police2").seq, "previous", comment="x")
    assert sorted(run.current_nodes()) == ["hr", "police"]
    assert len(run.open_tasks("hr")) == 2


def test_a_return_from_after_the_join_into_one_branch_reruns_only_that_branch():
    run = started(_parallel_region())
    _approve(run, "intro", "boss")
    _approve(run, "police", "cop", 2)
    _approve(run, "police2", "rev_d", 3)
    _approve(run, "hr", "rev_a", 4)
    _approve(run, "hr", "rev_b", 5)
    run.run(op.return_to, ID["rev_c"], at(6), run.task_on("decision").seq, "police2", comment="x")
    assert run.current_nodes() == ["police2"]
    _approve(run, "police2", "rev_d", 7)
    assert run.current_nodes() == ["decision"]


# --- 补正 correction ---

def _intake():
    return linear(("intake", {"kind": "intake", "who": {"role": "counter_clerk",
                                                        "department": "sh-xh"}}),
                  ("review", reviewer("rev_a")))


def test_a_correction_request_names_what_to_fix_and_only_that_may_change():
    answers = {"name": "张三", "address": {"street": "漕溪路", "region": "310104"}}
    run = started(_intake(), answers)
    intake = run.task_on("intake")
    refused(run, Invalid, "correction_empty", op.request_correction, ID["clerk_xh"], intake.seq, [])
    run.run(op.request_correction, ID["clerk_xh"], at(1), intake.seq, ["address.street"],
            ["residence_proof"], comment="门牌号缺失")
    assert run.instance.status == "correction_requested"
    assert run.instance.vars["correction"]["materials"] == ["residence_proof"]
    refused(run, NotActionable, "awaiting_correction", engine.accept, ID["clerk_xh"], intake.seq)
    wrong = {"name": "李四", "address": {"street": "漕溪路 1 号", "region": "310104"}}
    error = refused(run, Invalid, "correction_question_unknown", op.submit_correction, APPLICANT,
                    wrong)
    assert error.text() == \
        "Only the questions named in the correction request may change (name changed)"
    fixed = {"name": "张三", "address": {"street": "漕溪路 1 号", "region": "310104"}}
    old = run.run(op.submit_correction, APPLICANT, at(2), fixed)
    assert old == answers and run.answers == fixed and run.instance.status == "submitted"
    assert [event for event in run.events if event.type == "corrected"][0].data == \
        {"changed": ["address.street"]}
    refused(run, NotActionable, "correction_closed", op.submit_correction, APPLICANT, fixed)
    error = refused(run, Invalid, "second_correction", op.request_correction, ID["clerk_xh"],
                    intake.seq, ["name"])
    assert error.status == 422
    run.run(engine.accept, ID["clerk_xh"], at(3), intake.seq)
    assert run.current_nodes() == ["review"]


def test_a_material_named_in_a_correction_may_be_replaced():
    answers = {"name": "张三", "materials": {"residence_proof": "upload-1", "photo": "upload-2"}}
    run = started(_intake(), answers)
    intake = run.task_on("intake")
    run.run(op.request_correction, ID["clerk_xh"], at(1), intake.seq, [],
            ["materials.residence_proof"], comment="证明不清晰")
    other = {"name": "张三", "materials": {"residence_proof": "upload-3", "photo": "upload-4"}}
    error = refused(run, Invalid, "correction_question_unknown", op.submit_correction, APPLICANT,
                    other)
    assert error.text().endswith("(materials.photo changed)")
    fixed = {"name": "张三", "materials": {"residence_proof": "upload-3", "photo": "upload-2"}}
    run.run(op.submit_correction, APPLICANT, at(2), fixed)
    assert run.answers == fixed and run.instance.status == "submitted"


# --- 转办 transfer ---

def test_transfer_hands_the_task_to_another_person():
    run = started(_countersign())
    _approve(run, "intro", "cop")
    task = run.task_on("panel", ID["rev_b"])
    refused(run, Invalid, "comment_required", op.transfer, ID["rev_b"], task.seq, ID["boss"])
    error = refused(run, Invalid, "applicant_transfer", op.transfer, ID["rev_b"], task.seq,
                    APPLICANT, comment="x")
    assert error.status == 422
    refused(run, Invalid, "transfer_to_self", op.transfer, ID["rev_b"], task.seq, ID["rev_b"],
            comment="x")
    run.run(op.transfer, ID["rev_b"], at(2), task.seq, ID["boss"], comment="出差")
    assert task.state == "transferred"
    new = run.task_on("panel", ID["boss"])
    assert new.data["slot"] == task.seq and new.data["transferred_from"] == task.seq
    for index, user in enumerate(("rev_a", "boss", "rev_d")):
        _approve(run, "panel", user, 3 + index)
    assert run.current_nodes() == ["final"]


# --- 加签 add a signer ---

def test_add_signer_before_returns_to_the_adder():
    run = started(linear(("review", reviewer("rev_a")), ("after", reviewer("cop"))))
    task = run.task_on("review")
    run.run(op.add_signer, ID["rev_a"], at(1), task.seq, [ID["rev_b"]], "before", comment="请先看")
    assert (task.state, task.outcome) == ("done", "signer_added")
    assert [t.assignee_id for t in run.open_tasks()] == [ID["rev_b"]]
    _approve(run, "review", "rev_b", 2)
    back = run.task_on("review")
    assert back.assignee_id == ID["rev_a"] and back.data["slot"] == task.seq
    _approve(run, "review", "rev_a", 3)
    assert run.current_nodes() == ["after"]


def test_add_signer_after_does_not_come_back_to_the_adder():
    run = started(linear(("review", reviewer("rev_a")), ("after", reviewer("cop"))))
    task = run.task_on("review")
    run.run(op.add_signer, ID["rev_a"], at(1), task.seq, [ID["rev_b"]], "after")
    assert run.open_tasks() == [task]
    _approve(run, "review", "rev_a", 2)
    assert [t.assignee_id for t in run.open_tasks()] == [ID["rev_b"]]
    _approve(run, "review", "rev_b", 3)
    assert run.current_nodes() == ["after"]
    assert [t.assignee_id for t in run.tasks if t.node == "review"] == [ID["rev_a"], ID["rev_b"]]


def test_add_signer_in_parallel_joins_the_node_under_its_mode():
    run = started(linear(("panel", {"who": {"users": ["rev_a", "rev_b"]}, "mode": "all"}),
                         ("after", reviewer("cop"))))
    run.run(op.add_signer, ID["rev_a"], at(1), run.task_on("panel", ID["rev_a"]).seq,
            [ID["rev_d"]], "parallel")
    _approve(run, "panel", "rev_a", 2)
    _approve(run, "panel", "rev_b", 3)
    assert run.current_nodes() == ["panel"]  # 会签: the added person must approve too
    _approve(run, "panel", "rev_d", 4)
    assert run.current_nodes() == ["after"]


def test_add_signer_refuses_the_applicant_and_bad_requests():
    run = started(linear(("review", reviewer("rev_a"))))
    seq = run.task_on("review").seq
    error = refused(run, Invalid, "applicant_signer", op.add_signer, ID["rev_a"], seq, [APPLICANT],
                    "before")
    assert error.text() == "The applicant cannot be added as a signer"
    refused(run, Invalid, "where_unknown", op.add_signer, ID["rev_a"], seq, [ID["rev_b"]], "beside")
    refused(run, Invalid, "signers_required", op.add_signer, ID["rev_a"], seq, [], "after")
    refused(run, Invalid, "signer_duplicate", op.add_signer, ID["rev_a"], seq, [ID["rev_a"]], "after")


# --- 撤回 withdraw ---

def test_the_applicant_withdraws_while_nobody_has_acted():
    run = started(_countersign())
    refused(run, NotYours, "not_applicant", op.withdraw, ID["cop"])
    run.run(op.withdraw, APPLICANT, at(1))
    assert (run.instance.status, run.instance.outcome) == ("withdrawn", "withdrawn")
    assert run.open_tasks() == [] and types(run)[-1] == "withdrawn"
    no_open_task_left_behind(run)


def test_a_withdrawal_racing_an_approval_the_second_finds_the_state_changed():
    approved_first = started(_countersign())
    _approve(approved_first, "intro", "cop")
    error = refused(approved_first, NotActionable, "someone_acted", op.withdraw, APPLICANT)
    assert error.status == 409
    withdrawn_first = started(_countersign())
    seq = withdrawn_first.task_on("intro").seq
    withdrawn_first.run(op.withdraw, APPLICANT, at(1))
    error = refused(withdrawn_first, NotActionable, "withdrawn", engine.approve, ID["cop"], seq)
    assert error.text() == "The applicant has withdrawn this application"


def test_an_approver_takes_back_their_approval_while_the_next_node_has_not_acted():
    run = started(_three())
    first = run.task_on("a")
    _approve(run, "a", "rev_a")
    second = run.task_on("b")
    refused(run, NotYours, "not_your_action", op.withdraw_action, ID["rev_b"], first.seq)
    run.run(op.withdraw_action, ID["rev_a"], at(2), first.seq)
    assert second.state == "cancelled" and first.state == "open" and first.outcome is None
    assert run.current_nodes() == ["a"] and run.instance.vars["trail"] == []
    assert types(run)[-1] == "action_withdrawn"
    no_open_task_left_behind(run)
    _approve(run, "a", "rev_a", 3)
    _approve(run, "b", "rev_b", 4)
    error = refused(run, NotActionable, "next_acted", op.withdraw_action, ID["rev_a"], first.seq)
    assert error.text() == \
        "Your decision can no longer be taken back: the next step has already been acted on"


def test_taking_back_an_approval_inside_a_countersign_reopens_only_that_task():
    run = started(_countersign())
    _approve(run, "intro", "cop")
    task = run.task_on("panel", ID["rev_a"])
    _approve(run, "panel", "rev_a", 2)
    run.run(op.withdraw_action, ID["rev_a"], at(3), task.seq)
    assert task.state == "open" and len(run.open_tasks("panel")) == 3


# --- C7: every operation keeps the status and the open tasks in step ---

def test_every_operation_keeps_the_status_consistent_and_no_task_behind():
    from tongban.models import APPLICATION_STATUSES
    nodes = {"start": {"type": "start", "next": "intake"},
             "intake": {"type": "task", "kind": "intake",
                        "who": {"role": "counter_clerk", "department": "sh-xh"}, "next": "split"},
             "split": {"type": "parallel", "next": ["police", "hr"]},
             "police": {"type": "task", "who": {"user": "cop"}, "next": "join"},
             "hr": {"type": "task", "who": {"users": ["rev_a", "rev_b"]}, "mode": "all",
                    "next": "join"},
             "join": {"type": "join", "split": "split", "next": "reply"},
             "reply": {"type": "wait", "message": "answer", "next": "publicity"},
             "publicity": {"type": "task", "who": {"user": "rev_d"}, "status": "publicizing",
                           "resubmit": "straight_back", "next": "done"},
             "done": {"type": "end", "outcome": "completed"}}
    run = started(nodes, {"name": "张三"})
    seen = {run.instance.status}

    def step(operation, actor, *args, **kwargs):
        run.run(operation, actor, at(len(run.events)), *args, **kwargs)
        assert run.instance.status in APPLICATION_STATUSES
        seen.add(run.instance.status)
        no_open_task_left_behind(run)

    intake = run.task_on("intake")
    step(op.request_correction, ID["clerk_xh"], intake.seq, ["name"], [])
    step(op.submit_correction, APPLICANT, {"name": "张三丰"})
    step(engine.release, ID["clerk_xh"], intake.seq)
    step(engine.claim, ID["clerk_xh"], intake.seq)
    step(engine.accept, ID["clerk_xh"], intake.seq)
    step(op.transfer, ID["rev_a"], run.task_on("hr", ID["rev_a"]).seq, ID["boss"], comment="忙")
    step(op.add_signer, ID["boss"], run.task_on("hr", ID["boss"]).seq, [ID["rev_c"]], "after")
    step(engine.approve, ID["boss"], run.task_on("hr", ID["boss"]).seq)
    step(op.return_to, ID["cop"], run.task_on("police").seq, "intake", comment="退回受理")
    step(engine.accept, ID["clerk_xh"], run.task_on("intake").seq)
    for user in ("rev_a", "rev_b"):
        step(engine.approve, ID[user], run.task_on("hr", ID[user]).seq)
    police = run.task_on("police")
    step(engine.approve, ID["cop"], police.seq)
    assert run.instance.status == "waiting_external"
    step(engine.deliver_message, None, "answer", "k1", {}, "gz")
    step(op.return_to, ID["rev_d"], run.task_on("publicity").seq, "applicant", comment="补充")
    step(op.resubmit, APPLICANT)
    assert run.current_nodes() == ["publicity"]
    step(engine.approve, ID["rev_d"], run.task_on("publicity").seq)
    seen |= {event.status for event in run.events}
    assert seen >= {"submitted", "correction_requested", "accepted", "in_progress",
                    "waiting_external", "publicizing", "returned", "completed"}
    assert run.instance.status == "completed" and run.open_tasks() == []


# --- more combinations and edges ---

def test_reject_by_a_signer_added_after_ends_the_instance():
    run = started(_countersign())
    _approve(run, "intro", "cop")
    run.run(op.add_signer, ID["rev_a"], at(2), run.task_on("panel", ID["rev_a"]).seq,
            [ID["boss"]], "after")
    _approve(run, "panel", "rev_a", 3)
    run.run(engine.reject, ID["boss"], at(4), run.task_on("panel", ID["boss"]).seq, comment="否")
    assert run.instance.status == "rejected" and run.open_tasks() == []


def test_an_operation_the_node_does_not_list_is_refused():
    run = started(linear(("publicity", reviewer("rev_a", operations=["approve"]))))
    seq = run.task_on("publicity").seq
    error = refused(run, Invalid, "operation_not_allowed", engine.reject, ID["rev_a"], seq,
                    comment="x")
    assert error.text() == "The step publicity does not allow reject"
    refused(run, Invalid, "operation_not_allowed", op.transfer, ID["rev_a"], seq, ID["rev_b"],
            comment="x")


def test_a_parallel_signer_on_a_sequential_node_joins_the_end_of_the_queue():
    run = started(linear(("chain", {"who": {"users": ["rev_a", "rev_b"]}, "mode": "sequential"}),
                         ("after", reviewer("cop"))))
    run.run(op.add_signer, ID["rev_a"], at(1), run.task_on("chain").seq, [ID["rev_d"]], "parallel")
    for index, user in enumerate(("rev_a", "rev_b", "rev_d")):
        assert run.current_nodes() == ["chain"]
        _approve(run, "chain", user, 2 + index)
    assert run.current_nodes() == ["after"]


def test_taking_back_an_intake_acceptance_sets_the_status_back_to_submitted():
    run = started(_intake())
    intake = run.task_on("intake")
    run.run(engine.accept, ID["clerk_xh"], at(1), intake.seq)
    assert run.instance.status == "in_progress"
    run.run(op.withdraw_action, ID["clerk_xh"], at(2), intake.seq)
    assert run.instance.status == "submitted" and intake.state == "claimed"
    assert run.current_nodes() == ["intake"] and run.open_tasks("review") == []


def test_a_correction_at_review_returns_to_in_progress_and_may_be_asked_again():
    run = started(_three(), {"name": "张三"})
    task = run.task_on("a")
    run.run(op.request_correction, ID["rev_a"], at(1), task.seq, ["name"])
    run.run(op.submit_correction, APPLICANT, at(2), {"name": "张三丰"})
    assert run.instance.status == "in_progress"
    run.run(op.request_correction, ID["rev_a"], at(3), task.seq, ["name"])
    assert run.instance.status == "correction_requested"


def test_a_transferred_task_follows_the_new_persons_delegation():
    from flow_fixtures import directory
    people = directory()
    people.delegate(ID["boss"], ID["rev_d"], at(0), at(600))
    run = started(linear(("review", reviewer("rev_a"))), directory_=people)
    run.run(op.transfer, ID["rev_a"], at(1), run.task_on("review").seq, ID["boss"], comment="请办")
    task = run.open_tasks()[0]
    assert (task.assignee_id, task.on_behalf_of) == (ID["rev_d"], ID["boss"])


def test_the_applicant_withdraws_a_returned_application_only_before_anyone_acted():
    run = started(_three())
    run.run(op.return_to, ID["rev_a"], at(1), run.task_on("a").seq, "applicant", comment="补充")
    refused(run, NotActionable, "someone_acted", op.withdraw, APPLICANT)
    run.run(op.resubmit, APPLICANT, at(2))
    run.run(op.withdraw, APPLICANT, at(3))  # nobody has acted since the resubmission
    assert run.instance.status == "withdrawn"


def test_an_explicit_operation_list_also_governs_intake_and_approval():
    run = started(linear(("intake", {"kind": "intake", "operations": ["accept", "correction"],
                                     "who": {"role": "counter_clerk", "department": "sh-xh"}})))
    seq = run.task_on("intake").seq
    refused(run, Invalid, "operation_not_allowed", engine.refuse_intake, ID["clerk_xh"], seq,
            reason="x")
    run.run(engine.accept, ID["clerk_xh"], at(1), seq)
    assert run.instance.status == "approved"


def test_values_entered_on_a_data_task_are_kept_for_the_rules_that_follow():
    nodes = {"start": {"type": "start", "next": "manual_entry"},
             "manual_entry": {"type": "task", "kind": "data", "who": {"user": "rev_c"},
                              "next": "route"},
             "route": {"type": "exclusive", "default": "no",
                       "branches": [{"when": {"==": [{"var": "vars.data.manual_entry.record"},
                                                     "clean"]}, "to": "yes"}]},
             "yes": {"type": "end", "outcome": "approved"},
             "no": {"type": "end", "outcome": "rejected"}}
    run = started(nodes)
    seq = run.task_on("manual_entry").seq
    review = started(linear(("review", reviewer("rev_a"))))
    refused(review, Invalid, "wrong_kind", engine.approve, ID["rev_a"], review.task_on("review").seq,
            values={"record": "clean"})
    run.run(engine.approve, ID["rev_c"], at(1), seq, values={"record": "clean"})
    assert run.instance.vars["data"] == {"manual_entry": {"record": "clean"}}
    assert run.instance.outcome == "approved"


def test_a_return_across_into_a_sibling_branch_is_refused():
    run = started(_parallel_region())
    _approve(run, "intro", "boss")
    _approve(run, "hr", "rev_a", 2)
    _approve(run, "hr", "rev_b", 3)
    _approve(run, "police", "cop", 4)
    error = refused(run, Invalid, "other_branch", op.return_to, ID["rev_d"],
                    run.task_on("police2").seq, "hr", comment="x")
    assert error.text() == "The step hr runs alongside this one, so nothing can be returned to it"
    run.run(op.return_to, ID["rev_d"], at(5), run.task_on("police2").seq, "intro", comment="x")
    assert run.current_nodes() == ["intro"]
