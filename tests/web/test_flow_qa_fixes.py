"""Issue 11, found walking the demo flows as their users: each a fix with its test."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tongban.models import Application

from ..conftest import Personas
from . import review_world
from .journey import PDF, csrf
from .page_text import text as _text


@pytest.fixture(autouse=True)
def _fresh_flow_cache() -> None:
    review_world.forget_compiled_flows()


def _as(demo: Any, username: str) -> FlaskClient:
    return Personas(demo.test_client()).as_(username)


def _post(client: FlaskClient, task_id: int, op: str, **data: Any):  # type: ignore[no-untyped-def]
    page = client.get(f"/review/tasks/{task_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    return client.post(f"/review/tasks/{task_id}", data={
        "csrf_token": csrf(page), "op": op, "version": version.group(1), **data})


def test_a_correction_naming_a_material_takes_the_new_file_and_names_it_in_words(
        demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(demo.extensions["tongban.engine"], "web-intake")
    intake = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    asked = _post(clerk, intake.id, "correction", questions="applicant.mobile",
                  materials="materials.id_card", comment="身份证照片不清晰")
    assert asked.status_code == 302, asked.get_data(as_text=True)
    citizen = _as(demo, "citizen")
    progress = _text(citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True))
    # The timeline names what to fix as the form does, not by its keys.
    assert "applicant.mobile" not in progress and "materials.id_card" not in progress
    assert progress.count("居民身份证正反面") == 2  # the box "what to fix" and the timeline
    staff = _text(clerk.get(f"/review/tasks/{intake.id}").get_data(as_text=True))
    assert "materials.id_card" not in staff.split("办理记录")[1]
    form = citizen.get(f"/my/applications/{run.reference}/correct").get_data(as_text=True)
    sent = citizen.post(f"/my/applications/{run.reference}/correct", data={
        "csrf_token": csrf(form), "applicant.mobile": "13900001111",
        "materials.id_card": (io.BytesIO(PDF), "新身份证.pdf", "application/pdf")},
        content_type="multipart/form-data")
    assert sent.status_code == 302, _text(sent.get_data(as_text=True))
    assert review_world.status(run) == "submitted"
    with run.session() as session:
        application = session.get(Application, run.application_id)
        assert application is not None
        assert application.answers["applicant"]["mobile"] == "13900001111"
        assert isinstance(application.answers["materials"]["id_card"], str)


def _household(demo: Any, reference: str) -> review_world.Run:
    """A household transfer to 徐汇区 (310104), its flow started by the runtime."""
    import secrets

    from tongban import db
    from tongban.definitions.publish import current_version
    from tongban.models import saved_id
    from tongban.workflow import runtime

    run = review_world.Run(demo.extensions["tongban.engine"], reference=reference)
    with run.session() as session, db.unit_of_work(session):
        run.users = review_world.user_ids(session)
        service = current_version(session, "service", "household-transfer")
        form = current_version(session, "form", "household-transfer")
        assert service is not None and form is not None
        application = run.add(session, Application(
            reference=reference, idempotency_key=secrets.token_hex(8),
            service_code="household-transfer", service_version_id=saved_id(service),
            form_version_id=saved_id(form),
            answers={"applicant": {"name": "李四"},
                     "transfer": {"reason": "job", "to_district": "310104"}},
            status="submitted", submitter_id=run.users["citizen"], department_code="sh-gaj",
            submitted_at=review_world.T0))
        run.application_id = saved_id(application)
        instance = runtime.start_flow(session, application, now=review_world.T0)
        assert instance is not None
        run.instance_id = saved_id(instance)
    return run


def test_the_timeline_names_the_department_a_task_was_offered_to_and_no_engine_codes(
        demo) -> None:  # type: ignore[no-untyped-def]
    run = _household(demo, "2612-QAHT-0001")
    # 徐窗口 works at three district counters; this intake was offered to the police branch's.
    intake = review_world.open_task(run, "intake")
    assert _post(_as(demo, "clerk_xuhui"), intake.id, "accept").status_code == 302
    # Where it stands: the three joint reviews, not the split (会签) their token waits on.
    waiting = _text(_as(demo, "citizen").get(f"/my/applications/{run.reference}")
                    .get_data(as_text=True))
    assert "当前环节 市公安局户政审核、市人社局审核、区分局审核 " in waiting
    assert _post(_as(demo, "gaj_city"), review_world.open_task(run, "police").id,
                 "approve").status_code == 302
    assert _post(_as(demo, "rsj_city"), review_world.open_task(run, "hr").id, "reject",
                 comment="社保年限不足").status_code == 302
    assert review_world.status(run) == "rejected"
    page = _text(_as(demo, "citizen").get(f"/my/applications/{run.reference}")
                 .get_data(as_text=True))
    accepted = page.split("受理了申请")[1].split("审核人员")[0]
    assert "上海市公安局徐汇分局 窗口受理人员" in accepted and "人力资源" not in accepted
    # The district branch's open task closed by the reject: said in words, not "rejected".
    closed = page.split("任务已关闭")[1]
    assert "区分局审核" in closed and "申请未获批准" in closed
    assert not re.search(r"\brejected\b", page)
    # The office's housekeeping (taking a group task) is not the applicant's business.
    assert "认领了任务" not in page
    staff_page = _text(_as(demo, "gaj_city").get(f"/review/tasks/{intake.id}")
                       .get_data(as_text=True))
    assert "认领了任务" in staff_page


def _open_task(session: Any, application_id: int, node: str) -> Any:
    from sqlalchemy import select

    from tongban.models import FlowInstance, FlowTask

    session.rollback()
    instance = session.scalars(select(FlowInstance).where(
        FlowInstance.application_id == application_id)).one()
    return session.scalars(select(FlowTask).where(
        FlowTask.instance_id == instance.id, FlowTask.node == node,
        FlowTask.state.in_(("open", "claimed")))).first()


def test_a_returned_application_is_changed_and_sent_again_keeping_its_files(
        demo, session) -> None:  # type: ignore[no-untyped-def]
    """Returned to the applicant with the whole form open: each question once, the files sent
    before kept (not asked for again), and straight back to the step that returned it."""
    from sqlalchemy import select

    from .journey import RESIDENCE_PAGES, Journey

    citizen = _as(demo, "citizen")
    journey = Journey(citizen, "residence-points")
    for page_id, data in RESIDENCE_PAGES:
        assert journey.post(page_id, data).status_code == 302
    assert journey.post("materials", {
        "materials.id_card": (io.BytesIO(PDF), "身份证.pdf"),
        "materials.residence_permit": (io.BytesIO(PDF), "居住证.pdf"),
        "materials.diploma": (io.BytesIO(PDF), "学位证书.pdf")},
        content_type="multipart/form-data").status_code == 302
    assert journey.submit().status_code == 302
    application = session.scalars(select(Application)).one()
    reference, app_id = application.reference, application.id
    # No district answered: the bureau's administrator takes it in and does the first review.
    admin = _as(demo, "deptadmin")
    for node in ("intake", "initial_review"):
        task = _open_task(session, app_id, node)
        assert task is not None, node
        assert _post(admin, task.id, "accept" if node == "intake" else "approve").status_code == 302
    municipal = _open_task(session, app_id, "municipal_review")
    assert _post(_as(demo, "rsj_city"), municipal.id, "return", target="applicant",
                 comment="请核对手机号").status_code == 302
    progress = _text(citizen.get(f"/my/applications/{reference}").get_data(as_text=True))
    assert "当前环节 start" not in progress and "当前环节 申请人修改中" in progress
    page = citizen.get(f"/my/applications/{reference}/correct").get_data(as_text=True)
    assert page.count('name="applicant.name"') == 1
    # The files sit in a group: the form must still be multipart, or a browser posts each file
    # box as an empty value after the kept one.
    assert 'enctype="multipart/form-data"' in page
    kept = dict(re.findall(r'<input type="hidden" name="(materials\.[a-z_]+)" value="([^"]+)"',
                           page))
    assert set(kept) == {"materials.id_card", "materials.residence_permit", "materials.diploma"}
    answers = {name: value for _page, data in RESIDENCE_PAGES for name, value in data.items()}
    sent = citizen.post(f"/my/applications/{reference}/correct", data={
        "csrf_token": csrf(page), **answers, **kept, "applicant.mobile": "13900001111"})
    assert sent.status_code == 302, _text(sent.get_data(as_text=True))[:600]
    session.rollback()
    application = session.get(Application, app_id)
    assert application is not None and application.status == "in_progress"
    assert application.answers["applicant"]["mobile"] == "13900001111"
    assert application.answers["materials"]["id_card"] == kept["materials.id_card"]
    assert _open_task(session, app_id, "municipal_review") is not None  # straight back


def test_a_stale_approval_leads_back_to_the_task_and_admins_find_incidents_and_names(
        demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(demo.extensions["tongban.engine"], "web-intake")
    intake = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    page = clerk.get(f"/review/tasks/{intake.id}").get_data(as_text=True)
    data = {"csrf_token": csrf(page), "op": "accept", "version": "1"}
    assert clerk.post(f"/review/tasks/{intake.id}", data=data).status_code == 302
    again = clerk.post(f"/review/tasks/{intake.id}", data=data)  # the second click
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert f'<a href="/review/tasks/{intake.id}">返回任务</a>' in html
    # Administrators reach the incidents page from the header.
    admin = _as(demo, "admin")
    home = admin.get("/review").get_data(as_text=True)
    assert 'href="/admin/incidents"' in home and "流程异常" in home
    assert 'href="/admin/incidents"' not in clerk.get("/review").get_data(as_text=True)
    # The repair page names the service, status, department and who holds the step.
    case = _text(admin.get(f"/admin/flows/{run.reference}").get_data(as_text=True))
    assert "上海市居住证积分申请 · 受理后审核" in case
    assert "审核中" in case and "上海市人力资源和社会保障局 审核人员" in case
    assert "in_progress" not in case and "reviewer / sh-rsj" not in case
    assert "开始：由申请人提交 (start)" in case


def test_a_second_reminder_is_429_in_local_time_and_leads_back_to_ones_own_task(
        demo) -> None:  # type: ignore[no-untyped-def]
    run = review_world.start(demo.extensions["tongban.engine"], "web-intake")
    intake = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    assert _post(clerk, intake.id, "accept").status_code == 302
    review = review_world.open_task(run, "review")
    page = clerk.get(f"/review/tasks/{intake.id}").get_data(as_text=True)
    assert "催办" in page
    data = {"csrf_token": csrf(page), "op": "remind", "back": str(intake.id)}
    assert clerk.post(f"/review/tasks/{review.id}", data=data).status_code == 302
    again = clerk.post(f"/review/tasks/{review.id}", data=data)
    assert again.status_code == 429
    text = _text(again.get_data(as_text=True))
    assert re.search(r"之后才能再次催办", text)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", text)  # no ISO instants in UTC
    assert len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", text)) == 2
    assert f'<a href="/review/tasks/{intake.id}">返回任务</a>' in again.get_data(as_text=True)


def test_four_eyes_says_why_instead_of_offering_a_task_that_would_be_refused(
        demo) -> None:  # type: ignore[no-untyped-def]
    """The person who handled a street-order case may not verify it (``exclusive_with``): the
    verify task page tells them so and offers nothing to take or decide; a colleague sees the
    buttons."""
    import secrets

    from tongban import db
    from tongban.definitions.publish import current_version
    from tongban.models import saved_id
    from tongban.workflow import runtime

    run = review_world.Run(demo.extensions["tongban.engine"], reference="2612-QAUE-0001")
    with run.session() as session, db.unit_of_work(session):
        run.users = review_world.user_ids(session)
        service = current_version(session, "service", "urban-event-report")
        form = current_version(session, "form", "urban-event-report")
        assert service is not None and form is not None
        application = run.add(session, Application(
            reference=run.reference, idempotency_key=secrets.token_hex(8),
            service_code="urban-event-report", service_version_id=saved_id(service),
            form_version_id=saved_id(form),
            answers={"event": {"category": "street_order", "description": "占道经营"},
                     "location": {"region": "310104", "address": "徐汇区漕溪北路1号"},
                     "reporter": {"anonymous": True}},
            status="submitted", submitter_id=run.users["citizen"], department_code="sh-cgj",
            submitted_at=review_world.T0))
        run.application_id = saved_id(application)
        instance = runtime.start_flow(session, application, now=review_world.T0)
        assert instance is not None
        run.instance_id = saved_id(instance)
    assert _post(_as(demo, "clerk_xuhui"), review_world.open_task(run, "filing").id,
                 "accept").status_code == 302
    assert _post(_as(demo, "cgj_xuhui"), review_world.open_task(run, "handle_street").id,
                 "approve").status_code == 302
    verify = review_world.open_task(run, "verify")
    handler = _text(_as(demo, "cgj_xuhui").get(f"/review/tasks/{verify.id}")
                    .get_data(as_text=True))
    assert "您办理过本申请的“区城管执法局处置”环节，本环节须由其他人办理。" in handler
    assert 'value="claim"' not in handler and 'value="approve"' not in handler
    colleague = _as(demo, "cgj_xuhui2").get(f"/review/tasks/{verify.id}").get_data(as_text=True)
    assert 'value="claim"' in colleague or 'value="approve"' in colleague
    assert "本环节须由其他人办理" not in _text(colleague)
