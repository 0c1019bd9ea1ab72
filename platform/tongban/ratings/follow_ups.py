"""What a 差评 sets going: a 回访 and 整改 task for the staff of the department that handled the
case (谁办理、谁负责), due a number of working days later; the reply sent back to the rater; and
the appeal a department administrator may lodge against a mistaken or malicious rating, which
a platform administrator upholds (the rating leaves the figures, kept on record) or dismisses.
Every step is audited; a refusal stores nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..i18n import N_
from ..models import (
    Application,
    FlowInstance,
    FlowTask,
    Notification,
    RatingFollowUp,
    ServiceRating,
    User,
    saved_id,
    utcnow,
)
from ..notify import templates
from ..notify.outbox import PROGRESS_PATH, channels_for
from ..worktime import CalendarNotPublished, UnknownCalendar, add_working_days, local_day
from .rules import Policy, RatingRefused, service_calendar, service_name

TEXT_MAX = 2000
REPLY = "rating_reply"

FOLLOW_UP_DONE = N_("This follow-up has been done already")
ENTER_VISIT = N_("Enter what the rater told you when you called them back")
ENTER_REPLY = N_("Enter the answer to send to the rater")
TOO_LONG = N_("This must be %(max)d characters or fewer")
APPEAL_EXISTS = N_("This rating has been appealed already")
ONLY_APPLICANTS = N_("Only a rating an applicant gave can be appealed")
ENTER_APPEAL = N_("Enter why this rating is mistaken or malicious")
NOT_REQUESTED = N_("This appeal has been decided already")
ENTER_DECISION = N_("Enter the reason for your decision")
CHOOSE_DECISION = N_("Choose whether to uphold or dismiss the appeal")


def handling_department(session: Session, application: Application) -> str:
    """The department of the last step someone did on the case, else the service's."""
    instance_id = session.scalars(select(col(FlowInstance.id)).where(
        col(FlowInstance.application_id) == saved_id(application))).first()
    if instance_id is not None:
        found = session.scalars(select(col(FlowTask.candidate_department)).where(
            col(FlowTask.instance_id) == instance_id, col(FlowTask.state) == "done",
            col(FlowTask.kind) != "cc", col(FlowTask.candidate_department).is_not(None))
            .order_by(col(FlowTask.seq).desc())).first()
        if found:
            return found
    return application.department_code


def due_day(session: Session, application: Application, policy: Policy, now: datetime) -> date:
    """The last day of the 回访: N working days after today on the service's calendar (N
    natural days when no calendar reaches that far)."""
    today = local_day(now)
    try:
        return add_working_days(service_calendar(session, application), today,
                                policy.follow_up_working_days)
    except (UnknownCalendar, CalendarNotPublished):
        return today + timedelta(days=policy.follow_up_working_days)


def open_follow_up(session: Session, rating: ServiceRating, application: Application, *,
                   policy: Policy, now: datetime, actor_name: str = "",
                   request_id: str = "") -> RatingFollowUp:
    row = RatingFollowUp(rating_id=saved_id(rating),
                         department_code=handling_department(session, application),
                         due_on=due_day(session, application, policy, now), created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, action="rating.follow_up_opened", object_type="application",
                 object_id=application.reference, actor_name=actor_name or "system",
                 after={"follow_up": row.id, "department": row.department_code,
                        "due_on": row.due_on.isoformat()}, request_id=request_id)
    return row


def _text(value: str, *, empty: str, field: str) -> str:
    text = (value or "").strip()
    if not text:
        raise RatingRefused(empty, field)
    if len(text) > TEXT_MAX:
        raise RatingRefused(TOO_LONG, field, {"max": TEXT_MAX})
    return text


def complete(session: Session, follow_up: RatingFollowUp, *, visit_note: str, reply: str,
             actor_id: int, actor_name: str, now: datetime | None = None,
             request_id: str = "") -> RatingFollowUp:
    """The department called the rater back and answers them: the task is done and the reply
    goes to the rater (a notification)."""
    if follow_up.state != "open":
        raise RatingRefused(FOLLOW_UP_DONE, status=409)
    problems: list[RatingRefused] = []
    texts: dict[str, str] = {}
    for field, value, empty in (("visit_note", visit_note, ENTER_VISIT),
                                ("reply", reply, ENTER_REPLY)):
        try:
            texts[field] = _text(value, empty=empty, field=field)
        except RatingRefused as exc:
            problems.append(exc)
    if problems:
        raise problems[0] if len(problems) == 1 else ManyRefused(problems)
    moment = now or utcnow()
    follow_up.state, follow_up.done_by, follow_up.done_at = "done", actor_id, moment
    follow_up.visit_note, follow_up.reply = texts["visit_note"], texts["reply"]
    session.add(follow_up)
    rating = session.get(ServiceRating, follow_up.rating_id)
    assert rating is not None  # a foreign key
    audit.record(session, action="rating.follow_up_done", object_type="application",
                 object_id=rating.reference, actor_id=actor_id, actor_name=actor_name,
                 after={"follow_up": follow_up.id}, request_id=request_id)
    _tell_rater(session, rating, moment)
    return follow_up


