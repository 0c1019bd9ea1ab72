"""Issue 15 item 7, the demo wiring: the residence-points application takes its social-insurance
answers (months, base band, months at that base) from the social-insurance register, the
applicant sees where they came from and when, the points rules score them, and a changed one
is never silent; with the register down the applicant's own answers count, marked "could not
be verified", and the register is asked again later. The household-registration transfer's
reviewers check a talent applicant's employer and months against the same register."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlmodel import Session, col
from tongban_sql_connector.demo_registers import FIRST_ID_NUMBER, employers

from tongban import db
from tongban.connectors import registry
from tongban.definitions.publish import current_version
from tongban.models import (
    Application,
    AuditEvent,
    ConnectorResult,
    Draft,
    PointsEvaluation,
    PointsFlag,
    saved_id,
)

from ..conftest import Personas
from ..web import review_world
from ..web.journey import PDF, RESIDENCE_PAGES, Journey, errors_in, id_number

TAG = re.compile(r"<[^>]+>")
REGISTER = {"months": 48, "base_band": "below_0_8", "base_months": 48}  # 张三: 48 x 9000.00
EMPLOYER_USCC, EMPLOYER = employers()[0]  # 张三's employer in the demo registers


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", TAG.sub(" ", html))


def _point_at(app: Flask, url: str) -> None:
    found = registry(app)
    found.close()
    found.settings = {"demo_registers_url": url}


def _draft(session: Session, token: str) -> Draft:
    session.rollback()  # a new snapshot: what the requests wrote since
    found: Draft = session.scalars(select(Draft).where(col(Draft.token) == token)).one()
    return found


def _results(session: Session) -> list[ConnectorResult]:
    session.rollback()
    return list(session.scalars(select(ConnectorResult).order_by(col(ConnectorResult.id))))


def _notes(html: str) -> str:
    start = html.index('id="prefill-notes"')
    return _text(html[start:html.index("</div>", start)])


def _fill_rest(journey: Journey, social: dict[str, str] | None = None) -> None:
    """Every page but social insurance as tests/web/journey.py fills it; that page only when
    ``social`` is given (what the applicant types there)."""
    for page_id, data in RESIDENCE_PAGES:
        if page_id == "social-insurance":
            if social is None:
                continue
            data = social
        response = journey.post(page_id, data)
        assert response.status_code == 302, (page_id, errors_in(response.get_data(as_text=True)))
    response = journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "diploma.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302, errors_in(response.get_data(as_text=True))


def _check_rows(html: str) -> dict[str, str]:
    """The check-answers page's rows: label -> value (with the note under it)."""
    found = {}
    for row in re.findall(r'<div class="tb-summary-list__row[^"]*">(.*?)</div>', html, re.S):
        key = re.search(r'<dt class="tb-summary-list__key">(.*?)</dt>', row, re.S)
        value = re.search(r'<dd class="tb-summary-list__value">(.*?)</dd>', row, re.S)
        if key and value:
            found[_text(key.group(1)).strip()] = _text(value.group(1)).strip()
    return found


def _score(session: Session) -> tuple[Application, dict[str, Any]]:
    session.rollback()
    application = session.scalars(select(Application)).one()
    evaluation = session.scalars(select(PointsEvaluation).where(
        col(PointsEvaluation.application_id) == application.id)).one()
    return application, {item["id"]: item for item in evaluation.result["indicators"]}


# --- residence points: prefilled from the social-insurance register ----------------------------

def test_residence_points_starts_with_the_registers_social_insurance_and_scores_it(
        personas: Personas, session: Session) -> None:
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    answers = _draft(session, journey.token).answers
    assert answers["applicant"]["id_number"] == FIRST_ID_NUMBER  # the account's, to ask with
    assert answers["social_insurance"] == REGISTER

    page = client.get(journey.url("social-insurance")).get_data(as_text=True)
    notes = _notes(page)
    assert re.search(r"来自市人社局社保库，\d{4}-\d\d-\d\d \d\d:\d\d：", notes), notes
    assert "在本市缴纳职工社会保险的累计月数" in notes and "近 4 年缴费基数" in notes
    assert "您已修改" not in notes
    assert 'id="prefill-notes"' not in client.get(journey.url("education")).get_data(as_text=True)

    _fill_rest(journey)  # the social-insurance page is left as the register filled it
    check = _check_rows(client.get(f"/apply/{journey.token}/check").get_data(as_text=True))
    assert re.fullmatch(r"48 来自市人社局社保库，\d{4}-\d\d-\d\d \d\d:\d\d",
                        check["社会保险: 在本市缴纳职工社会保险的累计月数"]), check
    assert check["社会保险: 近 4 年缴费基数相当于上年度本市职工平均工资的倍数"].startswith(
        "低于 0.8 倍 来自市人社局社保库")
    assert "来自" not in check["教育背景: 最高学历（学位）"]

    assert journey.submit().status_code == 302
    application, indicators = _score(session)
    assert application.answers["social_insurance"]["months"] == 48
    assert indicators["si_years"]["points"] == 12  # 48 months: 4 years x 3
    assert indicators["si_base"]["points"] == 0  # below 0.8 times the average wage
    assert session.scalars(select(PointsFlag)).all() == []  # nothing differs from the register

    [row] = _results(session)
    assert (row.connector, row.query_id, row.purpose, row.status, row.person) == \
        ("insurance", "contributions", "prefill", "ok", FIRST_ID_NUMBER)
    assert row.values == {f"social_insurance.{k}": v for k, v in REGISTER.items()}


