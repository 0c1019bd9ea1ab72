"""A wrong form file is refused with every problem named by file and place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from forms_fixtures.app import fixture_form

from tongban.forms.definition import FormDefinitionError, check_form, load_form


def _form(**overrides):
    form = {
        "title": {"zh": "测试", "en": "Test"},
        "schema": {"type": "object", "properties": {
            "name": {"type": "string", "title": "姓名"},
            "age": {"type": "integer", "title": "年龄"}}},
    }
    form.update(overrides)
    return form


def _problems(form) -> list[tuple[str, str]]:
    return [(e.pointer, e.message) for e in check_form(form, name="test.json")]


def test_the_residence_fixture_loads_and_is_compiled_once() -> None:
    first = load_form(fixture_form("residence.json"), name="residence.json")
    again = load_form(fixture_form("residence.json"), name="residence.json")
    assert first is again
    assert [p.id for p in first.pages] == ["applicant", "family", "housing", "rented",
                                           "declaration"]


def test_a_file_that_is_not_json_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "title": {"zh": "x"},\n  "schema": {,}\n}', encoding="utf-8")
    with pytest.raises(FormDefinitionError) as caught:
        load_form(path)
    (error,) = caught.value.errors
    assert error.file == str(path) and error.line == 3


def test_a_form_that_does_not_match_the_form_format_is_refused() -> None:
    assert sorted(_problems({"schema": {}, "titel": "x"})) == [
        ("", "'title' is a required property"), ("", "unknown key(s) 'titel'")]


def test_an_invalid_data_schema_is_refused() -> None:
    problems = _problems(_form(schema={"type": "object", "properties": {"a": {"type": "text"}}}))
    assert problems and problems[0][0] == "/schema/properties/a/type"


def test_an_unknown_widget_is_refused() -> None:
    problems = _problems(_form(ui={"fields": {"name": {"widget": "slider"}}}))
    assert problems == [("/ui/fields/name/widget",
                         "'slider' is not one of 'text', 'textarea', 'password', 'email', "
                         "'tel', 'url', 'number', 'integer', 'amount', 'date', 'time', "
                         "'datetime', 'region', 'file', 'radios', 'select', 'autocomplete', "
                         "'checkbox', 'checkboxes', 'fieldset', 'repeatable', 'readonly', "
                         "'hidden', 'json'")]


def test_a_widget_that_does_not_fit_the_field_is_refused() -> None:
    assert _problems(_form(ui={"fields": {"name": {"widget": "radios"}}})) == [
        ("/ui/fields/name/widget", "widget 'radios' does not fit this field (it would be "
                                   "'text')")]


def test_ui_for_a_missing_field_is_refused() -> None:
    assert _problems(_form(ui={"fields": {"nmae": {"label": {"zh": "x"}}}})) == [
        ("/ui/fields/nmae", "no field 'nmae' in the schema")]


def test_a_page_listing_an_unknown_field_is_refused() -> None:
    ui = {"pages": [{"id": "one", "fields": ["name", "age", "email"]}]}
    assert _problems(_form(ui=ui)) == [
        ("/ui/pages/0/fields/2", "page 'one' lists 'email', which is not a field")]


def test_a_field_on_no_page_is_refused() -> None:
    ui = {"pages": [{"id": "one", "fields": ["name"]}]}
    assert _problems(_form(ui=ui)) == [("/ui/pages", "field 'age' is on no page")]


def test_rules_that_reference_a_missing_field_are_refused() -> None:
    logic = [{"id": "r", "show": "age", "when": {"==": [{"var": "nmae"}, "x"]}},
             {"id": "s", "require": "agee", "when": True}]
    assert _problems(_form(logic=logic)) == [
        ("/logic/0/when", "the rule reads 'nmae', which is not a field"),
        ("/logic/1/require", "no field 'agee' in the schema")]


def test_a_rule_with_an_unknown_page_is_refused() -> None:
    logic = [{"show_page": "nowhere", "when": True}]
    assert _problems(_form(logic=logic)) == [("/logic/0/show_page", "no page 'nowhere'")]


def test_an_unresolvable_ref_is_refused() -> None:
    schema = {"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}
    assert _problems(_form(schema=schema)) == [
        ("/schema/properties/a/$ref", "$ref '#/$defs/missing' cannot be resolved")]


def test_errors_in_a_file_carry_the_line(tmp_path: Path) -> None:
    path = tmp_path / "form.json"
    form = _form(ui={"pages": [{"id": "one", "fields": ["name", "nope"]}]})
    path.write_text(json.dumps(form, indent=2, ensure_ascii=False), encoding="utf-8")
    (error,) = check_form(path)
    assert error.pointer == "/ui/pages/0/fields/1"
    assert path.read_text("utf-8").splitlines()[error.line - 1].strip() == '"nope"'
    assert str(error).startswith(f"{path}:{error.line}: /ui/pages/0/fields/1: ")


@pytest.mark.parametrize(("options", "value"), [
    ([{"const": "a", "title": "A"}, {"const": "b", "title": "B"}], "b"),
    ([{"const": "a", "title": "A"}, {"const": "b", "title": "B"}], "c"),
    ([{"const": "a", "title": "A"}, {"const": "a", "title": "A again"}], "a"),  # two match
    ([{"const": 1, "title": "one"}, {"const": True, "title": "yes"}], True),
    ([{"const": 1, "title": "one"}, {"const": 1.0, "title": "one again"}], 1),
    ([{"const": "a", "title": "A"}, {"type": "string", "maxLength": 1}], "a"),
])
def test_choices_are_judged_as_jsonschema_judges_them(options, value) -> None:  # type: ignore[no-untyped-def]
    """The validator may check a list of labelled choices as an enum; its verdicts stay
    jsonschema's on the schema as written (duplicates, numbers and mixed lists included)."""
    import jsonschema

    schema = {"type": "object", "properties": {"pick": {"oneOf": options}}}
    form = load_form({"title": {"zh": "选", "en": "Pick"}, "schema": schema}, name="pick.json")
    expected = jsonschema.Draft202012Validator(schema).is_valid({"pick": value})
    assert form.validator.is_valid({"pick": value}) is expected


@pytest.mark.parametrize("code", ["urban-event-report", "household-transfer", "residence-points"])
def test_every_text_of_the_demo_forms_reads_in_english_too(code: str) -> None:
    """The interface is Chinese by default with English available: a demo form shown in
    English has no question, group, hint, choice or page left in Chinese."""
    from tongban import PROJECT_ROOT

    data = json.loads((PROJECT_ROOT / "form_definitions" / f"{code}.json").read_text("utf-8"))
    form = load_form(data, name=f"{code}.json")
    missing = [("title", "")] if "en" not in form.title else []
    for page in form.pages:
        if page.title and "en" not in page.title:
            missing.append(("page", page.id))
    for key, variants in form.fields.items():
        for fld in variants:
            for what, text in (("label", fld.label), ("hint", fld.hint)):
                if key and text and "en" not in text:
                    missing.append((what, key))
            for option in fld.options or ():
                if option.label and "en" not in option.label and not option.msgid:
                    missing.append(("option", f"{key}={option.token}"))
    assert missing == []
