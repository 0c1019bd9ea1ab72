"""Giving a rating: who may rate what and when, what a rating is attributed to, the default
rating the worker gives when nobody rated in time, and the invitation to rate sent when an
application is finished. Every rating is audited; a refusal stores nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from .. import audit, db
from ..i18n import N_
from ..models import (
    Application,
    DefinitionVersion,
    Department,
    FlowEvent,
    FlowInstance,
    FlowTask,
    Membership,
    Notification,
    Role,
    ServiceRating,
    User,
    saved_id,
    utcnow,
)
from ..notify import templates
from ..notify.outbox import PROGRESS_PATH, channels_for
from ..worktime import (
    Calendar,
    CalendarNotPublished,
    UnknownCalendar,
    add_working_days,
    calendar_for,
    calendar_id_of,
    end_of_day,
    file_calendar,
    local_day,
)

FINISHED = ("approved", "rejected", "completed")
"""Application statuses of a finished case (办结), the only ones that may be rated."""

LEVELS: Mapping[int, str] = {
    5: N_("Very satisfied"),
    4: N_("Satisfied"),
    3: N_("Basically satisfied"),
    2: N_("Dissatisfied"),
    1: N_("Very dissatisfied"),
}
"""The five levels of 国办发〔2019〕51号, best first; 2 and 1 are 差评."""

REASONS: Mapping[str, str] = {
    "slow": N_("It took too long"),
    "many_trips": N_("I had to come back or send things more than once"),
    "guide": N_("The service guide was unclear or wrong"),
    "extra_materials": N_("I was asked for materials the guide does not list"),
    "attitude": N_("Staff were unhelpful or impolite"),
    "online": N_("The website was hard to use"),
    "result": N_("I disagree with the result"),
    "other": N_("Something else"),
}
"""The reasons a rater may name (any level; most useful with a 差评)."""

COMMENT_MAX = 500

NOT_YOURS = N_("We found no application of yours with this reference.")
NOT_FINISHED = N_("You can rate this application once it is finished.")
ALREADY_RATED = N_("This application has been rated already: a rating cannot be changed.")
CHOOSE_LEVEL = N_("Choose how satisfied you are")
UNKNOWN_LEVEL = N_("Choose one of the five levels, from very satisfied to very dissatisfied")
UNKNOWN_REASON = N_("Choose the reasons from the list")
COMMENT_TOO_LONG = N_("Your comment must be %(max)d characters or fewer")


@dataclass
class RatingRefused(ValueError):
    """Why a rating (or a step of its follow-up) is refused: an English msgid with its
    parameters (the page translates it), the form field it belongs to and the HTTP status."""

    message: str
    field: str = ""
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    status: int = 422

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


@dataclass(frozen=True)
class Policy:
    """The local rules (not national ones): when and how a case nobody rated is rated, and
    how long a department has to answer a 差评. From the RATING_* settings."""

    default_after_days: int = 7
    day_kind: str = "natural"  # natural | working
    default_level: int = 3
    follow_up_working_days: int = 5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        return cls(default_after_days=config["RATING_DEFAULT_AFTER_DAYS"],
                   day_kind=config["RATING_DEFAULT_DAY_KIND"],
                   default_level=config["RATING_DEFAULT_LEVEL"],
                   follow_up_working_days=config["RATING_FOLLOW_UP_WORKING_DAYS"])


def is_bad(level: int) -> bool:
    """差评: 不满意 and 非常不满意."""
    return level <= 2


def rating_of(session: Session, application_id: int) -> ServiceRating | None:
    return session.scalars(select(ServiceRating)
                           .where(col(ServiceRating.application_id) == application_id)).first()


def service_calendar(session: Session, application: Application) -> Calendar:
    """The calendar the application's service counts working days on."""
    version = session.get(DefinitionVersion, application.service_version_id)
    calendar_id = calendar_id_of(version.content if version is not None else {})
    try:
        return calendar_for(session, calendar_id)
    except UnknownCalendar:  # none published yet: the file shipped with the code
        return file_calendar(calendar_id)


# --- who a rating is about ----------------------------------------------------------------------

@dataclass(frozen=True)
class Attribution:
    window_code: str | None  # the counter department that took the case in
    clerk_id: int | None
    finished_at: datetime | None


def attribution(session: Session, application: Application) -> Attribution:
    """The window and clerk of a case: the clerk who started it at the counter, else whoever
    accepted its intake task; the window is the department the intake was offered to, else the
    clerk's counter department."""
    instance = session.scalars(select(FlowInstance).where(
        col(FlowInstance.application_id) == saved_id(application))).first()
    intake = None
    if instance is not None:
        intake = session.scalars(select(FlowTask).where(
            col(FlowTask.instance_id) == saved_id(instance), col(FlowTask.kind) == "intake",
            col(FlowTask.state) == "done").order_by(col(FlowTask.seq))).first()
    clerk_id = application.clerk_id or (intake.done_by if intake is not None else None)
    window = intake.candidate_department if intake is not None else None
    if window is None and clerk_id is not None:
        window = _clerk_window(session, clerk_id)
    return Attribution(window, clerk_id, instance.ended_at if instance is not None else None)


def _clerk_window(session: Session, clerk_id: int) -> str | None:
    return session.scalars(select(col(Department.code))
                           .join(Membership, col(Membership.department_id) == col(Department.id))
                           .where(col(Membership.user_id) == clerk_id,
                                  col(Membership.role) == Role.COUNTER_CLERK.value)).first()


# --- the applicant's rating ---------------------------------------------------------------------

