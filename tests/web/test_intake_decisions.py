"""Issue 17 item 3: decisions at intake through the pages and the real runtime. 容缺受理 holds
the approving end until the applicant uploads the material (the reminder timer, the hold
lifting the end); 告知承诺 records the commitment and a reviewer's later check (a broken one ends
the application and bars the applicant); the receipt (HTML, PDF with its QR code) and the
refusal notice print. Bad input: the exact message, nothing changed."""

from __future__ import annotations

import io
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from tongban import counter_intake, db
from tongban.definitions.publish import current_version
from tongban.models import (
    Application,
    AuditEvent,
    CreditBar,
    DefinitionVersion,
    FlowEvent,
    FlowTimer,
    IntakeCommitment,
    IntakeHold,
    Notification,
    saved_id,
)
from tongban.workflow import timers

from ..conftest import Personas
from . import review_world
from .journey import csrf
from .page_text import text as _text

BARRED = "310104198001010076"   # on the demo's credit bar list
COMMITMENT = "本人承诺所填信息真实。"
FLOW: dict[str, Any] = {
    "code": "intake-ops", "name": {"zh": "受理决定", "en": "Intake decisions"},
    "nodes": {
        "start": {"type": "start", "next": "intake"},
        "intake": {"type": "task", "kind": "intake", "name": {"zh": "窗口受理", "en": "Intake"},
                   "who": {"user": "clerk"},
                   "operations": ["accept", "accept_deficient", "accept_commitment",
                                  "refuse_intake", "correction", "comment"],
                   "next": "review"},
        "review": {"type": "task", "name": {"zh": "审核", "en": "Review"},
                   "who": {"role": "reviewer", "department": "sh-rsj"}, "next": "done"},
        "done": {"type": "end", "outcome": "approved"},
    },
}
PDF_1 = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fresh_flow_cache() -> None:
    review_world.forget_compiled_flows()


def _as(app: Flask, username: str) -> FlaskClient:
    return Personas(app.test_client()).as_(username)


def _start(app: Flask, *, id_number: str = "110105194912310021",
           reference: str = "2612-INTK-0001") -> review_world.Run:
    from tongban.workflow import runtime

    engine = app.extensions["tongban.engine"]
    run = review_world.Run(engine, reference=reference)
    with db.new_session(engine) as session, db.unit_of_work(session):
        run.users = review_world.user_ids(session)
        service = current_version(session, "service", "residence-points")
        form = current_version(session, "form", "residence-points")
        assert service is not None and form is not None
        flows = session.scalar(select(func.count()).select_from(DefinitionVersion).where(
            col(DefinitionVersion.code) == "intake-ops")) or 0
        session.add(DefinitionVersion(kind="flow", code="intake-ops", version=flows + 1,
                                      content=FLOW, content_hash=secrets.token_hex(8),
                                      source_path="flows/intake-ops.yaml", author="test"))
        content = {**service.content, "flow": "intake-ops",
                   "commitment": {"text": {"zh": COMMITMENT, "en": "I promise."},
                                  "verify_within_days": 10}}
        new_service = run.add(session, DefinitionVersion(
            kind="service", code="residence-points", version=service.version + 1,
            content=content, content_hash=secrets.token_hex(8),
            source_path=service.source_path, author="test"))
        application = run.add(session, Application(
            reference=reference, idempotency_key=secrets.token_hex(8),
            service_code="residence-points", service_version_id=saved_id(new_service),
            form_version_id=saved_id(form),
            answers={"applicant": {"name": "张三", "id_number": id_number}}, status="submitted",
            submitter_id=run.users["citizen"], department_code="sh-rsj",
            submitted_at=datetime.now(UTC)))
        run.application_id = saved_id(application)
        instance = runtime.start_flow(session, application)
        assert instance is not None
        run.instance_id = saved_id(instance)
    return run


