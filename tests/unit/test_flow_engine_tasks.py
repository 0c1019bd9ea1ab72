"""Human tasks: who acts, the modes (single, 依次, 会签, 或签, N-of-M, vote, distinct signatures)
and the per-node policies (empty approver set, same approver, four-eyes, delegation)."""

from __future__ import annotations

import pytest
from flow_fixtures import (
    APPLICANT,
    ID,
    at,
    directory,
    linear,
    no_open_task_left_behind,
    refused,
    reviewer,
    started,
    types,
)

from tongban.workflow import engine
from tongban.workflow.errors import AlreadyHandled, Invalid, NotYours


def _group(**more):
    return linear(("review", {"who": {"role": "reviewer", "department": "sh-rsj"}, **more}))


def test_a_single_role_node_is_one_candidate_group_task_claimed_and_released():
    run = started(_group())
    (task,) = run.open_tasks()
    assert (task.candidate_role, task.candidate_department, task.assignee_id) == \
        ("reviewer", "sh-rsj", None)
    run.run(engine.claim, ID["rev_a"], at(1), task.seq)
    assert (task.state, task.assignee_id, task.claimed_at) == ("claimed", ID["rev_a"], at(1))
    error = refused(run, NotYours, "claimed_by_other", engine.approve, ID["rev_b"], task.seq)
    assert error.status == 403 and error.text() == "This task has been claimed by someone else"
    run.run(engine.release, ID["rev_a"], at(2), task.seq)
    assert (task.state, task.assignee_id) == ("open", None)
    run.run(engine.approve, ID["rev_b"], at(3), task.seq)  # acting on a group task claims it
    assert types(run)[-4:] == ["task_claimed", "approved", "node_entered", "ended"]
    assert run.instance.status == "approved" and task.done_by == ID["rev_b"]


def test_a_membership_covers_sub_departments_but_not_the_parent():
    run = started(_group())
    (task,) = run.open_tasks()
    refused(run, NotYours, "not_candidate", engine.claim, ID["rev_c"], task.seq)  # below sh-rsj
    refused(run, NotYours, "not_candidate", engine.claim, ID["outsider"], task.seq)
    run.run(engine.claim, ID["boss"], at(1), task.seq)  # a membership of sh covers sh-rsj


def test_an_action_on_a_task_already_done_is_409_with_who_and_when():
    run = started(_group())
    (task,) = run.open_tasks()
    run.run(engine.approve, ID["rev_a"], at(1), task.seq)
    run2 = started(linear(("a", reviewer("rev_a")), ("b", reviewer("rev_b"))))
    first = run2.task_on("a")
    run2.run(engine.approve, ID["rev_a"], at(1), first.seq)
    error = refused(run2, AlreadyHandled, "already_handled", engine.approve, ID["rev_a"],
                    first.seq)
    assert error.status == 409 and error.params == {"who": ID["rev_a"], "when": at(1).isoformat()}


def test_the_department_comes_from_the_applicants_district_or_a_form_field():
    district = linear(("intake", {"kind": "intake", "who": {
        "role": "counter_clerk", "department": {"district_of": "address.region", "under": "sh-rsj"}}}))
    run = started(district, {"address": {"region": "310115012"}})
    assert run.open_tasks()[0].candidate_department == "sh-pd"
    run = started(district, {"address": {"region": "310104"}})
    assert run.open_tasks()[0].candidate_department == "sh-xh"
    nowhere = started(district, {"address": {"region": "440305"}})
    assert types(nowhere)[-1] == "incident" and nowhere.current_nodes() == ["intake"]
    assert "440305" in nowhere.instance.vars["incidents"][0]["reason"]
    field = linear(("review", {"who": {"role": "reviewer", "department": {"field": "dept"}}}))
    assert started(field, {"dept": "sh-police"}).open_tasks()[0].candidate_department == "sh-police"


def test_named_users_and_a_person_chosen_by_the_applicant_from_an_allowed_set():
    named = linear(("review", {"who": {"users": ["rev_a", "rev_b"]}, "mode": "all"}))
    assert [task.assignee_id for task in started(named).open_tasks()] == [ID["rev_a"], ID["rev_b"]]
    chosen = linear(("review", {"who": {"chosen_by": "applicant", "field": "reviewer",
                                        "from": {"role": "reviewer", "department": "sh-rsj"}}}))
    run = started(chosen, {"reviewer": "rev_b"})
    assert [task.assignee_id for task in run.open_tasks()] == [ID["rev_b"]]
    outside = started(chosen, {"reviewer": "cop"})  # not a reviewer of sh-rsj
    assert outside.open_tasks() == [] and types(outside)[-1] == "incident"
    assert outside.instance.vars["incidents"][0]["reason"] == \
        "the chosen person is not in the allowed set"


