"""Appeals (复核/申诉): an applicant contests one indicator of their score within the rule set's
window; a reviewer of the service's department upholds it (corrected answers: a new evaluation
supersedes the contested one, which is kept) or dismisses it with a reason. Every step is
audited; a refusal stores nothing."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from .. import audit
from ..i18n import N_
from ..models import (
    Application,
    DefinitionVersion,
    PointsAppeal,
    PointsEvaluation,
    saved_id,
    utcnow,
)
from ..worktime import (
    UnknownCalendar,
    add_working_days,
    calendar_for,
    calendar_id_of,
    file_calendar,
    local_day,
)
from .evaluate import BadInput, MissingInput

DEFAULT_WORKING_DAYS = 15
"""The appeal window when the rule set has no ``appeal: {working_days: N}``."""
REASONS_MAX = 2000
DECISION_MAX = 2000

Scorer = Callable[[Session, PointsEvaluation, dict[str, Any]], dict[str, Any]]
"""Scores corrected answers with the contested evaluation's rule-set version and date:
returns ``Evaluation.to_json()``."""


@dataclass
class AppealRefused(ValueError):
    """Why an appeal or a decision is refused: an English msgid with its parameters (the
    page translates it) and the form field it belongs to."""

    message: str
    field: str = ""
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    words: dict[str, str] | None = None  # already in zh and en (the engine's own messages)

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


NO_SCORE = N_("This application has no score to contest.")
CHOOSE_INDICATOR = N_("Choose the item of your score you contest")
ENTER_REASONS = N_("Enter why you contest this item")
REASONS_TOO_LONG = N_("Your reasons must be %(max)d characters or fewer")
WINDOW_CLOSED = N_("The time to contest this score ended on %(day)s")
ALREADY_OPEN = N_("You already have an open appeal on %(indicator)s: wait for its outcome")
DECIDED = N_("This appeal has been decided already")
ENTER_DECISION = N_("Enter the reason for your decision")
DECISION_TOO_LONG = N_("The reason must be %(max)d characters or fewer")
ENTER_CORRECTION = N_("Enter at least one corrected answer that differs from the current one")
WHOLE_NUMBER = N_("Enter a whole number for %(field)s")
YES_OR_NO = N_("Enter true or false for %(field)s")
NOT_AN_INPUT = N_("%(field)s is not an answer this item reads")
OWN_APPLICATION = N_("You cannot decide an appeal on your own application")


@dataclass(frozen=True)
class Lodged:
    appeal: PointsAppeal
    created: bool  # False when a repeated post found the appeal made the first time


def latest_evaluation(session: Session, application_id: int) -> PointsEvaluation | None:
    return session.scalars(select(PointsEvaluation)
                           .where(col(PointsEvaluation.application_id) == application_id)
                           .order_by(col(PointsEvaluation.id).desc()).limit(1)).first()


def indicators(evaluation: PointsEvaluation) -> list[dict[str, Any]]:
    return [item for item in evaluation.result.get("indicators", [])
            if isinstance(item, dict) and "id" in item]


def indicator_of(evaluation: PointsEvaluation, indicator_id: str) -> dict[str, Any] | None:
    return next((item for item in indicators(evaluation) if item["id"] == indicator_id), None)


def indicator_name(evaluation: PointsEvaluation, indicator_id: str, lang: str) -> str:
    found = indicator_of(evaluation, indicator_id)
    names = (found or {}).get("name") or {}
    return str(names.get(lang) or names.get("zh") or indicator_id)


def working_days(session: Session, evaluation: PointsEvaluation) -> int:
    """The rule set's ``appeal: {working_days: N}``, else 15."""
    rules = session.get(DefinitionVersion, evaluation.rules_version_id)
    appeal = (rules.content if rules is not None else {}).get("appeal") or {}
    value = appeal.get("working_days") if isinstance(appeal, Mapping) else None
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_WORKING_DAYS


def last_day(session: Session, application: Application, evaluation: PointsEvaluation) -> date:
    """The last day an appeal may be lodged: N working days on the service's calendar after
    the day the score was made."""
    service = session.get(DefinitionVersion, application.service_version_id)
    calendar_id = calendar_id_of(service.content if service else {})
    try:
        calendar = calendar_for(session, calendar_id)
    except UnknownCalendar:  # none published yet: the file shipped with the code
        calendar = file_calendar(calendar_id)
    return add_working_days(calendar, local_day(evaluation.created_at),
                            working_days(session, evaluation))


def appeals_of(session: Session, application_id: int) -> list[PointsAppeal]:
    return list(session.scalars(select(PointsAppeal)
                                .where(col(PointsAppeal.application_id) == application_id)
                                .order_by(col(PointsAppeal.id))))