def test_a_changed_register_answer_is_marked_for_the_applicant_and_flagged_for_the_reviewer(
        personas: Personas, session: Session) -> None:
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill_rest(journey, {"social_insurance.months": "60", "social_insurance.base_band": "below_0_8"})

    notes = _notes(client.get(journey.url("social-insurance")).get_data(as_text=True))
    assert "在本市缴纳职工社会保险的累计月数： 您已修改 登记库中为 48，审核人员会同时看到两者。" in notes
    check = _check_rows(client.get(f"/apply/{journey.token}/check").get_data(as_text=True))
    assert re.fullmatch(r"60 您已修改 市人社局社保库为 48（\d{4}-\d\d-\d\d \d\d:\d\d），"
                        r"审核人员会同时看到两者。",
                        check["社会保险: 在本市缴纳职工社会保险的累计月数"]), check

    assert journey.submit().status_code == 302
    application, indicators = _score(session)
    assert indicators["si_years"]["points"] == 15  # the applicant's 60 months count ...
    [flag] = session.scalars(select(PointsFlag)).all()  # ... and the reviewer is told
    assert (flag.application_id, flag.kind, flag.field) == \
        (application.id, "contradicts_verified", "social_insurance.months")
    assert flag.detail == {"answer": 60, "verified": 48}


def test_with_the_register_down_the_applicants_own_answers_count_and_are_checked_later(
        demo: Flask, personas: Personas, session: Session, closed_port_url: str,
        registers_url: str) -> None:
    _point_at(demo, closed_port_url)
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")  # the start still works
    assert "social_insurance" not in _draft(session, journey.token).answers
    page = client.get(journey.url("social-insurance"))
    assert page.status_code == 200
    assert "无法核验：市人社局社保库未应答。请自行填写，我们稍后会再次核验。" in _notes(
        page.get_data(as_text=True))
    _fill_rest(journey, {"social_insurance.months": "36", "social_insurance.base_band": "1_to_2",
                         "social_insurance.base_months": "36"})
    check = _check_rows(client.get(f"/apply/{journey.token}/check").get_data(as_text=True))
    assert check["社会保险: 在本市缴纳职工社会保险的累计月数"] == (
        "36 无法核验 以您填写的为准：市人社局社保库未应答，我们稍后会再次核验。")
    assert "无法核验" not in check["教育背景: 最高学历（学位）"]

    assert journey.submit().status_code == 302
    application, indicators = _score(session)
    assert indicators["si_years"]["points"] == 9  # the applicant's 36 months
    assert indicators["si_base"]["points"] == 50  # and their base band
    assert session.scalars(select(PointsFlag)).all() == []  # nothing verified to differ from
    assert [(r.status, r.transient) for r in _results(session)] == [("unverified", True)] * 1

    # The register is back: the reviewer's register check asks it and flags what differs.
    _point_at(demo, registers_url)
    run = _review_task(demo, application.id)
    html = Personas(demo.test_client()).as_("reviewer").get(
        f"/review/tasks/{run.tasks['review']}").get_data(as_text=True)
    rows = _register_rows(html)
    assert rows[0].startswith("在本市缴纳职工社会保险的累计月数 36 48 市人社局社保库，")
    assert rows[0].endswith(" 不一致")
    assert rows[1].startswith("近 4 年缴费基数相当于上年度本市职工平均工资的倍数 1 倍至 2 倍（不含） "
                              "低于 0.8 倍 ") and rows[1].endswith(" 不一致")
    assert rows[2].startswith("按该基数缴费的累计月数 36 48 ") and rows[2].endswith(" 不一致")


def test_with_no_register_configured_the_form_is_usable_and_says_so(
        demo: Flask, personas: Personas, session: Session) -> None:
    registry(demo).close()
    registry(demo).settings = {}  # as on an installation without the register's URL
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill_rest(journey, {"social_insurance.months": "36", "social_insurance.base_band": "1_to_2",
                         "social_insurance.base_months": "36"})
    assert "无法核验：市人社局社保库未应答" in _notes(
        client.get(journey.url("social-insurance")).get_data(as_text=True))
    assert journey.submit().status_code == 302
    [failed] = _results(session)
    assert (failed.status, failed.transient) == ("unverified", False)
    assert "demo_registers_url" in failed.error


