"""/admin/flows/<reference>: where an application's flow stands, the administrator's repair
(a step and a reason) and the migration to a newer published version (checked first, a mapping
asked for every step the new version removed), each audited through the runtime."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlmodel import col

from tongban import db
from tongban.models import Application, AuditEvent, FlowInstance
from tongban.workflow import runtime
from tongban.workflow.errors import TooSoon

from ..conftest import Personas, csrf_token
from .flow_world import (
    FLOWS,
    PASSWORD,
    World,
    _version,
    assert_in_step,
    build,
    later,
    open_tasks,
    submit,
)


@pytest.fixture
def world(app: Flask) -> World:
    return build(app.extensions["tongban.engine"])


def _act(world: World, username: str, task_id: int | None, operation: str,
         version: int | None = None, minutes: int = 6) -> None:
    assert task_id is not None
    with world.session() as session, db.unit_of_work(session) as tx:
        runtime.act(tx, world.actor(username), task_id, operation, version=version,
                    now=later(minutes))


def _remind(world: World, application_id: int, task_seq: int, minutes: int) -> None:
    with world.session() as session, db.unit_of_work(session) as tx:
        runtime.act_on_application(tx, world.actor("citizen"), application_id, "remind",
                                   now=later(minutes), task_seq=task_seq)


def _withdraw(world: World, application_id: int) -> None:
    with world.session() as session, db.unit_of_work(session) as tx:
        runtime.act_on_application(tx, world.actor("citizen"), application_id, "withdraw",
                                   now=later(6))


def _signed_in(client: FlaskClient, username: str) -> FlaskClient:
    client.post("/settings/language", data={"csrf_token": csrf_token(client),
                                            "locale": "en", "next": "/login"})
    Personas(client).login(username, PASSWORD)
    return client


def _reference(world: World, application_id: int) -> str:
    with world.session() as session:
        application = session.get(Application, application_id)
        assert application is not None
        return application.reference


def _publish(world: World, nodes: dict[str, Any], version: int) -> int:
    content = copy.deepcopy(FLOWS["two-step"])
    content["nodes"] = nodes
    with world.session() as session, db.unit_of_work(session):
        return _version(session, "flow", "two-step", content, version=version)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_shows_where_the_application_stands_and_repairs_it_with_a_reason(
        world: World, client: FlaskClient) -> None:
    application_id = submit(world, "two-step")
    reference = _reference(world, application_id)
    _signed_in(client, "root")
    page = client.get(f"/admin/flows/{reference}")
    assert page.status_code == 200
    text = _text(page.get_data(as_text=True))
    assert "Stands on First (first): Rev1" in text
    assert "No newer version of this flow has been published." in text

    token = csrf_token(client, f"/admin/flows/{reference}")
    refused = client.post(f"/admin/flows/{reference}/repair",
                          data={"csrf_token": token, "node": "second", "reason": "  "})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert '<a href="#reason">Enter the reason</a>' in html
    assert 'id="reason-error"' in html and '<option value="second" selected>' in html
    with world.session() as session:
        assert [task.node for task in open_tasks(session, application_id)] == ["first"]

    done = client.post(f"/admin/flows/{reference}/repair",
                       data={"csrf_token": token, "node": "second", "reason": "初审人员调岗"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/admin/flows/{reference}?done=repaired")
    with world.session() as session:
        assert [task.node for task in open_tasks(session, application_id)] == ["second"]
        assert assert_in_step(session, application_id) == "in_progress"
        audit = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.repaired")).one()
        assert (audit.actor_name, audit.object_id) == ("root", reference)
        assert audit.after["data"] == {"from": ["first"], "to": "second", "reason": "初审人员调岗"}
    assert "The application was moved." in client.get(
        f"/admin/flows/{reference}?done=repaired").get_data(as_text=True)


def test_a_migration_is_checked_refused_and_applied_with_a_mapping(
        world: World, client: FlaskClient) -> None:
    application_id = submit(world, "two-step")
    reference = _reference(world, application_id)
    with world.session() as session:
        [first] = open_tasks(session, application_id)
    _act(world, "rev1", first.id, "approve")
    nodes = copy.deepcopy(FLOWS["two-step"]["nodes"])
    nodes["first"]["next"] = "check"
    nodes["check"] = {"type": "task", "name": {"zh": "核查", "en": "Check"},
                      "who": {"user": "rev3"}, "next": "done"}
    del nodes["second"]
    v2 = _publish(world, nodes, 2)
    waiting = copy.deepcopy(FLOWS["two-step"]["nodes"])
    waiting["second"] = {"type": "wait", "message": "reply", "next": "done"}
    v3 = _publish(world, waiting, 3)

    _signed_in(client, "admin")  # the department's administrator
    text = _text(client.get(f"/admin/flows/{reference}").get_data(as_text=True))
    assert ("Version 2, published" in text and "The check found: The new version has no step "
            "second, where this application stands; map it to a step of the new version" in text)
    assert ("Version 2 has no step second; continue at Choose a step First (first) Check (check)"
            in text)
    assert ("The application stands on step second (task/approve), but second in the new version "
            "is a different kind of step (wait)") in text

    token = csrf_token(client, f"/admin/flows/{reference}")
    url = f"/admin/flows/{reference}/migrate"
    refused = client.post(url, data={"csrf_token": token, "version": str(v2), "reason": "调整",
                                     "map-second": ""})
    assert refused.status_code == 422
    assert f'<a href="#map-{v2}-second">Choose the step where second continues</a>' in \
        refused.get_data(as_text=True)
    refused = client.post(url, data={"csrf_token": token, "version": str(v3), "reason": "调整"})
    assert refused.status_code == 422
    assert (f'<a href="#version-{v3}">The application stands on step second (task/approve), but '
            "second in the new version is a different kind of step (wait)</a>") in \
        refused.get_data(as_text=True)
    with world.session() as session:
        instance = session.scalars(select(FlowInstance).where(
            col(FlowInstance.application_id) == application_id)).one()
        assert instance.flow_version_id != v2 and not session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.migrated")).first()

    done = client.post(url, data={"csrf_token": token, "version": str(v2),
                                  "reason": "复审并入核查", "map-second": "check"})
    assert done.status_code == 302, done.get_data(as_text=True)
    with world.session() as session:
        application = session.get(Application, application_id)
        assert application is not None and application.flow_version_id == v2
        [task] = open_tasks(session, application_id)
        assert task.node == "check"
        assert assert_in_step(session, application_id) == "in_progress"
        audit = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.migrated")).one()
        assert audit.actor_name == "admin"
        assert audit.after["data"]["mapping"] == {"second": "check"}
        assert audit.after["data"]["reason"] == "复审并入核查"
    text = _text(client.get(f"/admin/flows/{reference}").get_data(as_text=True))
    assert "Stands on Check (check)" in text and "Version 3" in text and "Version 2," not in text


def test_only_the_departments_administrators_and_platform_administrators_come_in(
        world: World, client: FlaskClient) -> None:
    reference = _reference(world, submit(world, "two-step"))
    _signed_in(client, "admin2")  # another department's administrator
    assert client.get(f"/admin/flows/{reference}").status_code == 403
    token = csrf_token(client, "/admin/incidents")
    assert client.post(f"/admin/flows/{reference}/repair", data={
        "csrf_token": token, "node": "second", "reason": "x"}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    _signed_in(client, "rev1")
    assert client.get(f"/admin/flows/{reference}").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/incidents")})
    _signed_in(client, "root")
    assert client.get("/admin/flows/NO-SUCH-REF").status_code == 404


def test_the_incidents_page_links_a_stopped_application_to_its_repair_page(
        world: World, client: FlaskClient) -> None:
    reference = _reference(world, submit(world, "nobody"))
    _signed_in(client, "admin")
    html = client.get("/admin/incidents").get_data(as_text=True)
    assert f'href="/admin/flows/{reference}"' in html
    text = _text(client.get(f"/admin/flows/{reference}").get_data(as_text=True))
    assert "Stands on Review (review) Repair" in text  # stopped: nobody holds its task


def test_a_closed_application_is_shown_and_a_repair_is_refused(
        world: World, client: FlaskClient) -> None:
    application_id = submit(world, "two-step")
    reference = _reference(world, application_id)
    _withdraw(world, application_id)
    _signed_in(client, "root")
    html = client.get(f"/admin/flows/{reference}").get_data(as_text=True)
    assert "This application is closed; it can be neither repaired nor migrated." in html
    assert "/repair" not in html
    refused = client.post(f"/admin/flows/{reference}/repair", data={
        "csrf_token": csrf_token(client, f"/admin/flows/{reference}"), "node": "second",
        "reason": "误撤回"})
    assert refused.status_code == 409
    assert "The applicant has withdrawn this application" in refused.get_data(as_text=True)
    with world.session() as session:
        assert assert_in_step(session, application_id) == "withdrawn"


def test_a_reminder_is_rate_limited_and_does_not_make_the_reviewers_page_stale(
        world: World) -> None:
    application_id = submit(world, "two-step")
    with world.session() as session:
        [first] = open_tasks(session, application_id)
    _remind(world, application_id, first.seq, 10)
    with pytest.raises(TooSoon) as refused:
        _remind(world, application_id, first.seq, 40)
    assert refused.value.status == 429
    with world.session() as session:
        assert session.scalars(select(AuditEvent.actor_name).where(
            col(AuditEvent.action) == "flow.reminded")).all() == ["citizen"]
        assert assert_in_step(session, application_id) == "in_progress"
    _act(world, "rev1", first.id, "approve", version=first.version, minutes=50)
    with world.session() as session:
        assert [task.node for task in open_tasks(session, application_id)] == ["second"]
