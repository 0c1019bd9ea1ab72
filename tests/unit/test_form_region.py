"""The region picker: three lists preselected from the answer, read back as the deepest code."""

from __future__ import annotations

import re

import pytest
from flask import current_app
from forms_fixtures.app import forms_ctx  # noqa: F401 - fixture

from tongban.forms.coerce import coerce_page, region_action
from tongban.forms.definition import load_form
from tongban.forms.errors import FieldError, message
from tongban.forms.overview import check_answers_rows
from tongban.forms.render import render_page
from tongban.forms.state import validate_page

REGION = {"type": "string", "format": "cn-region"}


@pytest.fixture(scope="module")
def form():
    return load_form({
        "title": {"zh": "地点", "en": "Place"},
        "schema": {"type": "object", "properties": {
            "place": {"type": "object", "required": ["region"],
                      "properties": {"region": REGION, "address": {"type": "string"}}},
            "registered": {**REGION, "readOnly": True},
        }},
        "ui": {"fields": {
            "place.region": {"label": {"zh": "所在区域", "en": "District"}, "widget": "region",
                             "hint": {"zh": "选择到区县", "en": "Down to the district"}},
            "registered": {"label": {"zh": "户籍地", "en": "Registered in"}},
        }},
    }, name="region.json")


def _page(form, answers, errors=(), raw=None) -> str:  # type: ignore[no-untyped-def]
    return render_page(form, form.pages[0].id, answers, errors, lang="en",
                       urls={"action": "/p", "regions": "/regions"}, raw=raw,
                       csrf_token="token", templates=current_app.jinja_env)


def _select(html: str, level: str) -> str:
    match = re.search(rf'<select [^>]*name="place.region:{level}".*?</select>', html, re.S)
    assert match, f"no {level} list"
    return match.group(0)


def _selected(select: str) -> str | None:
    match = re.search(r'<option value="(\d*)" selected>', select)
    return match.group(1) if match else None


def _post(form, data, previous=None):  # type: ignore[no-untyped-def]
    return coerce_page(form, form.pages[0].id, data, previous)


def test_the_picker_is_a_fieldset_of_three_labelled_lists_preselected_from_the_answer(
        forms_ctx, form) -> None:  # noqa: F811
    html = _page(form, {"place": {"region": "310104"}})
    assert re.search(r'<fieldset class="tb-fieldset tb-region" aria-describedby="f-place-region-hint">'
                     r'\s*<legend class="tb-fieldset__legend">District', html)
    for level, element_id, label in [("province", "f-place-region", "Province"),
                                     ("city", "f-place-region-city", "City"),
                                     ("district", "f-place-region-district", "District or county")]:
        assert f'<label class="tb-label" for="{element_id}">{label}</label>' in html
        assert f'id="{element_id}" name="place.region:{level}"' in html
    assert _selected(_select(html, "province")) == "310000"
    assert _selected(_select(html, "city")) == "310100"
    district = _select(html, "district")
    assert _selected(district) == "310104" and ">徐汇区</option>" in district
    assert "浦东新区" in district and "南京市" not in html


def test_lower_lists_are_empty_and_disabled_until_the_list_above_is_chosen(forms_ctx, form) -> None:  # noqa: F811
    html = _page(form, {})
    assert _selected(_select(html, "province")) is None
    for level, waiting in [("city", "Choose a province first"), ("district", "Choose a city first")]:
        select = _select(html, level)
        assert re.search(r"\bdisabled\b", select) and "data-tb-empty" in select
        assert re.findall(r"<option", select) == ["<option"]
        assert f'<option value="">{waiting}</option>' in select


def test_a_city_without_counties_is_the_last_list(forms_ctx, form) -> None:  # noqa: F811
    html = _page(form, {"place": {"region": "441900"}})
    assert _selected(_select(html, "city")) == "441900"
    assert 'name="place.region:district"' not in html


def test_each_list_asks_for_the_lists_below_it_and_has_a_no_javascript_button(forms_ctx, form) -> None:  # noqa: F811
    html = _page(form, {})
    province = _select(html, "province")
    assert ('hx-get="/regions/__code__/children?name=place.region&amp;level=city&amp;lang=en"'
            in province)
    assert 'hx-target="#f-place-region-below-province"' in province
    assert 'id="f-place-region-below-province"' in html and 'id="f-place-region-below-city"' in html
    assert "hx-get" not in _select(html, "district")
    assert re.search(r'<button type="submit" name="action" value="region:place.region" '
                     r'class="[^"]*tb-region__next"[^>]*>Choose the next level'
                     r'<span class="tb-visually-hidden"> District</span>', html)


