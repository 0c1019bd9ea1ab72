"""QA of issue 13, what the applicant reads after a refusal below the standard score: the
history said 已批准 (approved) for the reviewer's confirmation of the refusal, and after an
upheld appeal the score panel said the points were counted again because their answers
changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import col

from tongban import db
from tongban.models import PointsAppeal, PointsFlag, saved_id

from .journey import csrf
from .test_points_in_applications import LOW_PAGES, _accept, _apply, _as, _open_task, _post, _text


def _uphold(demo: Any, application: Any) -> None:
    citizen = _as(demo, "citizen")
    path = f"/my/applications/{application.reference}/appeal"
    page = citizen.get(path).get_data(as_text=True)
    key = page.split('name="submit_key" value="', 1)[1].split('"', 1)[0]
    assert citizen.post(path, data={"csrf_token": csrf(page), "submit_key": key,
                                    "indicator": "education",
                                    "reasons": "本科并有学士学位"}).status_code == 302
    reviewer = _as(demo, "rsj_city")
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        appeal = session.scalars(select(PointsAppeal).where(
            col(PointsAppeal.application_id) == saved_id(application))).one()
    form = reviewer.get(f"/review/appeals/{appeal.id}").get_data(as_text=True)
    assert reviewer.post(f"/review/appeals/{appeal.id}", data={
        "csrf_token": csrf(form), "op": "uphold",
        "answer:education.level": "bachelor_degree",
        "uphold-reason": "学位证书核实无误"}).status_code == 302


def test_the_score_note_after_an_upheld_appeal_names_the_appeal(demo):
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        application = _apply(demo, session, LOW_PAGES)
    _uphold(demo, application)
    page = _text(_as(demo, "citizen").get(
        f"/my/applications/{application.reference}").get_data(as_text=True))
    assert "复核成立后已重新计分；此前的积分为 83 分。" in page
    assert "申请内容变更" not in page


def test_the_history_says_the_refusal_was_confirmed_not_approved(demo):
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        application = _apply(demo, session, LOW_PAGES)
        _accept(demo, session, application)
        refusal = _open_task(session, saved_id(application), "refusal_review")
        assert refusal is not None
        reference, refusal_id = application.reference, refusal.id
    admin = _as(demo, "deptadmin")
    assert _post(admin, refusal_id, "claim").status_code == 302
    assert _post(admin, refusal_id, "approve", comment="未达到标准分值").status_code == 302
    for client, path in ((_as(demo, "citizen"), f"/my/applications/{reference}"),
                         (admin, f"/review/tasks/{refusal_id}")):
        page = _text(client.get(path).get_data(as_text=True))
        assert "确认不予通过 · 积分未达标审核（不予通过）" in page, path
        assert "已批准 · 积分未达标审核" not in page, path


def test_the_district_reviewer_clears_a_flag_shown_on_their_task(demo):
    """QA of issue 13: rsj_xuhui's task page listed the flags with a 解除此提示 link that
    answered 404 (the application belongs to the city bureau, the task to 徐汇's bureau);
    another district's reviewer still gets 404."""
    xuhui = {"applicant": {"applicant.work_district": "310104"}}
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        _apply(demo, session, xuhui)
        application = _apply(demo, session, xuhui)  # the same ID number: a flag each
        flag = session.scalars(select(PointsFlag).where(
            col(PointsFlag.application_id) == saved_id(application))).first()
        assert flag is not None and flag.kind == "duplicate_id"
        flag_id = flag.id
    clerk = _as(demo, "clerk_xuhui")
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        intake = _open_task(session, saved_id(application), "intake")
        assert intake is not None
        intake_id = intake.id
    assert _post(clerk, intake_id, "claim").status_code == 302
    assert _post(clerk, intake_id, "accept").status_code == 302
    path = f"/review/points/flags/{flag_id}"
    assert _as(demo, "rsj_pudong").get(path).status_code == 404
    reviewer = _as(demo, "rsj_xuhui")
    page = reviewer.get(path)
    assert page.status_code == 200
    response = reviewer.post(path, data={"csrf_token": csrf(page.get_data(as_text=True)),
                                         "reason": "同一申请人重复提交，已核实"})
    assert response.status_code == 302
    with db.new_session(demo.extensions["tongban.engine"]) as session:
        cleared = session.get(PointsFlag, flag_id)
        assert cleared is not None and cleared.status == "cleared"
