"""External messages for wait nodes: POST /api/flow/messages, token-authenticated JSON; a
duplicate key is counted and audited and changes nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import col

from tongban.models import Application, AuditEvent, FlowEvent, FlowInstance, FlowMessage

from .flow_world import World, assert_in_step, build, open_tasks, submit

TOKEN = "t" * 40
SENDER = "police-hukou-system"


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    return {**app_config, "FLOW_MESSAGE_TOKENS": {TOKEN: SENDER}}


@pytest.fixture
def world(app: Flask) -> World:
    return build(app.extensions["tongban.engine"])


def _reference(world: World, application_id: int) -> str:
    with world.session() as session:
        application = session.get(Application, application_id)
        assert application is not None
        return application.reference


def _post(client, body: Any, token: str | None = TOKEN):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/flow/messages", json=body, headers=headers)


def _body(reference: str, key: str = "k-1") -> dict[str, Any]:
    return {"reference": reference, "message": "transfer_reply", "key": key,
            "payload": {"approved": True}}


def test_a_message_moves_the_waiting_node_on(world: World, client) -> None:  # type: ignore[no-untyped-def]
    application_id = submit(world, "wait")
    with world.session() as session:
        assert assert_in_step(session, application_id) == "waiting_external"
    response = _post(client, _body(_reference(world, application_id)))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["duplicate"] is False
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        [task] = open_tasks(session, application_id)
        assert task.node == "review"
        message = session.scalars(select(FlowMessage)).one()
        assert (message.sender, message.payload, message.duplicates) \
            == (SENDER, {"approved": True}, 0)
        received = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.message_received")).one()
        assert received.actor_name == SENDER


def test_a_duplicate_key_is_counted_and_audited_and_changes_nothing_else(
        world: World, client) -> None:  # type: ignore[no-untyped-def]
    application_id = submit(world, "wait")
    reference = _reference(world, application_id)
    assert _post(client, _body(reference)).status_code == 200
    with world.session() as session:
        instance = session.scalars(select(FlowInstance)).one()
        before = (instance.version, instance.status,
                  session.execute(select(func.count()).select_from(FlowEvent)).scalar())
    response = _post(client, _body(reference))
    assert response.status_code == 200
    assert response.get_json()["duplicate"] is True
    assert response.get_json()["duplicates"] == 1
    with world.session() as session:
        instance = session.scalars(select(FlowInstance)).one()
        # Only the timeline grows: one message_duplicate event (which moves the instance's
        # version, as every event does); the status, tokens and tasks stay.
        version, status, events = before
        assert (instance.version, instance.status,
                session.execute(select(func.count()).select_from(FlowEvent)).scalar()) \
            == (version + 1, status, events + 1)
        assert session.scalars(select(FlowMessage)).one().duplicates == 1
        duplicate = session.scalars(select(AuditEvent).where(
            col(AuditEvent.action) == "flow.message_duplicate")).one()
        assert duplicate.after is not None and duplicate.after["data"]["key"] == "k-1"
        assert_in_step(session, application_id)


@pytest.mark.parametrize(("token", "status", "error"), [
    (None, 401, "unauthorized"),
    ("x" * 40, 401, "unauthorized"),
])
def test_a_missing_or_wrong_token_is_refused(world: World, client, token, status,  # type: ignore[no-untyped-def]
                                             error) -> None:
    application_id = submit(world, "wait")
    response = _post(client, _body(_reference(world, application_id)), token=token)
    assert response.status_code == status
    assert response.get_json()["error"] == error
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with world.session() as session:
        assert session.scalars(select(FlowMessage)).all() == []


def test_an_unknown_reference_is_404(world: World, client) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, _body("2601-XXXX-XXXX"))
    assert response.status_code == 404
    assert response.get_json() == {"error": "unknown_reference",
                                   "message": "There is no application 2601-XXXX-XXXX"}


def test_an_application_with_no_waiting_node_is_409(world: World, client) -> None:  # type: ignore[no-untyped-def]
    application_id = submit(world, "one-step")
    response = _post(client, _body(_reference(world, application_id)))
    assert response.status_code == 409
    assert response.get_json()["error"] == "not_waiting"
    with world.session() as session:
        assert session.scalars(select(FlowMessage)).all() == []
        assert assert_in_step(session, application_id) == "in_progress"


@pytest.mark.parametrize(("body", "message"), [
    ([], "The body must be a JSON object"),
    ({"message": "m", "key": "k"}, "reference is required and must be text"),
    ({"reference": "R", "message": "m", "key": 3}, "key is required and must be text"),
    ({"reference": "R", "message": "m", "key": "k", "payload": [1]},
     "payload must be a JSON object"),
    ({"reference": "R", "message": "m", "key": "k", "extra": 1}, "Unknown field(s): extra"),
])
def test_a_bad_body_is_422_with_the_reason(world: World, client, body, message) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, body)
    assert response.status_code == 422
    assert response.get_json() == {"error": "invalid", "message": message}


def test_the_route_takes_no_cookie_session_and_needs_no_csrf_token(world: World, app: Flask,
                                                                   client) -> None:  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = True
    application_id = submit(world, "wait")
    assert _post(client, _body(_reference(world, application_id))).status_code == 200
    # Other JSON posts are still refused (415), CSRF still guards the forms.
    assert client.post("/login", json={"username": "x"}).status_code == 415


@pytest.mark.parametrize(("value", "reason"), [
    ("not json", 'expected JSON such as {"TOKEN": "sender name"}'),
    ('["a"]', 'expected a mapping such as {"TOKEN": "sender name"}'),
    ('{"short": "police"}', "each token needs at least 32 characters"),
    ('{"' + "k" * 32 + '": " "}', "the token ending kkkk names no sender"),
])
def test_bad_message_tokens_fail_at_start_naming_the_setting(tmp_path, value: str,  # type: ignore[no-untyped-def]
                                                             reason: str) -> None:
    from tongban import PROJECT_ROOT
    from tongban.config import ConfigError, load

    with pytest.raises(ConfigError) as failed:
        load(tmp_path, PROJECT_ROOT, environ={"TONGBAN_FLOW_MESSAGE_TOKENS": value})
    assert str(failed.value) == ("Setting TONGBAN_FLOW_MESSAGE_TOKENS (from environment) is "
                                 f"invalid: {reason}")


def test_message_tokens_from_the_environment_are_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tongban import PROJECT_ROOT
    from tongban.config import load

    loaded = load(tmp_path, PROJECT_ROOT,
                  environ={"TONGBAN_FLOW_MESSAGE_TOKENS": '{"' + TOKEN + '": " police "}'})
    assert loaded["FLOW_MESSAGE_TOKENS"] == {TOKEN: "police"}


def test_the_same_message_delivered_twice_at_once_is_received_once(world: World,
                                                                   app: Flask) -> None:
    import threading

    application_id = submit(world, "wait")
    body = _body(_reference(world, application_id))
    answers: list[Any] = []
    barrier = threading.Barrier(2)

    def deliver() -> None:
        client = app.test_client()
        barrier.wait()
        answers.append(_post(client, body))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [200, 200]
    assert sorted(a.get_json()["duplicate"] for a in answers) == [False, True]
    with world.session() as session:
        assert session.scalars(select(FlowMessage)).one().duplicates == 1
        assert assert_in_step(session, application_id) == "in_progress"
        assert len(open_tasks(session, application_id)) == 1


def test_a_message_before_its_step_is_kept_and_used_when_the_step_comes(
        world: World, client) -> None:  # type: ignore[no-untyped-def]
    from tongban.workflow import hooks, worker

    from .flow_world import later

    hooks.test_double.configure()
    application_id = submit(world, "service-wait")
    response = _post(client, _body(_reference(world, application_id)))
    assert response.status_code == 200
    assert (response.get_json()["stored"], response.get_json()["status"]) == (True, "submitted")
    with world.session() as session:
        assert open_tasks(session, application_id) == []
    worker.run_due(world.engine, later(1))
    with world.session() as session:
        assert assert_in_step(session, application_id) == "in_progress"
        assert [task.node for task in open_tasks(session, application_id)] == ["review"]


def test_an_objection_during_the_notice_routes_to_its_review(world: World, client) -> None:  # type: ignore[no-untyped-def]
    from tongban import db
    from tongban.workflow import runtime

    from .flow_world import later

    application_id = submit(world, "notice")
    with world.session() as session:
        assert assert_in_step(session, application_id) == "publicizing"
        [notice] = open_tasks(session, application_id)
    body = {**_body(_reference(world, application_id)), "message": "objection"}
    response = _post(client, body)
    assert response.status_code == 200 and response.get_json()["stored"] is True
    with world.session() as session, db.unit_of_work(session) as tx:
        runtime.act(tx, world.actor("rev1"), notice.id or 0, "approve", version=None,
                    now=later(5))
    with world.session() as session:
        assert [task.node for task in open_tasks(session, application_id)] \
            == ["objection_review"]


def test_a_message_for_an_ended_application_is_409(world: World, client) -> None:  # type: ignore[no-untyped-def]
    from tongban import db
    from tongban.workflow import runtime

    from .flow_world import later

    application_id = submit(world, "notice")
    with world.session() as session, db.unit_of_work(session) as tx:
        runtime.act_on_application(tx, world.actor("citizen"), application_id, "withdraw",
                                   now=later(5))
    body = {**_body(_reference(world, application_id)), "message": "objection"}
    response = _post(client, body)
    assert response.status_code == 409
    assert response.get_json()["error"] == "withdrawn"
    with world.session() as session:
        assert session.scalars(select(FlowMessage)).all() == []
