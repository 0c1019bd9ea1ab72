"""Issue 17 item 10: 好差评. The applicant rates a finished application from its page in /my; a
real-name 差评 opens a 回访 task for the department that handled it, whose answer reaches the
rater; the worker gives the default rating once; a department administrator appeals a rating
and a platform administrator decides; the dashboards count the levels. Every refusal has its
words and changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from tongban import db
from tongban.models import (
    AuditEvent,
    FlowInstance,
    FlowTask,
    Notification,
    RatingFollowUp,
    ServiceRating,
    saved_id,
    utcnow,
)
from tongban.policy import Actor
from tongban.ratings import Policy, apply_defaults
from tongban.workflow import runtime
from tongban.worktime import file_calendar, is_working_day, local_day, working_days_between

from ..conftest import Personas
from . import review_world
from .journey import csrf
from .page_text import summary_errors as _errors
from .page_text import text as _text


def _engine(demo: Flask) -> Any:
    return demo.extensions["tongban.engine"]


def _finished(demo: Flask, *, status: str = "approved", days_ago: int = 0,
              reference: str = "2612-RATE-TEST") -> review_world.Run:
    """张三's application through intake (the clerk) and review (a sh-rsj reviewer), ended."""
    run = review_world.build(_engine(demo), status=status, reference=reference)
    ended = utcnow() - timedelta(days=days_ago)
    with run.session() as session, db.unit_of_work(session):
        review = session.get(FlowTask, run.tasks["review"])
        instance = session.get(FlowInstance, run.instance_id)
        assert review is not None and instance is not None
        if status in ("approved", "rejected", "completed"):
            review.state, review.outcome = "done", status
            review.done_by, review.done_at = run.users["reviewer"], ended
            instance.ended_at, instance.outcome = ended, status
    return run


def _rate(client: FlaskClient, reference: str, **data: Any):  # type: ignore[no-untyped-def]
    page = client.get(f"/my/applications/{reference}").get_data(as_text=True)
    return client.post(f"/my/applications/{reference}/rating",
                       data={"csrf_token": csrf(page), **data})


def _ratings(session: Session) -> list[ServiceRating]:
    session.rollback()
    return list(session.scalars(select(ServiceRating).order_by(col(ServiceRating.id))))


def _audit(session: Session, prefix: str = "rating.") -> list[AuditEvent]:
    session.rollback()
    return list(session.scalars(select(AuditEvent).where(
        col(AuditEvent.action).startswith(prefix)).order_by(col(AuditEvent.seq))))


def test_a_citizen_rates_a_finished_application_dissatisfied_and_the_department_gets_a_follow_up(
        demo: Flask, personas: Personas, session: Session) -> None:
    run = _finished(demo)
    citizen = personas.as_("citizen")
    page = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "您的办件已办结。您对本次服务满意吗？" in page
    form = citizen.get(f"/my/applications/{run.reference}/rating").get_data(as_text=True)
    assert "您对本次服务满意吗？" in form and "评价自愿" in form
    assert 'for="level">非常满意<' in form and 'id="reasons" name="reasons" value="slow"' in form
    response = _rate(citizen, run.reference, level="2", reasons=["slow", "attitude"],
                     comment="跑了三次才办好")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/my/applications/{run.reference}?rated=1#rating")
    shown = _text(citizen.get(f"/my/applications/{run.reference}?rated=1").get_data(as_text=True))
    assert "感谢您的评价。" in shown and "不满意" in shown
    assert "办理时间太长；工作人员服务态度不好" in shown and "跑了三次才办好" in shown
    [rating] = _ratings(session)
    assert (rating.level, rating.source, rating.reasons, rating.comment) == (
        2, "applicant", ["slow", "attitude"], "跑了三次才办好")
    assert (rating.service_code, rating.department_code, rating.clerk_id, rating.rater_id) == (
        "residence-points", "sh-rsj", run.users["clerk"], run.users["citizen"])
    follow_up = session.scalars(select(RatingFollowUp)).one()
    assert follow_up.department_code == "sh-rsj" and follow_up.state == "open"
    calendar, today = file_calendar("shanghai"), local_day(utcnow())
    if follow_up.due_on.year <= 2026:  # the calendar's last published year
        assert is_working_day(calendar, follow_up.due_on)
        assert working_days_between(calendar, today, follow_up.due_on) == 5
    assert f"承办部门将于 {follow_up.due_on.isoformat()} 前回访并答复您。" in shown
    assert [event.action for event in _audit(session)] == ["rating.given",
                                                          "rating.follow_up_opened"]
    reviewer = personas.as_("rsj_city")
    assert "待回访的差评：1 件" in _text(reviewer.get("/review").get_data(as_text=True))
    listed = _text(reviewer.get("/review/ratings").get_data(as_text=True))
    assert run.reference in listed and "不满意" in listed and follow_up.due_on.isoformat() in listed


