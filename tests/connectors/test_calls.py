"""Issue 15 item 3: a slow register through the core: the call gives up at the connector's
time limit, is kept as "unverified" (transient) and audited; the next call asks again."""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import select
from sqlmodel import Session, col

from tongban.connectors import Outcome, Owner, registry, run_query
from tongban.models import AuditEvent, ConnectorResult

SLOW = {"code": "slow-service", "connectors": {"population": {
    "type": "sql",
    "options": {"database_setting": "demo_registers_url",
                "department": {"zh": "市公安局人口库", "en": "Population register"}, "timeout": 1},
    "queries": {"person": {
        "sql": "SELECT name, SLEEP(:pause) AS slept FROM people WHERE id_number = :id_number",
        "params": {"id_number": "applicant.id_number", "pause": "applicant.pause"},
        "fields": {"name": "applicant.name"}}}}}}


def _call(app: Flask, session: Session, pause: int) -> Outcome:
    return run_query(session, registry(app), SLOW, "population", "person",
                     {"applicant": {"id_number": "31010419900307123X", "pause": pause}},
                     owner=Owner(), purpose="verify", actor_id=None, actor_name="reviewer")


def test_a_register_slower_than_the_time_limit_is_unverified_and_asked_again(
        app: Flask, session: Session) -> None:
    started = time.monotonic()
    outcome = _call(app, session, 3)
    assert time.monotonic() - started < 2.5
    assert outcome.status == "unverified"
    row = session.scalars(select(ConnectorResult)).one()
    assert (row.status, row.transient, row.person) == ("unverified", True, "31010419900307123X")
    assert "max_statement_time" in row.error
    event = session.scalars(select(AuditEvent)
                            .where(col(AuditEvent.action) == "connector.verify")).one()
    assert event.after is not None and event.after["transient"] is True

    fast = _call(app, session, 0)  # other parameters: asked, and found
    assert fast.status == "ok" and fast.values == {"applicant.name": "张三"}
