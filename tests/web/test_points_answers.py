"""The Shanghai points rules score the residence-points answers exactly as a draft stores them,
including the dates of the record the form asks for (issue 13: the engine scores the form's
answers, not a second copy)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tongban import PROJECT_ROOT
from tongban.models import Draft
from tongban.points import evaluate
from tongban.points.files import file_rules

from .journey import RESIDENCE_PAGES, Journey, errors_in


def _answers(session, journey: Journey) -> dict:  # type: ignore[no-untyped-def,type-arg]
    session.expire_all()
    return session.scalars(select(Draft).where(Draft.token == journey.token)).one().answers


def test_the_record_page_takes_dates_and_the_rules_score_the_stored_answers(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    for page_id, data in RESIDENCE_PAGES[:-1]:
        response = journey.post(page_id, data)
        assert response.status_code == 302, (page_id, errors_in(response.get_data(as_text=True)))
    page = journey.client.get(journey.url("record")).get_data(as_text=True)
    assert "被认定提供虚假材料的日期" in page and "每次一个日期；没有则不填" in page
    response = journey.post("record", {"record.serious_crime": "false",
                                       "record.detention_dates.0": "2025-03-01",
                                       "record.detention_dates.1": "2020-03-01"})
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    answers = _answers(session, journey)
    assert answers["record"]["detention_dates"] == ["2025-03-01", "2020-03-01"]

    rules = file_rules("sh-residence-points", PROJECT_ROOT)
    scored = evaluate(rules, answers, date(2026, 12, 2))
    assert scored.indicator("detentions").points == -50  # 2020 is outside the 3-year window
    assert scored.indicator("education").points == 100  # master
    assert scored.indicator("si_years").points == 9 and scored.indicator("si_base").points == 50


def test_a_record_date_in_the_future_is_refused_and_not_kept(personas, session) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "residence-points")
    response = journey.post("record", {"record.serious_crime": "false",
                                       "record.false_material_dates.0": "2999-01-01"})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == ["被认定提供虚假材料的日期不能晚于今天"]
    assert _answers(session, journey).get("record", {}).get("false_material_dates", []) == []
