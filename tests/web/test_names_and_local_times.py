"""Issue 10 §4: lists show service and department names in the page's language, and times in
the TIME_ZONE setting (Asia/Shanghai by default), never raw codes or UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tongban.models import Application, Draft

from .journey import Journey, csrf
from .test_journey import _fill_residence

# 17:30 UTC on 1 March is half past one in the morning of 2 March in Shanghai.
SUBMITTED = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
SAVED = datetime(2026, 3, 1, 23, 5, tzinfo=UTC)
EXPIRES = datetime(2036, 3, 31, 20, 0, tzinfo=UTC)  # still open: kept until then
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")


@pytest.fixture
def app_config(app_config, request):  # type: ignore[no-untyped-def]
    """The shared configuration, with TIME_ZONE set when a test asks for one."""
    zone = getattr(request, "param", None)
    return {**app_config, "TIME_ZONE": zone} if zone else app_config


def _cells(html: str) -> list[str]:
    return [TAG.sub("", cell).strip() for cell in CELL.findall(html)]


def _submitted_and_saved(personas, session) -> str:  # type: ignore[no-untyped-def]
    """One submitted residence-points application and one saved draft, at fixed instants."""
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill_residence(journey)
    assert journey.submit().status_code == 302
    Journey(client, "urban-event-report")
    session.expire_all()
    application = session.scalars(select(Application)).one()
    application.submitted_at = SUBMITTED
    draft = session.scalars(select(Draft).where(Draft.service_code == "urban-event-report")).one()
    draft.updated_at, draft.expires_at = SAVED, EXPIRES
    session.commit()
    return application.reference


def _in_english(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    client.post("/settings/language", data={"csrf_token": csrf(page), "locale": "en",
                                            "next": path})
    return client.get(path).get_data(as_text=True)


def test_the_reviewer_list_shows_names_and_shanghai_time_not_codes_and_utc(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    reference = _submitted_and_saved(personas, session)
    client = personas.as_("reviewer")
    html = client.get("/review/applications").get_data(as_text=True)
    assert _cells(html) == [reference, "上海市居住证积分申请", "上海市人力资源和社会保障局",
                            "2026-03-02 01:30", "已提交"]
    english = _in_english(client, "/review/applications")
    assert _cells(english) == [reference, "Shanghai residence permit points application",
                               "Shanghai Municipal Human Resources and Social Security Bureau",
                               "2026-03-02 01:30", "Submitted"]


def test_your_applications_page_shows_names_and_shanghai_time(personas, session) -> None:  # type: ignore[no-untyped-def]
    reference = _submitted_and_saved(personas, session)
    client = personas.client
    html = client.get("/my").get_data(as_text=True)
    assert _cells(html) == [reference, "上海市居住证积分申请", "上海市人力资源和社会保障局",
                            "2026-03-02 01:30", "已提交"]
    assert "2026-03-02 07:05" in html and "2036-04-01" in html  # saved at; kept until (a date)
    assert "residence-points" not in html
    english = _in_english(client, "/my")
    assert _cells(english)[1] == "Shanghai residence permit points application"


def test_the_review_page_of_one_application_shows_shanghai_time(personas, session) -> None:  # type: ignore[no-untyped-def]
    reference = _submitted_and_saved(personas, session)
    html = personas.as_("reviewer").get(f"/review/applications/{reference}").get_data(as_text=True)
    assert "2026-03-02 01:30" in html and "UTC" not in html


@pytest.mark.parametrize(("app_config", "shown"), [("UTC", "2026-03-01 17:30"),
                                                   ("Europe/Berlin", "2026-03-01 18:30")],
                         indirect=["app_config"])
def test_the_time_zone_is_a_setting(personas, session, shown: str) -> None:  # type: ignore[no-untyped-def]
    reference = _submitted_and_saved(personas, session)
    html = personas.as_("reviewer").get("/review/applications").get_data(as_text=True)
    assert _cells(html)[0] == reference and _cells(html)[3] == shown


def test_a_time_zone_that_does_not_exist_fails_at_start_naming_the_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tongban import create_app
    from tongban.config import ConfigError

    with pytest.raises(ConfigError, match="Setting TIME_ZONE .* 'Asia/Nowhere' is not an IANA"):
        create_app({"TIME_ZONE": "Asia/Nowhere"}, instance_path=tmp_path)
