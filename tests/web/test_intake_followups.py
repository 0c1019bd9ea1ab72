"""Issue 17 refinements at the counter (docs/counter-intake.md): a 容缺 due day that passes
without the material (the durable timer marks the hold overdue, the staff pages and the clerk's
day list show it, the applicant and the clerk are told, a reviewer ends the application with
the reason 容缺材料逾期未补齐); a result held for the material shows its own status; a
commitment broken after the approval revokes it (status revoked). Flask client and the real
runtime and timer worker path, on both databases."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from tongban.models import (
    Application,
    AuditEvent,
    FlowEvent,
    FlowTimer,
    IntakeHold,
    Notification,
)
from tongban.workflow import timers
from tongban.worktime import TZ

from . import review_world
from .journey import csrf
from .test_intake_decisions import PDF_1, _as, _post, _start, _text, _today

OVERDUE_KIND = "intake.material_overdue"


def _accept_deficient(demo: Flask, run: review_world.Run, due: date) -> FlaskClient:
    task = review_world.open_task(run, "intake")
    clerk = _as(demo, "clerk")
    response = _post(clerk, task.id, op="accept_deficient", materials="id-card",
                     due=due.isoformat())
    assert response.status_code == 302, response.get_data(as_text=True)
    return clerk


def _approve_review(demo: Flask, run: review_world.Run) -> FlaskClient:
    review = review_world.open_task(run, "review")
    reviewer = _as(demo, "reviewer")
    page = reviewer.get(f"/review/tasks/{review.id}").get_data(as_text=True)
    assert reviewer.post(f"/review/tasks/{review.id}", data={
        "csrf_token": csrf(page), "op": "claim"}).status_code == 302
    page = reviewer.get(f"/review/tasks/{review.id}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    assert reviewer.post(f"/review/tasks/{review.id}", data={
        "csrf_token": csrf(page), "op": "approve", "version": version}).status_code == 302
    return reviewer


def _overdue_timer(run: review_world.Run) -> FlowTimer:
    with Session(run.engine) as session:
        return session.scalars(select(FlowTimer).where(col(FlowTimer.kind) == OVERDUE_KIND)).one()


def _fire_at(run: review_world.Run, at: datetime) -> list[timers.Outcome]:
    """The worker's path: reap, claim and fire what is due at ``at``."""
    return timers.run_due(run.engine, at)


