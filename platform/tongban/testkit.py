"""The plugin test kit: pytest fixtures that start the platform with the plugins under test on
a fresh SQLite database, migrated by Alembic like the real one. docs/plugins.md ("Testing a
plugin") walks through it.

In the plugin's ``tests/conftest.py``, import the fixtures and say which plugins to start
with::

    import pytest
    from tongban.testkit import *  # noqa: F403 - the test kit's fixtures

    @pytest.fixture
    def tongban_plugins():
        import my_plugin
        return [my_plugin]

Only the plugins given are registered (installed packages are not loaded), so a test sees its
plugin alone. ``tongban_settings`` adds settings (a secret, a folder). Nothing here is needed in
production: it imports pytest, which only the tests have.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pluggy
import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from . import PROJECT_ROOT, create_app, db
from .connectors import health_by_plugin, registry
from .extend import events, health
from .extend.manager import plugin_manager
from .migrate import upgrade


def start_app(plugins: list[object], database_url: str, instance_path: Path,
              settings: Mapping[str, Any] | None = None) -> Flask:
    """The platform with ``plugins`` (and no installed ones) on ``database_url``."""
    config: dict[str, Any] = {
        "TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "testkit-secret-key",
        "DEFINITIONS_DIR": str(PROJECT_ROOT), "UPLOAD_DIR": str(instance_path / "uploads"),
        "PLUGINS": list(plugins), "PLUGIN_ENTRY_POINTS": False,
        "PLUGIN_TIMEOUT_SECONDS": 2.0,
    }
    config.update(settings or {})
    return create_app(config, instance_path=instance_path)


def health_of(app: Flask, plugin: str) -> health.PluginStatus:
    """What /admin/plugins and ``tongban plugins`` show for ``plugin`` now."""
    engine = app.extensions["tongban.engine"]
    with db.new_session(engine) as session:
        by_plugin = health_by_plugin(session, plugin_manager(app), registry(app))
        statuses = health.check(plugin_manager(app), app.config,
                                app.config["PLUGIN_TIMEOUT_SECONDS"], session,
                                connectors=by_plugin)
    for status in statuses:
        if status.name == plugin:
            return status
    raise LookupError(f"no plugin named {plugin!r} is registered")


def deliver_events(app: Flask) -> list[events.Delivery]:
    """Tell the plugins the application events waiting, as the worker does."""
    return events.deliver_due(app.extensions["tongban.engine"], plugin_manager(app),
                              timeout=app.config["PLUGIN_TIMEOUT_SECONDS"])


@pytest.fixture
def tongban_plugins() -> list[object]:
    """The plugins to start the platform with: override it in your conftest."""
    return []


@pytest.fixture
def tongban_settings() -> dict[str, Any]:
    """Extra settings (docs/operations.md lists them): override it in your conftest."""
    return {}


@pytest.fixture(scope="session")
def tongban_database_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the newest migration, made once per test run."""
    path = tmp_path_factory.mktemp("tongban-testkit") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def tongban_database(tongban_database_template: Path, tmp_path: Path) -> str:
    """A fresh copy of the migrated database for one test: its URL."""
    path = tmp_path / "tongban.sqlite3"
    shutil.copyfile(tongban_database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def tongban_app(tongban_plugins: list[object], tongban_settings: dict[str, Any],
                tongban_database: str, tmp_path: Path) -> Iterator[Flask]:
    """The platform started with your plugins on a fresh SQLite database."""
    app = start_app(tongban_plugins, tongban_database, tmp_path / "instance", tongban_settings)
    yield app
    app.extensions["tongban.engine"].dispose()


@pytest.fixture
def tongban_client(tongban_app: Flask) -> FlaskClient:
    return tongban_app.test_client()


@pytest.fixture
def tongban_cli(tongban_app: Flask) -> Callable[..., Result]:
    """Runs a ``tongban`` command on the app: ``tongban_cli("plugins").output``."""
    from .cli import main

    runner = tongban_app.test_cli_runner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, args=list(args))

    return invoke


@pytest.fixture
def tongban_manager(tongban_app: Flask) -> pluggy.PluginManager:
    return plugin_manager(tongban_app)


__all__ = ["deliver_events", "health_of", "start_app", "tongban_app", "tongban_cli",
           "tongban_client", "tongban_database", "tongban_database_template",
           "tongban_manager", "tongban_plugins", "tongban_settings"]
