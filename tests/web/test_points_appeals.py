"""Issue 13 items 7 and 8 in the browser: integrity flags on the reviewer's task page and
their clearing; the applicant's appeal against an item of the score and the reviewer's
decision (a new score supersedes, the old kept); every refusal with its words."""

from __future__ import annotations

import io
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import col

from tongban import db
from tongban.models import (
    AuditEvent,
    DefinitionVersion,
    PointsAppeal,
    PointsEvaluation,
    PointsFlag,
    StoredUpload,
    utcnow,
)
from tongban.points import appeals

from ..conftest import Personas
from . import review_world
from .journey import csrf
from .page_text import summary_errors as _errors
from .page_text import text as _text

RESULT: dict[str, Any] = {
    "rule_set": "appeal-test", "version": 1, "as_of": "2026-12-02", "total": 105,
    "threshold": 120, "eligible": False, "grade": None, "vetoes": [],
    "indicators": [
        {"id": "age", "group": "basic", "name": {"zh": "年龄", "en": "Age"}, "points": 30,
         "counted": True, "inputs": {"applicant.birth_date": "1990-05-01", "age": 36},
         "explanation": {"zh": "年龄 36 周岁：30 分", "en": "Age 36: 30 points"}},
        {"id": "si_years", "group": "basic", "name": {"zh": "社保年限", "en": "Years of SI"},
         "points": 15, "counted": True, "inputs": {"social_insurance.months": 60, "si_years": 5},
         "explanation": {"zh": "社保 5 年：15 分", "en": "5 years of SI: 15 points"}},
        {"id": "education", "group": "basic", "name": {"zh": "学历", "en": "Education"},
         "points": 60, "counted": True, "inputs": {"education.level": "bachelor"},
         "explanation": {"zh": "本科：60 分", "en": "Bachelor: 60 points"}},
    ]}
ANSWERS = {"applicant": {"name": "张三", "mobile": "13812345678", "birth_date": "1990-05-01"},
           "social_insurance": {"months": 60}, "education": {"level": "bachelor"}}


def _rescore(_session: Any, _evaluation: PointsEvaluation,
             answers: dict[str, Any]) -> dict[str, Any]:
    """The test's scorer: 3 points a year of social insurance (the engine's own is tested
    with the shipped rule set elsewhere)."""
    years = int(answers["social_insurance"]["months"]) // 12
    result = dict(RESULT)
    result["indicators"] = [dict(item) for item in RESULT["indicators"]]
    result["indicators"][1].update(points=years * 3,
                                   inputs={"social_insurance.months":
                                           answers["social_insurance"]["months"],
                                           "si_years": years})
    result["total"] = sum(item["points"] for item in result["indicators"])
    result["eligible"] = result["total"] >= 120
    return result


@pytest.fixture
def scored(demo: Flask, monkeypatch: pytest.MonkeyPatch) -> review_world.Run:
    """The review world's application with a score made today."""
    monkeypatch.setattr(appeals, "_default_scorer", _rescore)
    return _scored(demo, utcnow())


def _scored(demo: Flask, at: datetime, appeal: dict[str, Any] | None = None) -> review_world.Run:
    run = review_world.build(demo.extensions["tongban.engine"], answers=ANSWERS)
    with run.session() as session, db.unit_of_work(session):
        rules = run.add(session, DefinitionVersion(
            kind="rules", code="appeal-test", version=1,
            content={"id": "appeal-test", **({"appeal": appeal} if appeal else {})},
            content_hash=secrets.token_hex(8), source_path="rules/appeal-test.yaml",
            author="test"))
        run.add(session, PointsEvaluation(
            application_id=run.application_id, rules_version_id=rules.id,
            rule_set="appeal-test", as_of=date(2026, 12, 2), total=105, eligible=False,
            result=RESULT, created_at=at))
    return run


def _form(client: FlaskClient, path: str) -> str:
    return client.get(path).get_data(as_text=True)


