"""Every widget renders with its label, hint and error; pages carry CSRF and the summary."""

from __future__ import annotations

import re

import pytest
from flask import current_app
from forms_fixtures.app import fixture_form, forms_ctx  # noqa: F401 - fixtures

from tongban.forms.definition import load_form
from tongban.forms.errors import FieldError
from tongban.forms.overview import check_answers_rows, render_check_answers, render_task_list
from tongban.forms.render import render_field, render_page

WIDGETS = {
    "text": {"type": "string"},
    "textarea": {"type": "string"},
    "password": {"type": "string"},
    "email": {"type": "string", "format": "email"},
    "tel": {"type": "string", "format": "cn-mobile"},
    "url": {"type": "string", "format": "uri"},
    "number": {"type": "number", "minimum": 0, "multipleOf": 0.01},
    "integer": {"type": "integer", "maximum": 9},
    "amount": {"type": "string", "format": "cn-amount"},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "format": "time"},
    "datetime": {"type": "string", "format": "date-time"},
    "region": {"type": "string", "format": "cn-region"},
    "file": {"type": "string", "contentMediaType": "application/pdf"},
    "radios": {"enum": ["a", "b"]},
    "select": {"enum": [str(i) for i in range(10)]},
    "autocomplete": {"enum": ["a", "b", "c"]},
    "checkbox": {"type": "boolean"},
    "checkboxes": {"type": "array", "items": {"enum": ["a", "b"]}},
    "fieldset": {"type": "object", "properties": {"inner": {"type": "string"}}},
    "repeatable": {"type": "array", "items": {"type": "object",
                                              "properties": {"inner": {"type": "string"}}}},
    "json": {"type": "object"},
}
LABELLED = {"text", "textarea", "password", "email", "tel", "url", "number", "integer",
            "amount", "time", "datetime", "region", "file", "select", "autocomplete", "json"}


@pytest.fixture(scope="module")
def widget_form():
    ui = {name: {"widget": name, "label": {"zh": f"{name}标签", "en": f"{name} label"},
                 "hint": {"zh": "提示", "en": f"{name} hint"}} for name in WIDGETS}
    return load_form({"title": {"zh": "控件", "en": "Widgets"},
                      "schema": {"type": "object", "properties": WIDGETS},
                      "ui": {"fields": ui}}, name="widgets.json")


@pytest.mark.parametrize("widget", sorted(WIDGETS))
def test_each_widget_renders_with_label_hint_and_error(forms_ctx, widget_form, widget) -> None:  # noqa: F811
    error = FieldError(widget, widget, "required", {})
    html = render_page(widget_form, "main", {}, [error], lang="en", urls={"action": "/p"},
                       csrf_token="token", templates=current_app.jinja_env)
    group = re.search(rf'<div class="tb-form-group tb-form-group--error" id="f-{widget}-group"'
                      rf'.*?(?=<div class="tb-form-group[ "][^>]*id="f-(?!{widget}-)[a-z]+-group"'
                      r'|<div class="tb-button-group")', html, re.S)
    assert group, html
    fragment = group.group(0)
    assert f"{widget} label" in fragment
    assert f'id="f-{widget}-hint"' in fragment and f"{widget} hint" in fragment
    assert f'id="f-{widget}-error"' in fragment
    assert '<span class="tb-visually-hidden">Error:</span>' in fragment
    assert f"f-{widget}-hint f-{widget}-error" in fragment  # aria-describedby
    if widget in LABELLED:
        assert f'<label class="tb-label" for="f-{widget}">' in fragment
        assert 'aria-invalid="true"' in fragment
    if widget in ("radios", "checkboxes", "date", "fieldset", "repeatable"):
        assert "<legend" in fragment


def test_inputs_get_keyboard_and_autofill_hints(forms_ctx, widget_form) -> None:  # noqa: F811
    html = render_page(widget_form, "main", {}, lang="en",
                       csrf_token="token", templates=current_app.jinja_env)
    assert re.search(r'id="f-integer"[^>]*inputmode="numeric"', html)
    assert re.search(r'id="f-tel"[^>]*autocomplete="tel-national"', html)
    assert re.search(r'id="f-tel"[^>]*type="tel"', html)
    assert re.search(r'id="f-number"[^>]*data-min="0"[^>]*data-step="0.01"', html) or \
        re.search(r'id="f-number"[^>]*data-step="0.01"', html)
    assert 'type="number"' not in html
    assert "required" not in re.sub(r"tb-|data-|required_", "", html).replace("(optional)", "")
    assert 'enctype="multipart/form-data"' in html