def _post(client: FlaskClient, task_id: int, **data: Any):  # type: ignore[no-untyped-def]
    page = client.get(f"/review/tasks/{task_id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    payload = {"csrf_token": csrf(page), **data}
    if version:
        payload["version"] = version.group(1)
    return client.post(f"/review/tasks/{task_id}/intake", data=payload)


def _today() -> date:
    return datetime.now(UTC).astimezone(counter_intake.local_today.__globals__["TZ"]).date()


def _unchanged(run: review_world.Run) -> None:
    """Nothing was written: still submitted, no hold, no commitment, no acceptance."""
    with Session(run.engine) as session:
        assert session.get(Application, run.application_id).status == "submitted"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(IntakeHold)) == 0
        assert session.scalar(select(func.count()).select_from(IntakeCommitment)) == 0
        assert session.scalar(select(func.count()).select_from(FlowEvent).where(
            col(FlowEvent.type) == "accepted")) == 0


def test_a_deficiency_due_before_today_is_refused_with_its_message_and_nothing_changes(
        demo: Flask) -> None:
    run = _start(demo)
    task = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    yesterday = (_today() - timedelta(days=1)).isoformat()
    response = _post(clerk, task.id, op="accept_deficient", materials="id-card",
                     due=yesterday)
    assert response.status_code == 422
    text = _text(response.get_data(as_text=True))
    assert f"补交材料的截止日期不能早于今天（{_today().isoformat()}）" in text
    assert 'href="#due-error"' in response.get_data(as_text=True)
    _unchanged(run)


def test_a_deficiency_naming_no_material_is_refused_and_nothing_changes(demo: Flask) -> None:
    run = _start(demo)
    task = review_world.open_task(run, "intake")
    response = _post(_as(demo, "clerk"), task.id, op="accept_deficient",
                     due=(_today() + timedelta(days=5)).isoformat())
    assert response.status_code == 422
    assert "请至少写明一项申请人稍后补交的材料" in _text(response.get_data(as_text=True))
    assert 'href="#materials-error"' in response.get_data(as_text=True)
    _unchanged(run)


def test_a_commitment_for_a_barred_applicant_is_refused_and_nothing_changes(
        demo: Flask) -> None:
    run = _start(demo, id_number=BARRED)
    with Session(run.engine) as session, session.begin():
        if not session.scalar(select(func.count()).select_from(CreditBar)):
            session.add(CreditBar(id_number=BARRED, reason="失信被执行人（示例数据）",
                                  source="demo"))
    task = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    page = _text(clerk.get(f"/review/tasks/{task.id}").get_data(as_text=True))
    assert "申请人在信用限制名单中：失信被执行人（示例数据）" in page   # warned before trying
    response = _post(clerk, task.id, op="accept_commitment", confirmed="yes")
    assert response.status_code == 422
    assert ("申请人在信用限制名单中（失信被执行人（示例数据））：不能适用告知承诺或容缺受理"
            in _text(response.get_data(as_text=True)))
    _unchanged(run)


def test_a_commitment_not_confirmed_is_refused(demo: Flask) -> None:
    run = _start(demo)
    task = review_world.open_task(run, "intake")
    response = _post(_as(demo, "clerk"), task.id, op="accept_commitment")
    assert response.status_code == 422
    assert "请勾选确认申请人已签署承诺书" in _text(response.get_data(as_text=True))
    _unchanged(run)


