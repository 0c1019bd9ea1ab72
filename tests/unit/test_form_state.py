"""The logic engine: hidden values dropped, skipped pages not required, calculations, blocks."""

from __future__ import annotations

import pytest
from forms_fixtures.app import fixture_form, forms_ctx  # noqa: F401 - fixtures

from tongban.forms.definition import load_form
from tongban.forms.errors import message
from tongban.forms.state import (
    drop_hidden,
    evaluate,
    next_page,
    validate_page,
    validate_submission,
)

COMPLETE = {
    "applicant": {"name": "张三", "id_number": "110105199003071239", "birth_date": "1990-03-07",
                  "mobile": "13800138000"},
    "marital_status": "single", "housing": "owned", "age": 40, "consent": True,
}


@pytest.fixture
def form():
    return load_form(fixture_form("residence.json"), name="residence.json")


def test_the_value_of_a_hidden_field_is_dropped(form) -> None:
    answers = {**COMPLETE, "spouse_name": "李四"}
    assert "spouse_name" not in drop_hidden(form, answers)
    married = {**answers, "marital_status": "married"}
    assert drop_hidden(form, married)["spouse_name"] == "李四"


def test_a_rule_can_make_a_field_required(forms_ctx, form) -> None:  # noqa: F811
    errors = validate_page(form, "family", {**COMPLETE, "marital_status": "married"})
    assert [(e.path, message(e, form, "en")) for e in errors] == [
        ("spouse_name", "Enter spouse's name")]


def test_a_required_field_on_a_skipped_page_is_not_required(form) -> None:
    state = evaluate(form, COMPLETE)
    assert "rented" in state.hidden_pages
    assert next_page(form, "housing", state) == "declaration"
    assert validate_page(form, "rented", COMPLETE) == []
    rented = {**COMPLETE, "housing": "rented", "monthly_rent": 2000}
    assert next_page(form, "housing", evaluate(form, rented)) == "rented"


def test_a_page_checks_only_its_own_answers(forms_ctx, form) -> None:  # noqa: F811
    errors = validate_page(form, "housing", {"housing": "owned"})
    assert errors == []
    errors = validate_page(form, "applicant", {"housing": "owned"})
    assert [message(e, form, "en") for e in errors] == ["Enter applicant"]


def test_calculated_values_are_filled_in(form) -> None:
    assert evaluate(form, COMPLETE).answers["points"] == 30
    assert evaluate(form, {**COMPLETE, "housing": "rented"}).answers["points"] == 10


def test_a_block_rule_stops_the_applicant_with_its_message(forms_ctx, form) -> None:  # noqa: F811
    answers = {**COMPLETE, "age": 16}
    errors = validate_page(form, "housing", answers)
    texts = [message(e, form, "en") for e in errors]
    assert "You must be 18 or over to apply" in texts
    assert "Age must be 18 or more" in texts or len(texts) == 1


def test_the_whole_application_validates_after_hidden_values_are_dropped(form) -> None:
    assert validate_submission(form, {**COMPLETE, "spouse_name": "x", "monthly_rent": "x"}) == []
    errors = validate_submission(form, {**COMPLETE, "consent": False})
    assert [e.path for e in errors] == ["consent"]


def test_conditional_schema_fields_follow_their_branch() -> None:
    form = load_form({
        "title": {"zh": "宠物"},
        "schema": {"type": "object", "properties": {"animal": {"enum": ["Cat", "Fish"]}},
                   "required": ["animal"],
                   "if": {"properties": {"animal": {"const": "Fish"}}, "required": ["animal"]},
                   "then": {"properties": {"water": {"enum": ["lake", "sea"]}},
                            "required": ["water"]}},
    }, name="pets.json")
    assert drop_hidden(form, {"animal": "Cat", "water": "sea"}) == {"animal": "Cat"}
    assert [e.path for e in validate_submission(form, {"animal": "Fish"})] == ["water"]


def test_a_new_application_starts_with_the_schema_defaults() -> None:
    from tongban.forms.state import initial_answers

    form = load_form({"title": {"zh": "默认"}, "schema": {"type": "object", "properties": {
        "country": {"type": "string", "default": "中国"},
        "address": {"type": "object", "properties": {"city": {"type": "string",
                                                              "default": "上海"}}},
        "name": {"type": "string"}}}}, name="defaults.json")
    assert initial_answers(form) == {"country": "中国", "address": {"city": "上海"}}
