"""A made-up but realistic history of applications for the dashboards' demo, tests and bench:
a year of submissions across the demo services, with corrections, returns with reasons,
statutory clocks (some late), urban reports closed in hours (some sent back), and recent work
still open. The rows are the ones the flow engine writes, inserted in bulk (a hundred thousand
applications in seconds, which running the engine could not do); the same ``seed`` gives the
same history."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlmodel import Session, col

from ..models import (
    Application,
    DefinitionVersion,
    FlowDeadline,
    FlowEvent,
    FlowInstance,
    FlowTask,
    saved_id,
)

DISTRICTS = (("huangpu", "310101"), ("xuhui", "310104"), ("changning", "310105"),
             ("jingan", "310106"), ("putuo", "310107"), ("pudong", "310115"),
             ("minhang", "310112"), ("baoshan", "310113"))

RETURN_REASONS = (
    ("申请材料不齐全，请补充完整后重新提交", 30),
    ("证明材料已过有效期", 18),
    ("申请表填写信息与证件不一致", 15),
    ("缺少单位盖章", 12),
    ("社会保险缴纳记录不连续", 9),
    ("照片不符合要求", 6),
)
REOPEN_REASON = "现场核查未整改到位，请重新处置"


@dataclass(frozen=True)
class Profile:
    """How one demo service's applications behave."""

    service: str
    department: str
    weight: int
    statutory_days: int | None  # the application clock (working days), None: no clock
    correction_rate: float
    return_rate: float
    closed_loop: bool = False


PROFILES = (
    Profile("residence-points", "sh-rsj", 30, 20, 0.18, 0.08),
    Profile("household-transfer", "sh-gaj", 18, 45, 0.22, 0.10),
    Profile("enterprise-credit", "sh-scjgj", 12, None, 0.10, 0.05),
    Profile("urban-event-report", "sh-cgj", 40, None, 0.0, 0.0, closed_loop=True),
)

URBAN_CATEGORIES = (("environment", "sh-lhsrj", 8), ("facilities", "sh-zjw", 24),
                    ("street_order", "sh-cgj", 8), ("construction", "sh-cgj", 8))


@dataclass
class _Case:
    """One application's rows before they have ids (``instance`` rows get theirs later)."""

    application: dict[str, Any]
    instance: dict[str, Any]
    tasks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    deadlines: list[dict[str, Any]]


class _Builder:
    """The rows of one instance, numbered in order as the engine numbers them."""

    def __init__(self) -> None:
        self.seq = 0
        self.tasks: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.deadlines: list[dict[str, Any]] = []

    def next(self) -> int:
        self.seq += 1
        return self.seq

    def event(self, type_: str, at: datetime, status: str, node: str | None = None,
              **data: Any) -> None:
        self.events.append({"seq": self.next(), "at": at, "type": type_, "node": node,
                            "status": status, "data": data})

    def task(self, node: str, created: datetime, done: datetime | None, due: datetime | None,
             role: str, department: str, kind: str = "approve",
             outcome: str | None = None) -> int:
        seq = self.next()
        self.tasks.append({
            "seq": seq, "token_seq": 1, "node": node, "kind": kind,
            "state": "done" if done is not None else "open", "candidate_role": role,
            "candidate_department": department, "outcome": outcome if done else None,
            "comment": "", "data": {}, "created_at": created, "done_at": done, "due_at": due,
            "position": 0, "version": 1})
        return seq

    def deadline(self, *, scope: str, node: str | None, task_seq: int | None, purpose: str,
                 unit: str, amount: int, started: datetime, due: datetime | None,
                 ended: datetime | None, elapsed: int, overdue: bool) -> None:
        self.deadlines.append({
            "seq": self.next(), "scope": scope, "task_seq": task_seq, "node": node,
            "purpose": purpose, "unit": unit, "amount": amount, "extension_limit": 0,
            "extended": 0, "calendar_id": "shanghai", "started_at": started,
            "segment_start": started, "elapsed": elapsed, "due_at": due,
            "state": "done" if ended is not None else "running", "overdue": overdue,
            "restarts": 0, "pause_note": "", "data": {"id": "decision"} if scope == "application"
            else {}, "created_at": started, "ended_at": ended})


def _working(days: float) -> timedelta:
    """Calendar time that ``days`` working days take, roughly (five of every seven)."""
    return timedelta(days=days * 7 / 5)


def _submitted(rng: random.Random, now: datetime, days: int, office: bool) -> datetime:
    earliest = now - timedelta(days=days)
    at = earliest + timedelta(seconds=rng.uniform(0, days * 86400))
    if office and at.weekday() >= 5 and rng.random() < 0.8:  # most come on working days
        at -= timedelta(days=at.weekday() - 4)
    hour = rng.uniform(1, 9) if office else rng.uniform(23, 38) % 24  # UTC: 09-17 / 07-22 local
    at = at.replace(hour=int(hour), minute=rng.randrange(60), second=rng.randrange(60),
                    microsecond=0)
    while at > now:
        at -= timedelta(days=1)
    while at < earliest:
        at += timedelta(days=1)
    return at


