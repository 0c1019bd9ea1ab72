"""/admin/calendars: the published calendars, and a new version published from the browser."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import func, select

from tongban import PROJECT_ROOT
from tongban.models import AuditEvent, DefinitionVersion
from tongban.worktime import add_working_days, calendar_for

from ..conftest import Personas, csrf_token

SHANGHAI = (PROJECT_ROOT / "workflow_definitions/calendars/shanghai.yaml").read_text("utf-8")
TYPHOON = SHANGHAI.replace("extra_days_off: []",
                           "extra_days_off:\n  - {date: 2026-07-20, name: 台风停工}")


def counts(session) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    session.rollback()
    return (session.scalar(select(func.count()).select_from(DefinitionVersion)),
            session.scalar(select(func.count()).select_from(AuditEvent)))


def test_the_page_lists_the_calendars_and_publishes_a_typhoon_day(
        personas: Personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    page = client.get("/admin/calendars").get_data(as_text=True)
    assert "工作日日历" in page and "<code>cn</code>" in page and "<code>shanghai</code>" in page
    assert "2025-01-01 – 2026-12-31" in page and "上海市" in page
    assert add_working_days(calendar_for(session, "shanghai"), date(2026, 7, 17), 1) \
        == date(2026, 7, 20)

    before = counts(session)
    response = client.post("/admin/calendars", data={
        "csrf_token": csrf_token(client, "/admin/calendars"), "text": TYPHOON,
        "comment": "台风“示例”停工一天"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/calendars?published=shanghai@2")
    assert "已发布 shanghai@2" in client.get(response.headers["Location"]).get_data(as_text=True)
    after = counts(session)
    assert after == (before[0] + 1, before[1] + 1)
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.action, event.object_id, event.actor_name) == (
        "definition.publish", "shanghai@2", "admin")
    # The next deadline counted skips the typhoon day; cn is untouched.
    assert add_working_days(calendar_for(session, "shanghai"), date(2026, 7, 17), 1) \
        == date(2026, 7, 21)
    assert add_working_days(calendar_for(session, "cn"), date(2026, 7, 17), 1) == date(2026, 7, 20)

    upload = {"csrf_token": csrf_token(client, "/admin/calendars"), "text": "",
              "file": (io.BytesIO(TYPHOON.encode("utf-8")), "shanghai.yaml")}
    page = client.post("/admin/calendars", data=upload, content_type="multipart/form-data")
    assert page.status_code == 200
    assert "日历 shanghai 第 2 版已是此内容；未发布新版本。" in page.get_data(as_text=True)
    assert counts(session) == after


def test_problems_are_shown_with_line_numbers_in_the_users_language_and_nothing_changes(
        personas: Personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("admin")
    before = counts(session)
    bad = (PROJECT_ROOT / "workflow_definitions/calendars/cn.yaml").read_text("utf-8") \
        .replace("workdays: [2026-01-04,", "workdays: [2026-01-02,")
    response = client.post("/admin/calendars", data={
        "csrf_token": csrf_token(client, "/admin/calendars"), "text": bad})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "发现 1 个问题；未发布任何内容。" in html
    assert "第 35 行第 16 列：2026-01-02 既是节假日（元旦）又是调休上班日；只能是其中之一" in html
    assert counts(session) == before

    client.post("/settings/language", data={
        "csrf_token": csrf_token(client, "/admin/calendars"), "locale": "en"})
    html = client.post("/admin/calendars", data={
        "csrf_token": csrf_token(client, "/admin/calendars"),
        "text": bad}).get_data(as_text=True)
    assert ("Line 35, column 16: 2026-01-02 is both a holiday (元旦) and a make-up working "
            "day; expected one or the other") in html
    html = client.post("/admin/calendars", data={
        "csrf_token": csrf_token(client, "/admin/calendars"),
        "text": "id: [unclosed"}).get_data(as_text=True)
    assert "Line 1, column" in html and "YAML syntax error" in html
    assert counts(session) == before


def test_a_mistyped_date_or_a_yaml_slip_is_told_in_chinese_with_its_line(
        personas: Personas, session) -> None:  # type: ignore[no-untyped-def]
    """Errors found while reading the YAML (before the calendar checks) are translated too."""
    client = personas.as_("admin")
    before = counts(session)
    cn = (PROJECT_ROOT / "workflow_definitions/calendars/cn.yaml").read_text("utf-8")
    typo = cn.replace("to: 2026-01-03}", "to: 2026-01-33}")
    html = client.post("/admin/calendars", data={
        "csrf_token": csrf_token(client, "/admin/calendars"), "text": typo}).get_data(as_text=True)
    assert "第 28 行第 42 列：“2026-01-33”不是日期；应为 YYYY-MM-DD" in html
    assert "is not a date" not in html
    html = client.post("/admin/calendars", data={
        "csrf_token": csrf_token(client, "/admin/calendars"),
        "text": cn + "region: CN\n"}).get_data(as_text=True)
    assert "第 36 行第 1 列：键“region”重复（首次出现在第 7 行）" in html
    html = client.post("/admin/calendars", data={
        "csrf_token": csrf_token(client, "/admin/calendars"),
        "text": "id: [unclosed"}).get_data(as_text=True)
    assert "第 1 行第" in html and "YAML 语法错误：" in html
    assert counts(session) == before


def test_only_platform_administrators_and_only_with_csrf(personas: Personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("deptadmin")
    assert client.get("/admin/calendars").status_code == 403
    assert client.post("/admin/calendars", data={
        "csrf_token": csrf_token(client, "/review/"), "text": TYPHOON}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/review/")})
    client = personas.as_("admin")
    before = counts(session)
    assert client.post("/admin/calendars", data={"text": TYPHOON}).status_code == 400
    assert counts(session) == before


def test_a_year_published_on_the_page_survives_the_next_publish_of_the_shipped_files(
        personas: Personas, session) -> None:  # type: ignore[no-untyped-def]
    """`make run` and `tongban defs publish` publish the shipped files again: the 2027 notice an
    administrator pasted must not be replaced by the file that lacks it; a file that knows a
    later year still wins."""
    from tongban.definitions import load_directory, publish

    client = personas.as_("admin")
    cn = (PROJECT_ROOT / "workflow_definitions/calendars/cn.yaml").read_text("utf-8")
    with_2027 = cn + ("  2027:\n    source: 2027 notice\n    holidays:\n"
                      "      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n    workdays: []\n")
    assert client.post("/admin/calendars", data={
        "csrf_token": csrf_token(client, "/admin/calendars"), "text": with_2027,
        "comment": "2027"}).status_code == 302
    session.rollback()
    assert calendar_for(session, "cn").last_day == date(2027, 12, 31)
    before = counts(session)
    result = publish(session, load_directory(PROJECT_ROOT), author="demo")
    session.commit()
    assert [kept.split(":")[0] for kept in result.kept] == ["calendar cn"]
    assert "kept version 2" in result.kept[0] and "tongban calendar publish" in result.kept[0]
    assert counts(session) == before
    assert calendar_for(session, "cn").last_day == date(2027, 12, 31)
    assert add_working_days(calendar_for(session, "shanghai"), date(2026, 12, 31), 1) \
        == date(2027, 1, 4)
    from types import SimpleNamespace

    from tongban.definitions.publish import _keeps_published_calendar, current_version

    latest = current_version(session, "calendar", "cn")
    assert latest is not None
    later = SimpleNamespace(path="workflow_definitions/calendars/cn.yaml",
                            content={"years": {"2026": {}, "2028": {}}})
    assert not _keeps_published_calendar(latest, later)
