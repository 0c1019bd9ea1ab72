"""Issue 10 §4, schemas in the wild: a submission never fails with an exception because of a
schema feature; patterns are checked when the form loads; ``$ref`` under a sub-schema with its
own ``$id`` resolves against that ``$id``; a null answer for a non-object root stays null."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from forms_fixtures.app import CORPUS
from forms_fixtures.corpus import compile_sample, from_jsonforms, from_rjsf, load_sample

from tongban.forms import schema_patterns
from tongban.forms.definition import FormDefinitionError, load_form
from tongban.forms.state import evaluate, validate_submission


def _form(schema: dict[str, Any]) -> dict[str, Any]:
    return {"title": {"zh": "测试", "en": "Test"}, "schema": schema}


def _name_form(pattern: str) -> dict[str, Any]:
    return _form({"type": "object", "required": ["name"],
                  "properties": {"name": {"type": "string", "title": "姓名", "pattern": pattern}}})


def test_a_unicode_property_pattern_is_checked_instead_of_raising() -> None:
    form = load_form(_name_form(r"^\p{Han}{2,20}$"), name="names.json")
    assert validate_submission(form, {"name": "张三"}) == []
    assert [(e.path, e.code) for e in validate_submission(form, {"name": "Zhang San"})] == [
        ("name", "pattern")]


def test_a_unicode_property_pattern_inside_property_names_is_checked_too() -> None:
    form = load_form(_form({"type": "object", "propertyNames": {"pattern": r"^\p{Ll}+$"}}),
                     name="names.json")
    assert validate_submission(form, {"name": 1}) == []
    assert [e.code for e in validate_submission(form, {"Name": 1})] == ["pattern"]


def _load_file(tmp_path: Path, form: dict[str, Any]) -> tuple[list[Any], list[str]]:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(form, indent=2, ensure_ascii=False), "utf-8")
    with pytest.raises(FormDefinitionError) as caught:
        load_form(path, name="bad.json")
    return caught.value.errors, path.read_text("utf-8").splitlines()


def test_a_pattern_that_cannot_be_run_is_refused_when_the_form_loads_with_its_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    [error], lines = _load_file(tmp_path, _name_form("^(unclosed$"))
    assert error.pointer == "/schema/properties/name/pattern"
    assert error.message.startswith(
        "the pattern '^(unclosed$' is not a regular expression that can be run: ")
    assert '"pattern": "^(unclosed$"' in lines[error.line - 1]


def test_a_property_name_pattern_re_cannot_run_is_refused_when_the_form_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    form = _form({"type": "object", "patternProperties": {r"^\p{L}+$": {"type": "string"}},
                  "additionalProperties": False})
    [error], lines = _load_file(tmp_path, form)
    assert error.pointer == "/schema/patternProperties/^\\p{L}+$"
    assert "can't be run" in error.message
    assert r'"^\\p{L}+$"' in lines[error.line - 1]


def test_a_pattern_too_slow_for_an_answer_refuses_the_answer_instead_of_holding_the_worker(
        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(schema_patterns, "MATCH_SECONDS", 0.02)
    form = load_form(_name_form(r"^(a|aa)+$"), name="slow.json")
    assert [e.code for e in validate_submission(form, {"name": "a" * 30000 + "!"})] == [
        "pattern"]


SCOPED = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.com/forms/root.json",
    "type": "object",
    "$defs": {"decoy": {"$id": "https://example.com/forms/name.json", "type": "string",
                        "title": "Wrong name"}},
    "properties": {
        "person": {
            "$id": "https://example.com/people/person.json",
            "type": "object", "title": "Person",
            "properties": {"name": {"$ref": "name.json"}},
            "$defs": {"name": {"$id": "https://example.com/people/name.json", "type": "string",
                               "title": "Person's name", "minLength": 2}},
        },
    },
}


def test_a_ref_under_a_sub_schema_with_its_own_id_resolves_against_that_id() -> None:
    form = load_form(_form(SCOPED), name="scoped.json")
    assert form.field("person.name").label == {"zh": "Person's name"}
    assert [(e.path, e.code) for e in validate_submission(form, {"person": {"name": "x"}})] == [
        ("person.name", "minLength")]


def test_a_null_answer_for_a_non_object_root_is_not_turned_into_an_empty_object() -> None:
    form = load_form(_form({"type": ["string", "null"], "title": "备注"}), name="null.json")
    assert evaluate(form, None).answers is None
    assert validate_submission(form, None) == []
    strict = load_form(_form({"type": "string", "title": "备注"}), name="strict.json")
    assert [e.code for e in validate_submission(strict, None)] == ["type"]


SAMPLES = [("rjsf", p) for p in sorted((CORPUS / "rjsf").glob("*.json"))] + [
    ("jsonforms", p) for p in sorted((CORPUS / "jsonforms").glob("*.json"))]
ODD_VALUES: list[Any] = [None, "", "\\p{L}", 0, -1.5, True, [], [None], {}, {"x": None}]


def _odd_answers(data: Any) -> list[Any]:
    """The sample's own answers, odd values in place of the whole, and of each answer in it."""
    found = [data, *ODD_VALUES]
    if isinstance(data, dict):
        for key in data:
            found += [{**data, key: odd} for odd in ODD_VALUES]
    return found


def test_no_answer_to_any_corpus_form_makes_validation_raise() -> None:
    assert len(SAMPLES) >= 115
    checked = 0
    for kind, path in SAMPLES:
        sample = load_sample(path)
        converted = from_rjsf(sample) if kind == "rjsf" else from_jsonforms(sample)
        form = compile_sample(converted, f"{kind}/{path.name}")
        data = sample.get("formData") if kind == "rjsf" else sample.get("data")
        for answers in _odd_answers(data):
            try:
                validate_submission(form, answers)
            except Exception as exc:  # noqa: BLE001 - the point is that nothing escapes
                pytest.fail(f"{kind}/{path.name} with {answers!r}: {exc!r}")
            checked += 1
    assert checked > 1000