def _licence(rng: random.Random, profile: Profile, submitted: datetime, now: datetime,
             district: str) -> tuple[_Builder, dict[str, Any]]:
    rows = _Builder()
    local = f"{profile.department}-{district}"
    status = "submitted"
    rows.event("started", submitted, status)
    at = submitted + timedelta(hours=rng.uniform(2, 30))
    corrected = rng.random() < profile.correction_rate
    intake_due = submitted + _working(5)
    if corrected and at < now:
        rows.event("correction_requested", at, "correction_requested", "intake",
                   questions=["materials"], materials=[], comment="请补充材料")
        at += timedelta(days=rng.uniform(1, 6))
        if at < now:
            rows.event("corrected", at, "submitted", "intake", changed=["materials"])
            at += timedelta(hours=rng.uniform(2, 20))
    if at >= now:
        intake = rows.task("intake", submitted, None, intake_due, "counter_clerk", local, "intake")
        rows.deadline(scope="task", node="intake", task_seq=intake, purpose="intake_answer",
                      unit="working_days", amount=5, started=submitted, due=intake_due,
                      ended=None, elapsed=0, overdue=intake_due < now)
        return rows, {"status": "correction_requested" if corrected else "submitted",
                      "ended_at": None, "outcome": None}
    intake = rows.task("intake", submitted, at, intake_due, "counter_clerk", local, "intake",
                       "accepted")
    rows.deadline(scope="task", node="intake", task_seq=intake, purpose="intake_answer",
                  unit="working_days", amount=5, started=submitted, due=intake_due, ended=at,
                  elapsed=min(int((at - submitted).days * 5 / 7), 6), overdue=at > intake_due)
    status = "accepted"
    rows.event("accepted", at, status, "intake")
    accepted = at
    limit = profile.statutory_days or 15
    used = max(1, min(int(rng.gammavariate(4.0, limit / 8.0)), limit * 2))
    if rng.random() < profile.return_rate:
        back = accepted + _working(used / 3)
        if back < now:
            reason = rng.choices([text for text, _ in RETURN_REASONS],
                                 [weight for _, weight in RETURN_REASONS])[0]
            automatic = rng.random() < 0.1
            rows.event("auto_returned" if automatic else "returned", back, "returned", "review",
                       to="intake", comment="" if automatic else reason)
    decided = accepted + _working(used)
    due = accepted + _working(limit)
    if decided >= now:
        seq = rows.task("review", accepted, None, due, "reviewer", profile.department)
        if profile.statutory_days:
            rows.deadline(scope="application", node=None, task_seq=None,
                          purpose="licence_decision", unit="working_days", amount=limit,
                          started=accepted, due=due, ended=None, elapsed=0, overdue=due < now)
        else:
            rows.deadline(scope="task", node="review", task_seq=seq, purpose="node",
                          unit="working_days", amount=limit, started=accepted, due=due,
                          ended=None, elapsed=0, overdue=due < now)
        return rows, {"status": "in_progress", "ended_at": None, "outcome": None}
    approved = rng.random() < 0.86
    rows.task("review", accepted, decided, due, "reviewer", profile.department,
              outcome="approved" if approved else "rejected")
    if profile.statutory_days:
        rows.deadline(scope="application", node=None, task_seq=None, purpose="licence_decision",
                      unit="working_days", amount=limit, started=accepted, due=due, ended=decided,
                      elapsed=used, overdue=used > limit)
    status = "completed" if approved else "rejected"
    rows.event("approved" if approved else "rejected", decided, status, "review")
    return rows, {"status": status, "ended_at": decided, "outcome": status}


def _urban(rng: random.Random, submitted: datetime, now: datetime,
           district: str) -> tuple[_Builder, dict[str, Any], str]:
    rows = _Builder()
    category, office, limit = rng.choice(URBAN_CATEGORIES)
    local = f"{office}-{district}"
    rows.event("started", submitted, "submitted")
    filed = submitted + timedelta(minutes=rng.uniform(5, 50))
    steps = [("filing", "counter_clerk", f"sh-cgj-{district}", 1, filed)]
    handled = filed + timedelta(hours=rng.lognormvariate(math.log(limit * 0.45), 0.5))
    steps.append((f"handle_{category}", "reviewer", local, limit, handled))
    reopened = rng.random() < 0.07
    verified = handled + timedelta(hours=rng.uniform(0.5, 4.2))
    steps.append(("verify", "reviewer", f"sh-cgj-{district}", 4, verified))
    start = submitted
    status = "submitted"
    for node, role, department, hours, end in steps:
        due = start + timedelta(hours=hours)
        done = end if end < now else None
        seq = rows.task(node, start, done, due, role, department,
                        "intake" if node == "filing" else "approve", "approved")
        rows.deadline(scope="task", node=node, task_seq=seq, purpose="node", unit="hours",
                      amount=hours, started=start, due=due, ended=done,
                      elapsed=int(((done or now) - start).total_seconds()) if done else 0,
                      overdue=(done or now) > due)
        if done is None:
            return rows, {"status": "in_progress", "ended_at": None, "outcome": None}, category
        status = "accepted" if node == "filing" else "in_progress"
        if node == "verify" and reopened:  # 返工: the verifier sends it back to be handled again
            rows.tasks[-1]["outcome"] = "returned"
            rows.event("returned", done, status, node, to=f"handle_{category}",
                       comment=REOPEN_REASON)
        else:
            rows.event("accepted" if node == "filing" else "approved", done, status, node)
        start = end
    if reopened:
        again = verified + timedelta(hours=rng.uniform(2, 10))
        if again >= now:
            return rows, {"status": "in_progress", "ended_at": None, "outcome": None}, category
        rows.event("approved", again, "in_progress", "verify")
        verified = again
    rows.event("completed", verified, "completed")
    return rows, {"status": "completed", "ended_at": verified, "outcome": "completed"}, category


