"""Calculated answers (a `set` rule) through the journey: never made from a refused answer, and
on check answers linked to the question they are calculated from."""

from __future__ import annotations

import re

from sqlalchemy import select

from tongban.models import Draft

from .journey import RESIDENCE_PAGES, Journey, errors_in, id_number
from .test_journey import _fill_residence

BIRTH_DATE = "1990-03-07"  # what birth-date-from-id makes of journey.VALID_ID
CHANGE_LINK = re.compile(
    r'<a href="([^"]+)">更改<span class="tb-visually-hidden">\s*([^<]+?)\s*</span></a>')


def _answers(session, journey: Journey) -> dict:  # type: ignore[no-untyped-def]
    session.rollback()  # a new transaction: SQLite would otherwise show an earlier snapshot
    return session.scalars(select(Draft).where(Draft.token == journey.token)).one().answers


def _bad_id(good: str) -> str:
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def test_a_valid_id_number_fills_in_the_birth_date_shown_and_stored(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    response = journey.post("applicant", RESIDENCE_PAGES[0][1])
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    assert _answers(session, journey)["applicant"]["birth_date"] == BIRTH_DATE
    page = journey.client.get(journey.url("applicant")).get_data(as_text=True)
    assert 'id="f-applicant-birth_date"' in page and BIRTH_DATE in page


def test_a_wrong_id_checksum_leaves_the_birth_date_empty(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    good = dict(RESIDENCE_PAGES[0][1])
    bad_id = _bad_id(good["applicant.id_number"])
    response = journey.post("applicant", {**good, "applicant.id_number": bad_id})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert errors_in(page) == ["身份证号码校验位不正确，请核对最后一位。"]
    assert f'value="{bad_id}"' in page  # what was typed is shown again ...
    assert 'id="f-applicant-birth_date"' in page  # ... the question is there ...
    assert BIRTH_DATE not in page and "1990年3月7日" not in page  # ... with no birth date
    applicant = _answers(session, journey)["applicant"]
    assert "id_number" not in applicant and "birth_date" not in applicant
    assert applicant["name"] == "张三"  # the rest is kept


def test_a_refused_id_number_also_drops_the_birth_date_calculated_before(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    good = dict(RESIDENCE_PAGES[0][1])
    assert journey.post("applicant", good).status_code == 302
    assert _answers(session, journey)["applicant"]["birth_date"] == BIRTH_DATE
    other = _bad_id(id_number("31010419851120123"))  # born 1985-11-20, wrong check digit
    response = journey.post("applicant", {**good, "applicant.id_number": other})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "1985-11-20" not in page and BIRTH_DATE not in page
    assert "birth_date" not in _answers(session, journey)["applicant"]


def test_check_answers_links_the_birth_date_to_the_id_number_question(personas) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill_residence(journey)
    check = client.get(f"/apply/{journey.token}/check").get_data(as_text=True)
    links = {label: href for href, label in CHANGE_LINK.findall(check)}
    birth_date = links["申请人信息: 出生日期"]  # named by the row it is on, for screen readers
    assert birth_date == f"/apply/{journey.token}/pages/applicant?from=check#f-applicant-id_number"
    assert links["申请人信息: 居民身份证号码"] == birth_date
    assert not any(href.endswith("#f-applicant-birth_date") for href in links.values())
    assert "1990年3月7日" in check or BIRTH_DATE in check
    # The link leads to a page where the ID number can be changed.
    page = client.get(birth_date.split("#")[0]).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="f-applicant-id_number"[^>]*name="applicant.id_number"', page)