def _count(run: review_world.Run, model: Any, *where: Any) -> int:
    with Session(run.engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_an_overdue_hold_is_marked_told_and_a_reviewer_ends_the_application(
        demo: Flask) -> None:
    run = _start(demo)
    due = _today() + timedelta(days=3)
    clerk = _accept_deficient(demo, run, due)
    timer = _overdue_timer(run)
    # 00:00 local the day after the due day: the due day counts in full.
    assert timer.due_at.astimezone(TZ) == datetime.combine(due + timedelta(days=1), time(0),
                                                           tzinfo=TZ)
    reviewer = _as(demo, "reviewer")

    # Not overdue yet: the reviewer cannot end it; the message, nothing changed.
    page = reviewer.get(f"/review/applications/{run.reference}").get_data(as_text=True)
    assert 'id="overdue-hold"' not in page
    early = reviewer.post(f"/review/applications/{run.reference}/overdue-hold",
                          data={"csrf_token": csrf(page)})
    assert early.status_code == 422
    assert "补交材料尚未逾期，不能因此终止办理" in _text(early.get_data(as_text=True))
    assert review_world.status(run) == "in_progress"
    assert _count(run, FlowEvent, col(FlowEvent.type) == "hold_expired") == 0

    # A minute before midnight nothing fires; at midnight the hold becomes overdue.
    before = timer.due_at - timedelta(minutes=1)
    assert OVERDUE_KIND not in {o for o in _kinds(run, _fire_at(run, before))}
    outcomes = _fire_at(run, timer.due_at)
    assert [o.state for o in outcomes if o.timer_id == timer.id] == ["done"]
    with Session(run.engine) as session:
        hold = session.scalars(select(IntakeHold)).one()
        assert hold.state == "overdue"
        overdue = session.scalars(select(FlowEvent).where(
            col(FlowEvent.type) == "hold_overdue")).one()
        assert overdue.data == {"missing": ["id-card"], "due": due.isoformat()}
        told = {(n.kind, n.user_id) for n in session.scalars(select(Notification).where(
            col(Notification.channel) == "site", col(Notification.kind).like("material_overdue%")))}
        assert told == {("material_overdue", run.users["citizen"]),
                        ("material_overdue_clerk", run.users["clerk"])}
        body = session.scalars(select(Notification).where(
            col(Notification.kind) == "material_overdue")).first().body  # type: ignore[union-attr]
        assert "居民身份证" in body and due.isoformat() in body and "逾期" in body
    assert _count(run, AuditEvent, col(AuditEvent.action) == "intake.material_overdue") == 1
    # Fired again (a stale copy): nothing more happens.
    with Session(run.engine) as session, session.begin():
        row = session.get(FlowTimer, timer.id)
        assert timers.handler_for(OVERDUE_KIND)(session, row, timer.due_at) == "stale"  # type: ignore[arg-type]
    assert _count(run, FlowEvent, col(FlowEvent.type) == "hold_overdue") == 1

    # The reviewer's inbox marks it, and so does the clerk's day list.
    inbox = _text(reviewer.get("/review?tab=group").get_data(as_text=True))
    assert run.reference in inbox and "容缺材料逾期" in inbox
    day = clerk.get("/queue/day").get_data(as_text=True)
    waiting = _text(day[day.index('id="day-waiting"'):])
    assert run.reference in waiting and "已超期" in waiting
    # The applicant's page says so.
    mine = _text(_as(demo, "citizen").get(f"/my/applications/{run.reference}")
                 .get_data(as_text=True))
    assert "截止日期已过" in mine

    # The task page shows the overdue materials and the form to end the application.
    review = review_world.open_task(run, "review")
    page = reviewer.get(f"/review/tasks/{review.id}").get_data(as_text=True)
    assert 'id="overdue-hold"' in page and "居民身份证" in _text(page)
    assert "终止办理：容缺材料逾期" in _text(page)
    # A clerk (not a reviewer) may not end it.
    refused = clerk.post(f"/review/applications/{run.reference}/overdue-hold",
                         data={"csrf_token": csrf(clerk.get("/queue/day").get_data(as_text=True))})
    assert refused.status_code in (403, 404)
    assert review_world.status(run) == "in_progress"

    ended = reviewer.post(f"/review/applications/{run.reference}/overdue-hold",
                          data={"csrf_token": csrf(page)})
    assert ended.status_code == 302
    assert review_world.status(run) == "rejected"
    with Session(run.engine) as session:
        expired = session.scalars(select(FlowEvent).where(
            col(FlowEvent.type) == "hold_expired")).one()
        assert expired.data == {"reason": "容缺材料逾期未补齐"}
        assert expired.actor_id == run.users["reviewer"]
        audit = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "intake.hold_expired")).one()
        assert audit.after["reason"] == "容缺材料逾期未补齐"  # type: ignore[index]
    page = _text(reviewer.get(f"/review/applications/{run.reference}").get_data(as_text=True))
    assert "因承诺补交的材料逾期未到而终止" in page and "未获批准" in page
    # Ended: off the clerk's day list, and a second try is refused.
    day = clerk.get("/queue/day").get_data(as_text=True)
    assert 'id="day-waiting"' not in day
    again = reviewer.post(f"/review/applications/{run.reference}/overdue-hold",
                          data={"csrf_token": csrf(reviewer.get("/review")
                                                   .get_data(as_text=True))})
    assert again.status_code == 409


def _kinds(run: review_world.Run, outcomes: list[timers.Outcome]) -> list[str]:
    with Session(run.engine) as session:
        return [session.get(FlowTimer, o.timer_id).kind for o in outcomes]  # type: ignore[union-attr]


