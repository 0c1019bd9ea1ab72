"""Every hook a plugin may implement, grouped by lifecycle. Each docstring says when the core
calls it, with what, what to return and whether the first result wins. docs/plugins.md has a
section per hook, and tests/plugins has a ``test_hook_<name>`` per hook (a test checks both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from ..plugin_api import (
    PROJECT,
    ApplicationEvent,
    ConnectorType,
    HealthReport,
    MaterialStorage,
    NotificationChannel,
    ServiceCall,
    Signer,
)

if TYPE_CHECKING:
    from flask import Blueprint, Flask

hookspec = pluggy.HookspecMarker(PROJECT)


# --- start-up: what a plugin offers ---------------------------------------------------------

@hookspec
def tongban_connector_types() -> list[ConnectorType]:
    """Called once when the app starts. Return the connector types this plugin offers
    (``sql``, ``http``, ...); a definition names one by its id. An id offered twice stops the
    start with both plugins named. Every result is collected (not first-result)."""


@hookspec
def tongban_notification_channels(settings: dict[str, Any]) -> list[NotificationChannel]:
    """Called once when the app starts, with the app's settings (an SMTP server, a gateway's
    address). Return the notification channels this plugin offers (``site``, ``email``,
    ``sms``); the notification worker delivers each waiting message through the channel it
    names (docs/notifications.md). An id offered twice stops the start. Every result is
    collected (not first-result)."""


@hookspec
def tongban_material_storages(settings: dict[str, Any]) -> list[MaterialStorage]:
    """Called once when the app starts, with the app's settings. Return the material
    storages this plugin offers (``local``, ``s3``, ...); the ``MATERIAL_STORAGE`` setting
    picks the one the platform uses (one no plugin offers is an error naming the setting
    when a material is first stored). An id offered twice stops the start. Every result is
    collected (not first-result)."""


@hookspec
def tongban_signers(settings: dict[str, Any]) -> list[Signer]:
    """Called once when the app starts, with the app's settings. Return the document signers
    this plugin offers (``null``, ``ofd-seal``, ``pdf-seal``, a department's e-seal service);
    the ``SIGNER`` and ``DECISION_SIGNERS`` settings pick the ones documents are sealed with,
    and the public verification page asks every signer about a file handed in
    (``verify_document``). An id offered twice stops the start. Every result is collected
    (not first-result)."""


@hookspec
def tongban_service_hooks() -> dict[str, ServiceCall]:
    """Called once when the app starts. Return named calls a flow's ``service`` node may make
    (``hook: <name>``), by name; names are dotted with the plugin's own prefix
    (``example.lookup``). The outbox worker makes the call after the transaction that queued
    it committed, with the payload ``{"options": <the node's options>}``, and retries failures
    with the node's backoff. A name offered twice (or already the core's: ``noop``) stops the
    start. Every result is collected (not first-result)."""


@hookspec
def tongban_blueprints(app: Flask) -> list[Blueprint]:
    """Called once in the app factory, after the core's pages are registered, with the app.
    Return Flask blueprints to register; put their pages under ``/-/<plugin>/``. A blueprint
    name or a URL rule (method and path) that the core or another plugin has already stops
    the start naming both. Every result is collected (not first-result)."""


# --- running: application events ------------------------------------------------------------

@hookspec
def tongban_application_event(event: ApplicationEvent) -> None:
    """Called after the transaction that made ``event`` committed (an application submitted,
    a task done, an application completed), from the outbox worker, once per event and plugin
    (``event.key`` tells a repeat after a worker restart). Each call has the
    ``PLUGIN_TIMEOUT_SECONDS`` time limit. The return value is ignored; an exception or a call
    past its time limit is recorded and shown in plugin health, and never undoes the event or
    fails the user's request. Every implementation is called (not first-result)."""


# --- operations -----------------------------------------------------------------------------

@hookspec
def tongban_health(settings: dict[str, Any]) -> HealthReport | None:
    """Called by ``tongban plugins`` and the admin's plugin page (/admin/plugins) with the
    app's settings, each plugin on its own with the ``PLUGIN_TIMEOUT_SECONDS`` time limit.
    Return how the plugin's external systems are doing, or None when it has none. A plugin
    that raises or runs past the limit is shown as down with the error. Each plugin's answer
    is shown on its own line (not first-result)."""