def test_a_deficiency_holds_the_result_until_the_applicant_uploads_the_material(
        demo: Flask) -> None:
    run = _start(demo)
    task = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    due = (_today() + timedelta(days=7)).isoformat()
    response = _post(clerk, task.id, op="accept_deficient", materials="id-card",
                     other="劳动合同", due=due, comment="容缺两项")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert review_world.status(run) == "in_progress"  # accepted; the review task is open
    page = _text(clerk.get(f"/review/tasks/{task.id}").get_data(as_text=True))
    assert "打印受理回执" in page and "劳动合同" in page
    receipt = _text(clerk.get(f"/review/applications/{run.reference}/receipt")
                    .get_data(as_text=True))
    assert "受理回执" in receipt and "容缺受理" in receipt and due in receipt
    assert f"/progress?reference={run.reference}" in receipt
    scanned = demo.test_client().get(f"/progress?reference={run.reference}")  # the QR code
    assert f'value="{run.reference}"' in scanned.get_data(as_text=True)
    pdf = clerk.get(f"/review/applications/{run.reference}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    with Session(run.engine) as session:
        timer = session.scalars(select(FlowTimer).where(
            col(FlowTimer.kind) == "intake.material_due")).one()
        assert timer.due_at.astimezone(counter_intake.local_today.__globals__["TZ"]) \
            .date() <= date.fromisoformat(due) - timedelta(days=2)

    # The reviewer approves: the end waits for the material, the result is not issued.
    review = review_world.open_task(run, "review")
    reviewer = _as(demo, "reviewer")
    page = reviewer.get(f"/review/tasks/{review.id}").get_data(as_text=True)
    claimed = reviewer.post(f"/review/tasks/{review.id}", data={
        "csrf_token": csrf(page), "op": "claim"})
    assert claimed.status_code == 302
    page = reviewer.get(f"/review/tasks/{review.id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    approved = reviewer.post(f"/review/tasks/{review.id}", data={
        "csrf_token": csrf(page), "op": "approve", "version": version})
    assert approved.status_code == 302
    assert review_world.status(run) != "approved"

    # The reminder fires while a material is missing: the applicant is told.
    with Session(run.engine) as session, session.begin():
        timer = session.scalars(select(FlowTimer).where(
            col(FlowTimer.kind) == "intake.material_due")).one()
        assert timers.handler_for(timer.kind)(session, timer, datetime.now(UTC)) == "done"
    with Session(run.engine) as session:
        sent = session.scalars(select(Notification).where(
            col(Notification.kind) == "material_due")).first()
        assert sent is not None and "居民身份证" in sent.body and due in sent.body

    citizen = _as(demo, "citizen")
    mine = citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True)
    assert "您承诺补交的材料" in _text(mine)
    forms = re.findall(r'action="(/my/applications/[^"]+/materials/[^"]+)"', mine)
    assert len(forms) == 2
    # A file of the wrong kind: the message beside it, nothing received.
    bad = citizen.post(forms[0], data={"csrf_token": csrf(mine),
                                       "file": (io.BytesIO(b"MZ\x90\x00"), "a.exe")},
                       content_type="multipart/form-data")
    assert bad.status_code == 422
    assert review_world.status(run) != "approved"
    for action in forms:
        page = citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True)
        sent_file = citizen.post(action, data={"csrf_token": csrf(page),
                                               "file": (io.BytesIO(PDF_1), "材料.pdf")},
                                 content_type="multipart/form-data")
        assert sent_file.status_code == 302, sent_file.get_data(as_text=True)
    assert review_world.status(run) == "approved"
    with Session(run.engine) as session:
        hold = session.scalars(select(IntakeHold)).one()
        assert hold.state == "received"
        types = [e.type for e in session.scalars(select(FlowEvent).order_by(
            col(FlowEvent.id)))]
        assert types.index("result_held") < types.index("hold_lifted") < types.index("ended")
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.action) == "intake.material_received")) == 2
    # The reminder has nothing left to say.
    with Session(run.engine) as session, session.begin():
        timer = session.scalars(select(FlowTimer).where(
            col(FlowTimer.kind) == "intake.material_due")).one()
        assert counter_intake.remind_due(session, timer, datetime.now(UTC)) == "stale"


