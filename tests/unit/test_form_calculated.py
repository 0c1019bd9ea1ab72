"""Calculated answers: never made from a refused answer; on check answers linked to the one
question they are calculated from, or not linked at all."""

from __future__ import annotations

import pytest
from flask import current_app
from forms_fixtures.app import forms_ctx  # noqa: F401 - fixtures

from tongban.forms.definition import load_form
from tongban.forms.overview import check_answers_rows, render_check_answers
from tongban.forms.state import calculated_from, evaluate


@pytest.fixture(scope="module")
def form():
    return load_form({
        "title": {"zh": "计算", "en": "Calculations"},
        "schema": {"type": "object", "properties": {
            "id_number": {"type": "string", "title": "身份证号"},
            "rent": {"type": "number", "title": "月租金"},
            "months": {"type": "integer", "title": "月数"},
            "office": {"type": "string", "title": "受理机构", "const": "市民中心"},
            "birth_year": {"type": "string", "title": "出生年份", "readOnly": True},
            "age_note": {"type": "string", "title": "出生年份说明", "readOnly": True},
            "total": {"type": "number", "title": "租金合计", "readOnly": True},
            "office_copy": {"type": "string", "title": "受理机构（抄录）", "readOnly": True},
            "fixed": {"type": "integer", "title": "固定值", "readOnly": True},
        }},
        "ui": {
            "fields": {"birth_year": {"label": {"zh": "出生年份", "en": "Year of birth"}},
                       "total": {"label": {"zh": "租金合计", "en": "Total rent"}}},
            "pages": [
                {"id": "you", "title": {"zh": "您", "en": "You"},
                 "fields": ["id_number", "birth_year", "age_note"]},
                {"id": "rent", "title": {"zh": "租金", "en": "Rent"},
                 "fields": ["rent", "months", "total", "office", "office_copy", "fixed"]},
            ],
        },
        "logic": [
            {"id": "year", "set": "birth_year", "value": {"substr": [{"var": "id_number"}, 6, 4]}},
            {"id": "note", "set": "age_note", "value": {"cat": ["生于", {"var": "birth_year"}]}},
            {"id": "total", "set": "total",
             "value": {"*": [{"var": ["rent", 0]}, {"var": ["months", 0]}]}},
            {"id": "copy", "set": "office_copy", "value": {"var": "office"}},
            {"id": "fixed", "set": "fixed", "value": 42},
        ],
    }, name="calculated.json")


ANSWERS = {"id_number": "110105199003071239", "rent": 2000, "months": 12, "office": "市民中心"}


def test_a_value_is_not_calculated_from_a_refused_answer(form) -> None:
    assert calculated_from(form, []) == set()
    # Through another calculated answer too (the note is made from the birth year).
    assert calculated_from(form, ["id_number"]) == {"birth_year", "age_note"}
    assert calculated_from(form, ["months"]) == {"total"}
    answers = evaluate(form, ANSWERS).answers
    assert (answers["birth_year"], answers["age_note"], answers["total"]) == ("1990", "生于1990",
                                                                              24000)
    refused = evaluate(form, {**ANSWERS, "birth_year": "stale"}, failed=["id_number"])
    assert "birth_year" not in refused.answers and "age_note" not in refused.answers
    assert refused.calculated["birth_year"] is None
    assert refused.answers["total"] == 24000  # made only from accepted answers


def test_a_calculated_row_links_to_the_one_question_it_is_made_from(forms_ctx, form) -> None:  # noqa: F811
    rows = {r["key"]: r for s in check_answers_rows(form, evaluate(form, ANSWERS).answers, "en")
            for r in s["rows"]}
    assert (rows["birth_year"]["change_page"], rows["birth_year"]["change_id"]) == (
        "you", "f-id_number")
    assert rows["birth_year"]["calculated"] and not rows["id_number"]["calculated"]
    # Through another calculated answer: the note is made from the birth year, made from the ID.
    assert rows["age_note"]["change_id"] == "f-id_number"
    assert (rows["rent"]["change_page"], rows["rent"]["change_id"]) == ("rent", "f-rent")


@pytest.mark.parametrize("key", ["total", "office_copy", "fixed", "office"],
                         ids=["two sources", "source cannot be edited", "no source", "constant"])
def test_a_row_that_cannot_be_changed_has_no_change_link(forms_ctx, form, key) -> None:  # noqa: F811
    rows = {r["key"]: r for s in check_answers_rows(form, ANSWERS, "en") for r in s["rows"]}
    assert (rows[key]["change_page"], rows[key]["change_id"]) == (None, None)
    html = render_check_answers(form, ANSWERS, lang="en", urls={"change": "/apply/{page}"},
                                templates=current_app.jinja_env)
    label = rows[key]["label"]
    row_html = html.split(f">{label}</dt>")[1].split("</div>")[0]
    assert "<a " not in row_html and "tb-summary-list__actions" not in row_html
    assert f'<div class="tb-summary-list__row tb-summary-list__row--no-actions">\n<dt class=' \
        f'"tb-summary-list__key">{label}</dt>' in html


def test_check_answers_change_links_name_their_row(forms_ctx, form) -> None:  # noqa: F811
    html = render_check_answers(form, ANSWERS, lang="en", urls={"change": "/apply/{page}"},
                                templates=current_app.jinja_env)
    assert ('<a href="/apply/you#f-id_number">Change<span class="tb-visually-hidden"> '
            'Year of birth</span></a>') in html
    assert '<a href="/apply/rent#f-rent">Change' in html
    assert "#f-birth_year" not in html and "#f-total" not in html
