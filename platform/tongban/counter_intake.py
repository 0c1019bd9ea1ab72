"""Decisions at intake beyond plain accept and refuse (docs/counter-intake.md): 容缺受理 with
its hold and the applicant's late material, 告知承诺制 with its later check, and the credit bar
list both are refused for. Each function runs in the caller's transaction and goes through the
flow runtime, so the step, its events, its audit entries and the rows here commit together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from . import audit
from .models import (
    Application,
    CreditBar,
    DefinitionVersion,
    FlowInstance,
    FlowTask,
    IntakeCommitment,
    IntakeHold,
    Notification,
    Person,
    TimerFacts,
    User,
    saved_id,
    utcnow,
)
from .notify import outbox
from .notify import templates as notify_templates
from .policy import REVIEW_ROLES, Actor, DepartmentTree, holds
from .workflow import errors
from .workflow.intake_decisions import OVERDUE_KIND, OVERDUE_REASON, local_today

DEFAULT_VERIFY_DAYS = 30
# The demo's credit bar list (失信名单): people who may not use 告知承诺 or 容缺 until their
# credit is repaired. A real deployment fills credit_bar from its credit platform (信用中国 or a
# provincial one); broken promises add to it here.
DEMO_CREDIT_BARS = (
    ("310104198001010076", "失信被执行人（示例数据）"),
)
ID_NUMBER_ANSWER = ("applicant", "id_number")   # where the demo forms keep the applicant's ID


def service_content(session: Session, application: Application) -> dict[str, Any]:
    version = session.get(DefinitionVersion, application.service_version_id)
    return dict(version.content) if version is not None else {}


def id_number_of(application: Application) -> str:
    found: Any = application.answers
    for key in ID_NUMBER_ANSWER:
        found = found.get(key) if isinstance(found, Mapping) else None
    return str(found or "").strip().upper()


def bar_for(session: Session, application: Application) -> CreditBar | None:
    """The applicant's entry on the credit bar list (失信名单), if any is in force."""
    return bar_of_number(session, id_number_of(application))


def bar_of_number(session: Session, number: str) -> CreditBar | None:
    """The entry in force on the credit bar list for an ID number, if any."""
    number = number.strip().upper()
    if not number:
        return None
    return session.scalars(select(CreditBar).where(
        col(CreditBar.id_number) == number, col(CreditBar.lifted_at).is_(None))
        .order_by(col(CreditBar.id))).first()


def _check_credit(session: Session, application: Application) -> None:
    bar = bar_for(session, application)
    if bar is not None:
        raise errors.invalid("credit_barred", reason=bar.reason)


def _application_of_task(session: Session, task_id: int) -> Application:
    task = session.get(FlowTask, task_id)
    instance = session.get(FlowInstance, task.instance_id) if task is not None else None
    application = session.get(Application, instance.application_id) \
        if instance is not None and instance.application_id is not None else None
    if application is None:
        raise errors.invalid("task_unknown", task=task_id)
    return application


def missing_materials(service: Mapping[str, Any], codes: Iterable[str],
                      other: str = "") -> list[dict[str, Any]]:
    """The chosen materials of the service's list, by code, and one the clerk wrote in."""
    listed = {str(m.get("code")): m for m in service.get("materials") or ()}
    found = [{"code": code, "name": dict(listed[code].get("name") or {})}
             for code in dict.fromkeys(codes) if code in listed]
    if other.strip():
        text = other.strip()[:200]
        found.append({"code": f"other:{len(found) + 1}", "name": {"zh": text, "en": text}})
    return found


def accept_deficient(session: Session, actor: Actor, task_id: int, *, version: int | None,
                     codes: Iterable[str], other: str = "", due: date | str | None,
                     comment: str = "", now: datetime | None = None,
                     request_id: str = "") -> IntakeHold:
    """容缺受理: accept now, the materials named to follow by ``due``."""
    from .workflow import runtime

    now = now or utcnow()
    application = _application_of_task(session, task_id)
    materials = missing_materials(service_content(session, application), codes, other)
    if materials:  # no material named is the engine's message; the bar only for a real request
        _check_credit(session, application)
    state = runtime.act(session, actor, task_id, "accept_deficient", version=version, now=now,
                        request_id=request_id, materials=materials, due=due, comment=comment)
    hold_vars = state.vars.get("hold") or {}
    hold = IntakeHold(application_id=saved_id(application), materials=materials,
                      due_on=date.fromisoformat(str(hold_vars.get("due"))),
                      created_by=actor.user_id, created_at=now)
    session.add(hold)
    session.flush()
    return hold