def _submit_key(html: str) -> str:
    found = re.search(r'name="submit_key" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def _lodge(client: FlaskClient, reference: str, **fields: Any):  # type: ignore[no-untyped-def]
    path = f"/my/applications/{reference}/appeal"
    html = _form(client, path)
    data = {"csrf_token": csrf(html), "submit_key": _submit_key(html), **fields}
    return client.post(path, data=data, content_type="multipart/form-data")


def _audit(demo: Flask, action: str) -> list[AuditEvent]:
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        return list(session.scalars(select(AuditEvent).where(col(AuditEvent.action) == action)
                                    .order_by(col(AuditEvent.seq))))


def _rows(demo: Flask, model: Any) -> list[Any]:
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        return list(session.scalars(select(model).order_by(col(model.id))))


# --- the appeal journey -------------------------------------------------------------------

def test_the_applicant_contests_an_item_and_a_reviewer_upholds_it_with_a_new_score(
        scored: review_world.Run, demo: Flask) -> None:
    citizen = Personas(demo.test_client()).as_("citizen")
    page = _text(_form(citizen, f"/my/applications/{scored.reference}"))
    assert "申请复核" in page and "可在 " in page
    response = _lodge(citizen, scored.reference, indicator="si_years",
                      reasons="我的社保实际缴费 84 个月，单位补缴未计入。",
                      materials=(io.BytesIO(b"%PDF-1.4 proof"), "社保证明.pdf"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/my/applications/{scored.reference}?appealed=1")
    (appeal,) = _rows(demo, PointsAppeal)
    (upload,) = _rows(demo, StoredUpload)
    assert (appeal.indicator, appeal.status, appeal.materials, appeal.department_code) == (
        "si_years", "open", [upload.public_id], "sh-rsj")
    assert upload.application_id == scored.application_id
    page = _text(_form(citizen, f"/my/applications/{scored.reference}?appealed=1"))
    assert "社保年限" in page and "等待审核人员处理" in page

    reviewer = Personas(demo.test_client()).as_("rsj_city")
    assert "等待处理的积分复核申请：1" in _text(_form(reviewer, "/review"))
    queue = _text(_form(reviewer, "/review/appeals"))
    assert scored.reference in queue and "社保年限" in queue
    html = _form(reviewer, f"/review/appeals/{appeal.id}")
    assert "我的社保实际缴费 84 个月" in html and "社保证明.pdf" in html
    assert 'name="answer:social_insurance.months"' in html
    assert 'name="answer:applicant.birth_date"' not in html  # another item's answer
    response = reviewer.post(f"/review/appeals/{appeal.id}", data={
        "csrf_token": csrf(html), "op": "uphold", "answer:social_insurance.months": "84",
        "uphold-reason": "核对社保记录，补缴月份属实"})
    assert response.status_code == 302, response.get_data(as_text=True)

    old, new = _rows(demo, PointsEvaluation)
    assert (old.total, old.reason, old.result) == (105, "submitted", RESULT)
    assert (new.total, new.reason, new.supersedes_id, new.reason_text, new.actor_name) == (
        111, "appeal", old.id, "核对社保记录，补缴月份属实", "rsj_city")
    assert new.result["indicators"][1]["inputs"]["social_insurance.months"] == 84
    (appeal,) = _rows(demo, PointsAppeal)
    assert (appeal.status, appeal.corrections, appeal.new_evaluation_id) == (
        "upheld", {"social_insurance.months": 84}, new.id)
    (event,) = _audit(demo, "points.appeal.uphold")
    assert event.actor_name == "rsj_city" and event.object_id == scored.reference
    assert event.before is not None and event.after is not None
    assert (event.before["total"], event.after["total"]) == (105, 111)
    assert [e.after["indicator"] for e in _audit(demo, "points.appeal.lodge")
            if e.after] == ["si_years"]

    page = _text(_form(citizen, f"/my/applications/{scored.reference}"))
    assert "复核成立，已重新计分（总分 105 → 111）" in page
    assert "理由：核对社保记录，补缴月份属实" in page
    # QA of issue 13: the reviewer's page called the decision 条件分支 (the flow diagram's
    # word for a gateway).
    decided = _text(_form(reviewer, f"/review/appeals/{appeal.id}"))
    assert "处理结果 复核成立 · 111 分" in decided and "条件分支" not in decided


def test_a_reviewer_dismisses_an_appeal_with_a_reason_and_the_score_stays(
        scored: review_world.Run, demo: Flask) -> None:
    citizen = Personas(demo.test_client()).as_("citizen")
    assert _lodge(citizen, scored.reference, indicator="age",
                  reasons="年龄算错了").status_code == 302
    (appeal,) = _rows(demo, PointsAppeal)
    reviewer = Personas(demo.test_client()).as_("rsj_city")
    html = _form(reviewer, f"/review/appeals/{appeal.id}")
    response = reviewer.post(f"/review/appeals/{appeal.id}", data={
        "csrf_token": csrf(html), "op": "dismiss", "dismiss-reason": "出生日期与身份证一致"})
    assert response.status_code == 302
    assert [(a.status, a.decision_reason) for a in _rows(demo, PointsAppeal)] == [
        ("dismissed", "出生日期与身份证一致")]
    assert len(_rows(demo, PointsEvaluation)) == 1
    assert len(_audit(demo, "points.appeal.dismiss")) == 1
    page = _text(_form(citizen, f"/my/applications/{scored.reference}"))
    assert "未予支持" in page and "理由：出生日期与身份证一致" in page
    again = reviewer.post(f"/review/appeals/{appeal.id}", data={
        "csrf_token": csrf(html), "op": "dismiss", "dismiss-reason": "再次"})
    assert again.status_code == 409
    assert "此复核申请已有处理结果" in _text(again.get_data(as_text=True))


def test_a_double_submit_of_the_appeal_makes_one_appeal(
        scored: review_world.Run, demo: Flask) -> None:
    citizen = Personas(demo.test_client()).as_("citizen")
    path = f"/my/applications/{scored.reference}/appeal"
    html = _form(citizen, path)
    data = {"csrf_token": csrf(html), "submit_key": _submit_key(html), "indicator": "age",
            "reasons": "年龄算错了"}
    first = citizen.post(path, data=data)
    second = citizen.post(path, data=data)
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert len(_rows(demo, PointsAppeal)) == 1
    assert len(_audit(demo, "points.appeal.lodge")) == 1


@pytest.mark.parametrize(("fields", "message"), [
    ({"reasons": "理由"}, "请选择您要申请复核的积分项目"),
    ({"indicator": "nonsense", "reasons": "理由"}, "请选择您要申请复核的积分项目"),
    ({"indicator": "age", "reasons": "   "}, "请填写申请复核的理由"),
    ({"indicator": "age", "reasons": "长" * 2001}, "理由不能超过 2000 个字"),
    ({"indicator": "age", "reasons": "理由",
      "materials": (io.BytesIO(b"just text"), "note.txt")},
     "所选文件必须是PDF、JPG或PNG格式"),
])
def test_a_bad_appeal_is_refused_with_its_message_and_nothing_is_stored(
        scored: review_world.Run, demo: Flask, fields: dict[str, Any], message: str) -> None:
    citizen = Personas(demo.test_client()).as_("citizen")
    response = _lodge(citizen, scored.reference, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _errors(html) == [message]
    assert _rows(demo, PointsAppeal) == [] and _rows(demo, StoredUpload) == []
    assert _audit(demo, "points.appeal.lodge") == []


def test_an_empty_appeal_names_both_missing_answers_at_once(
        scored: review_world.Run, demo: Flask) -> None:
    """QA of issue 13: sent empty, the form named only the item; the missing reasons came
    up only on the second try."""
    citizen = Personas(demo.test_client()).as_("citizen")
    response = _lodge(citizen, scored.reference)
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True)) == [
        "请选择您要申请复核的积分项目", "请填写申请复核的理由"]
    assert _rows(demo, PointsAppeal) == [] and _audit(demo, "points.appeal.lodge") == []


def test_a_second_open_appeal_on_the_same_item_is_refused(
        scored: review_world.Run, demo: Flask) -> None:
    citizen = Personas(demo.test_client()).as_("citizen")
    assert _lodge(citizen, scored.reference, indicator="age", reasons="一").status_code == 302
    response = _lodge(citizen, scored.reference, indicator="age", reasons="二")
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True)) == [
        "您对“年龄”的复核申请尚在处理中，请等待结果"]
    assert len(_rows(demo, PointsAppeal)) == 1
    assert _lodge(citizen, scored.reference, indicator="education",
                  reasons="三").status_code == 302  # another item may be contested


