"""The plugin manager, built once per app in the factory: the hook specifications, then every
plugin announced in the ``tongban.plugins`` entry-point group (first-party plugins under
``plugins/`` are installed packages like any third-party one: the core never imports them),
then ``check_pending`` so that a misspelled hook stops the start."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy
from flask import Flask, current_app

from ..plugin_api import ENTRY_POINT_GROUP, PROJECT, ConnectorType
from . import hookspecs

EXTENSION = "tongban.plugins"


class PluginConflict(RuntimeError):
    """Two plugins claim the same identifier (a plugin name, a connector type, a channel)."""


def build(plugins: Iterable[object] = (), *, entry_points: bool = True) -> pluggy.PluginManager:
    """A plugin manager with the specifications, ``plugins`` (objects or modules with
    ``@hookimpl`` functions: the test kit's way in) and, unless told otherwise, the installed
    entry points. A plugin registered twice under one name is refused."""
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(hookspecs)
    for plugin in plugins:
        _register(manager, plugin)
    if entry_points:
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    manager.check_pending()
    return manager


def _register(manager: pluggy.PluginManager, plugin: object) -> None:
    name = getattr(plugin, "PLUGIN_NAME", None) or getattr(plugin, "__name__", None)
    if name is not None and manager.has_plugin(str(name)):
        raise PluginConflict(f"two plugins are named {name!r}")
    try:
        manager.register(plugin, name=None if name is None else str(name))
    except ValueError as exc:  # pluggy: a plugin or name already registered
        raise PluginConflict(str(exc)) from exc


def init_app(app: Flask, plugins: Iterable[object] | None = None) -> pluggy.PluginManager:
    """Build the app's manager (``app.config["PLUGINS"]`` may list extra plugin objects, for
    tests) and keep it in ``app.extensions``."""
    extra = list(plugins if plugins is not None else app.config.get("PLUGINS", ()))
    manager = build(extra, entry_points=app.config.get("PLUGIN_ENTRY_POINTS", True))
    app.extensions[EXTENSION] = manager
    return manager


def plugin_manager(app: Flask | None = None) -> pluggy.PluginManager:
    manager: pluggy.PluginManager = (app or current_app).extensions[EXTENSION]
    return manager


def connector_types(manager: pluggy.PluginManager) -> dict[str, ConnectorType]:
    """Every connector type the plugins offer, by id; an id offered twice is refused."""
    found: dict[str, ConnectorType] = {}
    for offered in manager.hook.tongban_connector_types():
        for kind in offered or ():
            if kind.id in found:
                raise PluginConflict(f"two plugins offer a connector type {kind.id!r}")
            found[kind.id] = kind
    return found