def test_a_page_has_csrf_the_error_summary_and_kept_answers(forms_ctx) -> None:  # noqa: F811
    form = load_form(fixture_form("residence.json"), name="residence.json")
    errors = [FieldError("annual_income", "annual_income", "comma", {})]
    html = render_page(form, "housing", {"housing": "owned"}, errors, lang="en",
                       urls={"action": "/apply/housing"},
                       raw={"annual_income": ["1,000"], "housing": ["owned"]},
                       csrf_token="token", templates=current_app.jinja_env)
    assert 'name="csrf_token" value="' in html
    assert 'role="alert" tabindex="-1"' in html and "There is a problem" in html
    assert '<a href="#f-annual_income">Enter annual income without commas</a>' in html
    assert 'value="1,000"' in html
    assert html.count("Enter annual income without commas") == 2
    assert 'method="post" action="/apply/housing"' in html and "novalidate" in html


def test_a_one_question_page_uses_the_question_as_heading(forms_ctx) -> None:  # noqa: F811
    form = load_form({"title": {"zh": "问"}, "schema": {"type": "object", "properties": {
        "colour": {"enum": ["red", "blue"], "title": "颜色"}}},
        "ui": {"pages": [{"id": "c", "fields": ["colour"], "one_question": True}]}},
        name="q.json")
    html = render_page(form, "c", {}, lang="zh", csrf_token="token", templates=current_app.jinja_env)
    assert '<h1 class="tb-fieldset__heading">颜色' in html
    assert html.count("<h1") == 1


def test_a_question_this_page_can_reveal_is_there_without_javascript(forms_ctx) -> None:  # noqa: F811
    form = load_form(fixture_form("residence.json"), name="residence.json")
    html = render_page(form, "family", {"marital_status": "single"}, lang="en",
                       csrf_token="token", templates=current_app.jinja_env)
    # Not hidden, not disabled: a browser without JavaScript can answer it; forms.js (and the
    # tb-js style) keep it out of sight until it applies. The note says when it applies.
    assert re.search(r'id="f-spouse_name-group" data-tb-key="spouse_name" data-tb-off>\s*'
                     r'<p class="tb-conditional-note">Answer this if your answer to '
                     r'“Marital status” is “Married”.</p>', html), html
    assert not re.search(r'id="f-spouse_name"[^>]*disabled', html)
    assert 'data-tb-logic' in html


def test_a_question_hidden_by_another_pages_answer_is_hidden_and_not_posted(forms_ctx) -> None:  # noqa: F811
    form = load_form({
        "title": {"zh": "车辆", "en": "Car"},
        "schema": {"type": "object", "properties": {
            "has_car": {"type": "boolean", "title": "Do you have a car?"},
            "plate": {"type": "string", "title": "Number plate"},
            "colour": {"type": "string", "title": "Colour"}}},
        "ui": {"pages": [{"id": "car", "fields": ["has_car"]},
                         {"id": "details", "fields": ["plate", "colour"]}]},
        "logic": [{"id": "plate", "show": "plate", "when": {"var": "has_car"}},
                  {"id": "colour", "show": "colour", "when": {"==": [{"var": "plate"}, "x"]}}],
    }, name="car.json")
    html = render_page(form, "details", {"has_car": False}, lang="en",
                       csrf_token="token", templates=current_app.jinja_env)
    # Only an earlier page can change it: hidden, and its input sends nothing.
    assert re.search(r'id="f-plate-group" data-tb-key="plate" hidden', html)
    assert re.search(r'id="f-plate"[^>]*disabled', html)
    # Revealed by an answer on this page, under a note (a condition not put into words).
    assert re.search(r'id="f-colour-group" data-tb-key="colour" data-tb-off>\s*'
                     r'<p class="tb-conditional-note">Answer this if your answer to '
                     r'“Number plate” is “x”.</p>', html), html


def test_add_another_works_without_javascript(forms_ctx) -> None:  # noqa: F811
    form = load_form(fixture_form("residence.json"), name="residence.json")
    html = render_page(form, "family", {"members": [{"name": "a"}, {}]}, lang="en",
                       urls={"action": "/f"}, csrf_token="token", templates=current_app.jinja_env)
    assert 'name="members.1.name"' in html
    assert '<button type="submit" name="action" value="add:members"' in html
    assert 'value="remove:members.1"' in html
    assert 'hx-post="/f"' in html and 'hx-select="#f-members-group"' in html


