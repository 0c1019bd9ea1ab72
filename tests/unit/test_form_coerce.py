"""Posted strings to typed answers: bad inputs give the exact words a person reads."""

from __future__ import annotations

import pytest
from forms_fixtures.app import fixture_form, forms_ctx  # noqa: F401 - fixtures
from werkzeug.datastructures import MultiDict

from tongban.forms.coerce import MAX_FIELDS, apply_action, coerce_page
from tongban.forms.definition import load_form
from tongban.forms.errors import message
from tongban.forms.state import validate_page


@pytest.fixture
def form():
    return load_form(fixture_form("residence.json"), name="residence.json")


def _messages(form, page, post, previous=None):
    result = coerce_page(form, page, MultiDict(post), previous)
    errors = result.errors + [e for e in validate_page(form, page, result.answers)
                              if e.path not in {c.path for c in result.errors}]
    return result, {e.path: message(e, form, "en") for e in errors}


@pytest.mark.parametrize(("post", "path", "expected"), [
    ([("annual_income", "1,000")], "annual_income", "Enter annual income without commas"),
    ([("annual_income", "12.5")], "annual_income", "Annual income must be a whole number"),
    ([("annual_income", "lots")], "annual_income", "Annual income must be a number"),
    ([("age", "17")], "age", "You must be 18 or over to apply"),
    ([("housing", "rented"), ("monthly_rent", "-5")], "monthly_rent",
     "Monthly rent must be 0 or more"),
    ([("age", "130")], "age", "Age must be 120 or less"),
    ([("housing", "castle")], "housing", "Select type of housing from the list"),
])
def test_bad_answers_on_the_housing_page(forms_ctx, form, post, path, expected) -> None:  # noqa: F811
    _, messages = _messages(form, "housing", [("housing", "owned"), *post])
    assert messages[path] == expected


@pytest.mark.parametrize(("post", "expected"), [
    ([("applicant.birth_date", "2025-02-30")], "Date of birth must be a real date"),
    ([("applicant.birth_date:year", "2025"), ("applicant.birth_date:month", "2"),
      ("applicant.birth_date:day", "30")], "Date of birth must be a real date"),
    ([("applicant.birth_date:year", "2025"), ("applicant.birth_date:month", "2")],
     "Date of birth must include a day"),
    ([("applicant.birth_date:year", "25"), ("applicant.birth_date:month", "2"),
      ("applicant.birth_date:day", "3")], "The year of date of birth must include 4 numbers"),
    ([("applicant.birth_date", "next tuesday")],
     "Enter date of birth as a date, like 2025-03-27"),
    ([], "Enter date of birth"),
])
def test_dates_must_be_real(forms_ctx, form, post, expected) -> None:  # noqa: F811
    _, messages = _messages(form, "applicant", [("applicant.name", "张三"), *post])
    assert messages["applicant.birth_date"] == expected


def test_a_real_date_in_three_boxes_becomes_iso(forms_ctx, form) -> None:  # noqa: F811
    result, messages = _messages(form, "applicant", [
        ("applicant.birth_date:year", "1990"), ("applicant.birth_date:month", "3"),
        ("applicant.birth_date:day", "７")])
    assert result.answers["applicant"]["birth_date"] == "1990-03-07"
    assert "applicant.birth_date" not in messages


def test_every_answer_is_kept_when_one_fails(forms_ctx, form) -> None:  # noqa: F811
    result, messages = _messages(form, "housing", [("housing", "rented"),
                                                   ("monthly_rent", "3,500"),
                                                   ("age", "40"), ("notes", "  hi  ")])
    assert messages == {"monthly_rent": "Enter monthly rent without commas"}
    assert result.raw["monthly_rent"] == ["3,500"]
    assert result.answers == {"housing": "rented", "age": 40, "notes": "hi"}


def test_numbers_and_choices_are_typed(forms_ctx, form) -> None:  # noqa: F811
    result, messages = _messages(form, "family", [("marital_status", "married"),
                                                  ("spouse_name", "李四"),
                                                  ("languages", "zh"), ("languages", "yue"),
                                                  ("members.0.name", "王五"),
                                                  ("members.3.name", "赵六"),
                                                  ("members.1.name", "")])
    assert messages == {}
    assert result.answers == {"marital_status": "married", "spouse_name": "李四",
                              "languages": ["zh", "yue"],
                              "members": [{"name": "王五"}, {"name": "赵六"}]}