def test_a_commitment_is_recorded_and_a_broken_one_ends_the_application_and_bars(
        demo: Flask) -> None:
    run = _start(demo)
    task = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    response = _post(clerk, task.id, op="accept_commitment", confirmed="yes")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert review_world.status(run) == "in_progress"  # accepted; the review task is open
    with Session(run.engine) as session:
        row = session.scalars(select(IntakeCommitment)).one()
        assert row.text == COMMITMENT and row.verify_by == _today() + timedelta(days=10)
    receipt = _text(clerk.get(f"/review/applications/{run.reference}/receipt")
                    .get_data(as_text=True))
    assert "告知承诺制" in receipt and COMMITMENT in receipt

    reviewer = _as(demo, "reviewer")
    assert 'href="/review/commitments"' in reviewer.get("/review").get_data(as_text=True)
    listing = reviewer.get("/review/commitments").get_data(as_text=True)
    assert run.reference in listing
    no_note = reviewer.post(f"/review/commitments/{row.id}", data={
        "csrf_token": csrf(listing), "finding": "broken", "note": ""})
    assert no_note.status_code == 422
    assert "请填写申请人承诺中不属实的内容" in _text(no_note.get_data(as_text=True))
    assert review_world.status(run) == "in_progress"  # accepted; the review task is open
    broken = reviewer.post(f"/review/commitments/{row.id}", data={
        "csrf_token": csrf(listing), "finding": "broken", "note": "劳动合同系伪造"})
    assert broken.status_code == 302
    assert review_world.status(run) == "rejected"
    with Session(run.engine) as session:
        assert session.scalars(select(IntakeCommitment)).one().state == "broken"
        bar = session.scalars(select(CreditBar).where(
            col(CreditBar.source) == "broken_commitment")).one()
        assert bar.id_number == "110105194912310021" and run.reference in bar.reason
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.action) == "intake.commitment_broken")) == 1
    citizen = _text(_as(demo, "citizen").get(f"/my/applications/{run.reference}")
                    .get_data(as_text=True))
    assert "劳动合同系伪造" in citizen


def test_a_refusal_prints_its_notice_with_the_reason(demo: Flask) -> None:
    run = _start(demo)
    task = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    page = clerk.get(f"/review/tasks/{task.id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    refused = clerk.post(f"/review/tasks/{task.id}", data={
        "csrf_token": csrf(page), "op": "refuse_intake", "version": version,
        "comment": "不属于本机关职权范围"})
    assert refused.status_code == 302
    notice = clerk.get(f"/review/applications/{run.reference}/refusal-notice")
    text = _text(notice.get_data(as_text=True))
    assert notice.status_code == 200 and "不予受理告知书" in text
    assert "不属于本机关职权范围" in text and "行政复议" in text
    assert clerk.get(f"/review/applications/{run.reference}/receipt").status_code == 409
    assert _as(demo, "outsider").get(
        f"/review/applications/{run.reference}/refusal-notice").status_code == 404


def test_the_person_a_counter_application_was_made_for_brings_the_material_themselves(
        demo: Flask) -> None:
    """A clerk applied at the counter for 张三 (the submitter is the clerk): 张三's own account,
    whose verified ID number is the person's, sees the upload form on the application's page
    and its upload is taken (it was 404: only the submitter could). Anyone else: 404, nothing
    received."""
    from tongban.models import Person, User

    run = _start(demo, id_number="31010419900307123X")
    with Session(run.engine) as session, session.begin():
        number = session.scalars(select(col(User.id_number)).where(
            col(User.username) == "citizen")).one()
        person = Person(public_id=secrets.token_urlsafe(12), kind="person", id_number=number,
                        name="张三", verified_by="demo", created_by=run.users["clerk"])
        session.add(person)
        session.flush()
        application = session.get(Application, run.application_id)
        assert application is not None
        application.submitter_id = application.clerk_id = run.users["clerk"]
        application.person_id = person.id
    task = review_world.open_task(run, "intake")
    response = _post(_as(demo, "clerk"), task.id, op="accept_deficient", materials="id-card",
                     due=(_today() + timedelta(days=5)).isoformat())
    assert response.status_code == 302, response.get_data(as_text=True)
    action = f"/my/applications/{run.reference}/materials/id-card"

    outsider = _as(demo, "enterprise")
    page = outsider.get("/my").get_data(as_text=True)
    refused = outsider.post(action, data={"csrf_token": csrf(page),
                                          "file": (io.BytesIO(PDF_1), "身份证.pdf")},
                            content_type="multipart/form-data")
    assert refused.status_code == 404
    with Session(run.engine) as session:
        assert session.scalars(select(IntakeHold)).one().materials[0].get("upload") is None

    citizen = _as(demo, "citizen")
    page = citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True)
    assert f'action="{action}"' in page
    sent = citizen.post(action, data={"csrf_token": csrf(page),
                                      "file": (io.BytesIO(PDF_1), "身份证.pdf")},
                        content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)
    with Session(run.engine) as session:
        hold = session.scalars(select(IntakeHold)).one()
        assert hold.state == "received"
        received = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "intake.material_received")).one()
        assert received.actor_id == run.users["citizen"]
