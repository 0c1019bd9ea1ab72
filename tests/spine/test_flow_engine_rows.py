"""The engine's rows (built without SQLModel's __init__, see workflow/rows.py) are ordinary
rows to the session: inserted, changed afterwards and read back like any other."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from tongban.models import FlowEvent, FlowInstance, FlowOutbox, FlowTask, FlowToken, User
from tongban.workflow import engine
from tongban.workflow.definition import compile_flow
from tongban.workflow.memory import InMemoryDirectory

NOW = datetime(2026, 10, 9, 2, 0, tzinfo=UTC)


def test_engine_rows_insert_and_update_through_a_session(session) -> None:  # type: ignore[no-untyped-def]
    reviewer = User(username="rev_rows", display_name="审核人", password_hash="x")
    session.add(reviewer)
    session.flush()
    assert reviewer.id is not None
    flow = compile_flow({"code": "rows", "nodes": {
        "start": {"type": "start", "next": "fetch"},
        "fetch": {"type": "service", "hook": "noop", "next": "review"},
        "review": {"type": "task", "who": {"user": "rev_rows"}, "next": "done"},
        "done": {"type": "end", "outcome": "approved"}}})
    people = InMemoryDirectory({}, {"rev_rows": (reviewer.id, [])})
    instance = FlowInstance(flow_code="rows", vars={})
    session.add(instance)
    session.flush()

    def act(operation, *args):  # type: ignore[no-untyped-def]
        tokens = list(session.exec(select(FlowToken).where(FlowToken.instance_id == instance.id)))
        tasks = list(session.exec(select(FlowTask).where(FlowTask.instance_id == instance.id)))
        state = engine.State(flow=flow, instance=instance, tokens=tokens, tasks=tasks, answers={},
                             applicant_id=None, directory=people)
        operation(state, *args)
        session.add_all(state.new_rows)
        session.flush()

    act(engine.start, None, NOW)
    outbox = session.exec(select(FlowOutbox)).one()
    assert (outbox.hook, outbox.state, outbox.next_attempt_at) == ("noop", "pending", NOW)
    act(engine.service_done, None, NOW, outbox.token_seq, {"ok": True})
    task = session.exec(select(FlowTask)).one()
    act(engine.approve, reviewer.id, NOW, task.seq)
    session.commit()
    session.expire_all()
    stored = session.exec(select(FlowTask)).one()
    assert (stored.state, stored.outcome, stored.done_by, stored.version) == \
        ("done", "approved", reviewer.id, 2)
    events = session.exec(select(FlowEvent).order_by(FlowEvent.seq)).all()
    assert [event.type for event in events][-3:] == ["approved", "node_entered", "ended"]
    assert events[-1].status == "approved" and events[-1].data == {"outcome": "approved"}
    assert session.get(FlowInstance, instance.id).vars["services"] == {"fetch": {"ok": True}}
    token = session.exec(select(FlowToken)).one()
    assert (token.state, token.node) == ("done", "done")
