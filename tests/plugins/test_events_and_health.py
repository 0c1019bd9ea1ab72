"""Application events reach plugins from the worker after commit, never inside the user's
request: a plugin that raises or hangs past its time limit leaves the request alone, the other
plugins are still told, and the failure shows in plugin health (the CLI and /admin/plugins)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tongban import db
from tongban.models import Application, FlowTask, PluginEvent, PluginHealth, saved_id
from tongban.plugin_api import hookimpl
from tongban.testkit import deliver_events, health_of, start_app
from tongban.workflow import runtime

from ..conftest import Personas
from ..spine.flow_world import build, open_tasks, submit
from ..web.journey import Journey
from ..web.test_journey import _fill_residence
from .recording import Hanging, Raising, Recorder


@pytest.fixture
def hanging() -> Iterator[Hanging]:
    plugin = Hanging()
    yield plugin
    plugin.release.set()


def _start(tmp_path: Path, database: str, *plugins: object, **settings: Any):  # type: ignore[no-untyped-def]
    return start_app(list(plugins), database, tmp_path / "instance",
                     {"PLUGIN_TIMEOUT_SECONDS": 0.3, **settings})


def test_submitted_task_done_and_completed_reach_plugins_in_order(
        tmp_path: Path, database_url: str) -> None:
    recorder = Recorder()
    app = _start(tmp_path, database_url, recorder)
    world = build(app.extensions["tongban.engine"])
    application_id = submit(world, "one-step")
    with world.session() as session, db.unit_of_work(session):
        [task] = open_tasks(session, application_id)
        runtime.act(session, world.actor("rev1"), saved_id(task), "approve", version=None,
                    comment="材料齐全")
    assert len(deliver_events(app)) == 3
    assert [(e.kind, e.actor) for e in recorder.events] == [
        ("submitted", "citizen"), ("task_done", "rev1"), ("completed", "rev1")]
    task_done, completed = recorder.events[1], recorder.events[2]
    assert task_done.data["node"] == "review" and task_done.data["event"] == "approved"
    assert completed.data["outcome"] == "approved"
    with world.session() as session:
        reference = session.scalars(select(Application.reference)).one()
        assert session.scalar(select(func.count()).select_from(PluginEvent)) == 0
        assert {e.reference for e in recorder.events} == {reference}


def test_a_raising_and_a_hanging_plugin_do_not_keep_the_event_from_the_others(
        tmp_path: Path, database_url: str, hanging: Hanging) -> None:
    recorder = Recorder()
    app = _start(tmp_path, database_url, Raising(), hanging, recorder)
    world = build(app.extensions["tongban.engine"])
    submit(world, "one-step")
    started = time.monotonic()
    [delivery] = deliver_events(app)
    assert time.monotonic() - started < 2  # the hanging plugin was left after 0.3 s
    assert [e.kind for e in recorder.events] == ["submitted"]
    assert dict(delivery.outcomes) == {
        "raising": "RuntimeError: the audit archive refused " + recorder.events[0].reference,
        "hanging": "no answer within 0.3 s (time limit)", "recorder": ""}
    raising = health_of(app, "raising")
    assert raising.state == "down"  # its own health check raised as well
    assert raising.report is not None
    assert raising.report.detail == ("ConnectionError: archive.example.gov.cn refused the "
                                     "connection")
    [failure] = raising.failures
    assert (failure.hook, failure.failures) == ("tongban_application_event", 1)
    assert health_of(app, "hanging").report.detail == "no answer within 0.3 s (time limit)"  # type: ignore[union-attr]
    assert health_of(app, "recorder").state == "ok"


def test_a_success_after_failures_clears_the_plugin_s_failure(
        tmp_path: Path, database_url: str) -> None:
    class Flaky(Recorder):
        fail = True

        @hookimpl
        def tongban_application_event(self, event):  # type: ignore[no-untyped-def]
            if self.fail:
                raise TimeoutError("archive busy")
            super().tongban_application_event(event)

    flaky = Flaky("flaky")
    app = _start(tmp_path, database_url, flaky)
    world = build(app.extensions["tongban.engine"])
    submit(world, "one-step")
    deliver_events(app)
    assert health_of(app, "flaky").state == "degraded"
    flaky.fail = False
    submit(world, "one-step", applicant="citizen2")
    deliver_events(app)
    assert health_of(app, "flaky").state == "ok"
    with world.session() as session:
        row = session.scalars(select(PluginHealth)).one()
        assert (row.failures, row.last_error) == (0, "TimeoutError: archive busy")


def test_an_event_claimed_by_a_worker_that_died_is_told_again_after_the_lease(
        tmp_path: Path, database_url: str) -> None:
    from datetime import timedelta

    from tongban.extend import events
    from tongban.extend.manager import plugin_manager
    from tongban.models import utcnow

    recorder = Recorder()
    app = _start(tmp_path, database_url, recorder)
    engine = app.extensions["tongban.engine"]
    world = build(engine)
    submit(world, "one-step")
    with world.session() as session, db.unit_of_work(session):
        assert events._claim(session, utcnow(), events.LEASE) is not None  # then "dies"
    assert deliver_events(app) == []  # leased
    [again] = events.deliver_due(engine, plugin_manager(app), timeout=1,
                                 now=utcnow() + events.LEASE + timedelta(seconds=1))
    assert [e.key for e in recorder.events] == [f"event-{again.row_id}"]


# --- through the web: the user's request, the admin page ------------------------------------

@pytest.fixture
def app_config(app_config: dict[str, object], hanging: Hanging) -> dict[str, object]:
    return {**app_config, "PLUGINS": [Raising(), hanging, Recorder()],
            "PLUGIN_ENTRY_POINTS": False, "PLUGIN_TIMEOUT_SECONDS": 0.3}


def test_a_citizen_submits_while_plugins_raise_and_hang(personas: Personas, app) -> None:  # type: ignore[no-untyped-def]
    client = personas.as_("citizen")
    journey = Journey(client, "residence-points")
    _fill_residence(journey)
    started = time.monotonic()
    response = journey.submit()
    assert time.monotonic() - started < 5
    assert response.status_code == 302 and response.headers["Location"].endswith("/confirmation")
    with db.new_session(app.extensions["tongban.engine"]) as session:
        assert session.scalar(select(func.count()).select_from(PluginEvent)) == 1
        assert session.scalar(select(func.count()).select_from(FlowTask)) >= 1


def test_the_plugin_page_shows_each_plugin_s_health_to_platform_admins(
        personas: Personas, app) -> None:  # type: ignore[no-untyped-def]
    from tongban.extend.manager import plugin_manager

    with db.new_session(app.extensions["tongban.engine"]) as session, \
            db.unit_of_work(session):
        from tongban.extend import health
        health.record(session, "recorder", "tongban_application_event", error="OSError: disk full")
    assert plugin_manager(app).has_plugin("raising")
    html = personas.as_("admin").get("/admin/plugins").get_data(as_text=True)
    main = html.split('id="main-content"', 1)[1]
    assert "<h1 class=\"tb-heading-l\">插件</h1>" in main
    assert 'id="plugin-raising"' in main and "ConnectionError: archive.example.gov.cn" in main
    assert "no answer within 0.3 s (time limit)" in main
    assert "OSError: disk full" in main and "运行有问题" in main
    assert "tongban_application_event" in main and "PLUGINS 设置" in main
    assert 'href="/admin/plugins"' in personas.client.get("/admin").get_data(as_text=True)


def test_only_platform_admins_open_the_plugin_page(personas: Personas) -> None:
    assert personas.as_("deptadmin").get("/admin/plugins").status_code == 403
    assert 'href="/admin/plugins"' not in personas.client.get("/admin").get_data(as_text=True)


def test_the_plugins_command_lists_plugins_hooks_and_health(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("plugins")
    assert result.exit_code == 1  # a plugin is down
    lines = result.output.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("raising ")))
    assert lines[at].startswith("raising - (app setting PLUGINS) ")
    assert lines[at + 1] == "  hooks: tongban_application_event, tongban_health"
    assert lines[at + 2] == ("  health: down: ConnectionError: archive.example.gov.cn refused "
                             "the connection")
    assert "  health: down: no answer within 0.3 s (time limit)" in lines
    assert any(line.startswith("recorder - ") for line in lines)