def commitment_text(service: Mapping[str, Any]) -> dict[str, str]:
    text = (service.get("commitment") or {}).get("text") or {}
    return {str(k): str(v) for k, v in text.items()} if isinstance(text, Mapping) else {}


def accept_commitment(session: Session, actor: Actor, task_id: int, *, version: int | None,
                      confirmed: bool, comment: str = "", now: datetime | None = None,
                      request_id: str = "") -> IntakeCommitment:
    """告知承诺制: accept on the applicant's signed commitment; a reviewer checks it later."""
    from .workflow import runtime

    now = now or utcnow()
    application = _application_of_task(session, task_id)
    service = service_content(session, application)
    text = commitment_text(service).get("zh", "")
    if text and confirmed:
        _check_credit(session, application)
    days = int((service.get("commitment") or {}).get("verify_within_days")
               or DEFAULT_VERIFY_DAYS)
    verify_by = local_today(now) + timedelta(days=days)
    runtime.act(session, actor, task_id, "accept_commitment", version=version, now=now,
                request_id=request_id, text=text, confirmed=confirmed, verify_by=verify_by,
                comment=comment)
    row = IntakeCommitment(application_id=saved_id(application),
                           department_code=application.department_code, text=text,
                           confirmed_at=now, recorded_by=actor.user_id, verify_by=verify_by)
    session.add(row)
    session.flush()
    return row


# --- The applicant's late material ------------------------------------------------------------

def hold_of(session: Session, application_id: int) -> IntakeHold | None:
    return session.scalars(select(IntakeHold).where(
        col(IntakeHold.application_id) == application_id)).first()


# A hold whose materials may still come: pending, or overdue until a reviewer ends the case.
OPEN_HOLD_STATES = ("pending", "overdue")


def outstanding(hold: IntakeHold | None) -> list[dict[str, Any]]:
    if hold is None or hold.state not in OPEN_HOLD_STATES:
        return []
    return [m for m in hold.materials if not m.get("upload")]


def receive(session: Session, actor: Actor, application: Application, code: str,
            upload_public_id: str, *, now: datetime | None = None,
            request_id: str = "") -> bool:
    """One material arrived (a stored upload's public id). True when it was the last one: the
    hold lifts in the same transaction and a result that waited is issued."""
    from .workflow import runtime

    now = now or utcnow()
    hold = hold_of(session, saved_id(application))
    if hold is None or hold.state not in OPEN_HOLD_STATES:
        raise errors.invalid("no_hold")
    materials = [dict(m) for m in hold.materials]
    target = next((m for m in materials if m["code"] == code and not m.get("upload")), None)
    if target is None:
        raise errors.invalid("no_hold")
    target["upload"] = upload_public_id
    hold.materials = materials
    audit.record(session, action="intake.material_received", object_type="application",
                 object_id=application.reference, actor_id=actor.user_id,
                 actor_name=_name(session, actor.user_id),
                 after={"material": code, "upload": upload_public_id}, request_id=request_id)
    if any(not m.get("upload") for m in materials):
        session.add(hold)
        return False
    hold.state, hold.received_at = "received", now
    session.add(hold)
    runtime.act_on_application(session, actor, saved_id(application), "lift_hold", now=now,
                               request_id=request_id, received=[m["code"] for m in materials])
    return True


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return user.username if user is not None else "system"


def fire(session: Session, timer: TimerFacts, now: datetime) -> str:
    """The timer handler of the ``intake.*`` kinds (tongban.workflow.timers)."""
    if timer.kind == OVERDUE_KIND:
        return material_overdue(session, timer, now)
    return remind_due(session, timer, now)


def _held_application(session: Session, timer: TimerFacts) -> tuple[Application, IntakeHold,
                                                                     list[dict[str, Any]]] | None:
    """The application of an ``intake.*`` timer with its hold and the materials still
    missing; None when the timer no longer applies (all arrived, the application ended)."""
    instance = session.get(FlowInstance, timer.instance_id) if timer.instance_id else None
    application = session.get(Application, instance.application_id) \
        if instance is not None and instance.application_id is not None else None
    if application is None or instance is None or instance.ended_at is not None:
        return None
    hold = hold_of(session, saved_id(application))
    missing = outstanding(hold)
    if not missing or hold is None:
        return None
    return application, hold, missing


