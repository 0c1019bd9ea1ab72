"""Integrity flags: what a reviewer should look at before trusting a score. A flag is a row for
the reviewer, never a decision: it blocks nothing and changes no score; a reviewer clears it
with a reason. Every flag raised and every clearing is audited."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from .. import audit
from ..models import (
    Application,
    DefinitionVersion,
    DraftFieldChange,
    PointsFlag,
    saved_id,
    utcnow,
)
from ..worktime import local_day

# Applications in these states are finished: the same ID number in one of them is no conflict.
CLOSED_STATUSES = ("withdrawn", "rejected", "abandoned", "completed", "approved")
ID_FORMAT = "cn-id-number"
REPEATED_EDITS = 3
"""Changes of one answer's value in a draft (after its first answer) that make a flag."""

# The answers the plausibility checks read: the demo residence-points form's paths. A form
# without them is not checked for that combination.
BIRTH_DATE = "applicant.birth_date"
EDUCATION = "education.level"
SI_MONTHS = "social_insurance.months"
MARRIAGE_YEARS = "family.marriage_years"
CERTIFICATE_DATE = "qualification.certificate_date"
MARRIAGE_AGE = 20
"""The youngest legal age of marriage (women, 民法典 §1047): married years beyond age − 20 are
implausible."""
YOUNGEST_FOR = {"doctor": 24, "master": 21}
"""The age below which holding the degree is implausible (a doctorate at 19)."""
EDUCATION_NAMES = {"doctor": ("博士研究生学历学位", "a doctorate"),
                   "master": ("硕士研究生学历学位", "a master's degree")}


class FlagNotOpen(ValueError):
    """The flag was cleared already (by someone else, or by a repeated post)."""


@dataclass(frozen=True)
class Finding:
    kind: str
    field: str
    zh: str
    en: str
    detail: Mapping[str, Any]


def _get(answers: Mapping[str, Any], path: str) -> Any:
    value: Any = answers
    for segment in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(segment)
    return value


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def years_between(born: date, day: date) -> int:
    """Whole years from ``born`` to ``day`` (age on ``day``)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def months_between(start: date, day: date) -> int:
    """Whole months from ``start`` to ``day``; negative when ``day`` is before ``start``."""
    months = (day.year - start.year) * 12 + day.month - start.month
    return months - 1 if day.day < start.day else months


def _sixteenth_birthday(born: date) -> date:
    try:
        return born.replace(year=born.year + 16)
    except ValueError:  # born on 29 February
        return date(born.year + 16, 3, 1)


def implausible(answers: Mapping[str, Any], on: date) -> list[Finding]:
    """Combinations of answers that cannot (or can hardly) be true on the day ``on``."""
    found: list[Finding] = []
    born = _date(_get(answers, BIRTH_DATE))
    if born is None:
        return found
    age = years_between(born, on)
    level = _get(answers, EDUCATION)
    if isinstance(level, str) and level in YOUNGEST_FOR and age < YOUNGEST_FOR[level]:
        zh_name, en_name = EDUCATION_NAMES[level]
        found.append(Finding(
            "implausible", f"{EDUCATION},{BIRTH_DATE}",
            f"{age} 周岁即持有{zh_name}（通常不早于 {YOUNGEST_FOR[level]} 周岁）",
            f"{en_name.capitalize()} at age {age} (usually not before {YOUNGEST_FOR[level]})",
            {"check": "education_age", "age": age, "education": level}))
    months = _number(_get(answers, SI_MONTHS))
    if months is not None:
        since_16 = max(0, months_between(_sixteenth_birthday(born), on))
        if months > since_16:
            found.append(Finding(
                "implausible", f"{SI_MONTHS},{BIRTH_DATE}",
                f"社会保险缴费 {months} 个月，超过 16 周岁以来的 {since_16} 个月",
                f"{months} months of social insurance, more than the {since_16} months since "
                "the 16th birthday",
                {"check": "si_months", "si_months": months, "months_since_16": since_16}))
    married = _number(_get(answers, MARRIAGE_YEARS))
    if married is not None and married > max(0, age - MARRIAGE_AGE):
        found.append(Finding(
            "implausible", f"{MARRIAGE_YEARS},{BIRTH_DATE}",
            f"婚龄 {married} 年，超过年龄 {age} 周岁减 {MARRIAGE_AGE}",
            f"Married {married} years, more than age {age} minus {MARRIAGE_AGE}",
            {"check": "marriage_years", "marriage_years": married, "age": age}))
    certified = _date(_get(answers, CERTIFICATE_DATE))
    if certified is not None and certified < born:
        found.append(Finding(
            "implausible", f"{CERTIFICATE_DATE},{BIRTH_DATE}",
            f"证书取得日期 {certified.isoformat()} 早于出生日期 {born.isoformat()}",
            f"Certificate dated {certified.isoformat()}, before the date of birth "
            f"{born.isoformat()}",
            {"check": "certificate_before_birth", "certificate_date": certified.isoformat(),
             "birth_date": born.isoformat()}))
    return found


def _words(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def contradictions(answers: Mapping[str, Any], verified: Mapping[str, Any]) -> list[Finding]:
    """Answers that differ from ``verified`` data (answer path -> value from another
    department's records: at submission, what the draft's prefill queries found). An answer
    left blank is no contradiction (nothing was claimed)."""
    found = []
    for path, truth in verified.items():
        given = _get(answers, path)
        if given is None or truth is None or _words(given).strip() == _words(truth).strip():
            continue
        found.append(Finding(
            "contradicts_verified", path,
            f"填写为「{_words(given)}」，核验数据为「{_words(truth)}」",
            f"Answered \u201c{_words(given)}\u201d; the verified data says "
            f"\u201c{_words(truth)}\u201d",
            {"answer": given, "verified": truth}))
    return found


def _id_paths(schema: Any, prefix: str = "") -> Iterator[str]:
    if not isinstance(schema, Mapping):
        return
    if schema.get("format") == ID_FORMAT and prefix:
        yield prefix
    for name, sub in (schema.get("properties") or {}).items():
        yield from _id_paths(sub, f"{prefix}.{name}" if prefix else name)


def id_number_paths(session: Session, application: Application) -> list[str]:
    """The answers of the application's pinned form that hold an ID number."""
    form = session.get(DefinitionVersion, application.form_version_id)
    content = form.content if form is not None else {}
    return list(_id_paths(content.get("schema", content)))


