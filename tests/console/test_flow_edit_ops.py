"""The flow editor's edits as pure functions on the flow file's text: comments and order kept,
edges reconnected, refusals with their message."""

from __future__ import annotations

from typing import Any

import pytest

from tongban import PROJECT_ROOT
from tongban.console import flow_edit as fe
from tongban.console.layout import parse

TEXT = (PROJECT_ROOT / "workflow_definitions/flows/enterprise-credit.yaml").read_text("utf-8")
PRESETS = ("intake_answer", "licence_decision")


def nodes(text: str) -> Any:
    return parse("f.yaml", text)["nodes"]


def edit(**values: str) -> fe.StepEdit:
    base = {"name_zh": "信用审核", "name_en": "Credit review", "role": "reviewer",
            "department": "sh-scjgj", "mode": "single", "deadline": "working_days",
            "working_days": "10"}
    return fe.StepEdit(**{**base, **values})


def test_steps_come_in_flow_order_with_their_settings() -> None:
    found = fe.steps(TEXT)
    assert [s.id for s in found] == ["start", "intake", "review", "graded"]
    intake = found[1]
    assert (intake.role, intake.department, intake.preset, intake.is_step) \
        == ("counter_clerk", "sh-scjgj", "intake_answer", True)
    assert found[2].working_days == 10


def test_an_unchanged_edit_gives_the_same_text_comments_and_all() -> None:
    assert fe.edit_step(TEXT, "review", edit(), presets=PRESETS) == TEXT


def test_mode_deadline_and_timeout_are_written_where_they_belong() -> None:
    text = fe.edit_step(TEXT, "review", edit(mode="any", deadline="preset",
                                             preset="licence_decision", on_timeout="remind"),
                        presets=PRESETS)
    assert text.startswith("# 企业信用评价（示例）")
    assert "    mode: any\n    operations: [approve, reject, return, comment]\n" \
        "    deadline: {preset: licence_decision, on_timeout: [remind]}\n" in text
    back = fe.edit_step(text, "review", edit(), presets=PRESETS)
    assert back == TEXT


def test_the_district_of_an_answer_picks_the_office() -> None:
    text = fe.edit_step(TEXT, "review", edit(district_of="company.district"), presets=PRESETS)
    assert "    who: {role: reviewer, department: {district_of: company.district, under: " \
        "sh-scjgj}}\n" in text


def test_adding_then_removing_a_step_gives_the_file_back() -> None:
    text, new = fe.add_step(TEXT, "review", "签发", "Sign-off",
                            who={"role": "reviewer", "department": "x"})
    assert new == "step_4"
    assert nodes(text)["review"]["next"] == "step_4"
    assert nodes(text)["step_4"]["next"] == "graded"
    assert list(nodes(text)) == ["start", "intake", "review", "step_4", "graded"]
    assert fe.remove_step(text, "step_4") == TEXT


def test_removing_a_step_reconnects_every_edge_and_exclusive_with() -> None:
    text = TEXT.replace("    next: graded\n", "    exclusive_with: [intake]\n    next: graded\n")
    out = nodes(fe.remove_step(text, "intake"))
    assert out["start"]["next"] == "review"
    assert "exclusive_with" not in out["review"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: fe.edit_step(TEXT, "graded", edit(), presets=PRESETS),
     '"graded" is not a step: gateways, joins, the start and the ends are changed in the text '
     'view.'),
    (lambda: fe.edit_step(TEXT, "nope", edit(), presets=PRESETS),
     'There is no step "nope" in the flow.'),
    (lambda: fe.edit_step(TEXT, "review", edit(working_days="1000"), presets=PRESETS),
     "Enter the time limit as a whole number of working days, from 1 to 999."),
    (lambda: fe.edit_step(TEXT, "review", edit(department=""), presets=PRESETS),
     "Choose the department that acts on the step."),
    (lambda: fe.edit_step(TEXT, "review", edit(mode="everyone"), presets=PRESETS),
     "Choose how the people of the step decide."),
    (lambda: fe.edit_step(TEXT, "review", edit(on_timeout="explode"), presets=PRESETS),
     "Choose what happens when the step is late."),
    (lambda: fe.add_step(TEXT, "review", "", who={}),
     "Enter the Chinese name of the step."),
    (lambda: fe.add_step(TEXT, "graded", "x", who={}),
     'A step can only be added after a node with one next node; "graded" has branches: add it '
     'after a step on the branch.'),
    (lambda: fe.remove_step(fe.remove_step(TEXT, "intake"), "review"),
     "A flow needs at least one step: add another step before removing this one."),
    (lambda: fe.remove_step(TEXT.replace("next: graded", "next: intake"), "review"),
     'Removing "review" would leave "intake" leading to itself: change the flow in the text '
     'view.'),
    (lambda: fe.steps("nodes: [1"),
     "The flow file is not valid YAML: correct it in the text view first."),
    (lambda: fe.steps("code: x\n"),
     "The flow file has no nodes: correct it in the text view first."),
    (lambda: fe.set_branch(TEXT, "review", 0, "a", "==", 1),
     'There is no such branch of "review".'),
])
def test_refused_edits_say_why(call: object, message: str) -> None:
    with pytest.raises(fe.FlowEditError) as caught:
        call()  # type: ignore[operator]  # a lambda of the table
    assert str(caught.value) == message


GATEWAY = (PROJECT_ROOT / "workflow_definitions/flows/household-transfer.yaml").read_text("utf-8")


def test_a_branch_is_added_after_the_others_and_removed_again() -> None:
    text = fe.add_branch(GATEWAY, "reason", "joint_review", "transfer.reason", "==", "talent")
    branches = nodes(text)["reason"]["branches"]
    assert branches[-1] == {"when": {"==": [{"var": "answers.transfer.reason"}, "talent"]},
                            "to": "joint_review"}
    assert fe.remove_branch(text, "reason", 1) == GATEWAY  # comments and labels kept


@pytest.mark.parametrize(("call", "message"), [
    (lambda: fe.add_branch(GATEWAY, "reason", "start", "transfer.reason", "==", "x"),
     "Choose the step the branch leads to."),
    (lambda: fe.add_branch(GATEWAY, "reason", "kinship", "", "==", "x"),
     "Choose the answer the branch depends on."),
    (lambda: fe.add_branch(GATEWAY, "reason", "kinship", "transfer.reason", "<", "x"),
     "Choose whether the answer is or is not the value."),
    (lambda: fe.remove_branch(GATEWAY, "reason", 0),
     '"reason" needs at least one branch besides its default: change the branch instead.'),
    (lambda: fe.remove_branch(GATEWAY, "reason", 5), 'There is no such branch of "reason".'),
])
def test_refused_branch_edits_say_why(call: object, message: str) -> None:
    with pytest.raises(fe.FlowEditError) as caught:
        call()  # type: ignore[operator]  # a lambda of the table
    assert str(caught.value) == message


@pytest.mark.parametrize("flow", sorted(
    path.name for path in (PROJECT_ROOT / "workflow_definitions/flows").glob("*.yaml")))
def test_every_repository_flow_comes_back_byte_for_byte(flow: str) -> None:
    text = (PROJECT_ROOT / "workflow_definitions/flows" / flow).read_text("utf-8")
    assert fe.dump(fe.load(text)) == text
