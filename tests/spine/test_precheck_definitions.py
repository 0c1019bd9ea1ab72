"""Issue 17 item 7: a service file's ``precheck:`` block is checked when definitions load,
each problem with file:line:column like the rest; and the 办事指南 elements a guide leaves out
are a lint warning."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from tongban.cli import main
from tongban.definitions import load_directory

POINTS = "workflow_definitions/residence-points.yaml"
TRANSFER = "workflow_definitions/household-transfer.yaml"


def _edit(root: Path, relative: str, old: str, new: str) -> int:
    """Replace old by new once; return the 1-based line of the change."""
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def test_a_rule_reading_an_unknown_question_is_refused_with_its_place(defs_copy: Path) -> None:
    line = _edit(defs_copy, POINTS, '{"var": "answers.work"}, "none"',
                 '{"var": "answers.wrok"}, "none"')
    result = load_directory(defs_copy)
    assert [str(p) for p in result.problems] == [
        f"{POINTS}:{line}:7: at /precheck/outcomes/1/when the rule of outcome 2 reads "
        '"answers.wrok" (did you mean "answers.work"?), which is not a pre-check question or a '
        "register field; expected one of: answers.has_permit, answers.work, "
        "answers.social_insurance.months, answers.education.level, answers.record.serious_crime, "
        "register.social_insurance.base_band, register.social_insurance.base_months, "
        "register.social_insurance.months"]
    assert "residence-points" not in result.services
    check = CliRunner().invoke(main, ["defs", "check", str(defs_copy)])
    assert check.exit_code == 1
    assert check.stderr.splitlines()[0] == str(result.problems[0])


def test_a_register_field_no_prefill_query_fills_is_refused(defs_copy: Path) -> None:
    _edit(defs_copy, TRANSFER, '"register.transfer.from_region"', '"register.transfer.region"')
    (problem,) = load_directory(defs_copy).problems
    assert problem.pointer == "/precheck/outcomes/0/when"
    assert 'reads "register.transfer.region" (did you mean "register.transfer.from_region"?)' \
        in problem.message


def test_the_outcomes_end_with_one_without_a_rule(defs_copy: Path) -> None:
    line = _edit(defs_copy, POINTS, "    - result: eligible\n",
                 '    - when: {"var": "answers.has_permit"}\n      result: eligible\n')
    (problem,) = load_directory(defs_copy).problems
    assert str(problem) == (
        f"{POINTS}:{line}:7: at /precheck/outcomes/5/when the last outcome has a when; expected "
        "the last outcome without one: what the pre-check says when no other outcome's rule "
        "holds")


def test_a_rule_the_engine_cannot_run_and_an_unknown_material_are_refused(
        defs_copy: Path) -> None:
    _edit(defs_copy, POINTS, '{"!": {"var": "answers.has_permit"}}',
          '{"nott": {"var": "answers.has_permit"}}')
    _edit(defs_copy, POINTS, "    diploma: {", "    degree: {")
    messages = [p.message for p in load_directory(defs_copy).problems]
    assert messages == [
        "the rule of outcome 1 is not JsonLogic the platform can run: unknown operator 'nott' "
        "at /nott",
        '"degree" is not a material of this service; expected one of: id-card, '
        "residence-permit, diploma"]


def test_an_option_the_form_does_not_accept_and_a_duplicate_key_are_refused(
        defs_copy: Path) -> None:
    _edit(defs_copy, TRANSFER, "{value: graduate,", "{value: student,")
    _edit(defs_copy, TRANSFER, "    - key: registered_here\n", "    - key: has_approval\n")
    messages = [p.message for p in load_directory(defs_copy).problems]
    assert messages == [
        "option 'student' of question \"transfer.reason\" is not an answer the form's question "
        "accepts; expected one of: family, talent, permit_conversion, graduate",
        'the question key "has_approval" is used twice; expected each pre-check question once',
        'the rule of outcome 1 reads "answers.registered_here", which is not a pre-check '
        "question or a register field; expected one of: answers.transfer.reason, "
        "answers.has_approval, answers.has_approval, answers.transfer.with_family, "
        "register.applicant.name, register.transfer.from_address, register.transfer.from_region"]


def test_an_unanswered_kind_of_question_is_a_format_error(defs_copy: Path) -> None:
    line = _edit(defs_copy, POINTS, "      type: yes_no\n      label: {zh: 您是否持有",
                 "      type: yesno\n      label: {zh: 您是否持有")
    (problem,) = load_directory(defs_copy).problems
    assert (problem.file, problem.line, problem.pointer) == (
        POINTS, line, "/precheck/questions/0/type")


def test_guide_elements_left_out_are_a_warning_that_blocks_nothing(defs_copy: Path) -> None:
    _edit(defs_copy, TRANSFER, "  item_code: XK-00412-000\n  item_type: licence\n", "")
    _edit(defs_copy, TRANSFER, "    kind: [original]\n    copies: 1\n    source: {zh: 户籍",
          "    source: {zh: 户籍")
    lines = (defs_copy / TRANSFER).read_text(encoding="utf-8").splitlines()
    guide, booklet = lines.index("guide:") + 1, lines.index("  - code: hukou-booklet") + 1
    result = load_directory(defs_copy)
    assert result.ok and "household-transfer" in result.services
    assert [(p.line, p.rule, p.message) for p in result.warnings] == [
        (guide, "guide-element-missing",
         "the guide lacks elements of the national service guide standard (办事指南): "
         "item_code, item_type; add them so the service page shows every element"),
        (booklet, "guide-element-missing",
         'material "hukou-booklet" lacks elements of the service guide standard: kind, copies')]