def test_inline_check_returns_only_the_field(forms_ctx) -> None:  # noqa: F811
    form = load_form(fixture_form("residence.json"), name="residence.json")
    html = render_field(form, "annual_income", {}, [
        FieldError("annual_income", "annual_income", "comma", {})], lang="zh",
        urls={"validate": "/v"}, raw={"annual_income": ["1,000"]}, templates=current_app.jinja_env)
    assert html.startswith('<div class="tb-form-group tb-form-group--error" id="f-annual_income')
    assert "<form" not in html
    assert 'hx-post="/v"' in html and 'hx-target="#f-annual_income-group"' in html


def test_check_answers_lists_visible_answers_with_change_links(forms_ctx) -> None:  # noqa: F811
    form = load_form(fixture_form("residence.json"), name="residence.json")
    answers = {"applicant": {"name": "张三", "birth_date": "1990-03-07"},
               "marital_status": "single", "spouse_name": "hidden", "housing": "owned",
               "languages": ["zh", "yue"], "consent": True}
    sections = check_answers_rows(form, answers, "en")
    assert [s["page"] for s in sections] == ["applicant", "family", "housing", "declaration"]
    rows = {r["label"]: r["value"] for s in sections for r in s["rows"]}
    assert rows["Applicant: Full name"] == "张三"
    assert rows["Applicant: Date of birth"] == "March 7, 1990"
    assert rows["Marital status"] == "Single"
    assert rows["Languages you speak"] == "Mandarin, Cantonese"
    assert rows["Applicant: Email address"] == "Not provided"
    assert "Spouse's name" not in rows
    html = render_check_answers(form, answers, lang="en",
                                urls={"change": "/apply/{page}", "action": "/send"},
                                csrf_token="the-token", templates=current_app.jinja_env)
    assert '<a href="/apply/family#f-marital_status">Change<span class="tb-visually-hidden">' \
        in html
    assert "Confirm and send" in html
    assert 'name="csrf_token" value="the-token"' in html


def test_chinese_is_the_default_language(forms_ctx) -> None:  # noqa: F811
    form = load_form(fixture_form("residence.json"), name="residence.json")
    rows = check_answers_rows(form, {"applicant": {"birth_date": "1990-03-07"}})
    assert rows[0]["rows"][2]["value"] == "1990年3月7日"
    assert "申请人信息" in render_page(form, "applicant", {}, csrf_token="token",
                                       templates=current_app.jinja_env)


def test_the_task_list_shows_section_status(forms_ctx) -> None:  # noqa: F811
    form = load_form(fixture_form("residence.json"), name="residence.json")
    html = render_task_list(form, {"housing": "owned"}, lang="en",
                            urls={"page": "/apply/{page}"}, templates=current_app.jinja_env)
    assert '<a class="tb-task-list__link" href="/apply/housing"' in html
    assert "Completed" in html and "Not yet started" in html


def test_a_schema_branch_this_page_decides_is_there_without_javascript(forms_ctx) -> None:  # noqa: F811
    form = load_form({
        "title": {"zh": "宠物", "en": "Pets"},
        "schema": {
            "type": "object",
            "properties": {"has_pet": {"type": "boolean", "title": "Do you have a pet?"}},
            "if": {"properties": {"has_pet": {"const": True}}, "required": ["has_pet"]},
            "then": {"properties": {"pet_name": {"type": "string", "title": "Pet name"}},
                     "required": ["pet_name"]},
        },
    }, name="pets.json")
    html = render_page(form, form.pages[0].id, {"has_pet": False}, lang="en",
                       csrf_token="token", templates=current_app.jinja_env)
    group = re.search(r'<div class="tb-form-group" id="f-pet_name-group"[^>]*>.*?</div>', html, re.S)
    assert group, html
    assert "data-tb-when=" in group.group(0) and "data-tb-off" in group.group(0)
    assert " hidden" not in group.group(0)
    assert ('<p class="tb-conditional-note">Answer this if your answer to “Do you have a pet?” '
            'is “Yes”.</p>') in html
    assert not re.search(r'id="f-pet_name"[^>]*disabled', html)
    assert "(optional)" not in group.group(0)  # required whenever the branch applies
