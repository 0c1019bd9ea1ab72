"""Integrity flags (issue 13 item 7): raised at submit for a reviewer, never a decision."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import Session, col

from tongban.applications import save_answers, start_draft, submit
from tongban.definitions.publish import current_version
from tongban.models import Application, AuditEvent, PointsEvaluation, PointsFlag, User, saved_id
from tongban.points import integrity

ID_A = "11010519491231002X"
ID_B = "110105194912310029"


def answers(**parts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "applicant": {"name": "张三", "id_number": ID_A, "birth_date": "1990-05-01"},
        "education": {"level": "bachelor_degree"},
        "social_insurance": {"months": 60},
        "family": {"marriage_years": 3},
        "qualification": {"kind": "none"},
    }
    for key, value in parts.items():
        base[key] = {**base.get(key, {}), **value}
    return base


def _submit(session: Session, answers_: dict[str, Any],
            saves: list[dict[str, Any]] = ()) -> Application:  # type: ignore[assignment]
    service = current_version(session, "service", "residence-points")
    assert service is not None
    form = current_version(session, "form", service.content["form"])
    assert form is not None
    draft = start_draft(session, service, form, user_id=None)
    for saved in saves:
        save_answers(session, draft, saved, None, service.content)
        session.flush()
    application = submit(session, draft, answers_, department_code="sh-rsj", actor_id=None,
                         actor_name="citizen").application
    session.commit()
    return application


def _flags(session: Session, application: Application) -> list[tuple[str, str, str, str]]:
    return [(f.kind, f.field, f.message_zh, f.message_en)
            for f in integrity.flags_of(session, saved_id(application))]


@pytest.fixture
def db(demo: Flask, session: Session) -> Session:
    return session


def test_a_plausible_application_raises_no_flag(db: Session) -> None:
    assert _flags(db, _submit(db, answers())) == []


def test_the_same_id_number_in_two_open_applications_flags_both(db: Session) -> None:
    first = _submit(db, answers())
    second = _submit(db, answers(applicant={"id_number": ID_A.lower()}))
    assert _flags(db, second) == [(
        "duplicate_id", "applicant.id_number",
        f"身份证号 {ID_A.lower()} 同时出现在本事项另一在办申请 {first.reference} 中",
        f"The ID number {ID_A.lower()} is also in another open application of this service, "
        f"{first.reference}")]
    assert [f[0] for f in _flags(db, first)] == ["duplicate_id"]
    assert second.reference in _flags(db, first)[0][3]


def test_a_closed_application_with_the_same_id_number_is_no_duplicate(db: Session) -> None:
    first = _submit(db, answers())
    first.status = "withdrawn"
    db.add(first)
    db.commit()
    assert _flags(db, _submit(db, answers())) == []
    assert _flags(db, _submit(db, answers(applicant={"id_number": ID_B}))) == []


@pytest.mark.parametrize(("parts", "field", "zh", "en"), [
    ({"applicant": {"birth_date": "2007-01-01"}, "education": {"level": "doctor"},
      "social_insurance": {"months": 1}, "family": {"marriage_years": 0}},
     "education.level,applicant.birth_date",
     "19 周岁即持有博士研究生学历学位（通常不早于 24 周岁）",
     "A doctorate at age 19 (usually not before 24)"),
    ({"social_insurance": {"months": 260}},
     "social_insurance.months,applicant.birth_date",
     "社会保险缴费 260 个月，超过 16 周岁以来的 247 个月",
     "260 months of social insurance, more than the 247 months since the 16th birthday"),
    ({"family": {"marriage_years": 17}},
     "family.marriage_years,applicant.birth_date",
     "婚龄 17 年，超过年龄 36 周岁减 20",
     "Married 17 years, more than age 36 minus 20"),
    ({"qualification": {"kind": "skill", "certificate_date": "1989-12-31"}},
     "qualification.certificate_date,applicant.birth_date",
     "证书取得日期 1989-12-31 早于出生日期 1990-05-01",
     "Certificate dated 1989-12-31, before the date of birth 1990-05-01"),
])
def test_each_implausible_combination_is_flagged_with_its_words(
        db: Session, parts: dict[str, Any], field: str, zh: str, en: str) -> None:
    found = integrity.implausible(answers(**parts), date(2026, 12, 2))
    assert [(f.kind, f.field, f.zh, f.en) for f in found] == [("implausible", field, zh, en)]


def test_the_limits_of_the_plausibility_checks_are_not_flagged() -> None:
    on = date(2026, 12, 2)
    born = "1990-05-01"  # 16 on 2006-05-01: 247 months to 2026-12-01
    assert integrity.implausible(answers(applicant={"birth_date": born},
                                         social_insurance={"months": 247},
                                         family={"marriage_years": 16},
                                         qualification={"certificate_date": born}), on) == []
    assert integrity.implausible(answers(applicant={"birth_date": "2002-12-02"},
                                         education={"level": "doctor"},
                                         social_insurance={"months": 0},
                                         family={"marriage_years": 0}), on) == []


def test_an_implausible_application_is_flagged_at_submit_and_audited(db: Session) -> None:
    application = _submit(db, answers(family={"marriage_years": 30}))
    (flag,) = integrity.flags_of(db, saved_id(application))
    assert (flag.kind, flag.status) == ("implausible", "open")
    event = db.scalars(select(AuditEvent).where(col(AuditEvent.action) == "points.flag.raise",
                                                col(AuditEvent.object_id) ==
                                                application.reference)).one()
    assert event.after is not None and event.after["kind"] == "implausible"
    assert event.after["flag"] == flag.id


def test_answers_that_contradict_verified_data_are_flagged() -> None:
    found = integrity.contradictions(
        answers(), {"social_insurance.months": 48, "education.level": "bachelor_degree",
                    "family.marriage_years": None, "awards.level": "city"})
    assert [(f.kind, f.field, f.zh, f.en) for f in found] == [(
        "contradicts_verified", "social_insurance.months",
        "填写为「60」，核验数据为「48」",
        "Answered \u201c60\u201d; the verified data says \u201c48\u201d")]


def test_a_verified_mapping_given_at_check_raises_rows(db: Session) -> None:
    application = _submit(db, answers())
    raised = integrity.check_application(db, application,
                                         verified={"applicant.birth_date": "1991-05-01"})
    db.commit()
    assert [(f.kind, f.field) for f in raised] == [("contradicts_verified",
                                                    "applicant.birth_date")]
    assert integrity.check_application(db, application,
                                       verified={"applicant.birth_date": "1991-05-01"}) == []


def test_one_answer_changed_three_times_before_submit_is_flagged(db: Session) -> None:
    saves = [answers(social_insurance={"months": m}) for m in (60, 72, 84, 96)]
    saves.insert(0, {"applicant": {"name": "张三"}})  # a first answer is not a change
    application = _submit(db, answers(social_insurance={"months": 96}), saves)
    assert _flags(db, application) == [(
        "repeated_edits", "social_insurance.months", "提交前此项被修改了 3 次",
        "This answer was changed 3 times before submission")]


def test_two_changes_of_an_answer_are_not_flagged(db: Session) -> None:
    saves = [answers(social_insurance={"months": m}) for m in (60, 72, 84)]
    assert _flags(db, _submit(db, answers(social_insurance={"months": 84}), saves)) == []


def test_a_reviewer_clears_a_flag_with_a_reason_audited_and_the_score_is_untouched(
        db: Session) -> None:
    application = _submit(db, answers(family={"marriage_years": 30}))
    (flag,) = integrity.flags_of(db, saved_id(application))
    reviewer = db.scalars(select(User).where(col(User.username) == "rsj_city")).one()
    integrity.clear_flag(db, saved_id(flag), "结婚证核实：婚龄填写有误，不影响积分",
                         actor_id=saved_id(reviewer), actor_name="rsj_city")
    db.commit()
    db.refresh(flag)
    assert (flag.status, flag.cleared_by_name, flag.cleared_reason) == (
        "cleared", "rsj_city", "结婚证核实：婚龄填写有误，不影响积分")
    event = db.scalars(select(AuditEvent).where(
        col(AuditEvent.action) == "points.flag.clear")).one()
    assert (event.actor_name, event.object_id) == ("rsj_city", application.reference)
    assert event.after is not None and event.after["reason"] == flag.cleared_reason
    with pytest.raises(integrity.FlagNotOpen):
        integrity.clear_flag(db, saved_id(flag), "again", actor_id=saved_id(reviewer),
                             actor_name="rsj_city")
    assert db.scalars(select(PointsEvaluation)).all() == []
    assert db.scalars(select(PointsFlag)).one().status == "cleared"
