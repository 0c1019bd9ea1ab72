"""Appeals (issue 13 item 8) with the shipped Shanghai rule set: an upheld appeal is a new
evaluation by the same rule-set version that supersedes the latest one; the old rows stay."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from points_world import answers
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from tongban.applications import start_draft, submit
from tongban.definitions.publish import current_version
from tongban.models import (
    Application,
    AuditEvent,
    PointsAppeal,
    PointsEvaluation,
    User,
    saved_id,
    utcnow,
)
from tongban.points import appeals


@pytest.fixture
def db(demo: Flask, session: Session) -> Session:
    return session


def _scored(session: Session, given: dict[str, Any]) -> tuple[Application, PointsEvaluation]:
    service = current_version(session, "service", "residence-points")
    rules = current_version(session, "rules", "sh-residence-points")
    assert service is not None and rules is not None
    form = current_version(session, "form", service.content["form"])
    assert form is not None
    draft = start_draft(session, service, form, user_id=None)
    application = submit(session, draft, given, department_code="sh-rsj", actor_id=None,
                         actor_name="citizen").application
    # The submit scored it (points.scoring): that row is the score an appeal contests.
    evaluation = session.scalars(select(PointsEvaluation).where(
        col(PointsEvaluation.application_id) == saved_id(application))).one()
    assert evaluation.rules_version_id == saved_id(rules)
    session.commit()
    return application, evaluation


def _reviewer(session: Session) -> int:
    return saved_id(session.scalars(select(User).where(col(User.username) == "rsj_city")).one())


def _lodge(session: Session, application: Application, indicator: str, key: str) -> PointsAppeal:
    lodged = appeals.lodge(session, application, indicator=indicator, reasons="单位补缴未计入",
                           materials=[], submit_key=key, actor_id=None, actor_name="citizen")
    session.commit()
    return lodged.appeal


def test_an_upheld_appeal_rescored_by_the_pinned_rules_supersedes_and_keeps_the_old(
        db: Session) -> None:
    application, first = _scored(db, answers())
    assert first.total == 45
    appeal = _lodge(db, application, "si_years", "k" * 20)
    assert appeals.correctable(application.answers, first, "si_years") == [
        ("social_insurance.months", 60)]
    new = appeals.uphold(db, saved_id(appeal), {"social_insurance.months": "84"},
                         "社保记录核实：补缴 24 个月", actor_id=_reviewer(db),
                         actor_name="rsj_city")
    db.commit()
    rows = list(db.scalars(select(PointsEvaluation).order_by(col(PointsEvaluation.id))))
    assert [(r.total, r.reason, r.supersedes_id) for r in rows] == [
        (45, "submitted", None), (51, "appeal", first.id)]
    si = next(i for i in new.result["indicators"] if i["id"] == "si_years")
    assert si["points"] == 21 and si["inputs"]["social_insurance.months"] == 84
    assert new.rules_version_id == first.rules_version_id and new.as_of == first.as_of
    assert application.answers["social_insurance"]["months"] == 60  # the answers as submitted

    # A later appeal on another item starts from the corrected answers.
    second = _lodge(db, application, "age", "m" * 20)
    assert appeals.answers_now(db, application)["social_insurance"]["months"] == 84
    newer = appeals.uphold(db, saved_id(second), {"applicant.birth_date": "1992-05-01"},
                           "身份证核实", actor_id=_reviewer(db), actor_name="rsj_city")
    db.commit()
    assert (newer.supersedes_id, newer.total) == (new.id, 51)  # age 34: still 30 points
    assert [e.action for e in db.scalars(select(AuditEvent).where(
        col(AuditEvent.action).like("points.appeal.%")).order_by(col(AuditEvent.seq)))] == [
        "points.appeal.lodge", "points.appeal.uphold", "points.appeal.lodge",
        "points.appeal.uphold"]


def test_a_decided_appeal_cannot_be_decided_again(db: Session) -> None:
    application, _first = _scored(db, answers())
    appeal = _lodge(db, application, "si_years", "k" * 20)
    appeals.dismiss(db, saved_id(appeal), "记录无误", actor_id=_reviewer(db),
                    actor_name="rsj_city")
    db.commit()
    with pytest.raises(appeals.AppealRefused) as refused:
        appeals.uphold(db, saved_id(appeal), {"social_insurance.months": "84"}, "改判",
                       actor_id=_reviewer(db), actor_name="rsj_city")
    assert str(refused.value) == "This appeal has been decided already"
    assert len(db.scalars(select(PointsEvaluation)).all()) == 1


def test_the_database_keeps_one_open_appeal_per_item_even_past_the_check(db: Session) -> None:
    application, first = _scored(db, answers())
    _lodge(db, application, "si_years", "k" * 20)
    db.add(PointsAppeal(application_id=saved_id(application), evaluation_id=saved_id(first),
                        indicator="si_years", reasons="again", department_code="sh-rsj",
                        submit_key="z" * 20))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_the_shipped_rule_sets_window_is_15_working_days(
        db: Session) -> None:
    application, first = _scored(db, answers())
    assert appeals.working_days(db, first) == appeals.DEFAULT_WORKING_DAYS == 15
    first.created_at = utcnow().replace(year=2026, month=12, day=2, hour=2)
    assert appeals.last_day(db, application, first) == date(2026, 12, 23)


def test_a_corrected_value_the_rules_cannot_read_is_refused_with_the_engines_words(
        db: Session) -> None:
    application, _first = _scored(db, answers())
    appeal = _lodge(db, application, "age", "k" * 20)
    with pytest.raises(appeals.AppealRefused) as refused:
        appeals.uphold(db, saved_id(appeal), {"applicant.birth_date": "1990-13-45"}, "核对",
                       actor_id=_reviewer(db), actor_name="rsj_city")
    assert refused.value.field == "corrections" and refused.value.words is not None
    assert refused.value.words["zh"] == (
        "答案 applicant.birth_date 的值 '1990-13-45' 不能作为“birth_date”读取："
        "应为日期（YYYY-MM-DD）")
    db.rollback()
    assert len(db.scalars(select(PointsEvaluation)).all()) == 1
    assert db.scalars(select(PointsAppeal)).one().status == "open"


def test_nobody_decides_an_appeal_on_their_own_application(db: Session) -> None:
    application, _first = _scored(db, answers())
    reviewer = _reviewer(db)
    application.submitter_id = reviewer
    db.add(application)
    db.commit()
    appeal = _lodge(db, application, "age", "k" * 20)
    with pytest.raises(appeals.AppealRefused) as refused:
        appeals.dismiss(db, saved_id(appeal), "无误", actor_id=reviewer, actor_name="rsj_city")
    assert str(refused.value) == "You cannot decide an appeal on your own application"