def test_an_option_not_in_the_list_is_refused(forms_ctx, form) -> None:  # noqa: F811
    _, messages = _messages(form, "family", [("languages", "fr")])
    assert messages["languages"] == "Select languages you speak from the list"


def test_too_many_fields_are_refused_whole(forms_ctx, form) -> None:  # noqa: F811
    post = [(f"members.{i}.name", "x") for i in range(MAX_FIELDS + 1)]
    result = coerce_page(form, "family", MultiDict(post), {"housing": "owned"})
    assert result.rejected
    assert result.answers == {"housing": "owned"}
    assert [message(e, form, "en") for e in result.errors] == [
        "The form sent more than 1000 answers. Go back and try again"]


def test_names_nested_too_deep_are_refused(forms_ctx, form) -> None:  # noqa: F811
    result = coerce_page(form, "family", MultiDict([(".".join(["a"] * 20), "x")]))
    assert result.rejected
    assert result.errors[0].code == "too_deep"


def test_unknown_names_and_read_only_answers_are_ignored(forms_ctx, form) -> None:  # noqa: F811
    result = coerce_page(form, "rented", MultiDict([("points", "999"), ("is_admin", "1")]),
                         {"points": 10})
    assert result.answers == {"points": 10}


def test_add_another_and_remove(form) -> None:
    answers, changed = apply_action(form, {"members": [{"name": "a"}]}, "add:members")
    assert changed and answers == {"members": [{"name": "a"}, {}]}
    answers, changed = apply_action(form, answers, "remove:members.0")
    assert changed and answers == {"members": [{}]}
    full = {"members": [{"name": str(i)} for i in range(5)]}
    assert apply_action(form, full, "add:members") == (full, False)


def test_codes_are_tidied_before_checking(forms_ctx, form) -> None:  # noqa: F811
    result, messages = _messages(form, "applicant", [
        ("applicant.id_number", "１１０１０５ 1990-0307 1239"),
        ("applicant.mobile", "+86 138-0013-8000")])
    assert result.answers["applicant"]["id_number"] == "110105199003071239"
    assert result.answers["applicant"]["mobile"] == "13800138000"
    assert "applicant.id_number" not in messages


def test_chinese_formats_explain_what_is_wrong(forms_ctx, form) -> None:  # noqa: F811
    _, messages = _messages(form, "applicant", [("applicant.id_number", "110105199003071234")])
    assert messages["applicant.id_number"]
    assert messages["applicant.id_number"] != "Enter ID card number in the correct format"


NUL_FORM = {"title": {"zh": "空字符", "en": "NUL"},
            "schema": {"type": "object", "properties": {
                "name": {"type": "string", "title": "name"},
                "notes": {"type": "string", "title": "notes"},
                "count": {"type": "integer", "title": "count"},
                "extra": {"type": "object", "title": "extra"},
                "day": {"type": "string", "format": "date", "title": "day"}}},
            "ui": {"fields": {"name": {"label": {"zh": "姓名", "en": "Name"}},
                              "notes": {"widget": "textarea",
                                        "label": {"zh": "说明", "en": "Notes"}},
                              "count": {"label": {"zh": "数量", "en": "Count"}},
                              "extra": {"widget": "json", "label": {"zh": "附加", "en": "Extra"}},
                              "day": {"label": {"zh": "日期", "en": "Day"}}}}}


@pytest.mark.parametrize(("name", "value"), [
    ("name", "张\x00三"),
    ("notes", "line one\r\n\x00line two"),
    ("count", "1\x002"),
    ("extra", '{"note": "a\\u0000b"}'),
    ("day:year", "2025\x00"),
])
def test_an_answer_with_a_nul_character_is_refused_with_a_clear_message_and_not_kept(
        forms_ctx, name, value) -> None:  # noqa: F811
    form = load_form(NUL_FORM, name="nul.json")
    post = [(name, value)] + ([("day:month", "1"), ("day:day", "2")] if name == "day:year" else [])
    result = coerce_page(form, None, MultiDict(post), {"name": "kept"} if name != "name" else {})
    path = name.partition(":")[0]
    assert [(e.path, e.code) for e in result.errors] == [(path, "nul")]
    assert message(result.errors[0], form, "en") == (
        f"{form.field(path).label['en']} contains a hidden control character (NUL) that "
        "cannot be saved. Delete the answer and type it again")
    assert path not in result.answers
