"""The plugin manager, built once per app in the factory: the hook specifications, then every
plugin announced in the ``tongban.plugins`` entry-point group (first-party plugins under
``plugins/`` are installed packages like any third-party one: the core never imports them),
then ``check_pending`` so that a misspelled hook stops the start. What plugins offer under an
identifier (connector types, channels, storages, signers, service calls) is collected once at
start, and an identifier offered twice stops it naming both plugins. Plugin blueprints are
registered after the core's pages (:func:`register_blueprints`); a URL the core has already
stops the start."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping
from typing import Any

import pluggy
from flask import Flask, current_app

from ..config import ConfigError
from ..plugin_api import (
    ENTRY_POINT_GROUP,
    PROJECT,
    ConnectorType,
    MaterialStorage,
    NotificationChannel,
    ServiceCall,
    Signer,
)
from ..workflow import hooks as service_hooks
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
        _refuse_shadowed_entry_points(manager)
        manager.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    manager.check_pending()
    return manager


def _refuse_shadowed_entry_points(manager: pluggy.PluginManager) -> None:
    """pluggy skips an entry point whose name is registered already: two packages announcing
    one name, or a PLUGINS object named like an installed package, would leave one of them
    out without a word. Both are refused instead (the same module twice is not a clash)."""
    seen: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        for entry in dist.entry_points:
            if entry.group != ENTRY_POINT_GROUP:
                continue
            package = dist.metadata["name"]
            if entry.name in seen and seen[entry.name] != package:
                raise PluginConflict(f"packages {seen[entry.name]!r} and {package!r} both "
                                     f"announce a plugin named {entry.name!r}")
            seen[entry.name] = package
            held = manager.get_plugin(entry.name)
            if held is not None and getattr(held, "__name__", None) != entry.module:
                raise PluginConflict(f"a plugin named {entry.name!r} is registered already, "
                                     f"and package {package!r} announces another")


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
    tests) and keep it in ``app.extensions``; collect what the plugins offer by identifier
    (a duplicate stops the start) and register their service calls."""
    extra = list(plugins if plugins is not None else app.config.get("PLUGINS", ()) or ())
    manager = build(extra, entry_points=app.config.get("PLUGIN_ENTRY_POINTS", True))
    app.extensions[EXTENSION] = manager
    settings = dict(app.config)
    connector_types(manager)
    app.extensions[CHANNELS] = notification_channels(manager, settings)
    app.extensions[STORAGES] = material_storages(manager, settings)
    app.extensions[SIGNERS] = signers(manager, settings)
    _check_decision_signers(settings, app.extensions[SIGNERS])
    register_service_hooks(manager)
    return manager


def _check_decision_signers(settings: Mapping[str, Any], offered: Mapping[str, Signer]) -> None:
    """Every signer DECISION_SIGNERS names must be installed: a decision that cannot be
    sealed is found at start, not when an applicant waits for it."""
    for wanted in settings.get("DECISION_SIGNERS") or ():
        if wanted not in offered:
            raise ConfigError(f"Setting DECISION_SIGNERS names {wanted!r}, which no installed "
                              f"plugin offers (offered: {', '.join(sorted(offered)) or 'none'})")


def plugin_manager(app: Flask | None = None) -> pluggy.PluginManager:
    manager: pluggy.PluginManager = (app or current_app).extensions[EXTENSION]
    return manager


def connector_types(manager: pluggy.PluginManager) -> dict[str, ConnectorType]:
    """Every connector type the plugins offer, by id; an id offered twice is refused."""
    return {key: item for key, (_, item) in
            _by_id(manager, "tongban_connector_types", "connector type", {}).items()}


def connector_type_plugins(manager: pluggy.PluginManager) -> dict[str, str]:
    """The plugin that offers each connector type: type id -> plugin name."""
    return {key: plugin for key, (plugin, _) in
            _by_id(manager, "tongban_connector_types", "connector type", {}).items()}


STORAGES = "tongban.material_storages"
SIGNERS = "tongban.signers"
CHANNELS = "tongban.notification_channels"