def test_an_appeal_after_the_window_is_refused(demo: Flask) -> None:
    # 15 working days after Tuesday 2026-09-01 on the Shanghai calendar (Sunday 2026-09-20
    # is a working day, made up for the Mid-Autumn holiday): 2026-09-21.
    run = _scored(demo, datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    citizen = Personas(demo.test_client()).as_("citizen")
    page = _text(_form(citizen, f"/my/applications/{run.reference}"))
    assert "申请复核的期限已于 2026-09-21 届满" in page
    form_page = _form(citizen, f"/my/applications/{run.reference}/appeal")
    assert 'name="reasons"' not in form_page and "2026-09-21 届满" in _text(form_page)
    path = f"/my/applications/{run.reference}/appeal"  # a post all the same (an old tab)
    response = citizen.post(path, data={"csrf_token": csrf(form_page),
                                        "submit_key": "s" * 24, "indicator": "age",
                                        "reasons": "理由"})
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True)) == ["申请复核的期限已于 2026-09-21 届满"]
    assert _rows(demo, PointsAppeal) == []


def test_the_window_comes_from_the_rule_set_in_working_days(demo: Flask) -> None:
    run = _scored(demo, datetime(2026, 9, 1, 2, 0, tzinfo=UTC), appeal={"working_days": 5})
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        from tongban.models import Application

        application = session.get(Application, run.application_id)
        evaluation = appeals.latest_evaluation(session, run.application_id)
        assert application is not None and evaluation is not None
        assert appeals.last_day(session, application, evaluation) == date(2026, 9, 8)
        assert appeals.working_days(session, evaluation) == 5


