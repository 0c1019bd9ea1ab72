"""The /regions lists for the region picker, and the picker's journey without JavaScript."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tongban.models import Draft

from .journey import Journey, errors_in

EVENT = {"event.category": "facilities", "event.facility_kind": "manhole",
         "event.description": "人行道上的窨井盖缺失，有人险些踩空。"}
ADDRESS = "中山路 1 号门口"
NEXT_LEVEL = "region:location.region"


def _draft(session, journey: Journey) -> Draft:  # type: ignore[no-untyped-def]
    session.rollback()  # end the read transaction, or a second look sees the first snapshot
    return session.scalars(select(Draft).where(Draft.token == journey.token)).one()


def _select(html: str, level: str) -> str:
    match = re.search(rf'<select [^>]*name="location.region:{level}".*?</select>', html, re.S)
    assert match, f"no {level} list in {html[:3000]}"
    return match.group(0)


def _selected(select_html: str) -> str | None:
    match = re.search(r'<option value="(\d*)" selected>', select_html)
    return match.group(1) if match else None


def _location_journey(client) -> Journey:  # type: ignore[no-untyped-def]
    journey = Journey(client, "urban-event-report")
    assert journey.post("event", EVENT).status_code == 302
    return journey


def test_the_provinces_are_public_cacheable_options(demo, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/regions")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.startswith('<option value="">请选择</option>')
    assert '<option value="310000">上海市</option>' in html and "徐汇区" not in html
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    again = client.get("/regions", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_children_of_a_province_come_as_the_lists_below_it(demo, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/regions/320000/children?name=location.region&level=city")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    html = response.get_data(as_text=True)
    city = _select(html, "city")
    assert 'id="f-location-region-city"' in city and '<option value="320100">南京市</option>' in city
    assert 'hx-get="/regions/__code__/children?name=location.region&amp;level=district&amp;lang=zh"' \
        in city
    assert '<label class="tb-label" for="f-location-region-city">城市</label>' in html
    district = _select(html, "district")
    assert "disabled" in district and '<option value="">请先选择城市</option>' in district
    assert 'name="location.region:province"' not in html
    assert html.count('id="f-location-region-below-city"') == 1


def test_the_children_of_a_city_are_its_districts(demo, client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/regions/320100/children?name=location.region&level=district"
                      "&lang=en").get_data(as_text=True)
    district = _select(html, "district")
    assert '<option value="320102">玄武区</option>' in district and "hx-get" not in district
    assert ">District or county</label>" in html
    assert "<option" in client.get("/regions/320100/children").get_data(as_text=True)


def test_a_municipality_chooses_its_only_city_for_the_person(demo, client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/regions/110000/children?name=location.region&level=city").get_data(
        as_text=True)
    assert _selected(_select(html, "city")) == "110100"
    assert '<option value="110101">东城区</option>' in _select(html, "district")


def test_a_city_without_counties_has_nothing_below_it(demo, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/regions/441900/children?name=location.region&level=district")
    assert response.status_code == 200 and response.get_data(as_text=True).strip() == ""


@pytest.mark.parametrize(("url", "status"), [
    ("/regions/999999/children", 404),                         # no such region
    ("/regions/320103/children", 404),                         # no longer current
    ("/regions/320102/children", 404),                         # a county has nothing below it
    ("/regions/320000/children?level=district", 404),           # a province's children are cities
    ("/regions/320000/children?name=a%22b", 400),
    ("/regions/320000/children?name=location.region&id=x%3Cy", 400),
])
def test_bad_region_requests_are_refused(demo, client, url, status) -> None:  # type: ignore[no-untyped-def]
    assert client.get(url).status_code == status


def test_the_page_offers_the_picker_and_the_next_level_button(demo, client) -> None:  # type: ignore[no-untyped-def]
    journey = _location_journey(client)
    html = client.get(journey.url("location")).get_data(as_text=True)
    assert '<legend class="tb-fieldset__legend">所在区域</legend>' in html
    assert "disabled" in _select(html, "city")
    assert 'hx-get="/regions/__code__/children?name=location.region&amp;level=city' in html
    assert re.search(rf'<button type="submit" name="action" value="{NEXT_LEVEL}"[^>]*>选择下一级',
                     html)


def test_without_javascript_next_level_posts_keep_answers_and_end_with_a_district(
        demo, client, session) -> None:  # type: ignore[no-untyped-def]
    journey = _location_journey(client)

    response = journey.post("location", {"location.region:province": "320000",
                                         "location.address": ADDRESS, "action": NEXT_LEVEL})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and errors_in(html) == []
    assert "tb-error-summary" not in html
    assert f'value="{ADDRESS}"' in html
    assert _selected(_select(html, "province")) == "320000"
    assert '<option value="320100">南京市</option>' in _select(html, "city")
    assert "disabled" in _select(html, "district")
    assert _draft(session, journey).answers["location"] == {"address": ADDRESS}

    response = journey.post("location", {"location.region:province": "320000",
                                         "location.region:city": "320100",
                                         "location.address": ADDRESS, "action": NEXT_LEVEL})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and errors_in(html) == []
    assert _selected(_select(html, "city")) == "320100"
    assert '<option value="320102">玄武区</option>' in _select(html, "district")

    response = journey.post("location", {"location.region:province": "320000",
                                         "location.region:city": "320100",
                                         "location.region:district": "320102",
                                         "location.address": ADDRESS, "action": "continue"})
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    assert response.headers["Location"] == journey.url("photos")
    assert _draft(session, journey).answers["location"] == {"region": "320102", "address": ADDRESS}
    check = client.get(f"/apply/{journey.token}/check").get_data(as_text=True)
    assert "江苏省 南京市 玄武区" in check and "320102" not in check


def test_a_changed_province_starts_its_lists_again(demo, client) -> None:  # type: ignore[no-untyped-def]
    journey = _location_journey(client)
    response = journey.post("location", {"location.region:province": "330000",
                                         "location.region:city": "320100",
                                         "location.region:district": "320102",
                                         "action": NEXT_LEVEL})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and errors_in(html) == []
    assert _selected(_select(html, "province")) == "330000"
    city = _select(html, "city")
    assert _selected(city) is None and '<option value="330100">杭州市</option>' in city
    assert "disabled" in _select(html, "district")


def test_continuing_without_a_district_says_what_to_choose(demo, client, session) -> None:  # type: ignore[no-untyped-def]
    journey = _location_journey(client)
    journey.post("location", {"location.region": "310104", "location.address": ADDRESS})
    response = journey.post("location", {"location.region:province": "320000",
                                         "location.region:city": "320100",
                                         "location.address": ADDRESS})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors_in(html) == ["请选择所在区域的区县"]
    assert '<a href="#f-location-region-district">请选择所在区域的区县</a>' in html
    assert _selected(_select(html, "city")) == "320100"
    assert _draft(session, journey).answers["location"] == {"address": ADDRESS}


def test_a_district_of_another_city_is_refused(demo, client, session) -> None:  # type: ignore[no-untyped-def]
    journey = _location_journey(client)
    response = journey.post("location", {"location.region:province": "320000",
                                         "location.region:city": "320100",
                                         "location.region:district": "310104",
                                         "location.address": ADDRESS})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == [
        "所在区域所选区县不属于所选城市，请重新选择区县"]
    assert "region" not in _draft(session, journey).answers["location"]


def test_a_plain_code_still_works_for_clients_without_the_lists(demo, client, session) -> None:  # type: ignore[no-untyped-def]
    journey = _location_journey(client)
    response = journey.post("location", {"location.region": "310104",
                                         "location.address": ADDRESS})
    assert response.status_code == 302
    assert _draft(session, journey).answers["location"]["region"] == "310104"
    html = client.get(journey.url("location")).get_data(as_text=True)
    assert _selected(_select(html, "district")) == "310104"
    refused = journey.post("location", {"location.region": "12345", "location.address": ADDRESS})
    assert refused.status_code == 422
    assert errors_in(refused.get_data(as_text=True)) == ["请输入6位数字的行政区划代码。"]
