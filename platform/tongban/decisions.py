"""Decision documents (受理通知书, 不予受理告知书, 准予/不予许可决定书, 积分结果通知书): the step
that decides writes a job in its own transaction (:func:`queue`, called by the flow runtime);
the worker lays each out from its template, seals it with every ``DECISION_SIGNERS`` signer
(one file per format: OFD, PDF) and records the files with their verification codes
(:func:`seal_due`). The applicant finds them on their application page (docs/seals.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from . import db, leases, seals
from .materials import library
from .models import (
    Application,
    DecisionJob,
    DefinitionVersion,
    Department,
    FlowEvent,
    User,
    saved_id,
    utcnow,
)
from .plugin_api import ConnectorError, DocumentDraft, MaterialStorage, Signer
from .points import scoring
from .worktime import TZ

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 60
LEASE = timedelta(minutes=5)

APPEAL = ("如不服本决定，可以自收到本{document}之日起六十日内依法申请行政复议，"
          "或者在六个月内依法向人民法院提起行政诉讼。")


@dataclass(frozen=True)
class Template:
    """One kind of decision document, in Chinese: its title, its number's prefix, and its
    paragraphs with ``{placeholders}`` (see :func:`draft_for`)."""

    title: str
    prefix: str
    paragraphs: tuple[str, ...]


TEMPLATES: dict[str, Template] = {
    "acceptance": Template("受理通知书", "受", (
        "{applicant}：",
        "你（单位）于{submitted}提交的{service}申请（申请编号：{reference}），经审查，申请材料"
        "齐全、符合法定形式，根据《中华人民共和国行政许可法》第三十二条第一款的规定，本机关决定"
        "予以受理。",
        "本机关将在法定期限内作出决定。你可以凭申请编号在网上查询办理进度。",
    )),
    "intake_refusal": Template("不予受理告知书", "不受", (
        "{applicant}：",
        "你（单位）于{submitted}提交的{service}申请（申请编号：{reference}），经审查，本机关"
        "决定不予受理。",
        "理由：{reason}",
        APPEAL.format(document="告知书"),
    )),
    "approval": Template("准予行政许可决定书", "准许", (
        "{applicant}：",
        "你（单位）于{submitted}提出的{service}申请（申请编号：{reference}），经审查，符合法定"
        "条件、标准，根据《中华人民共和国行政许可法》第三十八条第一款的规定，本机关决定准予"
        "许可。",
    )),
    "refusal": Template("不予行政许可决定书", "不许", (
        "{applicant}：",
        "你（单位）于{submitted}提出的{service}申请（申请编号：{reference}），经审查，不符合"
        "法定条件、标准，根据《中华人民共和国行政许可法》第三十八条第二款的规定，本机关决定"
        "不予许可。",
        "理由：{reason}",
        APPEAL.format(document="决定书"),
    )),
    "points_result": Template("积分结果通知书", "积分", (
        "{applicant}：",
        "你于{submitted}提出的{service}（申请编号：{reference}），经审核，你的积分为{points}分。",
        "积分结果以本通知书为准，可在申请页面查看每项指标的计分说明。",
        APPEAL.format(document="通知书"),
    )),
}
NO_REASON = "详见办理意见。"


def kinds_for(application: Application, events: Sequence[FlowEvent]) -> list[tuple[str, str]]:
    """The documents a transition's events call for, as (kind, reason)."""
    found: list[tuple[str, str]] = []
    refused_at_intake = any(event.type == "intake_refused" for event in events)
    for event in events:
        data = event.data or {}
        if event.type == "accepted":
            found.append(("acceptance", ""))
        elif event.type == "intake_refused":
            found.append(("intake_refusal", str(data.get("reason") or "")))
        elif event.type == "ended" and data.get("outcome") == "approved":
            found.append(("points_result" if application.rules_version_id else "approval", ""))
        elif event.type == "ended" and data.get("outcome") == "rejected" and not refused_at_intake:
            found.append(("refusal", _last_comment(events)))
    return found


def _last_comment(events: Sequence[FlowEvent]) -> str:
    for event in reversed(events):
        comment = (event.data or {}).get("comment")
        if comment:
            return str(comment)
    return ""


def queue(session: Session, application: Application, events: Iterable[FlowEvent]) -> int:
    """Add the decision jobs of a transition to the caller's transaction; how many. A kind
    already queued for the application is not queued again."""
    wanted = kinds_for(application, list(events))
    if not wanted:
        return 0
    application_id = saved_id(application)
    have = set(session.scalars(select(col(DecisionJob.kind))
                               .where(col(DecisionJob.application_id) == application_id)))
    added = 0
    for kind, reason in wanted:
        if kind in have:
            continue
        session.add(DecisionJob(application_id=application_id, kind=kind,
                                data={"reason": reason} if reason else {}))
        have.add(kind)
        added += 1
    return added


def waiting(session: Session, application_id: int) -> bool:
    """Whether a decision document of the application is still to be sealed."""
    return session.scalars(select(col(DecisionJob.id)).where(
        col(DecisionJob.application_id) == application_id,
        col(DecisionJob.state) == "pending").limit(1)).first() is not None