def test_a_person_chosen_by_the_previous_approver_must_come_from_the_allowed_set():
    nodes = linear(("first", reviewer("rev_a")),
                   ("second", {"who": {"chosen_by": "previous",
                                       "from": {"role": "reviewer", "department": "sh-rsj"}}}))
    run = started(nodes)
    seq = run.task_on("first").seq
    error = refused(run, Invalid, "choice_outside", engine.approve, ID["rev_a"], seq,
                    choose={"second": [ID["cop"]]})
    assert error.status == 422
    refused(run, Invalid, "choice_not_expected", engine.approve, ID["rev_a"], seq,
            choose={"first": [ID["rev_b"]]})
    refused(run, Invalid, "choice_outside", engine.approve, ID["rev_a"], seq,
            choose={"second": [APPLICANT]})
    run.run(engine.approve, ID["rev_a"], at(1), seq, choose={"second": [ID["rev_d"]]})
    assert [task.assignee_id for task in run.open_tasks()] == [ID["rev_d"]]


def test_sequential_creates_the_next_persons_task_when_the_previous_approves():
    run = started(linear(("chain", {"who": {"users": ["rev_a", "rev_b", "rev_d"]},
                                    "mode": "sequential"})))
    assert [(task.assignee_id, task.position) for task in run.open_tasks()] == [(ID["rev_a"], 0)]
    run.run(engine.approve, ID["rev_a"], at(1), run.task_on("chain").seq)
    assert [(task.assignee_id, task.position) for task in run.open_tasks()] == [(ID["rev_b"], 1)]
    run.run(engine.approve, ID["rev_b"], at(2), run.task_on("chain").seq)
    run.run(engine.approve, ID["rev_d"], at(3), run.task_on("chain").seq)
    assert run.instance.status == "approved"
    assert run.instance.vars["trail"][0]["actors"] == [ID["rev_a"], ID["rev_b"], ID["rev_d"]]


def _people(mode, users=("rev_a", "rev_b", "rev_d", "boss"), **more):
    return linear(("panel", {"who": {"users": list(users)}, "mode": mode, **more}),
                  ("after", reviewer("cop")))


def test_all_needs_everyone_and_one_reject_ends_the_node_and_the_instance():
    run = started(_people("all"))
    run.run(engine.approve, ID["rev_a"], at(1), run.task_on("panel", ID["rev_a"]).seq)
    run.run(engine.approve, ID["rev_b"], at(2), run.task_on("panel", ID["rev_b"]).seq)
    refused(run, Invalid, "comment_required", engine.reject, ID["rev_d"],
            run.task_on("panel", ID["rev_d"]).seq, comment="  ")
    run.run(engine.reject, ID["rev_d"], at(3), run.task_on("panel", ID["rev_d"]).seq,
            comment="不符合条件")
    assert (run.instance.status, run.instance.outcome) == ("rejected", "rejected")
    assert run.open_tasks() == []
    assert types(run)[-3:] == ["rejected", "task_cancelled", "ended"]
    assert run.events[-3].status == "rejected" and run.events[-3].data["comment"] == "不符合条件"
    no_open_task_left_behind(run)


def test_all_completes_when_everyone_approved():
    run = started(_people("all", users=("rev_a", "rev_b")))
    for user in ("rev_b", "rev_a"):
        run.run(engine.approve, ID[user], at(1), run.task_on("panel", ID[user]).seq)
    assert run.current_nodes() == ["after"]


def test_any_completes_on_the_first_approval_and_cancels_the_rest():
    run = started(_people("any"))
    run.run(engine.approve, ID["rev_b"], at(1), run.task_on("panel", ID["rev_b"]).seq)
    assert run.current_nodes() == ["after"]
    assert sorted(task.state for task in run.tasks if task.node == "panel") == \
        ["cancelled", "cancelled", "cancelled", "done"]


@pytest.mark.parametrize(("numbers", "approvals_needed"), [({"count": 2}, 2), ({"percent": 60}, 3)])
def test_n_of_m_completes_at_its_threshold(numbers, approvals_needed):
    run = started(_people("n_of_m", n_of_m=numbers))
    users = ["rev_a", "rev_b", "rev_d", "boss"]
    for index in range(approvals_needed):
        assert run.current_nodes() == ["panel"]
        run.run(engine.approve, ID[users[index]], at(index),
                run.task_on("panel", ID[users[index]]).seq)
    assert run.current_nodes() == ["after"]
    assert [task.state for task in run.tasks if task.node == "panel"].count("cancelled") == \
        4 - approvals_needed


