"""The operations around the approval: comment (评论), copy by hand (抄送), reminder (催办),
the administrator's repair and the migration to a newer flow version. Pure: no database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flow_fixtures import (
    APPLICANT,
    ID,
    T0,
    at,
    directory,
    flow_of,
    linear,
    no_open_task_left_behind,
    refused,
    reviewer,
    started,
    types,
)

from tongban.workflow import admin_ops, engine, ops
from tongban.workflow import operations as op
from tongban.workflow.errors import (
    MESSAGES,
    AlreadyHandled,
    FlowError,
    Invalid,
    NotActionable,
    NotYours,
    TooSoon,
)
from tongban.workflow.sandbox import MemoryRun


def _three(**last: Any) -> dict[str, Any]:
    return linear(("a", reviewer("rev_a")), ("b", reviewer("rev_b")), ("c", reviewer("rev_d", **last)))


def _approve(run: MemoryRun, node: str, user: str, minute: int = 1) -> None:
    run.run(engine.approve, ID[user], at(minute), run.task_on(node, ID[user]).seq)


def _refused_at(run: MemoryRun, when: datetime, error: type[FlowError], code: str, operation: Any,
                actor: int, *args: Any, **kwargs: Any) -> FlowError:
    """Like ``refused``, at a given time (the reminder window depends on it)."""
    before = run.snapshot()
    with pytest.raises(error) as raised:
        run.run(operation, actor, when, *args, **kwargs)
    assert raised.value.code == code
    assert run.snapshot() == before
    return raised.value


def _events(run: MemoryRun, type_: str) -> list[Any]:
    return [event for event in run.events if event.type == type_]


def test_the_runtime_the_web_layer_and_the_bench_find_the_operations_by_name():
    for name in ("comment", "cc", "remind", "repair", "migrate"):
        assert getattr(op, name) is getattr(admin_ops, name)
        assert ops.BY_NAME[name] is getattr(admin_ops, name)
    assert "remind" in ops.TASK_OPERATIONS
    with pytest.raises(AttributeError):
        _ = op.nothing_of_the_kind
    assert MESSAGES["node_removed"] == admin_ops.MESSAGES["node_removed"]


# --- 评论 comment ---

def test_the_reviewer_and_the_applicant_comment_and_the_status_stays():
    run = started(_three())
    status = run.instance.status
    run.run(admin_ops.comment, ID["rev_a"], at(1), "请说明2025年社保中断的原因",
            task_seq=run.task_on("a").seq)
    run.run(admin_ops.comment, APPLICANT, at(2), text="  2025年3月换工作，中断一个月 ")
    first, second = _events(run, "commented")
    assert (first.node, first.task_seq, first.actor_id) == ("a", run.task_on("a").seq, ID["rev_a"])
    assert first.data == {"comment": "请说明2025年社保中断的原因"}
    assert (second.node, second.task_seq, second.data) == (None, None,
                                                          {"comment": "2025年3月换工作，中断一个月"})
    assert run.instance.status == status == second.status


def test_who_may_comment_is_who_may_see_the_application():
    run = started(linear(("a", reviewer()), ("b", reviewer("rev_b"))))  # a: the sh-rsj group
    run.run(admin_ops.comment, ID["rev_d"], at(1), "组内可见")  # a member of the candidate group
    error = refused(run, NotYours, "not_visible", admin_ops.comment, ID["cop"], "看看")
    assert (error.status, error.text()) == (403, "You may not see this application")
    run.instance.department_code = "sh-rsj-review"
    run.run(admin_ops.comment, ID["boss"], at(2), "上级部门可见")  # reviewer of sh covers it
    refused(run, NotYours, "not_visible", admin_ops.comment, ID["outsider"], "看看")
    platform = directory()
    platform.add_user("root", 30, [("platform_admin", None)])
    everywhere = started(_three(), directory_=platform)
    everywhere.run(admin_ops.comment, 30, at(1), "平台管理员")
    assert len(_events(everywhere, "commented")) == 1


def test_bad_comments_are_refused_with_the_exact_message_and_change_nothing():
    run = started(linear(("a", reviewer("rev_a", operations=["approve", "reject"]))))
    error = refused(run, Invalid, "comment_required", admin_ops.comment, ID["rev_a"], "   ")
    assert (error.status, error.text()) == (422, "Enter a comment")
    error = refused(run, Invalid, "comment_too_long", admin_ops.comment, APPLICANT, "长" * 2001)
    assert error.text() == "A comment can be at most 2000 characters long"
    error = refused(run, Invalid, "operation_not_allowed", admin_ops.comment, ID["rev_a"], "x",
                    task_seq=run.task_on("a").seq)
    assert error.text() == "The step a does not allow comment"
    refused(run, Invalid, "task_unknown", admin_ops.comment, ID["rev_a"], "x", task_seq=999)
    _approve(run, "a", "rev_a")
    error = refused(run, NotActionable, "ended", admin_ops.comment, APPLICANT, "还在吗")
    assert (error.status, error.text()) == (
        409, "This application is closed (approved); nothing more can be done on it")
    refused(run, NotYours, "not_visible", admin_ops.comment, ID["outsider"], "x")  # not "closed"


# --- 抄送 copy by hand ---

def test_a_copy_by_hand_is_one_cc_task_per_person_and_never_work():
    run = started(_three())
    seqs = run.run(admin_ops.cc, ID["rev_a"], at(1), [ID["cop"], ID["boss"], ID["cop"]])
    copies = [task for task in run.tasks if task.kind == "cc"]
    assert [task.seq for task in copies] == seqs
    assert [(task.assignee_id, task.state, task.node) for task in copies] == \
        [(ID["cop"], "open", "a"), (ID["boss"], "open", "a")]
    assert all(task.data["by"] == ID["rev_a"] for task in copies)
    sent = _events(run, "cc_sent")[-1]
    assert (sent.node, sent.actor_id, sent.data) == ("a", ID["rev_a"],
                                                    {"to": [ID["cop"], ID["boss"]]})
    assert [task.node for task in run.open_tasks()] == ["a"]  # copies are not work
    for node, user in (("a", "rev_a"), ("b", "rev_b"), ("c", "rev_d")):
        _approve(run, node, user)
    assert run.instance.status == "approved"
    assert all(task.state == "open" for task in copies)  # unread copies stay in the cc inbox


def test_nobody_gets_two_copies_and_bad_recipients_are_refused():
    nodes = linear(("a", reviewer("rev_a")), ("b", reviewer("rev_b")))
    nodes["start"]["next"] = "notify"
    nodes["notify"] = {"type": "cc", "who": {"user": "cop"}, "next": "a"}
    people = directory()
    people.add_user("citizen", 40, [("citizen", None)])
    run = started(nodes, directory_=people)
    seq = run.task_on("a").seq
    error = refused(run, Invalid, "cc_duplicate", admin_ops.cc, ID["rev_a"], [ID["boss"], ID["cop"]])
    assert error.text() == "15 has already been sent a copy of this application"
    error = refused(run, Invalid, "cc_required", admin_ops.cc, ID["rev_a"], [])
    assert (error.status, error.text()) == (422, "Choose at least one person to send a copy to")
    error = refused(run, Invalid, "cc_applicant", admin_ops.cc, ID["rev_a"], [APPLICANT])
    assert error.text() == "The applicant cannot be sent a copy"
    refused(run, Invalid, "cc_self", admin_ops.cc, ID["rev_a"], [ID["rev_a"]])
    error = refused(run, Invalid, "cc_not_staff", admin_ops.cc, ID["rev_a"], [40])
    assert error.text() == "40 is not a member of staff and cannot be sent a copy"
    error = refused(run, NotYours, "cc_no_task", admin_ops.cc, ID["rev_b"], [ID["boss"]])
    assert (error.status, error.text()) == (
        403, "Only someone with an open task on this application can send copies")
    refused(run, NotYours, "task_not_yours", admin_ops.cc, ID["rev_b"], [ID["boss"]],
            task_seq=seq)
    run.run(admin_ops.cc, ID["rev_a"], at(1), [ID["boss"]], task_seq=seq)
    _approve(run, "a", "rev_a", 2)
    refused(run, Invalid, "cc_duplicate", admin_ops.cc, ID["rev_b"], [ID["boss"]])


def test_a_copy_from_a_group_task_needs_it_claimed_and_the_node_must_allow_it():
    run = started(linear(("a", reviewer()), ("b", reviewer("rev_b", operations=["approve"]))))
    seq = run.task_on("a").seq
    refused(run, NotYours, "claim_first", admin_ops.cc, ID["rev_a"], [ID["cop"]], task_seq=seq)
    run.run(engine.claim, ID["rev_a"], at(1), seq)
    run.run(admin_ops.cc, ID["rev_a"], at(2), [ID["cop"]])
    _approve(run, "a", "rev_a", 3)
    error = refused(run, Invalid, "operation_not_allowed", admin_ops.cc, ID["rev_b"], [ID["boss"]])
    assert error.text() == "The step b does not allow cc"


# --- 催办 reminder ---

def test_one_reminder_per_task_per_hour():
    run = started(_three())
    seq = run.task_on("a").seq
    run.run(admin_ops.remind, APPLICANT, at(60), seq)
    reminded = _events(run, "reminded")[-1]
    assert (reminded.node, reminded.task_seq, reminded.actor_id, reminded.data) == \
        ("a", seq, APPLICANT, {"to": ID["rev_a"]})
    error = _refused_at(run, at(90), TooSoon, "remind_too_soon", admin_ops.remind, APPLICANT, seq)
    assert error.status == 429
    assert error.text() == ("A reminder was sent at 2026-10-09T11:00:00; the next can be sent "
                            "after 2026-10-09T12:00:00")
    run.run(admin_ops.remind, APPLICANT, at(120), seq)  # exactly an hour later: allowed
    assert len(_events(run, "reminded")) == 2
    assert run.instance.vars["reminded"] == {str(seq): {"at": "2026-10-09T12:00:00", "count": 2}}
    task = [task for task in run.tasks if task.seq == seq][0]
    assert set(task.data) == {"slot"}  # the task row is untouched: its holder need not reload


def test_the_window_is_per_task_and_aware_times_compare():
    run = started(linear(("a", reviewer("rev_a")),
                         ("b", {"who": {"users": ["rev_b", "rev_d"]}, "mode": "all"})))
    _approve(run, "a", "rev_a")
    first, second = run.open_tasks("b")
    aware = T0.astimezone().replace(hour=12)
    run.run(admin_ops.remind, ID["rev_a"], aware, first.seq)  # an earlier approver may remind
    run.run(admin_ops.remind, APPLICANT, aware, second.seq)  # another task: its own window
    _refused_at(run, aware.replace(minute=59), TooSoon, "remind_too_soon", admin_ops.remind,
                APPLICANT, first.seq)


def test_who_may_remind_and_what_can_be_reminded():
    run = started(linear(("a", reviewer("rev_a")),
                         ("b", {"who": {"users": ["rev_a", "rev_b"]}, "mode": "all"}),
                         ("c", reviewer())))
    _approve(run, "a", "rev_a")
    mine = run.task_on("b", ID["rev_a"])
    error = refused(run, NotYours, "remind_not_allowed", admin_ops.remind, ID["rev_d"], mine.seq)
    assert (error.status, error.text()) == (
        403, "Only the applicant or someone who acted earlier on this application can send a reminder")
    error = refused(run, Invalid, "remind_self", admin_ops.remind, ID["rev_a"], mine.seq)
    assert error.text() == "This task is yours: there is nobody to remind"
    refused(run, Invalid, "task_unknown", admin_ops.remind, APPLICANT, 999)
    done = [task for task in run.tasks if task.node == "a"][0]
    error = refused(run, AlreadyHandled, "already_handled", admin_ops.remind, APPLICANT, done.seq)
    assert error.status == 409 and error.params["who"] == ID["rev_a"]
    copy_seq = run.run(admin_ops.cc, ID["rev_a"], at(2), [ID["cop"]])[0]
    error = refused(run, Invalid, "not_remindable", admin_ops.remind, APPLICANT, copy_seq)
    assert error.text() == "Only an open task can be reminded"
    _approve(run, "b", "rev_a", 3)
    _approve(run, "b", "rev_b", 4)
    group = run.task_on("c")
    run.run(admin_ops.remind, ID["rev_b"], at(5), group.seq)
    assert _events(run, "reminded")[-1].data == {"role": "reviewer", "department": "sh-rsj"}


# --- Admin repair ---

def test_repair_moves_the_instance_with_a_reason_and_cancels_what_was_open():
    run = started(_three())
    _approve(run, "a", "rev_a")
    b = run.task_on("b")
    count = len(run.events)
    run.run(admin_ops.repair, ID["admin"], at(60), "c", reason="二审岗位撤销，按处务会决定直接进入终审")
    assert types(run)[count:] == ["repaired", "task_cancelled", "node_entered", "task_created"]
    repaired = run.events[count]
    assert (repaired.node, repaired.actor_id) == ("c", ID["admin"])
    assert repaired.data == {"from": ["b"], "to": "c",
                             "reason": "二审岗位撤销，按处务会决定直接进入终审"}
    assert b.state == "cancelled" and run.current_nodes() == ["c"]
    assert run.instance.status == "in_progress"
    no_open_task_left_behind(run)
    _approve(run, "c", "rev_d", 61)
    assert run.instance.status == "approved"


def test_bad_repairs_are_refused_with_the_exact_message_and_change_nothing():
    run = started(_three())
    error = refused(run, Invalid, "reason_empty", admin_ops.repair, ID["admin"], "c", reason=" ")
    assert (error.status, error.text()) == (422, "Enter the reason")
    error = refused(run, Invalid, "node_unknown", admin_ops.repair, ID["admin"], "fourth",
                    reason="调岗")
    assert (error.status, error.text()) == (422, "There is no step fourth in this flow")
    run.run(engine.reject, ID["rev_a"], at(1), run.task_on("a").seq, comment="不符合条件")
    refused(run, NotActionable, "ended", admin_ops.repair, ID["admin"], "a", reason="误驳回")


def test_repair_out_of_a_parallel_region_and_onto_the_same_node():
    nodes = {"start": {"type": "start", "next": "split"},
             "split": {"type": "parallel", "next": ["police", "hr"]},
             "police": {"type": "task", "who": {"user": "cop"}, "next": "join"},
             "hr": {"type": "task", "who": {"users": ["rev_a", "rev_b"]}, "mode": "all",
                    "next": "join"},
             "join": {"type": "join", "split": "split", "next": "decision"},
             "decision": {"type": "task", "who": {"user": "rev_c"}, "next": "done"},
             "done": {"type": "end", "outcome": "approved"}}
    run = started(nodes)
    _approve(run, "hr", "rev_a")
    run.run(admin_ops.repair, ID["admin"], at(2), "decision", reason="警方已书面确认")
    assert run.current_nodes() == ["decision"] and run.open_tasks("hr") == []
    assert all(token.state in ("done", "cancelled") for token in run.tokens
               if token.node != "decision")
    no_open_task_left_behind(run)
    old = run.task_on("decision")
    run.run(admin_ops.repair, ID["admin"], at(3), "decision", reason="终审人员调岗，重新派发")
    assert old.state == "cancelled" and run.task_on("decision").seq != old.seq
    _approve(run, "decision", "rev_c", 4)
    assert run.instance.status == "approved"
    branch = started(nodes)
    branch.run(admin_ops.repair, ID["admin"], at(1), "police", reason="只需警方意见")
    assert branch.current_nodes() == ["police"]
    _approve(branch, "police", "cop", 2)
    assert branch.current_nodes() == ["decision"]  # a lone branch passes its join


def test_repair_clears_a_return_and_an_incident():
    run = started(_three())
    run.run(op.return_to, ID["rev_a"], at(1), run.task_on("a").seq, "applicant", comment="补材料")
    assert run.instance.status == "returned" and admin_ops.standing(run.state()) == []
    run.run(admin_ops.repair, ID["admin"], at(2), "b", reason="材料已线下补齐")
    assert _events(run, "repaired")[-1].data["from"] == []
    assert run.instance.status == "in_progress" and "returned" not in run.instance.vars
    assert run.current_nodes() == ["b"]
    refused(run, NotActionable, "not_returned", op.resubmit, APPLICANT)
    stuck = started(linear(("a", {"who": {"role": "reviewer", "department": "sh-nowhere"}}),
                           ("b", reviewer("rev_b"))))
    assert types(stuck)[-1] == "incident"
    stuck.run(admin_ops.repair, ID["admin"], at(1), "b", reason="无人可审，改由二审处理")
    assert stuck.current_nodes() == ["b"] and stuck.instance.status == "in_progress"
    intake = started(linear(("desk", {"kind": "intake", "who": {"user": "clerk_xh"}}),
                            ("b", reviewer("rev_b"))))
    intake.run(engine.accept, ID["clerk_xh"], at(1), intake.task_on("desk").seq)
    intake.run(admin_ops.repair, ID["admin"], at(2), "desk", reason="重新受理")
    assert intake.instance.status == "submitted"


# --- Migration to a newer version ---

def _two() -> dict[str, Any]:
    return linear(("first", reviewer("rev_a")), ("second", reviewer("rev_b")))


def _migrate(run: MemoryRun, actor: int, when: datetime, new: Any, version: int,
             mapping: dict[str, str] | None = None) -> None:
    run.run(admin_ops.migrate, actor, when, new, version, mapping)
    run.flow = new  # the sandbox keeps its flow; the runtime reads the instance's version


def test_migration_keeps_the_position_and_runs_on_the_new_version():
    run = started(_two())
    run.instance.flow_version_id = 1
    _approve(run, "first", "rev_a")
    new = flow_of(linear(("first", reviewer("rev_a")), ("second", reviewer("rev_b")),
                         ("archive", reviewer("rev_c"))))
    assert admin_ops.check_migration(run.state(), new) == []
    count = len(run.events)
    _migrate(run, ID["admin"], at(2), new, 2)
    assert types(run)[count:] == ["migrated"]
    migrated = run.events[-1]
    assert (migrated.node, migrated.actor_id) == (None, ID["admin"])
    assert migrated.data == {"from_version": 1, "to_version": 2, "mapping": {}, "moved": {}}
    assert run.instance.flow_version_id == 2
    _approve(run, "second", "rev_b", 3)
    assert run.current_nodes() == ["archive"]
    _approve(run, "archive", "rev_c", 4)
    assert run.instance.status == "approved"


def test_a_migration_is_refused_naming_the_removed_node_then_applied_with_a_mapping():
    run = started(_two())
    run.instance.flow_version_id = 1
    _approve(run, "first", "rev_a")
    new = flow_of(linear(("first", reviewer("rev_a")), ("check", reviewer("rev_c"))))
    message = ("The new version has no step second, where this application stands; "
               "map it to a step of the new version")
    assert admin_ops.check_migration(run.state(), new) == [message]
    error = refused(run, Invalid, "node_removed", admin_ops.migrate, ID["admin"], new, 2)
    assert (error.status, error.text()) == (422, message)
    second = run.task_on("second")
    assert admin_ops.check_migration(run.state(), new, {"second": "check"}) == []
    run.run(admin_ops.migrate, ID["admin"], at(2), new, 2, {"second": "check"},
            reason=" 复审改为核查 ")
    assert run.events[-1].data == {"from_version": 1, "to_version": 2,
                                   "mapping": {"second": "check"}, "moved": {"second": "check"},
                                   "reason": "复审改为核查"}
    assert (second.node, second.assignee_id, second.state) == ("check", ID["rev_b"], "open")
    assert run.current_nodes() == ["check"]
    no_open_task_left_behind(run)
    _approve(run, "check", "rev_b", 3)
    assert run.instance.status == "approved"


def test_bad_migrations_are_refused_with_the_exact_message_and_change_nothing():
    run = started(_two())
    run.instance.flow_version_id = 1
    same = flow_of(_two())
    error = refused(run, Invalid, "migrate_same_version", admin_ops.migrate, ID["admin"], same, 1)
    assert error.text() == "This application already runs on version 1"
    other = flow_of(_two(), code="other-flow")
    error = refused(run, Invalid, "migrate_other_flow", admin_ops.migrate, ID["admin"], other, 2)
    assert error.text() == ("Version 2 belongs to the flow other-flow, not to this application's "
                            "flow test-flow")
    error = refused(run, Invalid, "mapping_target_unknown", admin_ops.migrate, ID["admin"], same,
                    2, {"first": "nowhere"})
    assert error.text() == ("The mapping sends first to nowhere, which is not a step of the new "
                            "version")
    error = refused(run, Invalid, "mapping_source_unknown", admin_ops.migrate, ID["admin"], same,
                    2, {"zeroth": "first"})
    assert error.text() == "The mapping names zeroth, which is not a step of the current version"
    changed = _two()
    changed["first"] = {"type": "task", "kind": "intake", "who": {"user": "clerk_xh"},
                        "next": "second"}
    error = refused(run, Invalid, "node_changed", admin_ops.migrate, ID["admin"],
                    flow_of(changed), 2)
    assert error.text() == ("The application stands on step first (task/approve), but first in "
                            "the new version is a different kind of step (task/intake)")
    _approve(run, "first", "rev_a")
    _approve(run, "second", "rev_b", 2)
    refused(run, NotActionable, "ended", admin_ops.migrate, ID["admin"], same, 2)


def _region(police_inside: bool = True) -> dict[str, Any]:
    nodes = {"start": {"type": "start", "next": "split"},
             "split": {"type": "parallel", "next": ["police", "hr"]},
             "police": {"type": "task", "who": {"user": "cop"}, "next": "join"},
             "hr": {"type": "task", "who": {"users": ["rev_a", "rev_b"]}, "mode": "all",
                    "next": "join"},
             "join": {"type": "join", "split": "split", "next": "decision"},
             "decision": {"type": "task", "who": {"user": "rev_c"}, "next": "done"},
             "done": {"type": "end", "outcome": "approved"}}
    if not police_inside:
        nodes["start"]["next"] = "police"
        nodes["police"]["next"] = "split"
        nodes["split"] = {"type": "parallel", "next": ["hr", "hr2"]}
        nodes["hr2"] = {"type": "task", "who": {"user": "rev_d"}, "next": "join"}
    return nodes


def test_a_countersign_in_a_parallel_part_keeps_its_approvals_across_a_migration():
    run = started(_region())
    run.instance.flow_version_id = 1
    _approve(run, "hr", "rev_a")
    renamed = _region()
    renamed["hr_panel"] = renamed.pop("hr")
    renamed["split"]["next"] = ["police", "hr_panel"]
    new = flow_of(renamed)
    error = refused(run, Invalid, "node_removed", admin_ops.migrate, ID["admin"], new, 2)
    assert error.params == {"node": "hr"}
    _migrate(run, ID["admin"], at(2), new, 2, {"hr": "hr_panel"})
    assert sorted(run.current_nodes()) == ["hr_panel", "police"]
    _approve(run, "hr_panel", "rev_b", 3)  # rev_a's approval still counts
    _approve(run, "police", "cop", 4)
    assert run.current_nodes() == ["decision"]
    no_open_task_left_behind(run)


def test_a_branch_moved_out_of_its_parallel_part_cannot_be_migrated():
    run = started(_region())
    run.instance.flow_version_id = 1
    error = refused(run, Invalid, "node_moved_out", admin_ops.migrate, ID["admin"],
                    flow_of(_region(police_inside=False)), 2)
    assert error.text() == ("In the new version the step police is no longer inside the parallel "
                            "part split that the application stands in")


def test_a_pending_straight_back_return_follows_the_mapping():
    nodes = linear(("a", reviewer("rev_a")), ("b", reviewer("rev_b", resubmit="straight_back")),
                   ("c", reviewer("rev_d")))
    run = started(nodes)
    run.instance.flow_version_id = 1
    _approve(run, "a", "rev_a")
    run.run(op.return_to, ID["rev_b"], at(2), run.task_on("b").seq, "applicant", comment="请补充")
    new = flow_of(linear(("a", reviewer("rev_a")),
                         ("b2", reviewer("rev_c", resubmit="straight_back")),
                         ("c", reviewer("rev_d"))))
    assert admin_ops.check_migration(run.state(), new) == [
        "The new version has no step b, where this application stands; map it to a step of the "
        "new version"]
    _migrate(run, ID["admin"], at(3), new, 2, {"b": "b2"})
    run.run(op.resubmit, APPLICANT, at(4))
    assert run.current_nodes() == ["b2"]  # straight back, to the mapped step
    assert run.task_on("b2").assignee_id == ID["rev_c"]


def test_an_open_correction_request_follows_the_mapping():
    run = started(_two(), {"name": "张三"})
    run.instance.flow_version_id = 1
    run.run(op.request_correction, ID["rev_a"], at(1), run.task_on("first").seq, ["name"])
    renamed = linear(("check", reviewer("rev_a")), ("second", reviewer("rev_b")))
    _migrate(run, ID["admin"], at(2), flow_of(renamed), 2, {"first": "check"})
    assert run.instance.vars["correction"]["node"] == "check"
    run.run(op.submit_correction, APPLICANT, at(3), {"name": "张三丰"})
    assert _events(run, "corrected")[-1].node == "check"
    _approve(run, "check", "rev_a", 4)
    assert run.current_nodes() == ["second"]