def test_the_department_calls_back_answers_and_the_rater_is_told(
        demo: Flask, personas: Personas, session: Session) -> None:
    run = _finished(demo)
    assert _rate(personas.as_("citizen"), run.reference, level="1").status_code == 302
    [rating] = _ratings(session)
    reviewer = personas.as_("rsj_city")
    page = reviewer.get(f"/review/ratings/{rating.id}").get_data(as_text=True)
    assert "张三" in _text(page) and "仅用于回访" in page
    empty = reviewer.post(f"/review/ratings/{rating.id}/follow-up",
                          data={"csrf_token": csrf(page), "visit_note": " ", "reply": ""})
    assert empty.status_code == 422
    assert _errors(empty.get_data(as_text=True)) == ["请填写回访时评价人反映的情况",
                                                     "请填写给评价人的答复"]
    session.rollback()
    assert session.scalars(select(RatingFollowUp)).one().state == "open"
    done = reviewer.post(f"/review/ratings/{rating.id}/follow-up", data={
        "csrf_token": csrf(page), "visit_note": "12 月 3 日电话回访，申请人反映等候时间长",
        "reply": "已增开窗口并优化预约，感谢您的监督。"})
    assert done.status_code == 302
    again = reviewer.post(f"/review/ratings/{rating.id}/follow-up", data={
        "csrf_token": csrf(page), "visit_note": "x", "reply": "y"})
    assert again.status_code == 409 and "该回访任务已办结" in again.get_data(as_text=True)
    session.rollback()
    follow_up = session.scalars(select(RatingFollowUp)).one()
    assert follow_up.state == "done" and follow_up.done_by == run.users["rsj_city"]
    told = session.scalars(select(Notification).where(
        col(Notification.kind) == "rating_reply")).all()
    assert [(n.channel, n.user_id) for n in told] == [("site", run.users["citizen"])]
    assert told[0].subject == "您的评价已有答复（2612-RATE-TEST）"
    shown = _text(personas.as_("citizen").get(
        f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "承办部门的答复" in shown and "已增开窗口并优化预约，感谢您的监督。" in shown
    assert [e.action for e in _audit(session)][-1] == "rating.follow_up_done"
    assert personas.as_("gaj_city").get(f"/review/ratings/{rating.id}").status_code == 404


@pytest.mark.parametrize(("case", "status", "message"), [
    ("not finished", 409, "办件办结后才能评价。"),
    ("not yours", 404, "没有找到您名下此编号的办件。"),
    ("unknown level", 422, "请从“非常满意”到“非常不满意”五个等级中选择一个"),
    ("no level", 422, "请选择您的满意程度"),
    ("unknown reason", 422, "请从列表中选择原因"),
    ("comment too long", 422, "留言最多 500 个字"),
    ("twice", 409, "该办件已评价，评价不能修改。"),
])
def test_a_bad_rating_is_refused_with_its_words_and_nothing_changes(
        demo: Flask, personas: Personas, session: Session, case: str, status: int,
        message: str) -> None:
    run = _finished(demo, status="in_progress" if case == "not finished" else "approved")
    data: dict[str, Any] = {"level": "4"}
    if case == "unknown level":
        data["level"] = "6"
    elif case == "no level":
        data.pop("level")
    elif case == "unknown reason":
        data["reasons"] = ["slow", "weather"]
    elif case == "comment too long":
        data["comment"] = "长" * 501
    if case == "twice":
        assert _rate(personas.as_("citizen"), run.reference, level="5").status_code == 302
    before = (len(_ratings(session)), len(_audit(session)))
    client = personas.as_("enterprise" if case == "not yours" else "citizen")
    if case == "not yours":
        page = client.get("/my/settings").get_data(as_text=True)
        response = client.post(f"/my/applications/{run.reference}/rating",
                               data={"csrf_token": csrf(page), **data})
    else:
        response = _rate(client, run.reference, **data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html
    if status == 422:
        assert _errors(html) == [message]
    assert (len(_ratings(session)), len(_audit(session))) == before
    if case == "twice":
        assert _ratings(session)[0].level == 5


def test_the_default_rating_is_given_once_after_the_set_days(
        demo: Flask, personas: Personas, session: Session) -> None:
    run = _finished(demo, days_ago=7)
    early = _finished(demo, days_ago=6, reference="2612-RATE-EARL")
    policy = Policy(default_after_days=7, day_kind="natural", default_level=3)
    engine = _engine(demo)
    for _ in range(2):
        with db.new_session(engine) as worker, db.unit_of_work(worker):
            apply_defaults(worker, policy)
    [rating] = _ratings(session)
    assert (rating.application_id, rating.level, rating.source, rating.rater_id) == (
        run.application_id, 3, "default", None)
    assert [e.action for e in _audit(session)] == ["rating.defaulted"]
    assert not session.scalars(select(RatingFollowUp)).all()
    citizen = personas.as_("citizen")
    shown = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    assert "基本满意" in shown and "办结后 7 日内未评价，系统已按规定默认评价。" in shown
    refused = _rate(citizen, run.reference, level="1")
    assert refused.status_code == 409 and "该办件已评价，评价不能修改。" in refused.get_data(as_text=True)
    assert _rate(citizen, early.reference, level="4").status_code == 302
    with db.new_session(engine) as worker, db.unit_of_work(worker):
        assert apply_defaults(worker, policy, utcnow() + timedelta(days=30)) == 0


def test_the_default_counts_working_days_when_set_to(demo: Flask, session: Session) -> None:
    run = _finished(demo, days_ago=0)
    policy = Policy(default_after_days=5, day_kind="working", default_level=4)
    with session.begin():
        instance = session.get(FlowInstance, run.instance_id)
        assert instance is not None
        instance.ended_at = review_world.T0  # Friday 2026-10-09, 10:00 in Shanghai
    with db.new_session(_engine(demo)) as worker, db.unit_of_work(worker):
        # Saturday 10 October is a make-up working day (调休): five working days after Friday
        # 9 October end with Thursday 15 October, in Shanghai.
        assert apply_defaults(worker, policy, review_world.T0 + timedelta(days=6, hours=5)) == 0
        assert apply_defaults(worker, policy, review_world.T0 + timedelta(days=6, hours=15)) == 1
    assert _ratings(session)[0].level == 4


def test_a_department_admin_appeals_and_a_platform_admin_upholds_and_the_figures_drop_it(
        demo: Flask, personas: Personas, session: Session) -> None:
    run = _finished(demo)
    assert _rate(personas.as_("citizen"), run.reference, level="1",
                 reasons=["other"]).status_code == 302
    [rating] = _ratings(session)
    admin = personas.as_("admin")
    board = _text(admin.get("/admin/dashboards").get_data(as_text=True))
    assert "按事项统计的评价" in board and "按受理窗口统计的评价" in board
    assert "居住证积分申请 0 0 0 0 1 1 100.0 0" in board
    deptadmin = personas.as_("deptadmin")
    page = deptadmin.get(f"/review/ratings/{rating.id}").get_data(as_text=True)
    empty = deptadmin.post(f"/review/ratings/{rating.id}/appeal",
                           data={"csrf_token": csrf(page), "appeal_reason": ""})
    assert empty.status_code == 422
    assert _errors(empty.get_data(as_text=True)) == ["请填写该评价属于误评或恶意差评的理由"]
    sent = deptadmin.post(f"/review/ratings/{rating.id}/appeal", data={
        "csrf_token": csrf(page), "appeal_reason": "评价人与办件无关，系误评"})
    assert sent.status_code == 302
    reviewer = personas.as_("rsj_city")
    seen = reviewer.get(f"/review/ratings/{rating.id}").get_data(as_text=True)
    assert 'name="appeal_reason"' not in seen
    assert reviewer.post(f"/review/ratings/{rating.id}/appeal", data={
        "csrf_token": csrf(seen), "appeal_reason": "x"}).status_code == 403
    admin = personas.as_("admin")
    queue = admin.get("/admin/ratings/appeals").get_data(as_text=True)
    assert "评价人与办件无关，系误评" in queue
    no_note = admin.post(f"/admin/ratings/{rating.id}/decision", data={
        "csrf_token": csrf(queue), "decision": "uphold", "appeal_note": ""})
    assert no_note.status_code == 422 and _errors(no_note.get_data(as_text=True)) == ["请填写处理理由"]
    decided = admin.post(f"/admin/ratings/{rating.id}/decision", data={
        "csrf_token": csrf(queue), "decision": "uphold", "appeal_note": "核实为误评"})
    assert decided.status_code == 302
    twice = admin.post(f"/admin/ratings/{rating.id}/decision", data={
        "csrf_token": csrf(queue), "decision": "dismiss", "appeal_note": "x"})
    assert twice.status_code == 409 and "该评价已提出申诉" not in twice.get_data(as_text=True)
    [rating] = _ratings(session)
    assert (rating.appeal_state, rating.excluded, rating.appeal_note) == ("upheld", True,
                                                                          "核实为误评")
    assert [e.action for e in _audit(session)][-2:] == ["rating.appeal_requested",
                                                       "rating.appeal_decided"]
    board = _text(admin.get("/admin/dashboards").get_data(as_text=True))
    assert "居住证积分申请 0 0 0 0 1" not in board


def test_finishing_an_application_asks_its_applicant_to_rate(demo: Flask, session: Session) -> None:
    run = review_world.start(_engine(demo), "web-approve")
    task = review_world.open_task(run, "review")
    with run.session() as tx, db.unit_of_work(tx):
        runtime.act(tx, Actor.of(run.users["reviewer"], [("reviewer", "sh-rsj")]),
                    saved_id(task), "approve", version=None)
    session.rollback()
    invites = session.scalars(select(Notification).where(
        col(Notification.kind) == "rate_invite")).all()
    assert [(n.user_id, n.channel, n.link) for n in invites] == [
        (run.users["citizen"], "site", f"/my/applications/{run.reference}/rating")]
    assert invites[0].subject == f"请评价本次服务（{run.reference}）"
    assert session.execute(select(func.count()).select_from(ServiceRating)).scalar_one() == 0


def test_the_worker_gives_the_defaults_once_a_minute_with_the_settings_policy(
        demo: Flask, session: Session, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from huey import MemoryHuey

    from tongban import create_app
    from tongban.config import ConfigError
    from tongban.workflow import queue

    monkeypatch.setenv("TONGBAN_RATING_DEFAULT_AFTER_DAYS", "5")
    monkeypatch.setenv("TONGBAN_RATING_DEFAULT_DAY_KIND", "working")
    monkeypatch.setenv("TONGBAN_RATING_DEFAULT_LEVEL", "4")
    settings = queue.QueueSettings.from_config(create_app(instance_path=tmp_path).config)
    assert settings.rating == Policy(default_after_days=5, day_kind="working", default_level=4,
                                     follow_up_working_days=5)
    monkeypatch.setenv("TONGBAN_RATING_DEFAULT_LEVEL", "6")
    with pytest.raises(ConfigError) as raised:
        create_app(instance_path=tmp_path)
    assert str(raised.value) == ("Setting TONGBAN_RATING_DEFAULT_LEVEL (from environment) is "
                                 "invalid: expected a level from 1 to 5")
    run = _finished(demo, days_ago=8)
    built = queue.build(_engine(demo), queue.QueueSettings(
        url="", outbox=False, rating=Policy()), huey=MemoryHuey("ratings-test"))
    [task] = [t for t in built.huey._registry._periodic_tasks if t.__name__ == "default_ratings"]
    built.huey.execute(task())
    built.huey.execute(task())
    assert [(r.application_id, r.level, r.source) for r in _ratings(session)] == [
        (run.application_id, 3, "default")]


def test_the_public_progress_page_of_a_finished_application_points_to_rating_after_sign_in(
        demo: Flask, client: FlaskClient) -> None:
    run = _finished(demo)
    page = client.get("/progress").get_data(as_text=True)
    found = client.post("/progress/find", data={"csrf_token": csrf(page),
                                                "reference": run.reference, "name": "张三"})
    text = _text(found.get_data(as_text=True))
    assert "该办件已办结，申请人登录后可评价本次服务（好差评）：" in text
    link = f"/my/applications/{run.reference}/rating"
    assert f'href="{link}"' in found.get_data(as_text=True)
    assert client.get(link).headers["Location"].startswith("/login?next=")


def test_the_seed_command_rates_a_generated_history_once_and_the_dashboards_count_it(
        demo: Flask, cli: Any, personas: Personas, session: Session) -> None:
    assert cli("dashboards", "seed", "--applications", "60", "--seed", "7").exit_code == 0
    first = cli("ratings", "seed")
    assert first.exit_code == 0, first.output
    rated = len(_ratings(session))
    assert rated > 0 and first.output == f"rated {rated} finished applications\n"
    assert cli("ratings", "seed").output == "rated 0 finished applications\n"
    assert cli("ratings", "defaults").output == "gave the default rating to 0 applications\n"
    board = _text(personas.as_("admin").get("/admin/dashboards").get_data(as_text=True))
    assert "按事项统计的评价" in board and "所选时间范围内没有评价。" not in board


def _staff_post(demo: Flask, username: str, task_id: int, op: str) -> int:
    client = Personas(demo.test_client()).as_(username)
    page = client.get(f"/review/tasks/{task_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    return client.post(f"/review/tasks/{task_id}", data={
        "csrf_token": csrf(page), "op": op, "version": version.group(1)}).status_code


def test_the_urban_event_report_closes_its_loop_with_the_reporters_rating(
        demo: Flask, personas: Personas, session: Session) -> None:
    """File (立案) at the Xuhui counter, handle, verify on site, close: the reporter is asked to
    rate; their 差评 goes back to the district office that checked it, attributed to the
    counter and the clerk who filed it."""
    import secrets

    from tongban.definitions.publish import current_version
    from tongban.models import Application

    review_world.forget_compiled_flows()
    run = review_world.Run(_engine(demo), reference="2612-RATE-URBN")
    with run.session() as tx, db.unit_of_work(tx):
        run.users = review_world.user_ids(tx)
        service = current_version(tx, "service", "urban-event-report")
        form = current_version(tx, "form", "urban-event-report")
        assert service is not None and form is not None
        application = run.add(tx, Application(
            reference=run.reference, idempotency_key=secrets.token_hex(8),
            service_code="urban-event-report", service_version_id=saved_id(service),
            form_version_id=saved_id(form),
            answers={"event": {"category": "street_order", "description": "占道经营"},
                     "location": {"region": "310104", "address": "徐汇区漕溪北路1号"},
                     "reporter": {"anonymous": False, "name": "张三"}},
            status="submitted", submitter_id=run.users["citizen"], department_code="sh-cgj",
            submitted_at=utcnow()))
        run.application_id = saved_id(application)
        instance = runtime.start_flow(tx, application, now=utcnow())
        assert instance is not None
        run.instance_id = saved_id(instance)
    for username, node, op in (("clerk_xuhui", "filing", "accept"),
                               ("cgj_xuhui", "handle_street", "approve"),
                               ("cgj_xuhui2", "verify", "approve")):
        assert _staff_post(demo, username, review_world.open_task(run, node).id, op) == 302
    assert review_world.status(run) == "completed"
    session.rollback()
    invite = session.scalars(select(Notification).where(
        col(Notification.kind) == "rate_invite", col(Notification.channel) == "site")).one()
    assert invite.user_id == run.users["citizen"] and invite.reference == run.reference
    assert _rate(personas.as_("citizen"), run.reference, level="1",
                 reasons=["many_trips"]).status_code == 302
    [rating] = _ratings(session)
    assert (rating.department_code, rating.window_code, rating.clerk_id) == (
        "sh-cgj", "sh-cgj-xuhui", run.users["clerk_xuhui"])
    assert session.scalars(select(RatingFollowUp)).one().department_code == "sh-cgj-xuhui"
    district = personas.as_("cgj_xuhui")
    assert run.reference in district.get("/review/ratings").get_data(as_text=True)
    detail = _text(district.get(f"/review/ratings/{rating.id}").get_data(as_text=True))
    assert "受理窗口及人员 徐汇区城市管理行政执法局 · 徐窗口" in detail
    assert run.reference not in personas.as_("rsj_city").get("/review/ratings").get_data(
        as_text=True)