def _by_id(manager: pluggy.PluginManager, hook: str, what: str,
           kwargs: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """What each plugin's ``hook`` returns, by id, with the plugin that offered it; an id two
    plugins offer is refused naming both."""
    found: dict[str, tuple[str, Any]] = {}
    for impl in getattr(manager.hook, hook).get_hookimpls():
        offered: Any = impl.function(**{name: kwargs[name] for name in impl.argnames})
        for item in offered or ():
            if item.id in found:
                raise PluginConflict(f"plugins {found[item.id][0]!r} and {impl.plugin_name!r} "
                                     f"both offer a {what} {item.id!r}")
            found[item.id] = (impl.plugin_name, item)
    return found


def notification_channels(manager: pluggy.PluginManager, settings: Mapping[str, Any] | None = None
                          ) -> dict[str, NotificationChannel]:
    """Every notification channel the plugins offer, by id; an id offered twice is refused."""
    return {key: item for key, (_, item) in _by_id(
        manager, "tongban_notification_channels", "notification channel",
        {"settings": dict(settings or {})}).items()}


def channels_of(app: Flask | None = None) -> dict[str, NotificationChannel]:
    """The notification channels the app's plugins offer, collected at start."""
    offered: dict[str, NotificationChannel] = (app or current_app).extensions[CHANNELS]
    return offered


def material_storages(manager: pluggy.PluginManager,
                      settings: Mapping[str, Any]) -> dict[str, MaterialStorage]:
    """Every material storage the plugins offer, by id; an id offered twice is refused."""
    return {key: item for key, (_, item) in _by_id(
        manager, "tongban_material_storages", "material storage", {"settings": settings}).items()}


def signers(manager: pluggy.PluginManager, settings: Mapping[str, Any]) -> dict[str, Signer]:
    """Every document signer the plugins offer, by id; an id offered twice is refused."""
    return {key: item for key, (_, item) in _by_id(
        manager, "tongban_signers", "document signer", {"settings": settings}).items()}


def material_storage(app: Flask | None = None) -> MaterialStorage:
    """The storage the ``MATERIAL_STORAGE`` setting names."""
    app = app or current_app
    wanted = app.config.get("MATERIAL_STORAGE", "local")
    offered: dict[str, MaterialStorage] = app.extensions[STORAGES]
    if wanted not in offered:
        raise LookupError(f"Setting MATERIAL_STORAGE names {wanted!r}, which no installed plugin "
                          f"offers (offered: {', '.join(sorted(offered)) or 'none'})")
    return offered[wanted]


def signer(app: Flask | None = None) -> Signer:
    """The signer the ``SIGNER`` setting names."""
    app = app or current_app
    wanted = app.config.get("SIGNER", "null")
    offered: dict[str, Signer] = app.extensions[SIGNERS]
    if wanted not in offered:
        raise LookupError(f"Setting SIGNER names {wanted!r}, which no installed plugin offers "
                          f"(offered: {', '.join(sorted(offered)) or 'none'})")
    return offered[wanted]


def signers_of(app: Flask | None = None) -> dict[str, Signer]:
    """Every document signer the app's plugins offer, by id, collected at start (the public
    verification page asks each of them about a file)."""
    offered: dict[str, Signer] = (app or current_app).extensions[SIGNERS]
    return offered


def decision_sealing(app: Flask | None = None) -> tuple[list[Signer], MaterialStorage] | None:
    """The signers DECISION_SIGNERS names (checked at start) and the material storage, for
    the worker that seals decision documents; None when decisions are not sealed."""
    app = app or current_app
    wanted = app.config.get("DECISION_SIGNERS") or ()
    if not wanted:
        return None
    offered = signers_of(app)
    return [offered[signer_id] for signer_id in wanted], material_storage(app)


def register_service_hooks(manager: pluggy.PluginManager) -> dict[str, str]:
    """Register the service calls plugins offer into the flows' hook registry; a name offered
    twice, or one the core has, is refused. Returns {name: plugin}."""
    offered: dict[str, tuple[str, ServiceCall]] = {}
    for impl in manager.hook.tongban_service_hooks.get_hookimpls():
        returned: Any = impl.function()
        for name, call in (returned or {}).items():
            if name in offered:
                raise PluginConflict(f"plugins {offered[name][0]!r} and {impl.plugin_name!r} "
                                     f"both offer a service hook {name!r}")
            if not callable(call):
                raise PluginConflict(f"plugin {impl.plugin_name!r} offers a service hook "
                                     f"{name!r} that is not callable")
            offered[name] = (impl.plugin_name, call)
    for name, (plugin, call) in offered.items():
        try:
            service_hooks.register_offered(plugin, name, call)
        except ValueError as exc:
            raise PluginConflict(str(exc)) from None
    return {name: plugin for name, (plugin, _) in offered.items()}


def register_blueprints(app: Flask) -> None:
    """Register the plugins' blueprints after the core's pages: a blueprint name or a URL
    rule (path and method) already taken stops the start naming the plugin."""
    manager = plugin_manager(app)
    for impl in manager.hook.tongban_blueprints.get_hookimpls():
        returned: Any = impl.function(**({"app": app} if "app" in impl.argnames else {}))
        for blueprint in returned or ():
            if blueprint.name in app.blueprints:
                raise PluginConflict(f"plugin {impl.plugin_name!r}: a blueprint named "
                                     f"{blueprint.name!r} is registered already")
            taken = {(rule.rule, method): rule.endpoint for rule in app.url_map.iter_rules()
                     for method in rule.methods or ()}
            app.register_blueprint(blueprint)
            for rule in app.url_map.iter_rules():
                if not rule.endpoint.startswith(blueprint.name + "."):
                    continue
                for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                    if (rule.rule, method) in taken:
                        raise PluginConflict(
                            f"plugin {impl.plugin_name!r}: {method} {rule.rule} is already a "
                            f"page of {taken[(rule.rule, method)]!r}")