def duplicates(session: Session, application: Application) -> list[tuple[str, Application]]:
    """Other open applications of the same service with the same ID number."""
    found = []
    for path in id_number_paths(session, application):
        number = _get(application.answers, path)
        if not isinstance(number, str) or not number.strip():
            continue
        value = col(Application.answers)[tuple(path.split("."))].as_string()
        others = session.scalars(
            select(Application).where(
                col(Application.service_code) == application.service_code,
                col(Application.id) != application.id,
                col(Application.status).not_in(CLOSED_STATUSES),
                func.upper(value) == number.strip().upper())
            .order_by(col(Application.id)))
        found += [(path, other) for other in others]
    return found


def _duplicate_finding(path: str, number: str, other: Application) -> Finding:
    return Finding(
        "duplicate_id", path,
        f"身份证号 {number} 同时出现在本事项另一在办申请 {other.reference} 中",
        f"The ID number {number} is also in another open application of this service, "
        f"{other.reference}",
        {"other": other.reference})


def _repeated_edits(session: Session, draft_id: int | None) -> list[Finding]:
    if draft_id is None:
        return []
    counts = session.execute(
        select(col(DraftFieldChange.field), func.count())
        .where(col(DraftFieldChange.draft_id) == draft_id)
        .group_by(col(DraftFieldChange.field))
        .order_by(col(DraftFieldChange.field))).all()
    return [Finding("repeated_edits", field,
                    f"提交前此项被修改了 {count} 次",
                    f"This answer was changed {count} times before submission",
                    {"changes": count})
            for field, count in counts if count >= REPEATED_EDITS]


def _store(session: Session, application: Application, finding: Finding, *,
           actor_name: str, request_id: str) -> PointsFlag:
    flag = PointsFlag(application_id=saved_id(application), kind=finding.kind,
                      field=finding.field, detail=dict(finding.detail),
                      message_zh=finding.zh, message_en=finding.en)
    session.add(flag)
    session.flush()
    audit.record(session, action="points.flag.raise", object_type="application",
                 object_id=application.reference, actor_name=actor_name,
                 after={"flag": flag.id, "kind": flag.kind, "field": flag.field,
                        "detail": flag.detail, "message": flag.message_en},
                 request_id=request_id)
    return flag


