"""One test per hook specification (test_hook_<spec name>; test_guide_and_tests.py checks
there is one for each): a plugin implementing it is called the way the docstring says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint

from tongban.extend.manager import (
    PluginConflict,
    connector_types,
    material_storage,
    notification_channels,
    plugin_manager,
    signer,
)
from tongban.plugin_api import (
    ConnectorType,
    HealthReport,
    Notification,
    NotificationChannel,
    hookimpl,
)
from tongban.testkit import deliver_events, health_of, start_app
from tongban.workflow import hooks as service_hooks

from ..spine.flow_world import build, submit
from .recording import Pages, Recorder


def _app(tmp_path: Path, database: str, *plugins: object, **settings: Any):  # type: ignore[no-untyped-def]
    return start_app(list(plugins), database, tmp_path / "instance", settings)


def test_hook_tongban_connector_types(tmp_path: Path, tongban_database: str) -> None:
    import tongban_example_connector as example

    app = _app(tmp_path, tongban_database, example)
    offered = connector_types(plugin_manager(app))
    assert list(offered) == ["csv"]
    assert offered["csv"].title == {"zh": "CSV 文件", "en": "CSV file"}


def test_hook_tongban_notification_channels(tmp_path: Path, tongban_database: str) -> None:
    sent: list[Notification] = []

    class Site:
        PLUGIN_NAME = "site_messages"

        @hookimpl
        def tongban_notification_channels(self) -> list[NotificationChannel]:
            return [NotificationChannel("site", {"zh": "站内消息", "en": "Site message"},
                                        sent.append)]

    app = _app(tmp_path, tongban_database, Site())
    channel = notification_channels(plugin_manager(app))["site"]
    channel.send(Notification(key="n-1", channel="site", recipient="7", subject="已受理",
                              body="您的申请已受理。"))
    assert [n.key for n in sent] == ["n-1"]


def test_hook_tongban_material_storages(tmp_path: Path, tongban_database: str) -> None:
    import tongban_local_storage as local

    app = _app(tmp_path, tongban_database, local, MATERIAL_DIR=str(tmp_path / "materials"))
    storage = material_storage(app)
    stored = storage.put(b"%PDF-1.7 household register", content_type="application/pdf",
                         name="hukou.pdf")
    assert storage.get(stored.key) == b"%PDF-1.7 household register"
    assert (tmp_path / "materials" / stored.key[:2] / stored.key[2:4] / stored.key).exists()


def test_a_material_storage_no_plugin_offers_is_named_when_asked_for(
        tmp_path: Path, tongban_database: str) -> None:
    app = _app(tmp_path, tongban_database, MATERIAL_STORAGE="s3")
    with pytest.raises(LookupError, match="Setting MATERIAL_STORAGE names 's3', which no "
                                          r"installed plugin offers \(offered: none\)"):
        material_storage(app)


def test_hook_tongban_signers(tmp_path: Path, tongban_database: str) -> None:
    import tongban_null_signer as null

    app = _app(tmp_path, tongban_database, null)
    signature = signer(app).sign(b"decision 2026-001", purpose="decision")
    assert signer(app).verify(b"decision 2026-001", signature).valid


def test_hook_tongban_service_hooks(tmp_path: Path, tongban_database: str) -> None:
    import tongban_example_connector as example

    _app(tmp_path, tongban_database, example)
    assert service_hooks.owner("example.lookup") == "example_connector"
    people = tmp_path / "people.csv"
    people.write_text("id_number,name\n110101199003070012,王芳\n", encoding="utf-8")
    call = service_hooks.get("example.lookup")
    assert call({"options": {"file": str(people), "match": {"id_number": "110101199003070012"}}}) \
        == {"found": True, "row": {"id_number": "110101199003070012", "name": "王芳"}}


def test_a_service_hook_named_like_the_core_s_stops_the_start(
        tmp_path: Path, tongban_database: str) -> None:
    class Shadow:
        PLUGIN_NAME = "shadow"

        @hookimpl
        def tongban_service_hooks(self) -> dict[str, Any]:
            return {"noop": lambda payload: {"shadowed": True}}

    with pytest.raises(PluginConflict, match="plugin 'shadow' offers a service hook named "
                                             "'noop', which is the core's"):
        _app(tmp_path, tongban_database, Shadow())
    assert service_hooks.get("noop")({}) == {}


def test_two_plugins_offering_one_service_hook_stop_the_start(
        tmp_path: Path, tongban_database: str) -> None:
    def offering(name: str) -> object:
        class Offer:
            PLUGIN_NAME = name

            @hookimpl
            def tongban_service_hooks(self) -> dict[str, Any]:
                return {"twin.call": lambda payload: {}}
        return Offer()

    with pytest.raises(PluginConflict, match="plugins 'one' and 'two' both offer a service "
                                             "hook 'twin.call'"):
        _app(tmp_path, tongban_database, offering("one"), offering("two"))


def test_hook_tongban_blueprints(tmp_path: Path, tongban_database: str) -> None:
    app = _app(tmp_path, tongban_database, Pages())
    response = app.test_client().get("/-/pages/hello")
    assert (response.status_code, response.text) == (200, "你好, plugin page")


def test_a_plugin_page_on_a_core_url_stops_the_start(tmp_path: Path,
                                                     tongban_database: str) -> None:
    with pytest.raises(PluginConflict, match="plugin 'clash': GET /admin/incidents is "
                                             "already a page of 'admin.incident_list'"):
        clash = Pages(prefix="/admin", name="clash")
        clash.blueprint.add_url_rule("/incidents", "incidents", lambda: "mine")
        _app(tmp_path, tongban_database, clash)


def test_a_plugin_blueprint_named_like_a_core_one_stops_the_start(
        tmp_path: Path, tongban_database: str) -> None:
    class Named:
        PLUGIN_NAME = "named"

        @hookimpl
        def tongban_blueprints(self) -> list[Blueprint]:
            return [Blueprint("admin", __name__, url_prefix="/-/named")]

    with pytest.raises(PluginConflict, match="plugin 'named': a blueprint named 'admin' is "
                                             "registered already"):
        _app(tmp_path, tongban_database, Named())


def test_hook_tongban_application_event(tmp_path: Path, tongban_database: str) -> None:
    recorder = Recorder()
    app = _app(tmp_path, tongban_database, recorder)
    world = build(app.extensions["tongban.engine"])
    submit(world, "one-step")
    assert recorder.events == []  # nothing inside the user's transaction
    [delivery] = deliver_events(app)
    [event] = recorder.events
    assert (event.kind, event.service, event.actor) == ("submitted", "svc-one-step", "citizen")
    assert event.key == f"event-{delivery.row_id}"
    assert deliver_events(app) == []  # told once


def test_hook_tongban_health(tmp_path: Path, tongban_database: str) -> None:
    class Register:
        PLUGIN_NAME = "population_register"

        @hookimpl
        def tongban_health(self, settings: dict[str, Any]) -> HealthReport:
            return HealthReport("degraded", "answers in 4.2 s (slow)")

    app = _app(tmp_path, tongban_database, Register())
    status = health_of(app, "population_register")
    assert (status.state, status.report and status.report.detail) == (
        "degraded", "answers in 4.2 s (slow)")
    assert status.hooks == ["tongban_health"]


def test_a_connector_type_offered_twice_names_both_plugins(
        tmp_path: Path, tongban_database: str) -> None:
    import tongban_example_connector as example

    class Copy:
        PLUGIN_NAME = "copycat"

        @hookimpl
        def tongban_connector_types(self) -> list[ConnectorType]:
            return [example.CSV]

    with pytest.raises(PluginConflict, match="plugins 'example_connector' and 'copycat' both "
                                             "offer a connector type 'csv'"):
        _app(tmp_path, tongban_database, example, Copy())
