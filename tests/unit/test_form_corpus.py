"""Conformance: every rjsf and JSON Forms sample renders, and the engine's verdict on its
sample data is jsonschema's verdict."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from flask import current_app
from forms_fixtures.app import CORPUS, make_app, require_corpus
from forms_fixtures.corpus import compile_sample, from_jsonforms, from_rjsf, load_sample
from jsonschema.validators import validator_for

from tongban.forms import formats_and_rules
from tongban.forms.overview import render_check_answers
from tongban.forms.render import render_page
from tongban.forms.state import validate_submission

# Samples the engine cannot support, with the reason (also listed in docs/forms.md).
UNSUPPORTED: dict[str, str] = {}
MAX_UNSUPPORTED = 0

SAMPLES = [("rjsf", p) for p in sorted((CORPUS / "rjsf").glob("*.json"))] + [
    ("jsonforms", p) for p in sorted((CORPUS / "jsonforms").glob("*.json"))]


def test_the_shared_corpus_is_found_beside_the_repository() -> None:
    # Without it every parametrised case below would silently vanish.
    require_corpus()
    assert len(SAMPLES) > 100


def _check(kind: str, path: Path) -> tuple[bool, bool]:
    sample = load_sample(path)
    converted = from_rjsf(sample) if kind == "rjsf" else from_jsonforms(sample)
    form = compile_sample(converted, f"{kind}/{path.name}")
    data = sample["formData"] if kind == "rjsf" else sample["data"]
    errors = validate_submission(form, data)
    cls = validator_for(form.schema, default=jsonschema.Draft7Validator)
    expected = cls(form.schema, format_checker=formats_and_rules.format_checker()).is_valid(data)
    for lang in ("zh", "en"):
        for page in form.pages:
            html = render_page(form, page.id, data, errors, lang=lang,
                               urls={"action": "/a", "validate": "/v"},
                               csrf_token="token", templates=current_app.jinja_env)
            assert 'name="csrf_token"' in html
        render_check_answers(form, data, lang=lang, urls={"change": "/p/{page}"},
                             templates=current_app.jinja_env)
    return expected, not errors


def test_corpora_render_and_agree_with_jsonschema(capsys: pytest.CaptureFixture[str]) -> None:
    app = make_app()
    rendered = agreed = 0
    disagreements = []
    with app.test_request_context("/"):
        for kind, path in SAMPLES:
            name = f"{kind}/{path.name}"
            if name in UNSUPPORTED:
                continue
            expected, verdict = _check(kind, path)
            rendered += 1
            if expected == verdict:
                agreed += 1
            else:
                disagreements.append((name, expected, verdict))
    with capsys.disabled():
        print(f"\nform corpora: {len(SAMPLES)} samples, rendered {rendered}, "
              f"verdict as jsonschema {agreed}, unsupported {len(UNSUPPORTED)}")
    assert disagreements == []
    assert rendered + len(UNSUPPORTED) == len(SAMPLES)


def test_the_list_of_unsupported_samples_does_not_grow() -> None:
    assert len(UNSUPPORTED) <= MAX_UNSUPPORTED


def test_both_corpora_are_present() -> None:
    assert len([s for s in SAMPLES if s[0] == "rjsf"]) >= 44
    assert len([s for s in SAMPLES if s[0] == "jsonforms"]) >= 71


def test_a_page_is_judged_as_the_whole_form_judges_its_questions(monkeypatch) -> None:
    """Page posts are validated against the root narrowed to the page's properties
    (FormDefinition.page_validator): for every page of every corpus sample and demo form, with
    several sets of answers, the page's errors are those the whole form's validator finds."""
    import json

    from tongban import PROJECT_ROOT
    from tongban.forms.state import validate_page

    forms = []
    for kind, path in SAMPLES:
        sample = load_sample(path)
        converted = from_rjsf(sample) if kind == "rjsf" else from_jsonforms(sample)
        data = sample["formData"] if kind == "rjsf" else sample["data"]
        forms.append((compile_sample(converted, f"{kind}/{path.name}"), [data, {}]))
    from tongban.forms.definition import load_form

    for path in sorted((PROJECT_ROOT / "form_definitions").glob("*.json")):
        form = load_form(json.loads(path.read_text("utf-8")), name=path.name)
        wrong = {name: "x" for name in form.schema["properties"]}
        partial = {name: {} for name in form.schema["properties"]}
        forms.append((form, [{}, wrong, partial]))
    app = make_app()
    narrowed = compared = 0
    with app.test_request_context("/"):
        for form, answer_sets in forms:
            for page in form.pages:
                narrowed += form.page_validator(page.id) is not form.validator
                for answers in answer_sets:
                    actual = validate_page(form, page.id, answers)
                    with monkeypatch.context() as patched:
                        patched.setattr(form, "page_validator",
                                        lambda _page, whole=form.validator: whole)
                        expected = validate_page(form, page.id, answers)
                    assert actual == expected, (form.name, page.id, answers)
                    compared += 1
    assert narrowed >= 10 and compared > 250, (narrowed, compared)
