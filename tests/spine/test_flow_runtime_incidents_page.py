"""/admin/incidents: failed service calls and stopped instances of the administrator's
departments, with a retry button that is audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import col

from tongban.models import Application, AuditEvent, FlowOutbox
from tongban.workflow import hooks, worker

from ..conftest import Personas, csrf_token
from .flow_world import PASSWORD, World, build, later, open_tasks, submit


@pytest.fixture
def world(app: Flask) -> World:
    return build(app.extensions["tongban.engine"])


@pytest.fixture
def failing() -> Iterator[hooks.TestDouble]:
    yield hooks.test_double.configure(always_fail=True)
    hooks.test_double.configure()


def _reference(world: World, application_id: int) -> str:
    with world.session() as session:
        application = session.get(Application, application_id)
        assert application is not None
        return application.reference


def test_admins_see_their_departments_incidents_and_retry_them(
        world: World, client, failing: hooks.TestDouble) -> None:  # type: ignore[no-untyped-def]
    failed = submit(world, "service-bare")
    stopped = submit(world, "nobody")
    worker.run_due(world.engine, later(1))
    failed_ref, stopped_ref = _reference(world, failed), _reference(world, stopped)

    Personas(client).login("admin2", PASSWORD)
    page = client.get("/admin/incidents").get_data(as_text=True)
    assert failed_ref not in page and stopped_ref not in page  # not admin2's department
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/incidents")})

    Personas(client).login("admin", PASSWORD)
    response = client.get("/admin/incidents")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert failed_ref in page and stopped_ref in page
    assert "nobody holds reviewer in d2" in page

    failing.configure()
    token = csrf_token(client, "/admin/incidents")
    with world.session() as session:
        row = session.scalars(select(FlowOutbox)).one()
    response = client.post("/admin/incidents/retry", data={
        "csrf_token": token, "kind": "service", "outbox": str(row.id), "reference": failed_ref})
    assert response.status_code == 302
    with world.session() as session:
        again = session.get(FlowOutbox, row.id)
        assert again is not None and (again.state, again.attempts) == ("pending", 0)
        assert session.scalars(select(AuditEvent.actor_name).where(
            col(AuditEvent.action) == "flow.incident_retried")).one() == "admin"
    worker.run_due(world.engine, later(2) + worker.LEASE)
    with world.session() as session:
        assert [task.node for task in open_tasks(session, failed)] == ["review"]
    page = client.get("/admin/incidents").get_data(as_text=True)
    assert failed_ref not in page and stopped_ref in page


def test_a_reviewer_may_not_see_incidents(world: World, client) -> None:  # type: ignore[no-untyped-def]
    Personas(client).login("rev1", PASSWORD)
    assert client.get("/admin/incidents").status_code == 403


def test_retrying_a_stopped_step_asks_its_people_again(world: World, client) -> None:  # type: ignore[no-untyped-def]
    from tongban import db
    from tongban.models import Department, Membership

    stopped = submit(world, "nobody")
    reference = _reference(world, stopped)
    with world.session() as session, db.unit_of_work(session):  # d2 gets a reviewer
        d2 = session.scalars(select(Department).where(col(Department.code) == "d2")).one()
        session.add(Membership(user_id=world.users["rev3"], role="reviewer", department_id=d2.id))
    Personas(client).login("root", PASSWORD)
    token = csrf_token(client, "/admin/incidents")
    response = client.post("/admin/incidents/retry", data={
        "csrf_token": token, "kind": "no_approvers", "application": str(stopped),
        "node": "review", "reference": reference})
    assert response.status_code == 302
    with world.session() as session:
        [task] = open_tasks(session, stopped)
        assert (task.node, task.candidate_role, task.candidate_department) \
            == ("review", "reviewer", "d2")
        repaired = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.repaired")).one()
        assert repaired.actor_name == "root"
    assert reference not in client.get("/admin/incidents").get_data(as_text=True)