def _notify(session: Session, timer: TimerFacts, user: User | None, kind: str,
            application: Application, hold: IntakeHold, missing: list[dict[str, Any]],
            link: str, now: datetime) -> None:
    """One notification of ``kind`` to ``user`` on each of their channels, naming the
    missing materials and the due day."""
    if user is None:
        return
    language = notify_templates.language_of(user.language)
    names = "、".join(str((m.get("name") or {}).get(language) or m["code"]) for m in missing)
    due = f"（截止 {hold.due_on.isoformat()}）" if language == "zh" \
        else f" (due {hold.due_on.isoformat()})"
    text = notify_templates.render(kind, language, reference=application.reference,
                                   service=names + due)
    for channel, recipient in outbox.channels_for(user):
        session.add(Notification(
            key=f"{kind}:{timer.id}:{user.id}:{channel}", kind=kind,
            reference=application.reference, user_id=user.id, channel=channel,
            recipient=recipient, language=language, subject=text.subject, body=text.body,
            link=link, created_at=now, next_attempt_at=now))


def remind_due(session: Session, timer: TimerFacts, now: datetime) -> str:
    """The timer handler of ``intake.material_due``: the applicant (their own accounts) and the
    clerk who took the application in are reminded of the materials still missing, as the
    overdue notice tells them (:func:`_tell`); ``stale`` once they all came (or the
    application ended)."""
    found = _held_application(session, timer)
    if found is None:
        return "stale"
    application, hold, missing = found
    if not _tell(session, timer, application, hold, missing, "material_due", now):
        return "stale"
    audit.record(session, action="intake.material_reminded", object_type="application",
                 object_id=application.reference,
                 after={"materials": [m["code"] for m in missing],
                        "due": hold.due_on.isoformat()})
    return "done"


def material_overdue(session: Session, timer: TimerFacts, now: datetime) -> str:
    """The timer handler of ``intake.material_overdue`` (00:00 the day after the due day):
    the hold becomes ``overdue`` and the instance says so (``hold_overdue``); the applicant and
    the clerk who took the application in are told; a reviewer may now end the application
    (:func:`end_overdue`). ``stale`` once every material came or the application ended."""
    from .workflow import runtime

    found = _held_application(session, timer)
    if found is None:
        return "stale"
    application, hold, missing = found
    if hold.state == "overdue":
        return "stale"
    hold.state = "overdue"
    session.add(hold)
    codes = [str(m["code"]) for m in missing]
    runtime.mark_hold_overdue(session, application, missing=codes, now=now)
    _tell(session, timer, application, hold, missing, "material_overdue", now)
    audit.record(session, action="intake.material_overdue", object_type="application",
                 object_id=application.reference,
                 after={"materials": codes, "due": hold.due_on.isoformat()})
    return "done"


def _tell(session: Session, timer: TimerFacts, application: Application, hold: IntakeHold,
          missing: list[dict[str, Any]], kind: str, now: datetime) -> bool:
    """Tell a held application's people of the missing materials: the applicant as ``kind``
    (the submitter, or for a counter application the person's own verified accounts) and the
    clerk who took it in as ``kind`` + ``_clerk``, each once. False when nobody could be told."""
    progress_link = outbox.PROGRESS_PATH.format(reference=application.reference)
    told: set[int] = set()
    for user in _applicant_accounts(session, application):
        if user.id not in told:
            told.add(saved_id(user))
            _notify(session, timer, user, kind, application, hold, missing, progress_link, now)
    clerk_id = hold.created_by or application.clerk_id
    clerk = session.get(User, clerk_id) if clerk_id is not None and clerk_id not in told \
        else None
    if clerk is not None:
        told.add(saved_id(clerk))
        _notify(session, timer, clerk, kind + "_clerk", application, hold, missing,
                f"/review/applications/{application.reference}", now)
    return bool(told)


def _applicant_accounts(session: Session, application: Application) -> list[User]:
    """Who hears as the applicant: the submitter when they are not the clerk; for an
    application a clerk made, the accounts whose verified ID number is the applicant's."""
    found: list[User] = []
    if application.submitter_id is not None and application.submitter_id != application.clerk_id:
        user = session.get(User, application.submitter_id)
        if user is not None:
            found.append(user)
    person = session.get(Person, application.person_id) \
        if application.person_id is not None else None
    if person is not None:  # the same rule as the person's own account (counter.people)
        found.extend(session.scalars(select(User).where(
            col(User.id_number) == person.id_number, col(User.id_verified_by).is_not(None))
            .order_by(col(User.id))))
    return found