def _service_name(session: Session, application: Application) -> str:
    version = session.get(DefinitionVersion, application.service_version_id)
    names = (version.content.get("name") if version is not None else None) or {}
    return str(names.get("zh") or application.service_code) if isinstance(names, dict) \
        else str(names)


def _issuer(session: Session, application: Application) -> str:
    department = session.scalars(select(Department).where(
        col(Department.code) == application.department_code)).first()
    if department is not None:
        return department.name_zh
    version = session.get(DefinitionVersion, application.service_version_id)
    named = ((version.content.get("department") or {}).get("name") or {}) if version else {}
    return str(named.get("zh") or application.department_code)


def _day(value: datetime) -> str:
    local = value.astimezone(TZ)
    return f"{local.year}年{local.month}月{local.day}日"


def draft_for(session: Session, application: Application, kind: str, data: Mapping[str, Any],
              issued_on: date) -> DocumentDraft:
    """The decision document of ``kind`` for ``application``, laid out by the signer."""
    template = TEMPLATES[kind]
    applicant = session.get(User, application.submitter_id) if application.submitter_id else None
    score = scoring.current(session, application) if kind == "points_result" else None
    values = {
        "applicant": applicant.display_name if applicant is not None else "申请人",
        "submitted": _day(application.submitted_at),
        "service": _service_name(session, application),
        "reference": application.reference,
        "reason": str(data.get("reason") or NO_REASON),
        "points": f"{score.total:g}" if score is not None else "（未计分）",
    }
    return DocumentDraft(
        title=template.title,
        paragraphs=tuple(text.format_map(values) for text in template.paragraphs),
        issuer=_issuer(session, application), issued_on=issued_on,
        reference=f"{template.prefix}〔{issued_on.year}〕{application.reference}号",
        department=application.department_code, language="zh")


@dataclass(frozen=True)
class Outcome:
    job_id: int
    kind: str
    state: str       # done | pending (will retry) | failed | lost (the lease ran out meanwhile)
    attempt: int
    error: str = ""
    codes: tuple[str, ...] = ()


def _factory(target: Engine | SessionFactory) -> SessionFactory:
    if isinstance(target, Engine):
        return lambda: db.new_session(target)
    return target


def seal_one(target: Engine | SessionFactory, signers: Sequence[Signer],
             storage: MaterialStorage, now: datetime | None = None) -> Outcome | None:
    """Claim the oldest due decision job, seal its document with each signer, record the
    files. A signer that fails transiently is tried again later (at most MAX_ATTEMPTS)."""
    factory = _factory(target)
    with factory() as session:
        with db.unit_of_work(session):
            job = leases.claim(session, leases.oldest_pending(DecisionJob, now or utcnow()),
                               now or utcnow(), LEASE)
            if job is None:
                return None
            job_id, kind, attempt, lease_until = saved_id(job), job.kind, job.attempts, \
                job.next_attempt_at
            application = session.get(Application, job.application_id)
            assert application is not None   # a foreign key
            draft = draft_for(session, application, kind, job.data,
                              (now or utcnow()).astimezone(TZ).date())
            application_id = saved_id(application)
        made: list[seals.Made] = []
        error, transient = "", False
        for signer in signers:
            try:
                made.append(seals.make(signer, storage, draft, purpose=kind))
            except ConnectorError as exc:
                error, transient = f"{signer.id}: {exc}"[:2000], exc.transient
                break
            except Exception as exc:  # a plugin's bug or an unexpected error: try again later
                error, transient = f"{signer.id}: {type(exc).__name__}: {exc}"[:2000], True
                break
        finished = now or utcnow()
        with db.unit_of_work(session):
            row = leases.relock(session, DecisionJob, job_id)
            if row.state != "pending" or row.next_attempt_at != lease_until:
                return Outcome(job_id, kind, "lost", attempt)
            codes: tuple[str, ...] = ()
            if not error:
                records = [seals.record(session, item, application_id=application_id)
                           for item in made]
                codes = tuple(record.code for record in records)
                # The applicant's library keeps each sealed file as an A-level material.
                decided = session.get(Application, application_id)
                if decided is not None:
                    library.file_decisions(session, decided, records, storage=storage.id,
                                           issuer=_issuer(session, decided),
                                           today=finished.astimezone(TZ).date())
                row.state, row.done_at, row.last_error = "done", finished, ""
            elif transient and attempt < MAX_ATTEMPTS:
                row.last_error = error
                row.next_attempt_at = finished + timedelta(
                    seconds=BACKOFF_SECONDS * 2 ** (attempt - 1))
            else:
                row.state, row.last_error = "failed", error
            session.add(row)
            state = row.state
    if error:
        log.warning("decision job %s (%s) attempt %s: %s", job_id, kind, attempt, error)
    return Outcome(job_id, kind, state, attempt, error, codes)


def seal_due(target: Engine | SessionFactory, signers: Sequence[Signer],
             storage: MaterialStorage, now: datetime | None = None, *,
             limit: int = 100) -> list[Outcome]:
    """Seal the decision documents due, one job at a time, up to ``limit``."""
    return leases.drain(lambda: seal_one(target, signers, storage, now), limit)
