"""Issue 13 (items 2 and 3): a residence-points application is scored by the rule-set version it
pinned, the score is stored with its audit event, routes the flow (below the standard score to
the refusal review) and is explained to the reviewer and to the applicant."""

from __future__ import annotations

import html
import io
import re
import secrets
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tongban import db
from tongban.applications import start_draft, submit
from tongban.definitions.publish import current_version
from tongban.models import (
    Application,
    AuditEvent,
    DefinitionVersion,
    Draft,
    FlowInstance,
    FlowTask,
    PointsEvaluation,
    saved_id,
)

from ..conftest import Personas
from . import review_world
from .journey import PDF, RESIDENCE_PAGES, Journey, csrf, errors_in

TAG = re.compile(r"<[^>]+>")
# The demo answers: master's degree 100, age 36 → 30, 3 years of social insurance 9, base 1-2×
# for 36 months 50.
HIGH_TOTAL = 189
# College 50, age 30, 1 year of social insurance 3, the base not counted (12 months): 83.
LOW_PAGES = {"education": {"education.level": "college",
                           "education.field_of_study": "计算机应用技术"},
             "social-insurance": {"social_insurance.months": "12",
                                  "social_insurance.base_band": "1_to_2",
                                  "social_insurance.base_months": "12"}}
LOW_TOTAL = 83


@pytest.fixture(autouse=True)
def _fresh_flow_cache() -> None:
    review_world.forget_compiled_flows()


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(TAG.sub(" ", page)))


def _as(demo: Any, username: str) -> FlaskClient:
    return Personas(demo.test_client()).as_(username)


def _apply(demo: Any, session: Any, changes: dict[str, dict[str, str]] | None = None,
           citizen: FlaskClient | None = None) -> Application:
    """The demo citizen's residence-points application, submitted through the pages."""
    journey = Journey(citizen or _as(demo, "citizen"), "residence-points")
    for page_id, data in RESIDENCE_PAGES:
        response = journey.post(page_id, {**data, **(changes or {}).get(page_id, {})})
        assert response.status_code == 302, (page_id, errors_in(response.get_data(as_text=True)))
    assert journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "学位证书.pdf")},
        content_type="multipart/form-data").status_code == 302
    assert journey.submit().status_code == 302
    session.rollback()
    return session.scalars(select(Application).order_by(Application.id.desc())).first()


def _open_task(session: Any, application_id: int, node: str) -> FlowTask | None:
    session.rollback()
    instance = session.scalars(select(FlowInstance).where(
        FlowInstance.application_id == application_id)).one()
    return session.scalars(select(FlowTask).where(
        FlowTask.instance_id == instance.id, FlowTask.node == node,
        FlowTask.state.in_(("open", "claimed")))).first()


def _post(client: FlaskClient, task_id: int, op: str, **data: Any):  # type: ignore[no-untyped-def]
    page = client.get(f"/review/tasks/{task_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    return client.post(f"/review/tasks/{task_id}", data={
        "csrf_token": csrf(page), "op": op, "version": version.group(1), **data})


def _rows(session: Any, application_id: int) -> list[PointsEvaluation]:
    session.rollback()
    return list(session.scalars(select(PointsEvaluation)
                                .where(PointsEvaluation.application_id == application_id)
                                .order_by(PointsEvaluation.id)))


def _events(session: Any, reference: str, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(
        AuditEvent.object_id == reference, AuditEvent.action == action)
        .order_by(AuditEvent.seq)))


def _rules_version(session: Any) -> DefinitionVersion:
    found = current_version(session, "rules", "sh-residence-points")
    assert found is not None
    return found


def _accept(demo: Any, session: Any, application: Application) -> None:
    # No district answered: the bureau's administrator takes it in.
    intake = _open_task(session, saved_id(application), "intake")
    assert intake is not None
    assert _post(_as(demo, "deptadmin"), intake.id, "accept").status_code == 302


# --- storing ------------------------------------------------------------------------------------


