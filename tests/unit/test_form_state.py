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


def _shared_conditions_form(with_calc: bool = True):  # type: ignore[no-untyped-def]
    is_yes = {"==": [{"var": "calc"}, "yes"]}
    form = {
        "title": {"zh": "条件", "en": "Conditions"},
        "schema": {"type": "object", "properties": {
            "kind": {"enum": ["x", "y"]}, "calc": {"type": "string"},
            "detail": {"type": "string"}, "other": {"type": "string"},
            "shown": {"type": "string"}}},
        "logic": [
            {"id": "show-detail", "show": "detail", "when": {"==": [{"var": "kind"}, "x"]}},
            {"id": "need-detail", "require": "detail", "when": {"==": [{"var": "kind"}, "x"]}},
            # calc is always made and always hidden: pruning takes away what the conditions
            # reading it saw during the visibility pass
            {"id": "make-calc", "set": "calc", "value": "yes"},
            {"id": "hide-calc", "hide": "calc", "when": True},
            {"id": "show-shown", "show": "shown", "when": is_yes},
            {"id": "need-other", "require": "other", "when": dict(is_yes)},
        ],
    }
    if not with_calc:
        form["logic"] = form["logic"][:2]
    return load_form(form, name=f"shared-conditions-{with_calc}.json")


def test_a_condition_written_in_several_rules_runs_once_per_pass(monkeypatch) -> None:
    from tongban.forms import formats_and_rules

    form = _shared_conditions_form(with_calc=False)
    show, need = form.rules[0], form.rules[1]
    assert show.when is need.when  # the definition shares equal conditions
    runs: list[object] = []
    real = formats_and_rules.evaluate
    monkeypatch.setattr(formats_and_rules, "evaluate",
                        lambda rule, data: runs.append(rule) or real(rule, data))
    state = evaluate(form, {"kind": "x"})
    assert "detail" in state.required_keys and not state.is_hidden(form, "detail")
    assert sum(1 for rule in runs if rule is show.when) == 1


def test_conditions_are_read_again_when_pruning_changed_the_answers() -> None:
    form = _shared_conditions_form()
    state = evaluate(form, {})
    # during the visibility pass calc was "yes" (shown appears), but the final answers have
    # no calc: a require rule judged on the final answers does not hold
    assert "calc" not in state.answers
    assert "other" not in state.required_keys
    assert not state.is_hidden(form, "shown")


def test_answers_are_copied_not_shared() -> None:
    from tongban.forms.paths import copy_answers

    answers = {"a": [{"b": 1.5, "c": None, "d": True}], "e": "文字"}
    copied = copy_answers(answers)
    assert copied == answers and copied is not answers
    assert copied["a"] is not answers["a"] and copied["a"][0] is not answers["a"][0]