def _cases(rng: random.Random, count: int, now: datetime, days: int, first: int,
           versions: dict[str, dict[str, int]]) -> Iterator[_Case]:
    profiles = [profile for profile in PROFILES if profile.service in versions]
    weights = [profile.weight for profile in profiles]
    for index in range(first, first + count):
        profile = rng.choices(profiles, weights)[0]
        district, region = rng.choice(DISTRICTS)
        submitted = _submitted(rng, now, days, office=not profile.closed_loop)
        answers: dict[str, Any] = {}
        if profile.closed_loop:
            rows, end, category = _urban(rng, submitted, now, district)
            answers = {"event": {"category": category}, "location": {"region": region}}
        else:
            rows, end = _licence(rng, profile, submitted, now, district)
        pinned = versions[profile.service]
        application = {
            "reference": f"{submitted:%y%m}-HIST-{index:07d}", "idempotency_key": f"history-{index}",
            "service_code": profile.service, "service_version_id": pinned["service"],
            "form_version_id": pinned["form"], "flow_version_id": pinned.get("flow"),
            "answers": answers, "status": end["status"], "answers_version": 1,
            "department_code": profile.department, "submitted_at": submitted}
        instance = {
            "flow_code": profile.service, "flow_version_id": pinned.get("flow"),
            "status": end["status"], "outcome": end["outcome"],
            "department_code": profile.department, "vars": {}, "next_seq": rows.seq + 1,
            "clock_paused": False, "overdue": any(d["overdue"] and d["state"] == "running"
                                                  for d in rows.deadlines),
            "started_at": submitted, "ended_at": end["ended_at"], "version": 1}
        yield _Case(application, instance, rows.tasks, rows.events, rows.deadlines)


def _versions(session: Session) -> dict[str, dict[str, int]]:
    """The latest published service, form and flow version of each demo service."""
    found: dict[str, dict[str, int]] = {}
    rows = session.scalars(select(DefinitionVersion).where(
        col(DefinitionVersion.kind).in_(("service", "form", "flow")))
        .order_by(col(DefinitionVersion.version)))
    for row in rows:
        found.setdefault(row.code, {})[row.kind] = saved_id(row)
    return {code: kinds for code, kinds in found.items() if "service" in kinds and "form" in kinds}


def _table(model: type[Any]) -> Table:
    # SQLModel sets __table__ on table models at class creation; the model's type does not say so.
    table: Table = model.__table__
    return table


def _insert_returning(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, list(rows)))


def seed_history(session: Session, *, applications: int, now: datetime, seed: int = 2026,
                 days: int = 365, batch: int = 5000) -> int:
    """Insert ``applications`` made-up applications submitted over the ``days`` before ``now``
    (published demo services only; the caller commits). Returns how many were inserted."""
    versions = _versions(session)
    if not versions:
        raise ValueError("no published services: publish the definitions first (tongban defs "
                         "publish, or the demo)")
    rng = random.Random(seed)
    first = (session.scalar(select(func.max(col(Application.id)))) or 0) + 1
    cases = _cases(rng, applications, now, days, first, versions)
    done = 0
    while done < applications:
        chunk = [case for _, case in zip(range(batch), cases, strict=False)]
        if not chunk:
            break
        app_ids = _insert_returning(session, _table(Application),
                                    [case.application for case in chunk])
        instance_ids = _insert_returning(session, _table(FlowInstance), [
            {**case.instance, "application_id": app_id}
            for case, app_id in zip(chunk, app_ids, strict=True)])
        for model, part in ((FlowTask, "tasks"), (FlowEvent, "events"), (FlowDeadline, "deadlines")):
            rows = [{**row, "instance_id": instance_id}
                    for case, instance_id in zip(chunk, instance_ids, strict=True)
                    for row in getattr(case, part)]
            if rows:
                session.execute(insert(_table(model)), rows)
        done += len(chunk)
    return done