def test_a_submitted_application_is_scored_by_the_rule_set_its_draft_pinned(
        demo, session) -> None:  # type: ignore[no-untyped-def]
    application = _apply(demo, session)
    rules = _rules_version(session)
    draft = session.get(Draft, application.draft_id)
    assert draft.rules_version_id == application.rules_version_id == rules.id
    [row] = _rows(session, saved_id(application))
    assert (row.reason, row.total, row.eligible, row.supersedes_id) == (
        "submitted", HIGH_TOTAL, True, None)
    assert row.rules_version_id == rules.id and row.rule_set == "sh-residence-points"
    assert row.as_of == application.submitted_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert row.result["total"] == HIGH_TOTAL and row.result["threshold"] == 120
    assert {item["id"] for item in row.result["indicators"]} >= {"age", "education", "si_years"}
    [event] = _events(session, application.reference, "points.scored")
    assert event.after["evaluation"] == row.id and event.after["total"] == HIGH_TOTAL
    assert event.after["reason"] == "submitted" and event.actor_name == "citizen"
    [submitted] = _events(session, application.reference, "application.submit")
    assert submitted.after["rules_version_id"] == rules.id
    assert submitted.seq < event.seq  # one transaction: the submit, then its score


def test_a_correction_scores_the_new_answers_and_supersedes_the_first_score(
        demo, session) -> None:  # type: ignore[no-untyped-def]
    application = _apply(demo, session)
    reference, app_id = application.reference, saved_id(application)
    intake = _open_task(session, app_id, "intake")
    admin = _as(demo, "deptadmin")
    assert _post(admin, intake.id, "correction", questions="education.level",
                 comment="学历证书为大专").status_code == 302
    citizen = _as(demo, "citizen")
    form = citizen.get(f"/my/applications/{reference}/correct").get_data(as_text=True)
    sent = citizen.post(f"/my/applications/{reference}/correct", data={
        "csrf_token": csrf(form), "education.level": "college"})
    assert sent.status_code == 302, _text(sent.get_data(as_text=True))[:800]
    first, second = _rows(session, app_id)
    assert (second.reason, second.supersedes_id, second.answers_version) == (
        "answers_changed", first.id, 2)
    assert second.total == HIGH_TOTAL - 50 and second.reason_text == "correction"
    assert second.rules_version_id == first.rules_version_id
    events = _events(session, reference, "points.scored")
    assert [e.after["evaluation"] for e in events] == [first.id, second.id]
    assert events[1].after["supersedes"] == first.id
    # The reviewer sees the current score and, below it, the one it replaced.
    page = _text(admin.get(f"/review/tasks/{intake.id}").get_data(as_text=True))
    assert f"合计 {HIGH_TOTAL - 50} 分 / 标准分值 120 分" in page
    history = page.split("此前的计分（已被取代）")[1]
    assert "提交时计分" in history and str(HIGH_TOTAL) in history


def test_publishing_a_new_rules_version_never_changes_an_application_in_flight(
        demo, session) -> None:  # type: ignore[no-untyped-def]
    application = _apply(demo, session)
    app_id, pinned = saved_id(application), application.rules_version_id
    engine = demo.extensions["tongban.engine"]
    with db.new_session(engine) as tx, db.unit_of_work(tx):
        old = _rules_version(tx)
        content = {**old.content, "outcome": {**old.content["outcome"], "threshold": 200}}
        tx.add(DefinitionVersion(kind="rules", code=old.code, version=old.version + 1,
                                 content=content, content_hash=secrets.token_hex(8),
                                 source_path=old.source_path, author="test"))
    session.rollback()
    newer = _rules_version(session)
    assert newer.id != pinned
    # The answers change after the new version is out: still scored by the pinned one.
    intake = _open_task(session, app_id, "intake")
    admin = _as(demo, "deptadmin")
    assert _post(admin, intake.id, "correction", questions="education.level",
                 comment="请核对学历").status_code == 302
    citizen = _as(demo, "citizen")
    form = citizen.get(f"/my/applications/{application.reference}/correct").get_data(as_text=True)
    assert citizen.post(f"/my/applications/{application.reference}/correct", data={
        "csrf_token": csrf(form), "education.level": "bachelor_degree"}).status_code == 302
    rows = _rows(session, app_id)
    assert [row.rules_version_id for row in rows] == [pinned, pinned]
    assert [row.result["threshold"] for row in rows] == [120, 120]
    assert rows[-1].eligible is True
    assert session.get(Application, app_id).rules_version_id == pinned
    # A draft begun now pins the new version.
    later = _apply(demo, session)
    assert later.rules_version_id == newer.id
    assert _rows(session, saved_id(later))[0].result["threshold"] == 200


# --- routing ------------------------------------------------------------------------------------


def test_a_score_of_120_or_more_takes_the_normal_path_after_intake(
        demo, session) -> None:  # type: ignore[no-untyped-def]
    application = _apply(demo, session)
    _accept(demo, session, application)
    assert _open_task(session, saved_id(application), "initial_review") is not None
    assert _open_task(session, saved_id(application), "refusal_review") is None