def test_n_of_m_fails_as_soon_as_the_threshold_can_no_longer_be_reached():
    run = started(_people("n_of_m", n_of_m={"count": 3}))
    run.run(engine.reject, ID["rev_a"], at(1), run.task_on("panel", ID["rev_a"]).seq, comment="no")
    assert run.current_nodes() == ["panel"] and run.instance.status == "in_progress"
    run.run(engine.reject, ID["rev_b"], at(2), run.task_on("panel", ID["rev_b"]).seq, comment="no")
    assert run.instance.status == "rejected" and run.open_tasks() == []


def _vote(**numbers):
    return linear(("panel", {"kind": "vote", "who": {"users": ["rev_a", "rev_b", "rev_d", "boss"]},
                             "vote": numbers}), ("after", reviewer("cop")))


def test_a_vote_passes_with_n_approvals_and_cancels_the_remaining_tasks():
    run = started(_vote(**{"pass": 2}))
    run.run(engine.vote, ID["rev_a"], at(1), run.task_on("panel", ID["rev_a"]).seq, "approve")
    run.run(engine.approve, ID["rev_b"], at(2), run.task_on("panel", ID["rev_b"]).seq)
    assert run.current_nodes() == ["after"]
    assert [task.state for task in run.tasks if task.node == "panel"].count("cancelled") == 2


def test_a_veto_fails_the_vote_at_once():
    run = started(_vote(**{"pass": 2}))
    run.run(engine.vote, ID["rev_a"], at(1), run.task_on("panel", ID["rev_a"]).seq, "approve")
    refused(run, Invalid, "vote_unknown", engine.vote, ID["rev_b"],
            run.task_on("panel", ID["rev_b"]).seq, "abstain")
    run.run(engine.vote, ID["rev_b"], at(2), run.task_on("panel", ID["rev_b"]).seq, "veto")
    assert run.instance.status == "rejected" and run.open_tasks() == []
    assert run.events[-4].data == {"vote": "veto"}


def test_without_veto_a_vote_fails_only_when_the_pass_mark_is_out_of_reach():
    run = started(_vote(**{"pass": 3, "veto": False}))
    run.run(engine.vote, ID["rev_a"], at(1), run.task_on("panel", ID["rev_a"]).seq, "veto")
    assert run.current_nodes() == ["panel"]
    run.run(engine.vote, ID["rev_b"], at(2), run.task_on("panel", ID["rev_b"]).seq, "veto")
    assert run.instance.status == "rejected"


def test_a_signature_node_needs_distinct_people():
    run = started(linear(("onsite", {"kind": "sign", "who": {"role": "reviewer",
                                                             "department": "sh-rsj"},
                                     "sign": {"distinct": 2}}), ("after", reviewer("cop"))))
    first, second = run.open_tasks()
    run.run(engine.claim, ID["rev_a"], at(1), first.seq)
    refused(run, NotYours, "already_holds", engine.claim, ID["rev_a"], second.seq)
    run.run(engine.approve, ID["rev_a"], at(2), first.seq)
    refused(run, NotYours, "already_holds", engine.approve, ID["rev_a"], second.seq)
    assert run.current_nodes() == ["onsite"]
    run.run(engine.approve, ID["rev_b"], at(3), second.seq)
    assert run.current_nodes() == ["after"]
    assert run.instance.vars["trail"][0]["actors"] == [ID["rev_a"], ID["rev_b"]]


def test_when_empty_error_is_an_incident_and_the_token_stays():
    run = started(linear(("review", {"who": {"role": "reviewer", "department": "elsewhere-x"}})))
    assert types(run)[-1] == "incident" and run.current_nodes() == ["review"]
    assert run.open_tasks() == [] and run.instance.status == "submitted"


def test_when_empty_auto_pass_and_department_admin():
    passed = started(linear(("review", {"who": {"users": ["nobody"]}, "when_empty": "auto_pass"})))
    assert "task_auto_passed" in types(passed) and passed.instance.status == "approved"
    admin = started(linear(("review", {"who": {"role": "counter_clerk", "department": "sh-rsj"},
                                       "when_empty": "department_admin"})))
    (task,) = admin.open_tasks()
    assert (task.candidate_role, task.candidate_department) == ("department_admin", "sh-rsj")
    admin.run(engine.approve, ID["admin"], at(1), task.seq)
    assert admin.instance.status == "approved"


