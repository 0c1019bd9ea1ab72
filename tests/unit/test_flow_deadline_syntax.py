"""The time a flow file sets (issue 12): deadline blocks, application deadlines and statutory
presets — checked with the line and what is expected, then compiled into DeadlineSpec."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tongban.definitions.flowcheck import DepartmentInfo, check_flow
from tongban.definitions.loader import meta_validator, schema_problems
from tongban.definitions.yamlpos import read_yaml
from tongban.workflow.deadline_spec import ApplicationDeadline, DeadlineSpec, Remind, Span
from tongban.workflow.definition import compile_flow
from tongban.workflow.presets import PresetsError, compile_deadline, describe, load_presets, read_presets

FILE = "workflow_definitions/flows/timed.yaml"
DEPARTMENTS = {"sh-rsj": DepartmentInfo("sh-rsj", None, None)}

GOOD = """\
code: timed
name: {zh: 计时, en: Timed}
nodes:
  start: {type: start, next: intake}
  intake:
    type: task
    kind: intake
    name: {zh: 受理, en: Intake}
    who: {role: counter_clerk, department: sh-rsj}
    deadline: {preset: intake_answer}
    next: review
  review:
    type: task
    name: {zh: 审核, en: Review}
    who: {role: reviewer, department: sh-rsj}
    deadline:
      working_days: 5
      due_soon: {working_days: 1}
      on_timeout: [remind, escalate]
      remind: {every: {working_days: 1}, times: 3}
      escalate_to: department_admin
    next: handle
  handle:
    type: task
    name: {zh: 处置, en: Handle}
    who: {role: reviewer, department: sh-rsj}
    deadline: {hours: 8, due_soon: {working_days: 1}}
    next: reply
  reply:
    type: wait
    message: reply
    deadline: {natural_days: 30}
    next: done
  done: {type: end, outcome: approved}
deadlines:
  - id: decision
    preset: licence_decision
    starts_on: accepted
    ends_on: decided
  - id: answer
    working_days: 10
    extension: {limit: 5, approver: department_admin}
    starts_on: node:review
    ends_on: completed
