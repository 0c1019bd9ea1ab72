"""Timer handlers for the tests and the benchmark: each makes one visible effect on a real flow
instance (a ``timer_test`` flow event naming the timer, and a counter in the instance's vars),
guarded by the instance's optimistic version like every transition."""

from __future__ import annotations

import copy
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlmodel import Session, col

from tongban import db
from tongban.models import (
    Application,
    DefinitionVersion,
    FlowEvent,
    FlowInstance,
    FlowTimer,
    TimerFacts,
    saved_id,
)
from tongban.workflow import timers
from tongban.workflow.errors import Stale

from .flow_world import World, _version, submit

EFFECT = "timer_test"


INSTANCE = FlowInstance.__table__  # type: ignore[attr-defined]
EVENT = FlowEvent.__table__  # type: ignore[attr-defined]


_READ = select(INSTANCE.c.version, INSTANCE.c.status).where(INSTANCE.c.id == bindparam("instance"))
_MOVE = (INSTANCE.update().where(INSTANCE.c.id == bindparam("instance"),
                                 INSTANCE.c.version == bindparam("seen"))
         .values(version=bindparam("seen") + 1))
_LAST = select(func.coalesce(func.max(EVENT.c.seq), 0)).where(EVENT.c.instance_id == bindparam("instance"))
_ADD = EVENT.insert()


def bump(session: Session, timer: TimerFacts, now: datetime) -> str:
    """The effect, in the caller's transaction: the instance's version moves on (guarded:
    a concurrent change of the instance makes this Stale, as it does a transition) and one
    flow event names the timer."""
    version, status = session.execute(_READ, {"instance": timer.instance_id}).one()
    moved = session.execute(_MOVE, {"instance": timer.instance_id, "seen": version})
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Stale("stale", "the instance changed meanwhile")
    seq = session.execute(_LAST, {"instance": timer.instance_id}).scalar_one()
    session.execute(_ADD, {"instance_id": timer.instance_id, "seq": seq + 1, "at": now,
                           "type": EFFECT, "status": status, "data": {"timer": timer.id},
                           "node": None, "task_seq": None, "actor_id": None,
                           "on_behalf_of": None})
    return "done"


def slow(session: Session, timer: TimerFacts, now: datetime) -> str:
    """Make the effect, then, the first time only, leave a marker file and sleep with the
    transaction open: the kill test kills the worker here."""
    result = bump(session, timer, now)
    session.flush()
    marker = Path(timer.payload["marker"])
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return result
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    time.sleep(float(timer.payload.get("sleep", 30)))
    return result


def fail(session: Session, timer: TimerFacts, now: datetime) -> str:
    bump(session, timer, now)  # rolled back with the failure
    raise RuntimeError("the handler broke")


def gone(session: Session, timer: TimerFacts, now: datetime) -> str:
    return "stale"


def slow_deadline_handler(marker: Path, sleep: float = 60) -> timers.Handler:
    """The engine's own deadline handler (``runtime.timer_handler``), which, the first time it
    fires a ``deadline.timeout``, makes the effect, leaves ``marker`` (naming the timer) and
    sleeps with the transaction open: the deadline kill test kills the worker there."""
    from tongban.workflow import runtime

    def slow_deadline(session: Session, timer: TimerFacts, now: datetime) -> str:
        result = runtime.timer_handler(session, timer, now)
        if timer.kind != "deadline.timeout":
            return result
        session.flush()
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            return result
        os.write(fd, str(timer.id).encode())
        os.close(fd)
        time.sleep(sleep)
        return result

    return slow_deadline


def register_slow_deadline(marker: Path) -> None:
    timers.HANDLERS["deadline.*"] = slow_deadline_handler(marker)


def register() -> None:
    timers.HANDLERS.update({"test.bump": bump, "test.slow": slow, "test.fail": fail,
                            "test.gone": gone})


def unregister() -> None:
    for kind in ("test.bump", "test.slow", "test.fail", "test.gone"):
        timers.HANDLERS.pop(kind, None)


# A flow whose intake answer (preset ``intake_answer``: five working days, on timeout
# ``accept``, 行政许可法 §32) the deadline kill test and ``bench/timers.py --handler deadline``
# let run out: applications started on OVERDUE_START were due on 2026-10-19.
OVERDUE_START = datetime(2026, 10, 12, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)
INTAKE_FLOW: dict[str, Any] = {
    "code": "intake-overdue", "name": {"zh": "受理超期", "en": "Intake overdue"},
    "nodes": {
        "start": {"type": "start", "next": "intake"},
        "intake": {"type": "task", "kind": "intake", "name": {"zh": "受理", "en": "Intake"},
                   "who": {"role": "reviewer", "department": "d1"},
                   "operations": ["accept", "refuse_intake"],
                   "deadline": {"preset": "intake_answer"}, "next": "review"},
        "review": {"type": "task", "name": {"zh": "审查", "en": "Review"},
                   "who": {"user": "rev1"}, "next": "done"},
        "done": {"type": "end", "outcome": "approved"},
    },
}


