"""Deadline worlds for the page and browser tests: clocks written as rows on review_world's
runs, and a flow that keeps time started by the runtime. "Now" for the pages is :data:`NOW`,
Wednesday 2026-11-18 10:00 in Shanghai, in a November without holidays or make-up days."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from tongban import db
from tongban.models import FlowDeadline, FlowTask

from . import review_world

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI).astimezone(UTC)


def clock_row(run: review_world.Run, *, scope: str = "task", task: str | None = "review",
              due: date | None, state: str = "running", amount: int = 5,
              **fields: Any) -> int:
    """A clock of the run's instance (the review task's, or the application's); its seq."""
    with run.session() as session, db.unit_of_work(session):
        task_seq = None
        if scope == "task" and task is not None:
            found = session.get(FlowTask, run.tasks[task])
            assert found is not None
            task_seq = found.seq
            found.due_at = end_of(due) if due else None
        seq = run.next_seq()
        started = fields.pop("started_at", datetime(2026, 11, 2, 2, 0, tzinfo=UTC))
        session.add(FlowDeadline(
            instance_id=run.instance_id, seq=seq, scope=scope, task_seq=task_seq,
            node=task if scope == "task" else None, unit="working_days", amount=amount,
            calendar_id="shanghai", started_at=started, segment_start=started,
            due_at=end_of(due) if due else None, state=state, **fields))
    return seq


def give_to(run: review_world.Run, username: str) -> None:
    """The group review task, taken by ``username``."""
    with run.session() as session, db.unit_of_work(session):
        task = session.get(FlowTask, run.tasks["review"])
        assert task is not None
        task.assignee_id, task.state = run.users[username], "claimed"


def world(demo: Any, *cases: tuple[str, dict[str, Any]]) -> list[review_world.Run]:
    """One application per case (reference, clock fields), its review task the reviewer's."""
    runs = []
    for reference, fields in cases:
        run = review_world.build(demo.extensions["tongban.engine"], reference=reference)
        give_to(run, "reviewer")
        clock_row(run, **fields)
        runs.append(run)
    return runs



START = datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
TIMED: dict[str, Any] = {
    "code": "web-timed", "name": {"zh": "限时审批", "en": "Timed approval"},
    "deadlines": [{"id": "decision", "preset": "licence_decision", "starts_on": "submitted",
                   "ends_on": "decided"}],
    "nodes": {
        "start": {"type": "start", "next": "review"},
        "review": {"type": "task", "name": {"zh": "初审", "en": "Initial review"},
                   "who": {"user": "reviewer"}, "deadline": {"working_days": 5},
                   "next": "done"},
        "done": {"type": "end", "outcome": "approved"},
    },
}


def start_timed(demo: Any, reference: str = "2611-RSJ2-TIME") -> review_world.Run:
    """An application of the citizen's whose flow the runtime started at :data:`START`."""
    from tongban.definitions.publish import current_version
    from tongban.models import Application, saved_id
    from tongban.workflow import runtime

    engine = demo.extensions["tongban.engine"]
    review_world.FLOWS.setdefault("web-timed", TIMED)
    review_world.forget_compiled_flows()
    review_world.publish_flow(engine, "web-timed")
    run = review_world.Run(engine, reference=reference)
    with db.new_session(engine) as session, db.unit_of_work(session):
        run.users = review_world.user_ids(session)
        service = current_version(session, "service", "residence-points")
        form = current_version(session, "form", "residence-points")
        assert service is not None and form is not None
        application = run.add(session, Application(
            reference=reference, idempotency_key=secrets.token_hex(8),
            service_code="residence-points", service_version_id=saved_id(service),
            form_version_id=saved_id(form), answers=review_world.ANSWERS, status="submitted",
            submitter_id=run.users["citizen"], department_code="sh-rsj", submitted_at=START))
        run.application_id = saved_id(application)
        instance = runtime.start_flow(session, application, now=START)
        assert instance is not None
        run.instance_id = saved_id(instance)
    run.tasks["review"] = review_world.open_task(run, "review").id  # type: ignore[assignment]
    return run