def test_an_error_marks_the_first_list_left_to_choose_and_the_summary_links_to_it(
        forms_ctx, form) -> None:  # noqa: F811
    error = FieldError("place.region", "place.region", "region_missing", {"level": "district"})
    raw = {"place.region:province": ["320000"], "place.region:city": ["320100"]}
    html = _page(form, {}, [error], raw)
    text = "Select the district or county for district"
    assert f'<a href="#f-place-region-district">{text}</a>' in html
    assert 'aria-describedby="f-place-region-hint f-place-region-error"' in html
    assert re.search(r'class="tb-select tb-region__select tb-select--error" '
                     r'id="f-place-region-district"[^>]*aria-invalid="true"', html)
    assert 'aria-invalid' not in _select(html, "province")
    # What was posted is shown again: Nanjing's districts, waiting for a choice.
    assert _selected(_select(html, "city")) == "320100" and "玄武区" in _select(html, "district")


def test_the_answer_is_the_deepest_code_chosen(forms_ctx, form) -> None:  # noqa: F811
    result = _post(form, {"place.region:province": "320000", "place.region:city": "320100",
                          "place.region:district": "320102"})
    assert result.errors == [] and result.answers["place"] == {"region": "320102"}
    leaf = _post(form, {"place.region:province": "440000", "place.region:city": "441900"})
    assert leaf.errors == [] and leaf.answers["place"]["region"] == "441900"
    hong_kong = _post(form, {"place.region:province": "810000"})
    assert hong_kong.errors == [] and hong_kong.answers["place"]["region"] == "810000"


@pytest.mark.parametrize(("posted", "expected"), [
    ({"province": "320000"}, "Select the city for district"),
    ({"province": "320000", "city": "320100"}, "Select the district or county for district"),
    ({"province": "", "city": "320100"}, "Select the province for district"),
    ({"province": "320000", "city": "330100"},
     "The city you chose for district is not in the province you chose. Select the city again"),
    ({"province": "320000", "city": "320100", "district": "330102"},
     "The district or county you chose for district is not in the city you chose. Select it again"),
    ({"province": "320000", "city": "320100", "district": "320103"},
     "The place you chose for district is not a current region. Select it again"),
    ({"province": "320100"}, "Select the province for district from the list"),
])
def test_an_incomplete_or_mismatched_choice_is_refused_and_not_stored(
        forms_ctx, form, posted, expected) -> None:  # noqa: F811
    data = {f"place.region:{level}": code for level, code in posted.items()}
    result = _post(form, data, previous={"place": {"region": "310104"}})
    assert [message(e, form, "en") for e in result.errors] == [expected]
    assert "region" not in result.answers.get("place", {})


def test_nothing_chosen_is_no_answer_and_the_schema_asks_for_one(forms_ctx, form) -> None:  # noqa: F811
    result = _post(form, {"place.region:province": "", "place.region:city": "",
                          "place.address": "中山路 1 号"})
    assert result.errors == [] and result.answers["place"] == {"address": "中山路 1 号"}
    errors = validate_page(form, form.pages[0].id, result.answers)
    assert [message(e, form, "en") for e in errors] == ["Select district"]


def test_a_plain_code_is_still_accepted_and_checked_by_the_format(forms_ctx, form) -> None:  # noqa: F811
    result = _post(form, {"place.region": " 310104 "})
    assert result.errors == [] and result.answers["place"] == {"region": "310104"}
    unknown = _post(form, {"place.region": "999999"})
    errors = validate_page(form, form.pages[0].id, unknown.answers)
    assert [(e.path, e.code) for e in errors] == [("place.region", "format")]
    html = _page(form, unknown.answers, errors, unknown.raw)
    assert "The region code is not known." in html
    assert _selected(_select(html, "province")) is None


def test_the_next_level_button_names_its_picker(form) -> None:
    assert region_action(form, "region:place.region") == "place.region"
    assert region_action(form, "region:registered") is None  # read-only: no picker
    assert region_action(form, "region:nowhere") is None
    assert region_action(form, "continue") is None and region_action(form, None) is None


@pytest.mark.parametrize(("code", "shown"), [
    ("310104", "上海市 徐汇区"),
    ("320102", "江苏省 南京市 玄武区"),
    ("441900", "广东省 东莞市"),
    ("429004", "湖北省 仙桃市"),
    ("810000", "香港特别行政区"),
    ("320103", "320103"),  # no longer current: the code as it was given
])
def test_check_answers_show_the_names_of_the_region(forms_ctx, form, code, shown) -> None:  # noqa: F811
    rows = check_answers_rows(form, {"place": {"region": code}, "registered": code}, "en")
    values = {row["path"]: row["value"] for section in rows for row in section["rows"]}
    assert values["place.region"] == shown
    assert values["registered"] == shown


def test_a_read_only_region_shows_its_names(forms_ctx, form) -> None:  # noqa: F811
    html = _page(form, {"registered": "110101"})
    assert re.search(r'class="tb-readonly__value" id="f-registered"[^>]*>北京市 东城区</p>', html)