def check_application(session: Session, application: Application, *,
                      verified: Mapping[str, Any] | None = None, on: date | None = None,
                      actor_name: str = "system", request_id: str = "") -> list[PointsFlag]:
    """Raise the flags of a submitted application (called at submit, in its transaction).
    ``verified`` is data from other departments keyed by answer path (the draft's prefill
    results, ``tongban.connectors.calls.verified_values``). The other application of a
    duplicate ID number gets a flag naming this one too. A check run again raises only what is
    not flagged yet."""
    day = on or local_day(application.submitted_at or utcnow())
    answers = application.answers
    findings = [*implausible(answers, day), *contradictions(answers, verified or {}),
                *_repeated_edits(session, application.draft_id)]
    pairs = duplicates(session, application)
    findings += [_duplicate_finding(path, str(_get(answers, path)), other)
                 for path, other in pairs]
    raised = [_store(session, application, finding, actor_name=actor_name,
                     request_id=request_id)
              for finding in findings if not _flagged(session, application, finding)]
    for path, other in pairs:
        mirror = _duplicate_finding(path, str(_get(answers, path)), application)
        if not _flagged(session, other, mirror):
            _store(session, other, mirror, actor_name=actor_name, request_id=request_id)
    return raised


def _flagged(session: Session, application: Application, finding: Finding) -> bool:
    return any(flag.kind == finding.kind and flag.field == finding.field
               and flag.detail == dict(finding.detail)
               for flag in flags_of(session, saved_id(application)))


def flags_of(session: Session, application_id: int) -> list[PointsFlag]:
    return list(session.scalars(select(PointsFlag)
                                .where(col(PointsFlag.application_id) == application_id)
                                .order_by(col(PointsFlag.id))))


def clear_flag(session: Session, flag_id: int, reason: str, *, actor_id: int,
               actor_name: str, request_id: str = "") -> PointsFlag:
    """A reviewer's clearing with its reason (the caller checked they review the application
    and that the reason is given). Refused for a flag that is not open."""
    flag = session.scalars(select(PointsFlag).where(col(PointsFlag.id) == flag_id)
                           .with_for_update()).first()
    if flag is None:
        raise LookupError(flag_id)
    if flag.status != "open":
        raise FlagNotOpen(flag_id)
    application = session.get(Application, flag.application_id)
    flag.status = "cleared"
    flag.cleared_by = actor_id
    flag.cleared_by_name = actor_name
    flag.cleared_reason = reason
    flag.cleared_at = utcnow()
    session.add(flag)
    audit.record(session, action="points.flag.clear", object_type="application",
                 object_id=application.reference if application else flag.application_id,
                 actor_id=actor_id, actor_name=actor_name,
                 before={"flag": flag.id, "status": "open"},
                 after={"flag": flag.id, "status": "cleared", "kind": flag.kind,
                        "reason": reason},
                 request_id=request_id)
    return flag


# --- draft history: changes of a value on save -----------------------------------------------

def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The answers whose value went from one given value to another (a first answer, or one
    cleared, is not counted)."""
    old = dict(_leaves(before))
    return sorted(path for path, value in _leaves(after)
                  if path in old and not _blank(old[path]) and not _blank(value)
                  and old[path] != value)


def record_draft_changes(session: Session, draft_id: int | None, before: Mapping[str, Any],
                         after: Mapping[str, Any], now: datetime | None = None) -> int:
    """Keep one row per changed answer of a draft save; how many."""
    if draft_id is None:
        return 0
    fields = changed_fields(before, after)
    at = now or utcnow()
    session.add_all(DraftFieldChange(draft_id=draft_id, field=field, changed_at=at)
                    for field in fields)
    return len(fields)


def open_count(flags: list[PointsFlag]) -> int:
    return Counter(flag.status for flag in flags)["open"]


__all__ = ["FlagNotOpen", "Finding", "changed_fields", "check_application", "clear_flag",
           "contradictions", "duplicates", "flags_of", "implausible", "record_draft_changes"]
