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
    NotificationChannel,
)

if TYPE_CHECKING:
    from flask import Blueprint, Flask

hookspec = pluggy.HookspecMarker(PROJECT)


# --- start-up: what a plugin offers ---------------------------------------------------------

@hookspec
def tongban_connector_types() -> list[ConnectorType]:
    """Called once when the app starts. Return the connector types this plugin offers
    (``sql``, ``http``, ...); a definition names one by its id. An id offered twice stops the
    start with both plugins named."""


@hookspec
def tongban_notification_channels() -> list[NotificationChannel]:
    """Called once when the app starts. Return the notification channels this plugin offers
    (``site``, ``email``, ``sms``); an id offered twice stops the start."""


@hookspec
def tongban_blueprints(app: Flask) -> list[Blueprint]:
    """Called once in the app factory, after the core's pages. Return Flask blueprints to
    register (their URLs must not clash with the core's: the start fails if they do)."""


# --- running: application events ------------------------------------------------------------

@hookspec
def tongban_application_event(event: ApplicationEvent) -> None:
    """Called after the transaction that made ``event`` committed (an application submitted,
    a task done, an application completed), from the outbox worker, once per event and plugin.
    The return value is ignored; an exception is recorded and shown in plugin health, and
    never undoes the event or fails the user's request."""


# --- operations -----------------------------------------------------------------------------

@hookspec
def tongban_health(settings: dict[str, Any]) -> HealthReport | None:
    """Called by ``tongban plugins`` and the admin's plugin page, each plugin with a time
    limit. Return how the plugin's external systems are doing, or None when it has none."""