def test_below_120_goes_to_the_refusal_review_which_shows_why_and_ends_refused(
        demo, session) -> None:  # type: ignore[no-untyped-def]
    application = _apply(demo, session, LOW_PAGES)
    app_id, reference = saved_id(application), application.reference
    [row] = _rows(session, app_id)
    assert (row.total, row.eligible) == (LOW_TOTAL, False)
    _accept(demo, session, application)
    assert _open_task(session, app_id, "initial_review") is None
    refusal = _open_task(session, app_id, "refusal_review")
    assert refusal is not None
    admin = _as(demo, "deptadmin")
    assert _post(admin, refusal.id, "claim").status_code == 302
    raw = admin.get(f"/review/tasks/{refusal.id}").get_data(as_text=True)
    page = _text(raw)
    assert "积分未达标审核（不予通过）" in page
    assert "上海市居住证积分 · 第 1 版" in page
    assert f"合计 {LOW_TOTAL} 分 / 标准分值 120 分" in page and "未达到标准分值" in page
    # Every indicator with its points, whether it counts, and its sentence, in a real table.
    assert '<caption class="tb-table__caption">计分明细</caption>' in raw
    assert '<th scope="col">计入总分</th>' in raw
    for item in row.result["indicators"]:
        assert item["explanation"]["zh"] in page
    assert f"计分日期 {row.as_of.isoformat()}" in page
    assert 'value="approve" data-prevent-double-click="true">确认不予通过</button>' in raw
    assert _post(admin, refusal.id, "approve",
                 comment=f"积分{LOW_TOTAL}分，未达到标准分值").status_code == 302
    session.rollback()
    assert session.get(Application, app_id).status == "rejected"
    # The applicant reads the same explanation in plain words.
    mine = _text(_as(demo, "citizen").get(f"/my/applications/{reference}")
                 .get_data(as_text=True))
    assert "您的积分" in mine and "按《上海市居住证积分》（第 1 版）计分。" in mine
    assert (f"按 {row.as_of.isoformat()} 计算，您的申请积分为 {LOW_TOTAL} 分，"
            "标准分值为 120 分。") in mine
    assert "您的积分未达到标准分值，申请不能通过。" in mine
    for item in row.result["indicators"]:
        assert item["explanation"]["zh"] in mine


def test_the_applicant_reads_the_explanation_in_english(demo, session) -> None:  # type: ignore[no-untyped-def]
    citizen = _as(demo, "citizen")
    page = citizen.get("/").get_data(as_text=True)
    citizen.post("/settings/language", data={"csrf_token": csrf(page), "locale": "en",
                                             "next": "/"})
    application = _apply(demo, session, citizen=citizen)
    [row] = _rows(session, saved_id(application))
    mine = _text(citizen.get(f"/my/applications/{application.reference}").get_data(as_text=True))
    assert "Your points" in mine
    assert "Counted by the rules Shanghai residence permit points (version 1)." in mine
    assert (f"On {row.as_of.isoformat()} your application scores {HIGH_TOTAL} points. "
            "The standard score is 120 points.") in mine
    assert "Your score reaches the standard score." in mine
    for item in row.result["indicators"]:
        assert item["explanation"]["en"] in mine


# --- a required answer missing -------------------------------------------------------------------


def test_a_missing_required_answer_keeps_the_application_unscored_with_a_note(
        demo, session) -> None:  # type: ignore[no-untyped-def]
    app_id, reference = _submit_directly(demo, {
        "applicant": {"name": "张三", "birth_date": "1990-03-07"},
        "education": {"level": "master"}, "qualification": {"kind": "none"},
        "social_insurance": {"months": 36, "base_band": "1_to_2", "base_months": 36},
        "record": {}})  # serious_crime not answered
    session.rollback()
    application = session.get(Application, app_id)
    assert application is not None and application.status == "submitted"  # kept, flow started
    assert _rows(session, app_id) == []  # no score at all, never 0 points
    [event] = _events(session, reference, "points.not_scored")
    assert event.after["input"] == "serious_crime" and event.after["path"] == "record.serious_crime"
    note = event.after["message"]["zh"]
    assert "serious_crime" in note
    intake = _open_task(session, app_id, "intake")
    page = _text(_as(demo, "deptadmin").get(f"/review/tasks/{intake.id}").get_data(as_text=True))
    assert f"未计分。 {note}" in page and "本申请没有积分（不是零分）" in page
    mine = _text(_as(demo, "citizen").get(f"/my/applications/{reference}").get_data(as_text=True))
    assert f"您的积分暂时无法计算。 {note} 审核人员会审查您的申请。" in mine
    # Unscored is not "below the standard": the gateway takes the normal path.
    _accept(demo, session, application)
    assert _open_task(session, app_id, "initial_review") is not None


