"""A timer whose handler failed on every try is an incident on /admin/incidents for the
administrators of its department; retrying it is audited and makes it due again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlmodel import col

from tongban.models import Application, AuditEvent, FlowInstance, FlowTimer
from tongban.workflow import timers

from ..conftest import Personas, csrf_token
from . import timer_handlers as th
from .flow_world import PASSWORD, T0, World, build

NOW = T0 + timedelta(minutes=5)


@pytest.fixture
def world(app: Flask) -> Iterator[World]:
    th.register()
    yield build(app.extensions["tongban.engine"])
    th.unregister()


def _failed_timer(world: World) -> tuple[int, str]:
    [instance_id] = th.instances(world, 1)
    [timer_id] = th.schedule(world, [instance_id], 1, NOW, kind="test.fail")
    [outcome] = timers.run_due(world.engine, NOW, max_attempts=1)
    assert outcome.state == "failed"
    with world.session() as session:
        reference = session.execute(select(col(Application.reference)).join(
            FlowInstance, col(FlowInstance.application_id) == col(Application.id))
            .where(col(FlowInstance.id) == instance_id)).scalar_one()
    return timer_id, reference


def test_a_failed_timer_is_listed_for_its_departments_admins_and_retried(
        world: World, client) -> None:  # type: ignore[no-untyped-def]
    timer_id, reference = _failed_timer(world)

    Personas(client).login("admin2", PASSWORD)
    assert reference not in client.get("/admin/incidents").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/incidents")})

    Personas(client).login("admin", PASSWORD)
    page = client.get("/admin/incidents").get_data(as_text=True)
    assert reference in page
    assert "定时任务在尝试 1 次后失败" in page
    assert "RuntimeError: the handler broke" in page and "test.fail" in page

    response = client.post("/admin/incidents/retry", data={
        "csrf_token": csrf_token(client, "/admin/incidents"), "kind": "timer",
        "timer": str(timer_id), "reference": reference})
    assert response.status_code == 302
    with world.session() as session:
        timer = session.get(FlowTimer, timer_id)
        assert timer is not None and (timer.state, timer.attempts) == ("pending", 0)
        event = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.incident_retried")).one()
        assert (event.actor_name, event.object_id) == ("admin", reference)
    assert reference not in client.get("/admin/incidents").get_data(as_text=True)
    timers.HANDLERS["test.fail"] = th.bump  # mended
    [outcome] = timers.run_due(world.engine, NOW + timedelta(minutes=1))
    assert (outcome.timer_id, outcome.state) == (timer_id, "done")
    assert th.effects(world) == {timer_id: 1}


def test_another_departments_admin_cannot_retry_a_failed_timer(
        world: World, client) -> None:  # type: ignore[no-untyped-def]
    timer_id, reference = _failed_timer(world)
    Personas(client).login("admin2", PASSWORD)
    response = client.post("/admin/incidents/retry", data={
        "csrf_token": csrf_token(client, "/admin/incidents"), "kind": "timer",
        "timer": str(timer_id), "reference": reference})
    assert response.status_code == 403
    with world.session() as session:
        timer = session.get(FlowTimer, timer_id)
        assert timer is not None and timer.state == "failed"
        assert session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.incident_retried")).all() == []


def test_retrying_a_timer_that_is_no_longer_failed_says_so(
        world: World, client) -> None:  # type: ignore[no-untyped-def]
    timer_id, reference = _failed_timer(world)
    Personas(client).login("admin", PASSWORD)
    token = csrf_token(client, "/admin/incidents")
    data = {"csrf_token": token, "kind": "timer", "timer": str(timer_id), "reference": reference}
    assert client.post("/admin/incidents/retry", data=data).status_code == 302
    response = client.post("/admin/incidents/retry", data=data)
    assert response.status_code == 422
    assert "该异常已被处理" in response.get_data(as_text=True)
