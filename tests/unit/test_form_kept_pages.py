"""A page no answer and no error shows is drawn once and kept (render._blank_pages): what a
visitor gets from it is exactly the page drawn afresh, with their own URLs and CSRF token."""

from __future__ import annotations

import json
import re

import pytest
from flask_wtf.csrf import generate_csrf
from forms_fixtures.app import forms_ctx  # noqa: F401 - fixture

from tongban import PROJECT_ROOT
from tongban.forms import render
from tongban.forms.definition import load_form
from tongban.forms.errors import FieldError
from tongban.forms.render import render_page

# Answers that change what other pages show (rules and schema branches reading them).
STATES = {
    "residence-points": [{}, {"qualification": {"kind": "skill"}},
                         {"qualification": {"kind": "title"}}, {"applicant": {"id_number": "x"}}],
    "urban-event-report": [{}, {"event": {"category": "facilities"}},
                           {"reporter": {"anonymous": True}}],
    "household-transfer": [{}, {"move": {"reason": "marriage"}}],
}


def _form(code: str):  # type: ignore[no-untyped-def]
    path = PROJECT_ROOT / "form_definitions" / f"{code}.json"
    return load_form(json.loads(path.read_text("utf-8")), name=path.name)


def _urls(token: str) -> dict[str, str]:
    return {"action": f"/apply/{token}/pages/p", "validate": f"/apply/{token}/pages/p/field",
            "back": f"/apply/{token}/pages/q", "save": f"/apply/{token}/pages/p",
            "regions": "/regions"}


@pytest.mark.parametrize("code", sorted(STATES))
def test_a_kept_page_is_the_page_drawn_afresh(forms_ctx, code: str) -> None:  # noqa: F811
    form = _form(code)
    for answers in STATES[code]:
        for lang in ("zh", "en"):
            for page in form.pages:
                first = render_page(form, page.id, answers, lang=lang, urls=_urls("T1"))
                kept = render_page(form, page.id, answers, lang=lang, urls=_urls("T1"))
                render._blank_page_caches.clear()
                fresh = render_page(form, page.id, answers, lang=lang, urls=_urls("T1"))
                assert first == kept == fresh, (code, answers, lang, page.id)


def test_each_draft_gets_its_own_urls_and_token_from_a_kept_page(forms_ctx) -> None:  # noqa: F811
    form = _form("urban-event-report")
    one = render_page(form, "location", {}, lang="zh", urls=_urls("DraftOne"))
    two = render_page(form, "location", {}, lang="zh", urls=_urls("DraftTwo"))
    assert len(render._blank_pages(form)) >= 1  # the second came from the kept page
    assert "DraftOne" in one and "DraftOne" not in two
    assert two.count("/apply/DraftTwo/") == one.count("/apply/DraftOne/") > 0
    assert f'name="csrf_token" value="{generate_csrf()}"' in two
    assert "tbslot" not in two


def test_a_page_without_a_back_link_is_not_given_one_by_a_kept_page(forms_ctx) -> None:  # noqa: F811
    form = _form("urban-event-report")
    with_back = render_page(form, "location", {}, lang="zh", urls=_urls("T"))
    without = render_page(form, "location", {}, lang="zh",
                          urls={**_urls("T"), "back": ""})
    assert 'class="tb-back-link"' in with_back and 'class="tb-back-link"' not in without


def test_answers_and_errors_are_never_kept(forms_ctx) -> None:  # noqa: F811
    form = _form("urban-event-report")
    render._blank_page_caches.clear()
    answers = {"location": {"address": "漕溪北路 100 号门口"}}
    html = render_page(form, "location", answers, lang="zh", urls=_urls("T"))
    assert "漕溪北路 100 号门口" in html
    error = FieldError("location.address", "location.address", "required", {})
    render_page(form, "location", {}, [error], lang="zh", urls=_urls("T"))
    assert len(render._blank_pages(form)) == 0
    render_page(form, "location", {}, lang="zh", urls=_urls("T"))
    assert len(render._blank_pages(form)) == 1
    kept = render._blank_pages(form)._items.values()  # noqa: SLF001 - what is held
    assert not any(re.search("漕溪北路|tb-error-message", part)
                   for fragment in kept for part in fragment._parts)  # noqa: SLF001


def test_answers_on_other_pages_that_change_a_page_give_it_another_kept_copy(
        forms_ctx) -> None:  # noqa: F811
    form = load_form({
        "title": {"zh": "测试", "en": "Test"},
        "schema": {"type": "object", "properties": {
            "kind": {"enum": ["x", "y"]}, "detail": {"type": "string"},
            "other": {"type": "string"}}},
        "ui": {"pages": [{"id": "a", "title": {"zh": "甲", "en": "A"}, "fields": ["kind"]},
                         {"id": "b", "title": {"zh": "乙", "en": "B"}, "fields": ["detail", "other"]}]},
        "logic": [{"id": "detail", "show": "detail", "when": {"==": [{"var": "kind"}, "x"]}},
                  {"id": "need", "require": "other", "when": {"==": [{"var": "kind"}, "y"]}}],
    }, name="cross.json")
    pages = {}
    for kind in (None, "x", "y"):
        answers = {"kind": kind} if kind else {}
        kept = render_page(form, "b", answers, lang="en", urls=_urls("T"))
        render._blank_page_caches.clear()
        assert kept == render_page(form, "b", answers, lang="en", urls=_urls("T"))
        pages[kind] = render_page(form, "b", answers, lang="en", urls=_urls("T"))
    assert re.search(r'id="f-detail-group"[^>]* hidden', pages[None])
    assert not re.search(r'id="f-detail-group"[^>]* hidden', pages["x"])
    assert "(optional)" in pages["x"].split('id="f-other-group"')[1]
    assert "(optional)" not in pages["y"].split('id="f-other-group"')[1]
    assert len(render._blank_pages(form)) == 1  # the last one drawn, kept