def end_overdue(session: Session, actor: Actor, application: Application, *,
                tree: DepartmentTree, now: datetime | None = None,
                request_id: str = "") -> IntakeHold:
    """A reviewer of the application's department ends it because the 容缺 materials are
    overdue: not approved (不予许可/终止办理), the reason "容缺材料逾期未补齐"."""
    from .workflow import runtime

    now = now or utcnow()
    if not holds(actor, REVIEW_ROLES, application.department_code, tree):
        raise errors.not_yours("task_not_yours")
    hold = hold_of(session, saved_id(application))
    if hold is None or hold.state != "overdue":
        raise errors.invalid("hold_not_overdue")
    runtime.act_on_application(session, actor, saved_id(application), "end_overdue_hold",
                               now=now, request_id=request_id, reason=OVERDUE_REASON)
    audit.record(session, action="intake.hold_expired", object_type="application",
                 object_id=application.reference, actor_id=actor.user_id,
                 actor_name=_name(session, actor.user_id),
                 after={"reason": OVERDUE_REASON,
                        "missing": [m["code"] for m in outstanding(hold)]},
                 request_id=request_id)
    return hold


def overdue_holds(session: Session, application_ids: Iterable[int]) -> set[int]:
    """Which of the applications have a 容缺 hold past its due day."""
    ids = list(application_ids)
    if not ids:
        return set()
    return set(session.scalars(select(col(IntakeHold.application_id)).where(
        col(IntakeHold.application_id).in_(ids), col(IntakeHold.state) == "overdue")))


# --- The commitment's later check ------------------------------------------------------------

def commitments_to_check(session: Session, actor: Actor,
                         tree: DepartmentTree) -> list[tuple[IntakeCommitment, Application]]:
    rows = session.execute(select(IntakeCommitment, Application).join(
        Application, col(Application.id) == col(IntakeCommitment.application_id)).where(
        col(IntakeCommitment.state) == "pending").order_by(col(IntakeCommitment.verify_by),
                                                           col(IntakeCommitment.id))).all()
    return [(c, a) for c, a in rows if holds(actor, REVIEW_ROLES, c.department_code, tree)]


def verify(session: Session, actor: Actor, commitment_id: int, *, kept: bool, note: str,
           tree: DepartmentTree, now: datetime | None = None,
           request_id: str = "") -> IntakeCommitment:
    """A reviewer's finding on a commitment. A broken one (a note required) ends a running
    application (终止办理) or revokes its approval, and puts the applicant on the credit bar
    list."""
    from .workflow import runtime

    now = now or utcnow()
    row = session.get(IntakeCommitment, commitment_id)
    application = session.get(Application, row.application_id) if row is not None else None
    if row is None or application is None \
            or not holds(actor, REVIEW_ROLES, row.department_code, tree):
        raise errors.not_yours("task_not_yours")
    if row.state != "pending":
        raise errors.already_handled(who=_name(session, row.verified_by),
                                     when=row.verified_at.isoformat() if row.verified_at else "")
    text = note.strip()
    if not kept and not text:
        raise errors.invalid("reason_required")
    row.state = "kept" if kept else "broken"
    row.verified_by, row.verified_at, row.note = actor.user_id, now, text
    if not kept:
        instance = session.scalars(select(FlowInstance).where(
            col(FlowInstance.application_id) == saved_id(application))).first()
        if instance is not None and instance.ended_at is None:
            runtime.act_on_application(session, actor, saved_id(application),
                                       "break_commitment", now=now, request_id=request_id,
                                       reason=text)
        elif application.status == "approved" and instance is not None:
            # The approval is revoked (撤销): status revoked, in the instance's history.
            runtime.act_on_application(session, actor, saved_id(application),
                                       "revoke_approval", now=now, request_id=request_id,
                                       reason=text)
            row.revoked = True
        number = id_number_of(application)
        if number:
            session.add(CreditBar(id_number=number, source="broken_commitment",
                                  reason=f"未履行告知承诺（{application.reference}）",
                                  application_id=saved_id(application), created_at=now))
    session.add(row)
    audit.record(session, action=f"intake.commitment_{row.state}", object_type="application",
                 object_id=application.reference, actor_id=actor.user_id,
                 actor_name=_name(session, actor.user_id),
                 after={"note": text, "revoked": row.revoked}, request_id=request_id)
    session.flush()
    return row


def commitment_of(session: Session, application_id: int) -> IntakeCommitment | None:
    return session.scalars(select(IntakeCommitment).where(
        col(IntakeCommitment.application_id) == application_id)).first()


def seed_credit_bars(session: Session) -> list[str]:
    """The demo credit bar list (idempotent)."""
    have = set(session.scalars(select(col(CreditBar.id_number))
                               .where(col(CreditBar.source) == "demo")))
    added = 0
    for number, reason in DEMO_CREDIT_BARS:
        if number not in have:
            session.add(CreditBar(id_number=number, reason=reason, source="demo"))
            added += 1
    return [f"Credit bar list: {added} demo entr{'y' if added == 1 else 'ies'} added."]
