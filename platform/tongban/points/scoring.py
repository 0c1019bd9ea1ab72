"""Scoring applications: the rule-set version an application pinned, over its answers as stored,
on the local date it was submitted, kept as ``PointsEvaluation`` rows (never changed: a new
score supersedes the last) with an audit event in the caller's transaction.

A score belongs to one set of answers (``answers_version``): when a correction or a
resubmission replaces the answers the application is scored again. A required answer missing
(``MissingInput``) or unreadable (``BadInput``) never becomes zero points: nothing is stored as
the score, the reason is audited (``points.not_scored``) and shown to the reviewer, and the
application goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..models import Application, AuditEvent, DefinitionVersion, PointsEvaluation, saved_id
from . import BadInput, MissingInput, evaluate
from .store import compile_version

ZONE = ZoneInfo("Asia/Shanghai")
SCORED = "points.scored"
NOT_SCORED = "points.not_scored"
# Why a row was written (PointsEvaluation.reason).
SUBMITTED = "submitted"
ANSWERS_CHANGED = "answers_changed"


def _local_date(moment: datetime) -> date:
    if moment.tzinfo is None:  # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZONE).date()


def _effective(content: dict[str, Any], on: date) -> bool:
    window = content.get("effective") or {}
    start, end = window.get("from"), window.get("to")
    if start is not None and date.fromisoformat(str(start)) > on:
        return False
    return end is None or date.fromisoformat(str(end)) >= on


def current_rules_version(session: Session, service_content: dict[str, Any],
                          on: date | None = None) -> int | None:
    """The id of the rule-set version a draft of this service pins now: the newest published
    version of its ``rules:`` in effect on ``on`` (today in Shanghai), else the newest one
    (a rule set published ahead of its year still scores). None for a service without rules."""
    code = service_content.get("rules")
    if not code:
        return None
    rows = list(session.scalars(select(DefinitionVersion)
                                .where(col(DefinitionVersion.kind) == "rules",
                                       col(DefinitionVersion.code) == code)
                                .order_by(col(DefinitionVersion.version).desc())))
    if not rows:
        # The loader refuses a service whose rule set does not exist, and they publish together.
        raise LookupError(f'service "{service_content.get("code")}" names rule set "{code}", '
                          "which has no published version")
    today = on or _local_date(datetime.now(ZONE))
    chosen = next((row for row in rows if _effective(row.content, today)), rows[0])
    return saved_id(chosen)


def as_of(application: Application) -> date:
    """The date a score is computed on: the day the application was submitted, in Shanghai."""
    return _local_date(application.submitted_at)


def _rule_set(session: Session, version_id: int) -> Any:
    version = session.get(DefinitionVersion, version_id)
    if version is None or version.kind != "rules":
        raise LookupError(f"no rules definition version {version_id}")
    return compile_version(version)


def summary(row: PointsEvaluation | None) -> dict[str, Any] | None:
    """What a flow condition reads of a score (``points.total`` …)."""
    if row is None:
        return None
    return {"total": row.total, "eligible": row.eligible, "grade": row.grade}


def history(session: Session, application_id: int) -> list[PointsEvaluation]:
    """Every score of the application, newest first."""
    return list(session.scalars(select(PointsEvaluation)
                                .where(col(PointsEvaluation.application_id) == application_id)
                                .order_by(col(PointsEvaluation.id).desc())))


def latest(session: Session, application_id: int) -> PointsEvaluation | None:
    return session.scalars(select(PointsEvaluation)
                           .where(col(PointsEvaluation.application_id) == application_id)
                           .order_by(col(PointsEvaluation.id).desc()).limit(1)).first()


def current(session: Session, application: Application) -> PointsEvaluation | None:
    """The score of the application's answers as they are now (None: not scored, or only
    earlier answers were)."""
    if application.rules_version_id is None:
        return None
    row = latest(session, saved_id(application))
    if row is None or row.answers_version != application.answers_version:
        return None
    return row


def score(session: Session, application: Application, *, reason: str = SUBMITTED,
          actor_id: int | None = None, actor_name: str = "system", request_id: str = "",
          reason_text: str = "") -> PointsEvaluation | None:
    """Score the application's current answers with its pinned rule-set version and store the
    result (a new row superseding the latest) with its audit event; the caller commits. None,
    with a ``points.not_scored`` audit event naming the missing answer, when a required input
    is absent; None without a trace for an application that pinned no rule set."""
    if application.rules_version_id is None:
        return None
    rule_set = _rule_set(session, application.rules_version_id)
    previous = latest(session, saved_id(application))
    day = as_of(application)
    try:
        result = evaluate(rule_set, application.answers, day).to_json()
    except (MissingInput, BadInput) as exc:
        audit.record(session, action=NOT_SCORED, object_type="application",
                     object_id=application.reference, actor_id=actor_id, actor_name=actor_name,
                     after={"reason": reason, "rules_version_id": application.rules_version_id,
                            "answers_version": application.answers_version,
                            "input": exc.input_id, "path": exc.path,
                            "message": {"zh": exc.message("zh"), "en": exc.message("en")}},
                     request_id=request_id)
        return None
    row = PointsEvaluation(
        application_id=saved_id(application), rules_version_id=application.rules_version_id,
        rule_set=str(result["rule_set"]), as_of=day, total=result["total"],
        eligible=bool(result["eligible"]), grade=result.get("grade"), result=result,
        answers_version=application.answers_version, reason=reason, reason_text=reason_text,
        supersedes_id=previous.id if previous is not None else None, actor_name=actor_name)
    session.add(row)
    session.flush()
    audit.record(session, action=SCORED, object_type="application",
                 object_id=application.reference, actor_id=actor_id, actor_name=actor_name,
                 after={"evaluation": row.id, "reason": reason, "rule_set": row.rule_set,
                        "version": result.get("version"),
                        "rules_version_id": row.rules_version_id, "as_of": day.isoformat(),
                        "total": row.total, "eligible": row.eligible, "grade": row.grade,
                        "answers_version": row.answers_version,
                        "supersedes": row.supersedes_id},
                 request_id=request_id)
    return row


def answers_scorer(session: Session, application: Application
                   ) -> Callable[[dict[str, Any]], dict[str, Any] | None] | None:
    """For the flow engine: what a condition would read of new answers (None when a required
    answer is missing), before they are stored. None for an application without rules."""
    if application.rules_version_id is None:
        return None
    rule_set = _rule_set(session, application.rules_version_id)
    day = as_of(application)

    def score_answers(answers: dict[str, Any]) -> dict[str, Any] | None:
        try:
            result = evaluate(rule_set, answers, day).to_json()
        except (MissingInput, BadInput):
            return None
        return {"total": result["total"], "eligible": result["eligible"],
                "grade": result.get("grade")}

    return score_answers


# --- What the pages show -----------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreView:
    """The score panel of an application: its current score (or why it has none), the rule set
    it was scored by and the scores it superseded."""

    rule_set_name: dict[str, str]
    rule_set_version: int
    example: bool
    current: PointsEvaluation | None
    missing: dict[str, str] | None  # why the current answers have no score, zh/en
    earlier: list[PointsEvaluation] = field(default_factory=list)

    @property
    def result(self) -> dict[str, Any]:
        return self.current.result if self.current is not None else {}


def _missing_note(session: Session, application: Application) -> dict[str, str] | None:
    event = session.scalars(select(AuditEvent)
                            .where(col(AuditEvent.object_type) == "application",
                                   col(AuditEvent.object_id) == application.reference,
                                   col(AuditEvent.action) == NOT_SCORED)
                            .order_by(col(AuditEvent.seq).desc()).limit(1)).first()
    after = event.after if event is not None else None
    if not after or after.get("answers_version") != application.answers_version:
        return None
    message = after.get("message") or {}
    return {"zh": str(message.get("zh", "")), "en": str(message.get("en", ""))}


def view(session: Session, application: Application) -> ScoreView | None:
    """The score panel's content; None for an application of a service without rules."""
    if application.rules_version_id is None:
        return None
    version = session.get(DefinitionVersion, application.rules_version_id)
    if version is None:
        return None
    rows = history(session, saved_id(application))
    now = rows[0] if rows and rows[0].answers_version == application.answers_version else None
    return ScoreView(
        rule_set_name=dict(version.content.get("name") or {"zh": version.code, "en": version.code}),
        rule_set_version=version.version, example=bool(version.content.get("example")),
        current=now, missing=None if now is not None else _missing_note(session, application),
        earlier=rows[1:] if now is not None else rows)


__all__ = ["ANSWERS_CHANGED", "NOT_SCORED", "SCORED", "SUBMITTED", "ScoreView", "answers_scorer",
           "as_of", "current", "current_rules_version", "history", "latest", "score", "summary",
           "view"]