def test_an_application_without_a_score_has_no_appeal(run_without_score: review_world.Run,
                                                      demo: Flask) -> None:
    citizen = Personas(demo.test_client()).as_("citizen")
    assert "申请复核" not in _form(citizen, f"/my/applications/{run_without_score.reference}")
    assert citizen.get(f"/my/applications/{run_without_score.reference}/appeal").status_code \
        == 404


@pytest.fixture
def run_without_score(demo: Flask) -> review_world.Run:
    return review_world.build(demo.extensions["tongban.engine"])


def test_someone_else_cannot_appeal_or_decide(scored: review_world.Run, demo: Flask) -> None:
    outsider = Personas(demo.test_client()).as_("enterprise")
    assert outsider.get(f"/my/applications/{scored.reference}/appeal").status_code == 404
    citizen = Personas(demo.test_client()).as_("citizen")
    assert _lodge(citizen, scored.reference, indicator="age", reasons="一").status_code == 302
    (appeal,) = _rows(demo, PointsAppeal)
    other_department = Personas(demo.test_client()).as_("cgj_xuhui")
    assert other_department.get(f"/review/appeals/{appeal.id}").status_code == 404
    assert scored.reference not in _form(other_department, "/review/appeals")
    assert "积分复核申请" not in _text(_form(other_department, "/review"))


@pytest.mark.parametrize(("data", "field_message"), [
    ({"op": "uphold", "answer:social_insurance.months": "84"}, "请填写处理理由"),
    ({"op": "uphold", "answer:social_insurance.months": "60", "uphold-reason": "核对"},
     "请至少填写一项与现有内容不同的更正答案"),
    ({"op": "uphold", "answer:social_insurance.months": "八十四", "uphold-reason": "核对"},
     "social_insurance.months 请填写整数"),
    ({"op": "uphold", "answer:applicant.birth_date": "1991-01-01", "uphold-reason": "核对"},
     "applicant.birth_date 不是该积分项目读取的答案"),
    ({"op": "dismiss", "dismiss-reason": " "}, "请填写处理理由"),
])
def test_a_bad_decision_is_refused_with_its_message_and_nothing_changes(
        scored: review_world.Run, demo: Flask, data: dict[str, str], field_message: str) -> None:
    citizen = Personas(demo.test_client()).as_("citizen")
    assert _lodge(citizen, scored.reference, indicator="si_years",
                  reasons="一").status_code == 302
    (appeal,) = _rows(demo, PointsAppeal)
    reviewer = Personas(demo.test_client()).as_("rsj_city")
    html = _form(reviewer, f"/review/appeals/{appeal.id}")
    response = reviewer.post(f"/review/appeals/{appeal.id}",
                             data={"csrf_token": csrf(html), **data})
    assert response.status_code == 422
    assert _errors(response.get_data(as_text=True)) == [field_message]
    assert [a.status for a in _rows(demo, PointsAppeal)] == ["open"]
    assert len(_rows(demo, PointsEvaluation)) == 1


# --- integrity flags on the task page -------------------------------------------------------