class ManyRefused(RatingRefused):
    """Several fields wrong at once: each one's refusal."""

    def __init__(self, problems: list[RatingRefused]) -> None:
        super().__init__(problems[0].message, problems[0].field, problems[0].params)
        self.problems = problems


def _tell_rater(session: Session, rating: ServiceRating, now: datetime) -> None:
    user = session.get(User, rating.rater_id) if rating.rater_id is not None else None
    if user is None:
        return
    language = templates.language_of(user.language)
    service = rating.service_code
    application = session.get(Application, rating.application_id)
    if application is not None:
        service = service_name(session, application, language)
    text = templates.render(REPLY, language, reference=rating.reference, service=service)
    for channel, recipient in channels_for(user):
        session.add(Notification(
            key=f"{REPLY}:{rating.id}:{user.id}:{channel}", kind=REPLY,
            reference=rating.reference, user_id=user.id, channel=channel, recipient=recipient,
            language=language, subject=text.subject, body=text.body,
            link=PROGRESS_PATH.format(reference=rating.reference), created_at=now,
            next_attempt_at=now))


def request_appeal(session: Session, rating: ServiceRating, *, reason: str, actor_id: int,
                   actor_name: str, now: datetime | None = None,
                   request_id: str = "") -> ServiceRating:
    """A department administrator asks for a rating to be set aside (误评, 恶意差评)."""
    if rating.source != "applicant":
        raise RatingRefused(ONLY_APPLICANTS, status=409)
    if rating.appeal_state != "none":
        raise RatingRefused(APPEAL_EXISTS, status=409)
    text = _text(reason, empty=ENTER_APPEAL, field="appeal_reason")
    rating.appeal_state, rating.appeal_reason = "requested", text
    rating.appeal_by, rating.appeal_at = actor_id, now or utcnow()
    session.add(rating)
    audit.record(session, action="rating.appeal_requested", object_type="application",
                 object_id=rating.reference, actor_id=actor_id, actor_name=actor_name,
                 after={"rating": rating.id, "reason": text}, request_id=request_id)
    return rating


def decide_appeal(session: Session, rating: ServiceRating, *, decision: str, note: str,
                  actor_id: int, actor_name: str, now: datetime | None = None,
                  request_id: str = "") -> ServiceRating:
    """A platform administrator upholds the appeal (the rating is kept but leaves the
    figures) or dismisses it, with a reason."""
    if rating.appeal_state != "requested":
        raise RatingRefused(NOT_REQUESTED, status=409)
    if decision not in ("uphold", "dismiss"):
        raise RatingRefused(CHOOSE_DECISION, "decision")
    text = _text(note, empty=ENTER_DECISION, field="appeal_note")
    upheld = decision == "uphold"
    rating.appeal_state = "upheld" if upheld else "dismissed"
    rating.excluded = upheld
    rating.appeal_note, rating.appeal_decided_by = text, actor_id
    rating.appeal_decided_at = now or utcnow()
    session.add(rating)
    audit.record(session, action="rating.appeal_decided", object_type="application",
                 object_id=rating.reference, actor_id=actor_id, actor_name=actor_name,
                 before={"appeal_state": "requested", "excluded": False},
                 after={"appeal_state": rating.appeal_state, "excluded": rating.excluded,
                        "note": text}, request_id=request_id)
    return rating


def open_follow_ups(session: Session, departments: frozenset[str] | None,
                    *, limit: int = 200) -> list[tuple[RatingFollowUp, ServiceRating]]:
    """The open 回访 tasks of these departments (None: all), the earliest due first."""
    query = (select(RatingFollowUp, ServiceRating)
             .join(ServiceRating, col(ServiceRating.id) == col(RatingFollowUp.rating_id))
             .where(col(RatingFollowUp.state) == "open")
             .order_by(col(RatingFollowUp.due_on), col(RatingFollowUp.id)).limit(limit))
    if departments is not None:
        query = query.where(col(RatingFollowUp.department_code).in_(sorted(departments)))
    return [(row[0], row[1]) for row in session.execute(query).all()]


def appeals_waiting(session: Session) -> list[ServiceRating]:
    return list(session.scalars(select(ServiceRating)
                                .where(col(ServiceRating.appeal_state) == "requested")
                                .order_by(col(ServiceRating.appeal_at))))


def follow_up_of(session: Session, rating_id: int) -> RatingFollowUp | None:
    return session.scalars(select(RatingFollowUp)
                           .where(col(RatingFollowUp.rating_id) == rating_id)).first()
