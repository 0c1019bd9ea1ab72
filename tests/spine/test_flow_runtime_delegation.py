"""Delegation while away and the database-backed directory the engine resolves people with."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from tongban import db
from tongban.models import AuditEvent, Delegation, Department, User
from tongban.workflow.delegations import cancel_delegation, set_delegation
from tongban.workflow.directory import DbDirectory
from tongban.workflow.errors import Invalid

from .flow_world import T0, World, build, later, open_tasks, submit


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build(app.extensions["tongban.engine"])


def _delegate(world: World, user: str, delegate: str, starts: int, ends: int) -> int:
    with world.session() as session, db.unit_of_work(session) as tx:
        row = set_delegation(tx, world.actor(user), world.users[delegate], later(starts),
                             later(ends))
        return row.id or 0


@pytest.mark.parametrize(("delegate", "starts", "ends", "message"), [
    ("rev2", 60, 30, "The delegation must end after it starts"),
    ("rev2", 60, 60, "The delegation must end after it starts"),
    ("rev1", 0, 60, "Choose someone other than yourself to act for you"),
])
def test_a_bad_delegation_is_refused_with_422_and_nothing_stored(
        world: World, delegate: str, starts: int, ends: int, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        _delegate(world, "rev1", delegate, starts, ends)
    assert (refused.value.status, refused.value.text()) == (422, message)
    with world.session() as session:
        assert session.scalars(select(Delegation)).all() == []
        assert session.scalars(select(AuditEvent).where(
            col(AuditEvent.action).like("flow.delegation%"))).all() == []


def test_an_inactive_delegate_is_refused(world: World) -> None:
    with world.session() as session, db.unit_of_work(session):
        user = session.get(User, world.users["rev2"])
        assert user is not None
        user.is_active = False
    with pytest.raises(Invalid, match="There is no active user to delegate to"):
        _delegate(world, "rev1", "rev2", 0, 60)


def test_tasks_created_inside_the_window_go_to_the_delegate_on_behalf(world: World) -> None:
    delegation_id = _delegate(world, "rev1", "rev3", -60 * 24 * 365 * 10, 60 * 24 * 365 * 10)
    with world.session() as session:
        event = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.delegation_set")).one()
        assert event.actor_name == "rev1" and event.after is not None
        assert event.after["delegate"] == "rev3"
    application_id = submit(world, "one-step")
    with world.session() as session:
        [task] = open_tasks(session, application_id)
        assert (task.assignee_id, task.on_behalf_of) == (world.users["rev3"], world.users["rev1"])
    with world.session() as session, db.unit_of_work(session) as tx:
        cancel_delegation(tx, world.actor("rev1"), delegation_id)
    second = submit(world, "one-step")
    with world.session() as session:
        [task] = open_tasks(session, second)
        assert (task.assignee_id, task.on_behalf_of) == (world.users["rev1"], None)
        assert session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.delegation_cancelled")).one().actor_name == "rev1"


def test_only_the_owner_cancels_a_delegation(world: World) -> None:
    delegation_id = _delegate(world, "rev1", "rev3", 0, 60)
    with pytest.raises(Invalid), world.session() as session, db.unit_of_work(session) as tx:
        cancel_delegation(tx, world.actor("rev2"), delegation_id)


def test_the_directory_resolves_roles_regions_delegations_and_memberships(world: World) -> None:
    _delegate(world, "rev1", "rev2", 0, 60)
    with world.session() as session:
        directory = DbDirectory(session)
        reviewers = directory.users_with("reviewer", frozenset({"d1"}))
        assert reviewers == sorted(world.users[name] for name in ("rev1", "rev2", "rev3"))
        assert directory.users_with("reviewer", frozenset({"d2"})) == []
        # A membership covers sub-departments; a platform-wide one covers everything.
        assert directory.department_admins("d1") == [world.users["admin"]]
        assert directory.users_with("platform_admin", frozenset({"d2"})) == [world.users["root"]]
        assert directory.department_for_region("310104123000", "d0") == "d2"
        assert directory.department_for_region("310199", "d0") is None
        assert directory.department_for_region("310101", "d2") is None
        assert directory.user_id("rev3") == world.users["rev3"]
        assert directory.user_id("nobody") is None
        assert directory.delegate_of(world.users["rev1"], later(0)) == world.users["rev2"]
        assert directory.delegate_of(world.users["rev1"], later(60)) is None
        assert directory.delegate_of(world.users["rev1"], T0 - timedelta(seconds=1)) is None
        assert directory.memberships(world.users["admin"]) \
            == frozenset({("department_admin", "d1")})
        assert "d1" in directory.tree().under("d0")
        assert session.scalars(select(Department.region).where(
            col(Department.code) == "d1")).one() == "310101"