def overdue_intakes(world: World, count: int, chunk: int = 200) -> dict[int, str]:
    """``count`` applications to a service on the test calendar CAL-T whose flow the runtime
    started at OVERDUE_START (its timers: a due-soon and a timeout each, both long due):
    instance id → application reference."""
    from tongban.applications import new_reference
    from tongban.workflow import runtime

    found: dict[int, str] = {}
    with world.session() as session, db.unit_of_work(session):
        published = dict(session.execute(select(col(DefinitionVersion.code),
                                                col(DefinitionVersion.id)).where(
            col(DefinitionVersion.code).in_((INTAKE_FLOW["code"], "svc-intake-overdue")))).all())
        flow_id = published.get(INTAKE_FLOW["code"]) or _version(
            session, "flow", INTAKE_FLOW["code"], copy.deepcopy(INTAKE_FLOW))
        service_id = published.get("svc-intake-overdue") or _version(
            session, "service", "svc-intake-overdue", {
                "code": "svc-intake-overdue", "flow": INTAKE_FLOW["code"],
                "department": {"code": "d1"}, "calendar": "cal-t"})
    for first in range(0, count, chunk):
        with world.session() as session, db.unit_of_work(session):
            for _ in range(min(chunk, count - first)):
                application = Application(
                    reference=new_reference(OVERDUE_START), idempotency_key=secrets.token_hex(16),
                    service_code="svc-intake-overdue", service_version_id=service_id,
                    form_version_id=world.form_version_id, answers={"name": "张三"},
                    status="submitted", flow_version_id=flow_id,
                    submitter_id=world.users["citizen"], department_code="d1",
                    submitted_at=OVERDUE_START)
                session.add(application)
                session.flush()
                runtime.start_flow(session, application, now=OVERDUE_START)
                instance_id = session.execute(select(col(FlowInstance.id)).where(
                    col(FlowInstance.application_id) == saved_id(application))).scalar_one()
                found[instance_id] = application.reference
    return found


def instances(world: World, count: int) -> list[int]:
    """``count`` running flow instances of the one-step flow, submitted the real way."""
    found = []
    for _ in range(count):
        application_id = submit(world, "one-step")
        with world.session() as session:
            found.append(session.execute(select(col(FlowInstance.id)).where(
                col(FlowInstance.application_id) == application_id)).scalar_one())
    return found


def many_instances(world: World, count: int, chunk: int = 5000) -> list[int]:
    """``count`` running flow instances for timers to act on, fast: one submitted the real way
    and the rest copies of its instance row (no application each: a timer's handler here
    reads and writes only the instance and its events), inserted ``chunk`` at a time."""
    [model_id] = instances(world, 1)
    with world.session() as session, db.unit_of_work(session):
        model = session.execute(select(INSTANCE).where(INSTANCE.c.id == model_id)).one()._asdict()
        del model["id"], model["application_id"]
        found = [model_id]
        for first in range(0, count - 1, chunk):
            rows = [dict(model) for _ in range(min(chunk, count - 1 - first))]
            found.extend(session.execute(INSTANCE.insert().returning(INSTANCE.c.id),
                                         rows).scalars())
    return found


def schedule(world: World, instance_ids: list[int], count: int, due_at: datetime,
             kind: str = "test.bump", payload: dict[str, Any] | None = None,
             prefix: str = "t") -> list[int]:
    """``count`` pending timers spread over the instances, all due at ``due_at``."""
    with world.session() as session, db.unit_of_work(session):
        rows = [FlowTimer(instance_id=instance_ids[i % len(instance_ids)], kind=kind,
                          key=f"{prefix}:{i}", due_at=due_at, payload=dict(payload or {}))
                for i in range(count)]
        session.add_all(rows)
        session.flush()
        return [saved_id(row) for row in rows]


def effects(world: World) -> dict[int, int]:
    """How many times each timer's effect was committed, by timer id."""
    with world.session() as session:
        counted: dict[int, int] = {}
        for data in session.scalars(select(col(FlowEvent.data)).where(col(FlowEvent.type) == EFFECT)):
            counted[int(data["timer"])] = counted.get(int(data["timer"]), 0) + 1
        return counted


def bumps(world: World) -> int:
    """The instances' versions moved on by the effects (each starts at 1 and the submission
    moves it on; the count is taken against ``baseline_versions``)."""
    with world.session() as session:
        return int(session.execute(select(func.sum(INSTANCE.c.version))).scalar_one() or 0)


def timer_rows(world: World) -> dict[int, FlowTimer]:
    with world.session() as session:
        return {saved_id(row): row for row in session.scalars(select(FlowTimer))}