def parse_level(text: str | None) -> int:
    text = (text or "").strip()
    if not text:
        raise RatingRefused(CHOOSE_LEVEL, "level")
    if text not in {str(level) for level in LEVELS}:
        raise RatingRefused(UNKNOWN_LEVEL, "level")
    return int(text)


def check_may_rate(session: Session, application: Application | None,
                   rater_id: int | None) -> Application:
    """The application when ``rater_id`` may rate it now, else why not."""
    if application is None or rater_id is None or application.submitter_id != rater_id:
        raise RatingRefused(NOT_YOURS, status=404)
    if application.status not in FINISHED:
        raise RatingRefused(NOT_FINISHED, status=409)
    if rating_of(session, saved_id(application)) is not None:
        raise RatingRefused(ALREADY_RATED, status=409)
    return application


def insert(session: Session, application: Application, *, level: int, source: str,
            rater_id: int | None, reasons: list[str], comment: str,
            now: datetime) -> ServiceRating | None:
    """The rating row, or None when the application has one already (the unique key decides
    a race between the applicant and the worker)."""
    who = attribution(session, application)
    row = ServiceRating(
        application_id=saved_id(application), reference=application.reference,
        service_code=application.service_code, department_code=application.department_code,
        window_code=who.window_code, clerk_id=who.clerk_id, rater_id=rater_id, level=level,
        source=source, reasons=reasons, comment=comment, finished_at=who.finished_at,
        rated_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


# --- the default rating -------------------------------------------------------------------------

def default_due(policy: Policy, finished_at: datetime, calendar: Calendar | None) -> datetime:
    """When a case finished at ``finished_at`` that nobody rated gets the default rating."""
    if policy.day_kind == "working" and calendar is not None:
        return end_of_day(add_working_days(calendar, local_day(finished_at),
                                           policy.default_after_days))
    return finished_at + timedelta(days=policy.default_after_days)


def apply_defaults(session: Session, policy: Policy, now: datetime | None = None, *,
                   limit: int = 500) -> int:
    """Give the default rating to every finished case nobody rated within the policy's days,
    in the caller's transaction; how many. Each case gets one rating, ever: a case rated
    meanwhile (by its applicant, or by another worker) is left alone."""
    moment = now or utcnow()
    rated = select(col(ServiceRating.application_id))
    latest = moment - timedelta(days=policy.default_after_days)  # no kind of day is shorter
    candidates = session.execute(
        select(Application, col(FlowInstance.ended_at))
        .join(FlowInstance, col(FlowInstance.application_id) == col(Application.id))
        .where(col(Application.status).in_(FINISHED), col(FlowInstance.ended_at).is_not(None),
               col(FlowInstance.ended_at) <= latest, col(Application.id).not_in(rated))
        .order_by(col(FlowInstance.ended_at), col(Application.id)).limit(limit)).all()
    given = 0
    for application, ended_at in candidates:
        calendar = None
        if policy.day_kind == "working":
            try:
                calendar = service_calendar(session, application)
            except (UnknownCalendar, CalendarNotPublished):
                continue  # no calendar reaches that far yet: try again later
        try:
            due = default_due(policy, ended_at, calendar)
        except CalendarNotPublished:
            continue
        if due > moment:
            continue
        row = insert(session, application, level=policy.default_level, source="default",
                      rater_id=None, reasons=[], comment="", now=moment)
        if row is None:
            continue
        audit.record(session, action="rating.defaulted", object_type="application",
                     object_id=application.reference, actor_name="worker",
                     after={"level": policy.default_level,
                            "after_days": policy.default_after_days,
                            "day_kind": policy.day_kind})
        given += 1
    return given


def service_name(session: Session, application: Application, language: str) -> str:
    version = session.get(DefinitionVersion, application.service_version_id)
    names = (version.content.get("name") if version is not None else None) or {}
    if isinstance(names, dict):
        return str(names.get(language) or names.get("zh") or application.service_code)
    return str(names)


def run_defaults(target: Engine | db.SessionFactory, policy: Policy,
                 now: datetime | None = None) -> int:
    """The worker's job (``workflow.queue``, once a minute): :func:`apply_defaults` in a
    transaction of its own."""
    with db.session_factory(target)() as session, db.unit_of_work(session) as tx:
        return apply_defaults(tx, policy, now)


# --- the invitation to rate ---------------------------------------------------------------------

INVITE = "rate_invite"


def invite(session: Session, application: Application, events: Iterable[FlowEvent]) -> int:
    """When a transition finishes the application, ask its applicant to rate it (the flow
    runtime calls this in the transition's transaction, next to the other notifications)."""
    ended = [event for event in events if event.type == "ended"
             and (event.data or {}).get("outcome") in ("approved", "rejected", "completed")]
    if not ended or application.submitter_id is None:
        return 0
    user = session.get(User, application.submitter_id)
    if user is None:
        return 0
    language = templates.language_of(user.language)
    service = service_name(session, application, language)
    text = templates.render(INVITE, language, reference=application.reference, service=service)
    event = ended[0]
    added = 0
    for channel, recipient in channels_for(user):
        session.add(Notification(
            key=f"{INVITE}:{event.instance_id}-{event.seq}:{user.id}:{channel}", kind=INVITE,
            reference=application.reference, user_id=user.id, channel=channel,
            recipient=recipient, language=language, subject=text.subject, body=text.body,
            link=PROGRESS_PATH.format(reference=application.reference) + "/rating",
            created_at=event.at, next_attempt_at=event.at))
        added += 1
    return added