def test_an_application_that_pinned_no_rule_set_shows_no_points_panel(demo, session) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(demo.extensions["tongban.engine"], "web-intake")
    with run.session() as tx:
        application = tx.get(Application, run.application_id)
        assert application is not None and application.rules_version_id is None
    intake = review_world.open_task(run, "intake")
    page = _as(demo, "clerk").get(f"/review/tasks/{intake.id}").get_data(as_text=True)
    assert 'id="points"' not in page


def test_as_of_is_the_local_date_of_submission() -> None:
    from datetime import UTC, datetime

    from tongban.points.scoring import as_of

    late = Application(submitted_at=datetime(2026, 12, 31, 16, 30, tzinfo=UTC))  # 00:30 in Shanghai
    assert as_of(late) == date(2027, 1, 1)


def test_a_draft_pins_the_version_in_effect_on_its_day_not_one_published_ahead(
        demo, session) -> None:  # type: ignore[no-untyped-def]
    from tongban.points.scoring import current_rules_version

    engine = demo.extensions["tongban.engine"]
    with db.new_session(engine) as tx, db.unit_of_work(tx):
        old = _rules_version(tx)
        tx.add(DefinitionVersion(kind="rules", code=old.code, version=old.version + 1,
                                 content={**old.content, "effective": {"from": "2027-01-01"}},
                                 content_hash=secrets.token_hex(8),
                                 source_path=old.source_path, author="test"))
    session.rollback()
    first = session.scalars(select(DefinitionVersion).where(
        DefinitionVersion.kind == "rules", DefinitionVersion.code == "sh-residence-points",
        DefinitionVersion.version == 1)).one()
    ahead = _rules_version(session)
    service = current_version(session, "service", "residence-points").content
    assert current_rules_version(session, service, on=date(2026, 12, 31)) == first.id
    assert current_rules_version(session, service, on=date(2027, 1, 1)) == ahead.id
    assert current_rules_version(session, {"code": "x"}) is None  # a service without rules


def _submit_directly(demo: Any, answers: dict[str, Any]) -> tuple[int, str]:
    """An application submitted through ``applications.submit`` with answers the form's pages
    would not let through (the core must stand without them)."""
    with db.new_session(demo.extensions["tongban.engine"]) as tx, db.unit_of_work(tx):
        users = review_world.user_ids(tx)
        service = current_version(tx, "service", "residence-points")
        form = current_version(tx, "form", "residence-points")
        draft = start_draft(tx, service, form, user_id=users["citizen"], answers=answers)
        made = submit(tx, draft, answers, department_code="sh-rsj", actor_id=users["citizen"],
                      actor_name="citizen").application
        return saved_id(made), made.reference


def test_a_veto_refuses_whatever_the_points_and_both_pages_say_why(
        demo, session) -> None:  # type: ignore[no-untyped-def]
    # The form refuses a serious criminal record on its page; an application taken in another
    # way (the counter, an import) is still refused by the rule set's veto.
    app_id, reference = _submit_directly(demo, {
        "applicant": {"name": "张三", "birth_date": "1990-03-07"},
        "education": {"level": "master"}, "qualification": {"kind": "none"},
        "social_insurance": {"months": 36, "base_band": "1_to_2", "base_months": 36},
        "record": {"serious_crime": True}})
    [row] = _rows(session, app_id)
    assert row.total >= 120 and row.eligible is False
    [veto] = row.result["vetoes"]
    application = session.get(Application, app_id)
    _accept(demo, session, application)
    refusal = _open_task(session, app_id, "refusal_review")
    assert refusal is not None
    staff = _text(_as(demo, "deptadmin").get(f"/review/tasks/{refusal.id}").get_data(as_text=True))
    assert "一票否决，不符合条件" in staff
    assert f"一票否决 {veto['explanation']['zh']}" in staff
    mine = _text(_as(demo, "citizen").get(f"/my/applications/{reference}").get_data(as_text=True))
    assert "由于下列原因，无论积分多少，您的申请都不能通过。" in mine
    assert veto["explanation"]["zh"] in mine