def test_no_district_answered_falls_back_to_the_admins_of_the_department_it_is_under():
    # The district question is optional: unanswered, ``when_empty: department_admin`` hands the
    # task to the administrators of the ``under`` department instead of stopping the flow.
    who = {"role": "counter_clerk", "department": {"district_of": "address.region", "under": "sh-rsj"}}
    run = started(linear(("intake", {"who": who, "when_empty": "department_admin"})),
                  {"name": "张三"})
    (task,) = run.open_tasks()
    assert (task.candidate_role, task.candidate_department) == ("department_admin", "sh-rsj")
    stopped = started(linear(("intake", {"who": who})), {"name": "张三"})
    assert types(stopped)[-1] == "incident" and stopped.open_tasks() == []


def test_same_approver_auto_pass_skips_the_second_node_of_the_same_person():
    nodes = linear(("first", reviewer("rev_a")), ("second", reviewer(same_approver="auto_pass")),
                   ("third", reviewer("rev_a")))
    run = started(nodes)
    run.run(engine.approve, ID["rev_a"], at(1), run.task_on("first").seq)
    assert run.current_nodes() == ["third"]
    passed = [event for event in run.events if event.type == "task_auto_passed"]
    assert [(event.node, event.actor_id) for event in passed] == [("second", ID["rev_a"])]
    repeat = started(linear(("first", reviewer("rev_a")), ("second", reviewer("rev_a"))))
    repeat.run(engine.approve, ID["rev_a"], at(1), repeat.task_on("first").seq)
    assert repeat.current_nodes() == ["second"]


def test_the_applicant_never_acts_on_their_own_application():
    staff_applicant = started(_group(), applicant=ID["rev_a"])
    (task,) = staff_applicant.open_tasks()
    error = refused(staff_applicant, NotYours, "own_application", engine.claim, ID["rev_a"],
                    task.seq)
    assert error.text() == "You cannot act on your own application"
    named = started(linear(("review", {"who": {"users": ["rev_a", "rev_b"]}, "mode": "all"})),
                    applicant=ID["rev_a"])
    assert [task.assignee_id for task in named.open_tasks()] == [ID["rev_b"]]


def test_exclusive_nodes_cannot_be_done_by_the_same_person():
    nodes = linear(("check", reviewer()), ("approve", reviewer(exclusive_with=["check"])))
    run = started(nodes)
    run.run(engine.approve, ID["rev_a"], at(1), run.task_on("check").seq)
    task = run.task_on("approve")
    error = refused(run, NotYours, "four_eyes", engine.claim, ID["rev_a"], task.seq)
    assert error.params == {"node": "check"}
    run.run(engine.approve, ID["rev_b"], at(2), task.seq)
    assert run.instance.status == "approved"


def test_a_task_created_while_its_person_is_away_goes_to_the_delegate():
    people = directory()
    people.delegate(ID["rev_a"], ID["rev_d"], at(-60), at(60))
    run = started(linear(("review", reviewer("rev_a")), ("later", reviewer("rev_a"))),
                  directory_=people)
    task = run.task_on("review")
    assert (task.assignee_id, task.on_behalf_of) == (ID["rev_d"], ID["rev_a"])
    refused(run, NotYours, "task_not_yours", engine.approve, ID["rev_a"], task.seq)
    run.run(engine.approve, ID["rev_d"], at(61), task.seq)
    approved = [event for event in run.events if event.type == "approved"][0]
    assert (approved.actor_id, approved.on_behalf_of) == (ID["rev_d"], ID["rev_a"])
    later = run.task_on("later")  # created after the window: rev_a's own
    assert (later.assignee_id, later.on_behalf_of) == (ID["rev_a"], None)


def test_intake_accept_sets_accepted_then_in_progress_and_refusal_needs_a_reason():
    nodes = linear(("intake", {"kind": "intake", "who": {"role": "counter_clerk",
                                                         "department": "sh-xh"}}),
                   ("review", reviewer("rev_a")))
    run = started(nodes)
    assert run.instance.status == "submitted"
    intake = run.task_on("intake")
    refused(run, Invalid, "wrong_kind", engine.approve, ID["clerk_xh"], intake.seq)
    run.run(engine.accept, ID["clerk_xh"], at(1), intake.seq)
    accepted = [event for event in run.events if event.type == "accepted"][0]
    assert accepted.status == "accepted" and run.instance.status == "in_progress"
    refusing = started(nodes)
    seq = refusing.task_on("intake").seq
    error = refused(refusing, Invalid, "reason_required", engine.refuse_intake, ID["clerk_xh"], seq)
    assert error.text() == "Enter the reason"
    refusing.run(engine.refuse_intake, ID["clerk_xh"], at(1), seq, reason="材料不齐且无法补正")
    assert (refusing.instance.status, refusing.instance.outcome) == ("rejected", "rejected")
    assert types(refusing)[-2:] == ["intake_refused", "ended"]
