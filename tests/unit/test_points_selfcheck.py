"""Issue 13 item 3: the self-check form is made of the service form's own questions that the
rules read, or of questions from the inputs' types when there is no form."""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban.definitions.yamlpos import read_yaml
from tongban.forms.definition import load_form
from tongban.points import selfcheck

ROOT = Path(__file__).resolve().parents[2]


def _rules(name: str) -> dict:
    return read_yaml((ROOT / "workflow_definitions" / "rules" / f"{name}.yaml")
                     .read_text("utf-8")).data


@pytest.fixture(scope="module")
def residence() -> selfcheck.Questions:
    form = load_form(str(ROOT / "form_definitions" / "residence-points.json"))
    return selfcheck.questions(_rules("sh-residence-points"), form, name="self-check test")


def test_only_the_questions_the_rules_read_are_asked_in_the_forms_order(residence) -> None:
    keys = [k for k, fields in residence.form.fields.items() if not fields[0].children]
    assert keys[:3] == ["applicant.id_number", "applicant.birth_date", "education.level"]
    assert "applicant.mobile" not in keys and "materials.id_card" not in keys
    # read only by the family-planning veto, which a parameter switches off
    assert "record.family_planning_violation" not in keys


def test_a_calculated_answer_is_asked_through_the_question_it_is_made_from(residence) -> None:
    assert residence.form.field("applicant.birth_date").read_only
    assert "applicant.id_number" in residence.required
    assert "applicant.birth_date" not in residence.required
    error = selfcheck.missing_error(residence, "applicant.birth_date")
    assert (error.path, error.code) == ("applicant.id_number", "required")


def test_a_conditional_question_comes_with_its_condition(residence) -> None:
    targets = {rule.target for rule in residence.form.rules if rule.action == "show"}
    assert "qualification.skill_level" in targets
    assert "qualification.kind" in residence.form.fields


def test_without_a_form_the_questions_come_from_the_inputs_types() -> None:
    document, required = selfcheck.question_document(_rules("sh-residence-points"), None)
    props = document["schema"]["properties"]
    assert props["record"]["properties"]["detention_dates"] == {
        "type": "array", "items": {"type": "string", "format": "date"}, "maxItems": 20,
        "title": "行政拘留日期"}
    assert props["record"]["properties"]["serious_crime"]["type"] == "boolean"
    assert props["education"]["properties"]["level"]["oneOf"][0] == {"const": "none",
                                                                     "title": "大专以下学历"}
    assert document["ui"]["fields"]["education.level"]["label"] == {
        "zh": "最高学历（学位）", "en": "Highest education"}
    assert "applicant.birth_date" in required
    load_form(document, name="typed self-check")  # a form the engine accepts