"""


def problems(text: str) -> list[tuple[str, int, str]]:
    document = read_yaml(text)
    found = schema_problems(document, meta_validator("flow"), FILE)
    if not found:
        found = check_flow(document, FILE, "timed", DEPARTMENTS)
    return [(p.file, p.line, p.message) for p in found]


def line_of(text: str, needle: str) -> int:
    matches = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(matches) == 1, (needle, matches)
    return matches[0]


def test_a_flow_with_deadline_blocks_presets_and_application_deadlines_has_no_problems():
    assert problems(GOOD) == []


def test_the_old_short_form_stays_valid():
    assert problems(GOOD.replace("deadline: {preset: intake_answer}",
                                 "deadline: {working_days: 2}")) == []


BAD = [
    ("an unknown preset", "deadline: {preset: intake_answer}",
     "deadline: {preset: intake_answr}", "intake_answr",
     'unknown deadline preset "intake_answr" (did you mean "intake_answer"?); expected the id '
     "of a preset in workflow_definitions/deadline_presets.yaml"),
    ("an unknown preset in an application deadline", "preset: licence_decision",
     "preset: license_decision", "license_decision",
     'unknown deadline preset "license_decision" (did you mean "licence_decision"?); expected '
     "the id of a preset in workflow_definitions/deadline_presets.yaml"),
    ("auto_approve and auto_return on one node", "on_timeout: [remind, escalate]",
     "on_timeout: [auto_approve, auto_return, remind, escalate]", "on_timeout:",
     'on_timeout of node "review" lists auto_approve and auto_return, which are mutually '
     "exclusive; expected at most one of: accept, auto_approve, auto_return (each decides the "
     "task)"),
    ("accept on a task that is not an intake", "on_timeout: [remind, escalate]",
     "on_timeout: [accept, remind, escalate]", "on_timeout:",
     'on_timeout of node "review" lists accept (deemed accepted), which only an intake task can '
     "do; expected accept only on a task with kind: intake"),
    ("accept inherited from a preset on a task that is not an intake",
     "deadline: {hours: 8, due_soon: {working_days: 1}}",
     "deadline: {preset: intake_answer}  # handle", "# handle",
     'on_timeout of node "handle" (from preset "intake_answer") lists accept (deemed accepted), '
     "which only an intake task can do; expected accept only on a task with kind: intake"),
    ("a deciding action on a wait node", "deadline: {natural_days: 30}",
     "deadline: {natural_days: 30, on_timeout: [auto_approve]}", "natural_days: 30",
     'on_timeout of node "reply" lists auto_approve, which decides a task; expected only remind '
     "or escalate here"),
    ("escalate without escalate_to", "      escalate_to: department_admin\n", "", "on_timeout:",
     'on_timeout of node "review" lists escalate, but the deadline has no escalate_to; expected '
     '"escalate_to: supervisor" or "escalate_to: department_admin"'),
    ("escalate_to without escalate", "on_timeout: [remind, escalate]", "on_timeout: [remind]",
     "escalate_to:",
     'the deadline of node "review" has escalate_to, but its on_timeout does not list escalate; '
     "expected escalate in on_timeout, or no escalate_to"),
    ("remind settings without remind", "on_timeout: [remind, escalate]", "on_timeout: [escalate]",
     "remind: {every",
     'the deadline of node "review" has remind settings, but its on_timeout does not list '
     "remind; expected remind in on_timeout, or no remind settings"),
    ("a period of zero", "working_days: 5", "working_days: 0", "working_days: 0",
     "expected a whole number of 1 or more, found 0"),
    ("a negative reminder count", "times: 3", "times: -1", "times: -1",
     "expected a whole number of 1 or more, found -1"),
    ("an extension without an approver", "extension: {limit: 5, approver: department_admin}",
     "extension: {limit: 5}", "extension:",
     'an extension needs an approver; expected "approver: <role>" beside limit (the role that '
     "grants the extra time, such as department_admin)"),
    ("an extension approved by an unknown role", "approver: department_admin}",
     "approver: leader}", "approver: leader",
     'unknown role "leader" for the extension\'s approver; expected one of: counter_clerk, '
     "department_admin, platform_admin, reviewer"),
    ("starts_on naming an unknown node", "starts_on: node:review", "starts_on: node:reveiw",
     "node:reveiw",
     'starts_on of deadline "answer" names node "reveiw", which is not a node of this flow; '
     "expected one of: submitted, accepted, decided, completed, or node:<id> of one of: done, "
     "handle, intake, reply, review, start"),
    ("ends_on the same as starts_on", "ends_on: decided", "ends_on: accepted",
     "ends_on: accepted",
     'deadline "decision" starts and ends on accepted; expected ends_on to differ from starts_on'),
    ("two deadlines with one id", "  - id: answer", "  - id: decision", "  - id: decision",
     None),
    ("a deadline in two units", "deadline: {natural_days: 30}",
     "deadline: {natural_days: 30, working_days: 5}", "natural_days: 30",
     'the deadline of node "reply" names both natural_days and working_days; expected exactly '
     "one of: hours, natural_days, preset, working_days, working_hours"),
    ("a preset and a period together", "deadline: {preset: intake_answer}",
     "deadline: {preset: intake_answer, working_days: 3}", "preset: intake_answer",
     'the deadline of node "intake" names both preset and working_days; expected exactly one '
     "of: hours, natural_days, preset, working_days, working_hours"),
    ("a deadline with no period", "deadline: {natural_days: 30}",
     "deadline: {on_timeout: [remind]}", "on_timeout: [remind]",
     'the deadline of node "reply" names no period; expected one of: hours, natural_days, '
     "preset, working_days, working_hours"),
    ("an unknown timeout action", "on_timeout: [remind, escalate]",
     "on_timeout: [remind, explode]", "on_timeout:",
     'expected one of: "remind", "escalate", "auto_approve", "auto_return", "accept"'),
]


@pytest.mark.parametrize(("what", "old", "new", "needle", "message"), BAD,
                         ids=[row[0] for row in BAD])
def test_each_bad_deadline_is_reported_at_its_line_with_what_is_expected(
        what: str, old: str, new: str, needle: str, message: str | None) -> None:
    assert GOOD.count(old) == 1
    text = GOOD.replace(old, new)
    if message is None:  # the second of two ids: found by its position in the list
        line = [n for n, row in enumerate(text.splitlines(), 1) if needle in row][1]
        message = ('the deadline id "decision" is used twice; expected each application '
                   "deadline id once")
    else:
        line = line_of(text, needle)
    assert problems(text) == [(FILE, line, message)]


def test_a_compiled_flow_carries_deadline_specs_with_presets_filled_in():
    flow = compile_flow(read_yaml(GOOD).data)
    assert flow.nodes["intake"].deadline == DeadlineSpec(
        period=Span("working_days", 5), preset="intake_answer", basis="行政许可法第三十二条",
        basis_en="Administrative Licensing Law, Art. 32", due_soon=Span("working_days", 1),
        on_timeout=("accept",), tell_applicant=True)
    assert flow.nodes["review"].deadline == DeadlineSpec(
        period=Span("working_days", 5), due_soon=Span("working_days", 1),
        on_timeout=("remind", "escalate"), remind=Remind(every=Span("working_days", 1), times=3),
        escalate_to="department_admin")
    assert flow.nodes["handle"].deadline == DeadlineSpec(period=Span("hours", 8),
                                                         due_soon=Span("working_days", 1))
    assert flow.nodes["reply"].deadline == DeadlineSpec(period=Span("natural_days", 30))
    assert flow.nodes["done"].deadline is None
    licence = load_presets()["licence_decision"].spec
    assert flow.deadlines == (
        ApplicationDeadline("decision", licence, "accepted", "decided"),
        ApplicationDeadline("answer", DeadlineSpec(period=Span("working_days", 10),
                                                   extension_limit=5,
                                                   extension_approver="department_admin"),
                            "node:review", "completed"))


def test_the_blocks_own_fields_win_over_its_presets():
    spec = compile_deadline({"preset": "licence_decision", "on_timeout": ["remind"],
                             "extension": {"limit": 5, "approver": "reviewer"},
                             "tell_applicant": False})
    assert spec == DeadlineSpec(period=Span("working_days", 20), preset="licence_decision",
                                basis="行政许可法第四十二条",
                                basis_en="Administrative Licensing Law, Art. 42", extension_limit=5,
                                extension_approver="reviewer", on_timeout=("remind",),
                                remind=Remind(), tell_applicant=False)


def test_a_compiled_flow_stays_hashable_in_its_deadlines():
    flow = compile_flow(read_yaml(GOOD).data)
    assert len({flow.nodes["review"].deadline, *flow.deadlines}) == 3


STATUTE = [  # id, period, extension, basis (cn-gov-service-rules.md §6)
    ("licence_decision", Span("working_days", 20), 10, "行政许可法第四十二条"),
    ("joint_licence_decision", Span("working_days", 45), 15, "行政许可法第四十二条第二款"),
    ("lower_level_review", Span("working_days", 20), 0, "行政许可法第四十三条"),
    ("certificate_delivery", Span("working_days", 10), 0, "行政许可法第四十四条"),
    ("intake_answer", Span("working_days", 5), 0, "行政许可法第三十二条"),
    ("disclosure_reply", Span("working_days", 20), 20, "政府信息公开条例第三十三条"),
    ("disclosure_correction_notice", Span("working_days", 7), 0, "政府信息公开条例第三十条"),
    ("third_party_opinion", Span("working_days", 15), 0, "政府信息公开条例第三十二条"),
    ("urban_register", Span("hours", 1), 0, "示例服务承诺（非法定）"),
    ("urban_dispatch", Span("hours", 2), 0, "示例服务承诺（非法定）"),
    ("urban_handle_minor", Span("working_hours", 8), 0, "示例服务承诺（非法定）"),
    ("urban_handle_major", Span("working_hours", 24), 0, "示例服务承诺（非法定）"),
    ("urban_verify", Span("working_hours", 4), 0, "示例服务承诺（非法定）"),
]


def test_the_shipped_presets_hold_the_statutory_periods():
    presets = load_presets()
    assert {(p.id, p.spec.period, p.spec.extension_limit, p.spec.basis)
            for p in presets.values()} == set(STATUTE)
    for preset in presets.values():
        assert preset.name["zh"] and preset.name["en"]
        assert preset.spec.basis_en, f"{preset.id}: the legal basis in English"
        assert preset.spec.preset == preset.id
        assert (preset.spec.extension_approver is not None) == bool(preset.spec.extension_limit)
    licences = ("licence_decision", "joint_licence_decision", "lower_level_review",
                "certificate_delivery")
    assert all(presets[key].spec.tell_applicant for key in licences)
    assert presets["intake_answer"].spec.on_timeout == ("accept",)


def test_a_bad_presets_file_is_refused_with_file_and_line(tmp_path: Path):
    path = tmp_path / "deadline_presets.yaml"
    path.write_text("a:\n  name: {zh: 甲, en: A}\n  basis: 法\n  period: {working_days: 0}\n"
                    "b:\n  name: {zh: 乙, en: B}\n  basis: 法\n  period: {hours: 2}\n"
                    "  on_timeout: [auto_approve, accept]\n", "utf-8")
    with pytest.raises(PresetsError) as caught:
        load_presets(path)
    assert str(caught.value).endswith(
        ":4:26: at /a/period/working_days expected a whole number of 1 or more, found 0")
    _, found = read_presets(path.read_text("utf-8").replace("working_days: 0", "working_days: 1"),
                            "presets.yaml")
    assert [(p.line, p.message) for p in found] == [
        (9, 'on_timeout of preset "b" lists auto_approve and accept, which are mutually '
            "exclusive; expected at most one of: accept, auto_approve, auto_return (each decides "
            "the task)")]


@pytest.mark.parametrize(("spec", "lang", "text"), [
    (DeadlineSpec(Span("working_days", 5)), "zh", "5 个工作日"),
    (DeadlineSpec(Span("working_days", 5)), "en", "5 working days"),
    (DeadlineSpec(Span("working_days", 20), extension_limit=10), "en", "20 working days (+10)"),
    (DeadlineSpec(Span("working_days", 20), extension_limit=10), "zh", "20 个工作日（可延长 10）"),
    (DeadlineSpec(Span("hours", 1)), "en", "1 hour"),
    (DeadlineSpec(Span("working_hours", 8)), "zh", "8 个工作小时"),
    (DeadlineSpec(Span("natural_days", 7)), "zh", "7 个自然日"),
])
def test_describe_says_the_period_in_words(spec: DeadlineSpec, lang: str, text: str):
    assert describe(spec, lang) == text


def test_the_deadlines_example_in_definitions_md_is_checked_and_compiled():
    from tongban import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "definitions.md").read_text("utf-8")
    (example,) = re.findall(r"```yaml flow-deadlines-example\n(.*?)```", text, re.S)
    document = read_yaml(example)
    assert schema_problems(document, meta_validator("flow"), FILE) == []
    assert check_flow(document, FILE, "licence-example", DEPARTMENTS) == []
    flow = compile_flow(document.data)
    presets = load_presets()
    assert [(d.id, d.spec, d.starts_on, d.ends_on) for d in flow.deadlines] == [
        ("decision", presets["licence_decision"].spec, "accepted", "decided"),
        ("certificate", presets["certificate_delivery"].spec, "node:issue", "completed")]
    assert flow.nodes["intake"].deadline == presets["intake_answer"].spec
    assert describe(flow.deadlines[0].spec, "en") == "20 working days (+10)"
    assert flow.nodes["issue"].deadline == DeadlineSpec(Span("working_hours", 16),
                                                        on_timeout=("remind",), remind=Remind())