def _flag(run: review_world.Run, **fields: Any) -> int:
    with run.session() as session, db.unit_of_work(session):
        flag = run.add(session, PointsFlag(
            application_id=run.application_id, kind="implausible",
            field="family.marriage_years,applicant.birth_date",
            detail={"check": "marriage_years"}, message_zh="婚龄 17 年，超过年龄 36 周岁减 20",
            message_en="Married 17 years, more than age 36 minus 20", **fields))
        return int(flag.id)


def test_the_task_page_shows_flags_and_a_reviewer_clears_one_with_a_reason(
        demo: Flask) -> None:
    run = review_world.build(demo.extensions["tongban.engine"])
    flag_id = _flag(run)
    reviewer = Personas(demo.test_client()).as_("reviewer")
    task_path = f"/review/tasks/{run.tasks['review']}"
    page = _text(_form(reviewer, task_path))
    assert "完整性提示" in page and "婚龄 17 年，超过年龄 36 周岁减 20" in page
    assert "不会阻止办理" in page
    html = _form(reviewer, f"/review/points/flags/{flag_id}?next={task_path}")
    refused = reviewer.post(f"/review/points/flags/{flag_id}",
                            data={"csrf_token": csrf(html), "reason": "", "next": task_path})
    assert refused.status_code == 422
    assert _errors(refused.get_data(as_text=True)) == ["请填写解除此提示的理由"]
    assert [f.status for f in _rows(demo, PointsFlag)] == ["open"]
    response = reviewer.post(f"/review/points/flags/{flag_id}", data={
        "csrf_token": csrf(html), "reason": "已核对结婚证，婚龄系笔误", "next": task_path})
    assert response.status_code == 302 and response.headers["Location"] == task_path
    (flag,) = _rows(demo, PointsFlag)
    assert (flag.status, flag.cleared_by_name, flag.cleared_reason) == (
        "cleared", "reviewer", "已核对结婚证，婚龄系笔误")
    (event,) = _audit(demo, "points.flag.clear")
    assert event.actor_name == "reviewer" and event.object_id == run.reference
    page = _text(_form(reviewer, task_path))
    assert "由 reviewer 解除：已核对结婚证，婚龄系笔误" in page
    again = reviewer.post(f"/review/points/flags/{flag_id}", data={
        "csrf_token": csrf(html), "reason": "再次", "next": task_path})
    assert again.status_code == 409
    assert _errors(again.get_data(as_text=True)) == ["此提示已被解除"]


def test_flags_are_not_shown_to_the_applicant_nor_clearable_by_another_department(
        demo: Flask) -> None:
    run = review_world.build(demo.extensions["tongban.engine"])
    flag_id = _flag(run)
    citizen = Personas(demo.test_client()).as_("citizen")
    assert "婚龄 17 年" not in _form(citizen, f"/my/applications/{run.reference}")
    assert citizen.get(f"/review/points/flags/{flag_id}").status_code in (302, 403)
    other = Personas(demo.test_client()).as_("cgj_xuhui")
    assert other.get(f"/review/points/flags/{flag_id}").status_code == 404


def test_the_english_page_shows_the_flag_in_english(demo: Flask) -> None:
    run = review_world.build(demo.extensions["tongban.engine"])
    _flag(run, created_at=utcnow() - timedelta(minutes=1))
    reviewer = Personas(demo.test_client()).as_("reviewer")
    path = f"/review/tasks/{run.tasks['review']}"
    html = _form(reviewer, path)
    reviewer.post("/settings/language", data={"csrf_token": csrf(html), "locale": "en",
                                              "next": path})
    page = _text(_form(reviewer, path))
    assert "Integrity flags" in page and "Married 17 years, more than age 36 minus 20" in page


def test_saving_a_draft_page_records_each_change_of_an_answer(personas: Personas,
                                                              demo: Flask) -> None:
    from tongban.models import DraftFieldChange

    from .journey import Journey

    journey = Journey(personas.as_("citizen"), "residence-points")
    for months in ("36", "48", "48", "60", "72"):
        response = journey.post("social-insurance", {
            "social_insurance.months": months, "social_insurance.base_band": "1_to_2",
            "social_insurance.base_months": "12"})
        assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    assert [row.field for row in _rows(demo, DraftFieldChange)] == [
        "social_insurance.months"] * 3  # 36 -> 48, 48 -> 60, 60 -> 72; the first is no change