# --- the reviewers' register checks ------------------------------------------------------------

def _review_task(demo: Flask, application_id: int | None = None,
                 answers: dict[str, Any] | None = None,
                 service: str = "residence-points") -> review_world.Run:
    """review_world's run (a review task of the sh-rsj reviewers), on ``service``; with
    ``application_id``, that application's answers."""
    engine = demo.extensions["tongban.engine"]
    if application_id is not None:
        with db.new_session(engine) as session:
            found = session.get(Application, application_id)
            assert found is not None
            answers = found.answers
    run = review_world.build(engine, answers=answers, reference="2610-RSJ2-WIRE")
    with db.new_session(engine) as session, db.unit_of_work(session):
        service_row = current_version(session, "service", service)
        form_row = current_version(session, "form", service)
        assert service_row is not None and form_row is not None
        session.execute(update(Application).where(col(Application.id) == run.application_id)
                        .values(service_code=service, service_version_id=saved_id(service_row),
                                form_version_id=saved_id(form_row)))
    return run


def _register_rows(html: str) -> list[str]:
    table = html[html.index('id="register-check"'):]
    table = table[:table.index("</table>")]
    return [_text(row).strip() for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)][1:]


HOUSEHOLD = {"applicant": {"name": "张三", "id_number": FIRST_ID_NUMBER, "mobile": "13812345678"},
             "transfer": {"reason": "talent", "approval_number": "RC-2026-0815",
                          "from_address": "江苏省苏州市虎丘区狮山路88号3幢402室",
                          "from_region": "320505"},
             "employment": {"employer": EMPLOYER, "employer_uscc": EMPLOYER_USCC,
                            "si_months": 60}}


def test_the_household_transfer_reviewer_checks_social_insurance_beside_the_population_register(
        demo: Flask, session: Session) -> None:
    run = _review_task(demo, answers=HOUSEHOLD, service="household-transfer")
    html = Personas(demo.test_client()).as_("reviewer").get(
        f"/review/tasks/{run.tasks['review']}").get_data(as_text=True)
    rows = _register_rows(html)
    assert [r.split(" ")[0] for r in rows] == [
        "姓名", "迁出地详细地址", "迁出地", "工作单位名称", "工作单位统一社会信用代码",
        "在本市缴纳职工社会保险的累计月数"]
    assert rows[3].startswith(f"工作单位名称 {EMPLOYER} {EMPLOYER} 市人社局社保库，")
    assert rows[3].endswith(" 一致") and rows[4].endswith(" 一致")
    assert rows[5].startswith("在本市缴纳职工社会保险的累计月数 60 48 市人社局社保库，")
    assert rows[5].endswith(" 不一致")
    assert html.count('class="tb-row--flagged"') == 1
    session.rollback()
    assert sorted((r.connector, r.purpose, r.status) for r in session.scalars(
        select(ConnectorResult))) == [("insurance", "verify", "ok"), ("population", "verify", "ok")]
    verified = [e.after for e in session.scalars(select(AuditEvent).where(
        col(AuditEvent.action) == "connector.verify"))]
    assert sorted(a["connector"] for a in verified if a) == ["insurance", "population"]


def test_a_family_reunion_is_not_checked_against_the_social_insurance_register(
        demo: Flask, session: Session) -> None:
    answers = {**HOUSEHOLD, "transfer": {**HOUSEHOLD["transfer"], "reason": "family"}}
    answers.pop("employment")
    run = _review_task(demo, answers=answers, service="household-transfer")
    html = Personas(demo.test_client()).as_("reviewer").get(
        f"/review/tasks/{run.tasks['review']}").get_data(as_text=True)
    assert [r.split(" ")[0] for r in _register_rows(html)] == ["姓名", "迁出地详细地址", "迁出地"]
    session.rollback()
    assert [r.connector for r in session.scalars(select(ConnectorResult))] == ["population"]


def test_answers_checked_for_another_person_are_not_held_against_the_applicant(
        personas: Personas, session: Session) -> None:
    """The register was asked about the account's ID number; the application is for someone
    the register has no record of: nothing is verified, so nothing contradicts."""
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    assert _draft(session, journey.token).answers["social_insurance"] == REGISTER
    _fill_rest(journey, {"social_insurance.months": "60", "social_insurance.base_band": "below_0_8"})
    other = id_number("11010120000101001")
    response = journey.post("applicant", {**RESIDENCE_PAGES[0][1], "applicant.id_number": other})
    assert response.status_code == 302
    assert [(r.person, r.status) for r in _results(session)] == [
        (FIRST_ID_NUMBER, "ok"), (other, "none")]
    assert journey.submit().status_code == 302
    session.rollback()
    assert session.scalars(select(PointsFlag)).all() == []
