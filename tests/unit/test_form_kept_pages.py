"""A page no answer and no error shows is drawn once and kept (render._blank_pages): what a
visitor gets from it is exactly the page drawn afresh, with their own URLs and CSRF token."""

from __future__ import annotations

import json
import re

import pytest
from flask import current_app
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
                first = render_page(form, page.id, answers, lang=lang,
                                    csrf_token="token", urls=_urls("T1"), templates=current_app.jinja_env)
                kept = render_page(form, page.id, answers, lang=lang,
                                   csrf_token="token", urls=_urls("T1"), templates=current_app.jinja_env)
                render._blank_page_caches.clear()
                fresh = render_page(form, page.id, answers, lang=lang,
                                    csrf_token="token", urls=_urls("T1"), templates=current_app.jinja_env)
                assert first == kept == fresh, (code, answers, lang, page.id)


def test_each_draft_gets_its_own_urls_and_token_from_a_kept_page(forms_ctx) -> None:  # noqa: F811
    form = _form("urban-event-report")
    one = render_page(form, "location", {}, lang="zh", csrf_token="token-one",
                      urls=_urls("DraftOne"), templates=current_app.jinja_env)
    two = render_page(form, "location", {}, lang="zh", csrf_token="token-two",
                      urls=_urls("DraftTwo"), templates=current_app.jinja_env)
    assert len(render._blank_pages(form)) >= 1  # the second came from the kept page
    assert "DraftOne" in one and "DraftOne" not in two
    assert two.count("/apply/DraftTwo/") == one.count("/apply/DraftOne/") > 0
    assert 'name="csrf_token" value="token-one"' in one
    assert 'name="csrf_token" value="token-two"' in two
    assert "tbslot" not in two


def test_a_page_without_a_back_link_is_not_given_one_by_a_kept_page(forms_ctx) -> None:  # noqa: F811
    form = _form("urban-event-report")
    with_back = render_page(form, "location", {}, lang="zh",
                            csrf_token="token", urls=_urls("T"), templates=current_app.jinja_env)
    without = render_page(form, "location", {}, lang="zh",
                          urls={**_urls("T"), "back": ""},
                          csrf_token="token", templates=current_app.jinja_env)
    assert 'class="tb-back-link"' in with_back and 'class="tb-back-link"' not in without


def test_answers_and_errors_are_never_kept(forms_ctx) -> None:  # noqa: F811
    form = _form("urban-event-report")
    render._blank_page_caches.clear()
    answers = {"location": {"address": "漕溪北路 100 号门口"}}
    html = render_page(form, "location", answers, lang="zh",
                       csrf_token="token", urls=_urls("T"), templates=current_app.jinja_env)
    assert "漕溪北路 100 号门口" in html
    error = FieldError("location.address", "location.address", "required", {})
    render_page(form, "location", {}, [error], lang="zh",
                csrf_token="token", urls=_urls("T"), templates=current_app.jinja_env)
    assert len(render._blank_pages(form)) == 0
    render_page(form, "location", {}, lang="zh",
                csrf_token="token", urls=_urls("T"), templates=current_app.jinja_env)
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
        kept = render_page(form, "b", answers, lang="en",
                           csrf_token="token", urls=_urls("T"), templates=current_app.jinja_env)
        render._blank_page_caches.clear()
        assert kept == render_page(form, "b", answers, lang="en",
                                   csrf_token="token", urls=_urls("T"), templates=current_app.jinja_env)
        pages[kind] = render_page(form, "b", answers, lang="en",
                                  csrf_token="token", urls=_urls("T"), templates=current_app.jinja_env)
    assert re.search(r'id="f-detail-group"[^>]* hidden', pages[None])
    assert not re.search(r'id="f-detail-group"[^>]* hidden', pages["x"])
    assert "(optional)" in pages["x"].split('id="f-other-group"')[1]
    assert "(optional)" not in pages["y"].split('id="f-other-group"')[1]
    assert len(render._blank_pages(form)) == 1  # the last one drawn, kept


def _node(form, **changes):  # type: ignore[no-untyped-def]
    fld = form.fields["location.address"][0]
    node = render.Node(field=fld, widget="text", path="location.address",
                       name="location.address", id="f-location-address", label="地址")
    for name, value in changes.items():
        setattr(node, name, value)
    return node


# A value of each field that carries an answer, as a page showing that answer holds it.
ANSWERS = {
    "value": "漕溪北路 100 号", "parts": {"year": "2025", "month": "", "day": ""},
    "options": [render.OptionView("a", "甲", "", True, "f-a")], "error": "请填写",
    "display": "2025年12月15日", "region": (("310000", "310100"), "/regions", "zh"),
    # the applicant's stored materials a file question offers (issue 16): theirs alone
    "offers": [render.OptionView("m1", "使用您于 2026-09-03 提交的材料", "C级", True, "f-m1")],
}


def test_every_field_of_a_node_is_an_answer_a_nested_node_made_from_others_or_in_the_shape(
        forms_ctx) -> None:  # noqa: F811
    """Issue 10: the blank-page key is derived from Node's fields, so none is forgotten."""
    import dataclasses

    form = _form("urban-event-report")
    base = render._blank_shape([_node(form)])
    assert base is not None
    assert set(ANSWERS) == set(render._ANSWER_TESTS)
    assert render._DERIVED_FIELDS == {"levels"}  # made from region, name, id and error
    for fld in dataclasses.fields(render.Node):
        if fld.name in ANSWERS:  # an answer shown: the page is drawn for this request only
            assert render._blank_shape([_node(form, **{fld.name: ANSWERS[fld.name]})]) is None
        elif fld.name in ("children", "items"):  # nested questions are part of the shape
            child = _node(form, path="location.address.0")
            assert render._blank_shape([_node(form, **{fld.name: [child]})]) != base
        elif fld.name not in render._DERIVED_FIELDS:  # anything else: another kept page
            changed = render._blank_shape([_node(form, **{fld.name: object()})])
            assert changed is not None and changed != base, fld.name


def test_a_field_added_to_a_node_becomes_part_of_the_blank_page_shape(forms_ctx) -> None:  # noqa: F811
    import dataclasses

    form = _form("urban-event-report")
    with_note = dataclasses.make_dataclass(
        "NodeWithNote", [("note", str, dataclasses.field(default=""))], bases=(render.Node,))
    nodes = []
    for note in ("张三的备注", "李四的备注"):
        node = with_note(field=form.fields["location.address"][0], widget="text",
                         path="location.address", name="location.address",
                         id="f-location-address", label="地址")
        node.note = note
        nodes.append(node)
    one, two = (render._blank_shape([node]) for node in nodes)
    assert one is not None and two is not None and one != two


def test_the_add_another_button_names_the_item_in_a_sentence(forms_ctx) -> None:  # noqa: F811
    """English headings say "Family member 1"; the button says "Add another family member"
    (no capital mid-sentence). Chinese has no capitals to drop."""
    form = _form("household-transfer")
    answers = {"transfer": {"with_family": True}}
    english = render_page(form, "members", answers, lang="en", csrf_token="t", urls=_urls("T1"),
                          templates=current_app.jinja_env)
    assert "Add another family member" in english
    assert "Family member 1" in english
    chinese = render_page(form, "members", answers, lang="zh", csrf_token="t", urls=_urls("T1"),
                          templates=current_app.jinja_env)
    assert "家庭成员 1" in chinese
