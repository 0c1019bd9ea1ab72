"""The rules editor's operations on a rule set's text: what each edit writes, what it refuses
(with the exact message and the cell, nothing changed), and that starter indicators of every
kind pass the rule-set checker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tongban.console import rules_edit as ops
from tongban.console.layout import parse
from tongban.definitions.yamlpos import read_yaml
from tongban.points.check import check_document

ROOT = Path(__file__).resolve().parents[2] / "workflow_definitions" / "rules"
RESIDENCE = (ROOT / "sh-residence-points.yaml").read_text(encoding="utf-8")
CREDIT = (ROOT / "enterprise-credit.yaml").read_text(encoding="utf-8")


def _data(text: str) -> dict[str, Any]:
    found = parse("rules.yaml", text)
    assert isinstance(found, dict)
    return found


def _indicator(text: str, indicator_id: str) -> dict[str, Any]:
    return next(i for i in _data(text)["indicators"] if i["id"] == indicator_id)


def _problems(text: str, file_id: str) -> list[str]:
    return [p.message for p in check_document(read_yaml(text), "rules.yaml", expected_id=file_id)]


def _age(*rows: tuple[str, str, str], zh: str = "年龄", en: str = "Age") -> ops.IndicatorEdit:
    return ops.IndicatorEdit(zh, en, rows=rows)


def test_reading_gives_each_indicator_its_kind_cells_and_most_points() -> None:
    found = {i.id: i for i in ops.indicators(RESIDENCE)}
    assert found["age"].rows[0] == ("0", "43", "30") and found["age"].rows[-1] == ("61", "", "0")
    assert found["education"].max_points == "110"
    assert found["education_or_qualification"].members == ("education", "qualification")
    assert found["education_or_qualification"].max_points == "140"
    assert (found["investment"].cap, found["investment"].max_points) == ("investment_cap", "100")
    assert found["si_years"].max_points == "∞"  # the cap parameter is null: no cap
    assert found["false_materials"].window == "deduction_window_years"
    assert (found["serious_crime"].when_input, found["family_planning"].enabled) == \
        ("serious_crime", "family_planning_veto")
    assert ops.outcome(RESIDENCE).threshold == "120"
    assert ops.outcome(CREDIT).grades[0] == ("90", "A", "守信", "Trustworthy")


def test_saving_an_unchanged_panel_leaves_the_file_as_it_was() -> None:
    for indicator in ops.indicators(RESIDENCE):
        edit = ops.IndicatorEdit(indicator.name_zh, indicator.name_en, rows=indicator.rows,
                                 per=indicator.per, points=indicator.points, cap=indicator.cap,
                                 window=indicator.window, members=indicator.members,
                                 enabled=indicator.enabled, when_input=indicator.when_input)
        assert ops.edit_indicator(RESIDENCE, indicator.id, edit) == RESIDENCE, indicator.id


def test_bands_are_written_from_the_cells() -> None:
    text = ops.edit_indicator(RESIDENCE, "age", _age(("", "43", "30"), ("44", "<60", "10"),
                                                     ("60", "", "0")))
    assert _indicator(text, "age")["bands"] == [{"max": 43, "points": 30},
                                                {"min": 44, "below": 60, "points": 10},
                                                {"min": 60, "points": 0}]
    assert _problems(text, "sh-residence-points") == []


@pytest.mark.parametrize(("rows", "message", "at"), [
    ((("0", "43", "30"), ("50", "44", "5")), "Band 2 starts at 50, after it ends at 44.",
     "row-2-to"),
    ((("0", "43", "30"), ("40", "", "5")),
     "Bands 1 and 2 overlap: a value can be in only one band.", "row-2-from"),
    ((("0", "43", "30"), ("43", "", "5")),
     "Bands 1 and 2 overlap: a value can be in only one band.", "row-2-from"),
    ((("0", "43", "thirty"),), "Enter the points of row 1 as a number, for example 10.",
     "row-1-points"),
    ((("zero", "43", "30"),),
     'Enter "from" of band 1 as a number, or leave it empty for no lower bound.', "row-1-from"),
])
def test_bad_bands_are_refused_at_the_cell(rows: tuple[tuple[str, str, str], ...], message: str,
                                           at: str) -> None:
    with pytest.raises(ops.RulesEditError) as refused:
        ops.edit_indicator(RESIDENCE, "age", _age(*rows))
    assert (str(refused.value), refused.value.at) == (message, at)


def test_a_gap_is_not_refused_the_checker_names_it() -> None:
    text = ops.edit_indicator(RESIDENCE, "age", _age(("0", "43", "30"), ("50", "", "0")))
    assert "the bands leave a gap: 44 to 49 is in no band" in _problems(text,
                                                                        "sh-residence-points")


def test_names_are_required_in_both_languages() -> None:
    with pytest.raises(ops.RulesEditError) as refused:
        ops.edit_indicator(RESIDENCE, "age", _age(("0", "", "1"), en=" "))
    assert (str(refused.value), refused.value.at) == \
        ("Enter the English name of the indicator.", "name_en")


def test_a_table_per_unit_deduction_group_and_veto_are_edited() -> None:
    text = ops.edit_indicator(RESIDENCE, "fresh_graduate", ops.IndicatorEdit(
        "应届生", "Fresh graduate", rows=(("true", "15", "是", "Yes"), ("false", "0", "否", "No"))))
    assert _indicator(text, "fresh_graduate")["table"]["true"] == \
        {"points": 15, "label": {"zh": "是", "en": "Yes"}}
    text = ops.edit_indicator(text, "spouse_local", ops.IndicatorEdit(
        "配偶", "Spouse", per="1", points="5", cap=""))
    assert _indicator(text, "spouse_local")["cap"] is None
    text = ops.edit_indicator(text, "detentions", ops.IndicatorEdit(
        "拘留", "Detentions", points="-40", window="2"))
    assert _indicator(text, "detentions")["window"] == {"years": 2}
    text = ops.edit_indicator(text, "education_or_qualification", ops.IndicatorEdit(
        "二选一", "Higher of", members=("education", "qualification", "awards")))
    assert _indicator(text, "education_or_qualification")["of"] == ["education",
                                                                    "qualification", "awards"]
    text = ops.edit_indicator(text, "family_planning", ops.IndicatorEdit(
        "计生", "Family planning", enabled="true", when_input="spouse_local"))
    veto = _indicator(text, "family_planning")
    assert "enabled" not in veto and veto["when"] == {"==": [{"var": "spouse_local"}, True]}
    assert _problems(text, "sh-residence-points") == []
    with pytest.raises(ops.RulesEditError, match="below zero"):
        ops.edit_indicator(text, "detentions", ops.IndicatorEdit("拘留", "Detentions",
                                                                 points="5"))


def test_rows_are_added_without_a_gap_and_removed() -> None:
    text = ops.add_row(RESIDENCE, "age")
    bands = _indicator(text, "age")["bands"]
    assert bands[-2:] == [{"min": 61, "max": 61, "points": 0}, {"min": 62, "points": 0}]
    assert _problems(text, "sh-residence-points") == []
    text = ops.remove_row(text, "age", 16)
    assert len(_indicator(text, "age")["bands"]) == 15
    text = ops.add_row(RESIDENCE, "education")
    assert "value_7" in _indicator(text, "education")["table"]


def test_the_last_row_and_the_last_indicator_stay() -> None:
    text = ops.edit_indicator(RESIDENCE, "age", _age(("", "", "5")))
    with pytest.raises(ops.RulesEditError) as refused:
        ops.remove_row(text, "age", 1)
    assert str(refused.value) == "An indicator keeps at least one row: change this one instead."
    one = ops.dump(ops.load(RESIDENCE))
    for indicator in ops.indicators(one)[1:]:
        if indicator.type != "group_max":
            continue
        one = ops.remove_indicator(one, indicator.id)
    for indicator in ops.indicators(one)[1:]:
        one = ops.remove_indicator(one, indicator.id)
    assert [i.id for i in ops.indicators(one)] == ["age"]
    with pytest.raises(ops.RulesEditError) as refused:
        ops.remove_indicator(one, "age")
    assert str(refused.value) == ("A rule set needs at least one indicator: add another before "
                                  "removing this one.")


def test_a_member_of_a_group_is_not_removed() -> None:
    with pytest.raises(ops.RulesEditError) as refused:
        ops.remove_indicator(RESIDENCE, "education")
    assert str(refused.value) == ('"education" is counted in the higher-of group '
                                  '"education_or_qualification": take it out of that group first.')


@pytest.mark.parametrize("kind", ops.KINDS)
def test_a_new_indicator_of_every_kind_passes_the_checker(kind: str) -> None:
    text, new_id = ops.add_indicator(RESIDENCE, kind, "新指标", "New indicator")
    assert new_id == f"{kind}_17"
    assert _indicator(text, new_id)["type"] == kind
    assert _problems(text, "sh-residence-points") == []


def test_indicators_move_up_and_down() -> None:
    text = ops.move_indicator(RESIDENCE, "education", "up")
    assert [i.id for i in ops.indicators(text)][:2] == ["education", "age"]
    with pytest.raises(ops.RulesEditError):
        ops.move_indicator(text, "education", "up")


def test_the_pass_mark_and_the_grades_are_edited() -> None:
    text = ops.edit_outcome(RESIDENCE, "110", [])
    assert _data(text)["outcome"] == {"threshold": 110}
    with pytest.raises(ops.RulesEditError) as refused:
        ops.edit_outcome(RESIDENCE, "many", [])
    assert str(refused.value) == "Enter the pass mark as a number, for example 120."
    text = ops.edit_outcome(CREDIT, "", [("85", "A", "守信", "Trustworthy"), ("0", "B", "", "")])
    assert _data(text)["outcome"]["grades"] == [
        {"min": 85, "grade": "A", "label": {"zh": "守信", "en": "Trustworthy"}},
        {"min": 0, "grade": "B"}]
    with pytest.raises(ops.RulesEditError) as refused:
        ops.edit_outcome(CREDIT, "", [("50", "A", "", ""), ("60", "B", "", "")])
    assert refused.value.at == "grade-2-min"


def test_a_file_that_is_not_a_rule_set_is_refused() -> None:
    with pytest.raises(ops.RulesEditError) as refused:
        ops.indicators("indicators: [1\n")
    assert str(refused.value) == ("The rules file cannot be read as a rule set: correct it in "
                                  "the text view first.")
