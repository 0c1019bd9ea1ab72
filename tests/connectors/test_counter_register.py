"""Issue 17 item 1 against the demo registers: the clerk's look-up reads the population
register through the household transfer's connector (the COUNTER_REGISTER setting), so 张三
comes out verified with the register's name, a number the register does not hold is typed in
(unverified), and a service started for 张三 starts prefilled from the register."""

from __future__ import annotations

from sqlalchemy import select
from tongban_sql_connector.demo_registers import FIRST_ID_NUMBER

from tongban.models import AuditEvent, Draft, Person

from ..conftest import csrf_token
from ..web.journey import id_number

UNKNOWN = id_number("11010519491231002")  # valid, not among the register's 300 people


def test_the_clerk_finds_a_person_in_the_register_and_starts_a_prefilled_service(
        personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("clerk_xuhui")
    token = csrf_token(client, "/counter")
    response = client.post("/counter/lookup", data={"csrf_token": token,
                                                    "number": FIRST_ID_NUMBER.lower()})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "张三" in page and "已核验" in page and "由市公安局人口库于" in page
    session.rollback()
    person = session.scalars(select(Person)).one()
    assert (person.name, person.verified_by) == ("张三", "市公安局人口库")
    assert person.verified_at is not None
    event = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "connector.counter")).one()
    assert event.object_id == FIRST_ID_NUMBER and event.after["status"] == "ok"

    response = client.post(f"/counter/people/{person.public_id}/services/household-transfer/"
                           "start", data={"csrf_token": token})
    assert response.status_code == 303
    session.rollback()
    draft = session.scalars(select(Draft)).one()
    assert draft.answers["applicant"]["id_number"] == FIRST_ID_NUMBER
    assert draft.answers["transfer"]["from_address"]  # the register's household address
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "来自市公安局人口库" in page


def test_a_number_the_register_does_not_hold_is_typed_in(personas, session) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("clerk_xuhui")
    token = csrf_token(client, "/counter")
    response = client.post("/counter/lookup", data={"csrf_token": token, "number": UNKNOWN})
    assert response.status_code == 200
    assert f"市公安局人口库中没有 {UNKNOWN} 的记录" in response.get_data(as_text=True)
    session.rollback()
    assert session.scalars(select(Person)).all() == []
