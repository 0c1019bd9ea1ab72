"""Issue 17 item 7: the eligibility pre-check of a signed-in person reads the service's
registers with the ID number linked to the account (the demo citizen 张三, 48 months of social
insurance): the answer starts filled in with its source, each query asked is audited, nothing
is kept; a register that is down is named and the person answers alone."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlmodel import Session, col
from tongban_sql_connector.demo_registers import FIRST_ID_NUMBER

from tongban.models import AuditEvent, ConnectorResult

from ..conftest import Personas
from .test_prefill_and_verify import _point_at

MONTHS_INPUT = ('id="pc-social-insurance-months" name="social_insurance.months" type="text" '
                'inputmode="numeric" spellcheck="false" autocomplete="off" value="{}"')


def _events(session: Session) -> list[AuditEvent]:
    session.rollback()  # a new snapshot: what the requests wrote since
    return list(session.scalars(select(AuditEvent).where(
        col(AuditEvent.action) == "connector.precheck").order_by(col(AuditEvent.seq))))


def test_the_register_fills_the_precheck_of_a_signed_in_person_and_is_audited(
        personas: Personas, session: Session) -> None:
    client = personas.as_("citizen")
    html = client.get("/services/residence-points/precheck").get_data(as_text=True)
    assert MONTHS_INPUT.format(48) in html
    assert "部分答案已根据市人社局社保库填写，如有不符请修改。" in html
    (event,) = _events(session)
    assert (event.object_type, event.object_id, event.actor_name) == (
        "service", "residence-points", "citizen")
    assert {k: event.after[k] for k in ("connector", "query", "person", "status")} == {
        "connector": "insurance", "query": "contributions", "person": FIRST_ID_NUMBER,
        "status": "ok"}
    assert list(session.scalars(select(ConnectorResult))) == []  # nothing kept


def test_a_visitor_is_asked_without_any_register(personas: Personas, session: Session) -> None:
    html = personas.client.get("/services/residence-points/precheck").get_data(as_text=True)
    assert MONTHS_INPUT.format("") in html
    assert _events(session) == []


def test_a_register_that_is_down_is_named_and_the_person_answers(
        app: Flask, personas: Personas, session: Session, closed_port_url: str) -> None:
    client = personas.as_("citizen")
    _point_at(app, closed_port_url)
    html = client.get("/services/residence-points/precheck").get_data(as_text=True)
    assert "暂时无法查询市人社局社保库，请自行回答问题。" in html
    assert MONTHS_INPUT.format("") in html
    assert [event.after["status"] for event in _events(session)] == ["unverified"]