def test_a_held_result_shows_its_own_status_and_a_late_material_still_lifts_it(
        demo: Flask) -> None:
    run = _start(demo)
    due = _today() + timedelta(days=2)
    _accept_deficient(demo, run, due)
    reviewer = _approve_review(demo, run)
    assert review_world.status(run) == "result_held"
    held = "结果待发放（容缺材料未补齐）"
    assert held in _text(reviewer.get(f"/review/applications/{run.reference}")
                         .get_data(as_text=True))
    citizen = _as(demo, "citizen")
    assert held in _text(citizen.get(f"/my/applications/{run.reference}")
                         .get_data(as_text=True))
    assert held in _text(citizen.get("/my").get_data(as_text=True))
    public = demo.test_client().get(f"/progress?reference={run.reference}")
    assert "publicizing" not in public.get_data(as_text=True)

    # Overdue while held: the page offers the reviewer the end; the applicant may still bring
    # the material until then, and it lifts the hold as before.
    _fire_at(run, _overdue_timer(run).due_at)
    page = reviewer.get(f"/review/applications/{run.reference}").get_data(as_text=True)
    assert 'id="end-overdue"' in page
    mine = citizen.get(f"/my/applications/{run.reference}").get_data(as_text=True)
    action = f"/my/applications/{run.reference}/materials/id-card"
    assert f'action="{action}"' in mine
    sent = citizen.post(action, data={"csrf_token": csrf(mine),
                                      "file": (io.BytesIO(PDF_1), "身份证.pdf")},
                        content_type="multipart/form-data")
    assert sent.status_code == 302, sent.get_data(as_text=True)
    assert review_world.status(run) == "approved"
    with Session(run.engine) as session:
        assert session.scalars(select(IntakeHold)).one().state == "received"
    page = reviewer.get(f"/review/applications/{run.reference}").get_data(as_text=True)
    assert 'id="overdue-hold"' not in page


def test_a_commitment_broken_after_the_approval_revokes_it(demo: Flask) -> None:
    run = _start(demo)
    task = review_world.open_task(run, "intake")
    response = _post(_as(demo, "clerk"), task.id, op="accept_commitment", confirmed="yes")
    assert response.status_code == 302, response.get_data(as_text=True)
    reviewer = _approve_review(demo, run)
    assert review_world.status(run) == "approved"
    listing = reviewer.get("/review/commitments").get_data(as_text=True)
    with Session(run.engine) as session:
        from tongban.models import IntakeCommitment

        row = session.scalars(select(IntakeCommitment)).one()
    broken = reviewer.post(f"/review/commitments/{row.id}", data={
        "csrf_token": csrf(listing), "finding": "broken", "note": "社保记录系伪造"})
    assert broken.status_code == 302
    assert review_world.status(run) == "revoked"
    with Session(run.engine) as session:
        assert session.get(IntakeCommitment, row.id).revoked is True  # type: ignore[union-attr]
        types = [e.type for e in session.scalars(select(FlowEvent).order_by(col(FlowEvent.id)))]
        assert types.index("ended") < types.index("approval_revoked")
        revoked = session.scalars(select(FlowEvent).where(
            col(FlowEvent.type) == "approval_revoked")).one()
        assert revoked.status == "revoked" and revoked.data == {"reason": "社保记录系伪造"}
        assert session.get(Application, run.application_id).status == "revoked"  # type: ignore[union-attr]
    mine = _text(_as(demo, "citizen").get(f"/my/applications/{run.reference}")
                 .get_data(as_text=True))
    assert "已撤销" in mine and "社保记录系伪造" in mine
    staff = _text(reviewer.get(f"/review/applications/{run.reference}").get_data(as_text=True))
    assert "审批决定已撤销" in staff


def test_the_reminder_of_a_counter_application_reaches_the_person_and_the_clerk(
        demo: Flask) -> None:
    """A clerk applied at the counter for 张三 (the submitter is the clerk): the reminder before
    the due day goes to 张三's own verified account as the applicant and to the clerk who took
    it in as the clerk, as the overdue notice does; nobody else hears."""
    import secrets

    from tongban import counter_intake
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
    _accept_deficient(demo, run, _today() + timedelta(days=5))
    with Session(run.engine) as session, session.begin():
        timer = session.scalars(select(FlowTimer).where(
            col(FlowTimer.kind) == "intake.material_due")).one()
        assert counter_intake.remind_due(session, timer, datetime.now(UTC)) == "done"
    with Session(run.engine) as session:
        told = {(n.kind, n.user_id) for n in session.scalars(select(Notification).where(
            col(Notification.channel) == "site", col(Notification.kind).like("material_due%")))}
        assert told == {("material_due", run.users["citizen"]),
                        ("material_due_clerk", run.users["clerk"])}
        to_clerk = session.scalars(select(Notification).where(
            col(Notification.kind) == "material_due_clerk")).one()
        assert "居民身份证" in to_clerk.body and "您容缺受理的申请" in to_clerk.body
        assert to_clerk.link == f"/review/applications/{run.reference}"
    assert _count(run, AuditEvent, col(AuditEvent.action) == "intake.material_reminded") == 1