def _reason(text: str, *, empty: str, too_long: str, limit: int, name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise AppealRefused(empty, name)
    if len(text) > limit:
        raise AppealRefused(too_long, name, {"max": limit})
    return text


def lodge(session: Session, application: Application, *, indicator: str, reasons: str,
          materials: list[str], submit_key: str, actor_id: int | None, actor_name: str,
          today: date | None = None, lang: str = "zh", request_id: str = "") -> Lodged:
    """The applicant's appeal against ``indicator`` of the application's latest score. The
    caller commits. ``submit_key`` (from the appeal form) makes a repeated post find the
    appeal made the first time."""
    earlier = session.scalars(select(PointsAppeal)
                              .where(col(PointsAppeal.submit_key) == submit_key)).first()
    if earlier is not None:
        return Lodged(earlier, created=False)
    evaluation = latest_evaluation(session, saved_id(application))
    if evaluation is None:
        raise AppealRefused(NO_SCORE)
    if indicator_of(evaluation, indicator) is None:
        raise AppealRefused(CHOOSE_INDICATOR, "indicator")
    text = _reason(reasons, empty=ENTER_REASONS, too_long=REASONS_TOO_LONG, limit=REASONS_MAX,
                   name="reasons")
    closes = last_day(session, application, evaluation)
    if (today or local_day(utcnow())) > closes:
        raise AppealRefused(WINDOW_CLOSED, params={"day": closes.isoformat()})
    name = indicator_name(evaluation, indicator, lang)
    if _open_on(session, saved_id(application), indicator):
        raise AppealRefused(ALREADY_OPEN, "indicator", {"indicator": name})
    appeal = PointsAppeal(application_id=saved_id(application),
                          evaluation_id=saved_id(evaluation), indicator=indicator, reasons=text,
                          materials=list(materials), department_code=application.department_code,
                          submit_key=submit_key, submitted_by=actor_id)
    try:
        with session.begin_nested():  # two tabs at once: the partial unique index decides
            session.add(appeal)
            session.flush()
    except IntegrityError:
        again = session.scalars(select(PointsAppeal)
                                .where(col(PointsAppeal.submit_key) == submit_key)).first()
        if again is not None:
            return Lodged(again, created=False)
        raise AppealRefused(ALREADY_OPEN, "indicator", {"indicator": name}) from None
    audit.record(session, action="points.appeal.lodge", object_type="application",
                 object_id=application.reference, actor_id=actor_id, actor_name=actor_name,
                 after={"appeal": appeal.id, "indicator": indicator,
                        "evaluation": appeal.evaluation_id, "materials": appeal.materials,
                        "reasons": text},
                 request_id=request_id)
    return Lodged(appeal, created=True)


def _open_on(session: Session, application_id: int, indicator: str) -> bool:
    return session.scalars(select(col(PointsAppeal.id)).where(
        col(PointsAppeal.application_id) == application_id,
        col(PointsAppeal.indicator) == indicator,
        col(PointsAppeal.status) == "open")).first() is not None


def _open_appeal(session: Session, appeal_id: int, actor_id: int) -> PointsAppeal:
    appeal = session.scalars(select(PointsAppeal).where(col(PointsAppeal.id) == appeal_id)
                             .with_for_update()).first()
    if appeal is None:
        raise LookupError(appeal_id)
    if appeal.status != "open":
        raise AppealRefused(DECIDED)
    application = session.get(Application, appeal.application_id)
    if actor_id in (appeal.submitted_by, application.submitter_id if application else None):
        raise AppealRefused(OWN_APPLICATION)  # four eyes: nobody decides their own appeal
    return appeal


def _decided(session: Session, appeal: PointsAppeal, status: str, reason: str,
             actor_id: int, actor_name: str) -> Application:
    appeal.status = status
    appeal.decision_reason = reason
    appeal.decided_by = actor_id
    appeal.decided_by_name = actor_name
    appeal.decided_at = utcnow()
    session.add(appeal)
    application = session.get(Application, appeal.application_id)
    assert application is not None  # a foreign key
    return application


def dismiss(session: Session, appeal_id: int, reason: str, *, actor_id: int, actor_name: str,
            request_id: str = "") -> PointsAppeal:
    appeal = _open_appeal(session, appeal_id, actor_id)
    text = _reason(reason, empty=ENTER_DECISION, too_long=DECISION_TOO_LONG,
                   limit=DECISION_MAX, name="reason")
    application = _decided(session, appeal, "dismissed", text, actor_id, actor_name)
    audit.record(session, action="points.appeal.dismiss", object_type="application",
                 object_id=application.reference, actor_id=actor_id, actor_name=actor_name,
                 before={"appeal": appeal.id, "status": "open"},
                 after={"appeal": appeal.id, "status": "dismissed", "reason": text},
                 request_id=request_id)
    return appeal


def correctable(answers: Mapping[str, Any], evaluation: PointsEvaluation,
                indicator: str) -> list[tuple[str, Any]]:
    """The answers the indicator read (dotted paths into the answers) and their values in
    ``answers``."""
    found = indicator_of(evaluation, indicator) or {}
    paths = [key for key in (found.get("inputs") or {}) if "." in str(key)]
    return [(path, _get(answers, path)) for path in paths]


def _get(answers: Mapping[str, Any], path: str) -> Any:
    value: Any = answers
    for segment in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(segment)
    return value


def _set(answers: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for segment in parents:
        answers = answers.setdefault(segment, {})
    answers[last] = value


def answers_now(session: Session, application: Application) -> dict[str, Any]:
    """The application's answers with the corrections of upheld appeals put in, in order."""
    answers = copy.deepcopy(application.answers)
    for appeal in appeals_of(session, saved_id(application)):
        if appeal.status != "upheld":
            continue
        for path, value in appeal.corrections.items():
            _set(answers, path, value)
    return answers


def _typed(raw: str, current: Any, path: str) -> Any:
    text = raw.strip()
    if isinstance(current, bool):
        if text.lower() not in ("true", "false"):
            raise AppealRefused(YES_OR_NO, path, {"field": path})
        return text.lower() == "true"
    if isinstance(current, int):
        try:
            return int(text)
        except ValueError:
            raise AppealRefused(WHOLE_NUMBER, path, {"field": path}) from None
    return text


def _default_scorer(session: Session, evaluation: PointsEvaluation,
                    answers: dict[str, Any]) -> dict[str, Any]:
    from . import evaluate, rules_for

    rule_set = rules_for(session, evaluation.rule_set, evaluation.rules_version_id)
    return evaluate(rule_set, answers, evaluation.as_of).to_json()


def uphold(session: Session, appeal_id: int, corrections: Mapping[str, str], reason: str, *,
           actor_id: int, actor_name: str, scorer: Scorer | None = None,
           request_id: str = "") -> PointsEvaluation:
    """Correct the answers the contested indicator read and score again: a new evaluation
    (reason ``appeal``) supersedes the application's latest one, which is kept."""
    appeal = _open_appeal(session, appeal_id, actor_id)
    text = _reason(reason, empty=ENTER_DECISION, too_long=DECISION_TOO_LONG,
                   limit=DECISION_MAX, name="reason")
    application = session.get(Application, appeal.application_id)
    contested = session.get(PointsEvaluation, appeal.evaluation_id)
    assert application is not None and contested is not None  # foreign keys
    answers = answers_now(session, application)
    readable = dict(correctable(answers, contested, appeal.indicator))
    changed: dict[str, Any] = {}
    for path, raw in corrections.items():
        if path not in readable:
            raise AppealRefused(NOT_AN_INPUT, path, {"field": path})
        if raw is None or not str(raw).strip():
            continue
        value = _typed(str(raw), _get(answers, path), path)
        if value != _get(answers, path):
            changed[path] = value
    if not changed:
        raise AppealRefused(ENTER_CORRECTION, "corrections")
    for path, value in changed.items():
        _set(answers, path, value)
    latest = latest_evaluation(session, saved_id(application))
    assert latest is not None  # the contested one at least
    try:
        result = (scorer or _default_scorer)(session, contested, answers)
    except (MissingInput, BadInput) as exc:  # a corrected value the rules cannot read
        raise AppealRefused(str(exc), "corrections",
                            words={"zh": exc.message("zh"), "en": exc.message("en")}) from None
    evaluation = PointsEvaluation(
        application_id=saved_id(application), rules_version_id=contested.rules_version_id,
        rule_set=contested.rule_set, as_of=contested.as_of, total=result["total"],
        eligible=bool(result.get("eligible")), grade=result.get("grade"), result=result,
        answers_version=application.answers_version, reason="appeal", reason_text=text,
        supersedes_id=saved_id(latest), actor_name=actor_name)
    session.add(evaluation)
    session.flush()
    appeal.corrections = changed
    appeal.new_evaluation_id = evaluation.id
    _decided(session, appeal, "upheld", text, actor_id, actor_name)
    audit.record(session, action="points.appeal.uphold", object_type="application",
                 object_id=application.reference, actor_id=actor_id, actor_name=actor_name,
                 before={"appeal": appeal.id, "status": "open", "evaluation": latest.id,
                         "total": latest.total},
                 after={"appeal": appeal.id, "status": "upheld", "evaluation": evaluation.id,
                        "total": evaluation.total, "corrections": changed, "reason": text},
                 request_id=request_id)
    return evaluation


__all__ = ["DEFAULT_WORKING_DAYS", "AppealRefused", "Lodged", "appeals_of", "correctable",
           "dismiss", "indicator_name", "indicators", "last_day", "latest_evaluation", "lodge",
           "uphold"]
