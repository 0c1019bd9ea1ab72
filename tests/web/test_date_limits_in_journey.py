"""Issue 10 §4: "when you saw it" (urban-event-report) can't be in the future, on the page, in
the inline check and at submit; "today" is the date in Asia/Shanghai."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import select

from tongban.forms import date_limits
from tongban.models import Draft

from .journey import Journey, errors_in

TODAY = datetime.date(2026, 3, 2)
EVENT = {"event.category": "facilities", "event.facility_kind": "manhole",
         "event.description": "人行道上的窨井盖缺失，有人险些踩空。"}


@pytest.fixture
def on_the_second_of_march(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(date_limits, "today", lambda now=None: TODAY)


def _day(value: datetime.date) -> dict[str, str]:
    return {"event.happened_on:year": str(value.year), "event.happened_on:month": str(value.month),
            "event.happened_on:day": str(value.day)}


def test_a_date_seen_tomorrow_is_refused_with_a_clear_message_and_nothing_saved(
        personas, session, on_the_second_of_march) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "urban-event-report")
    response = journey.post("event", {**EVENT, **_day(TODAY + datetime.timedelta(days=1))})
    assert response.status_code == 422
    assert errors_in(response.get_data(as_text=True)) == ["发现日期不能晚于今天"]
    session.expire_all()
    draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
    assert "happened_on" not in (draft.answers.get("event") or {})


def test_a_date_seen_today_is_accepted(personas, session, on_the_second_of_march) -> None:  # type: ignore[no-untyped-def]
    journey = Journey(personas.as_("citizen"), "urban-event-report")
    response = journey.post("event", {**EVENT, **_day(TODAY)})
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))
    session.expire_all()
    draft = session.scalars(select(Draft).where(Draft.token == journey.token)).one()
    assert draft.answers["event"]["happened_on"] == "2026-03-02"


def test_the_inline_check_on_leaving_the_date_says_it_in_english_too(
        personas, on_the_second_of_march) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "urban-event-report")
    client.post("/settings/language", data={"csrf_token": journey.token_value, "locale": "en",
                                            "next": "/"})
    response = client.post(journey.url("event") + "/field", data={
        "csrf_token": journey.token_value, "tb-field": "event.happened_on",
        **EVENT, **_day(datetime.date(2026, 12, 25))}, headers={"HX-Request": "true"})
    assert errors_in(response.get_data(as_text=True)) == ["Date you saw it must be today or in the past"]
