"""Small plugins for the tests: each a class whose instances are plugins (pluggy registers
objects), named by PLUGIN_NAME like a module would be by its name."""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint

from tongban.plugin_api import ApplicationEvent, HealthReport, hookimpl


class Recorder:
    """Remembers every application event it is told."""

    def __init__(self, name: str = "recorder") -> None:
        self.PLUGIN_NAME = name
        self.events: list[ApplicationEvent] = []

    @hookimpl
    def tongban_application_event(self, event: ApplicationEvent) -> None:
        self.events.append(event)


class Raising:
    PLUGIN_NAME = "raising"

    @hookimpl
    def tongban_application_event(self, event: ApplicationEvent) -> None:
        raise RuntimeError(f"the audit archive refused {event.reference}")

    @hookimpl
    def tongban_health(self, settings: dict[str, Any]) -> HealthReport:
        raise ConnectionError("archive.example.gov.cn refused the connection")


class Hanging:
    """Never answers until released (the test releases it at the end)."""

    PLUGIN_NAME = "hanging"

    def __init__(self) -> None:
        self.release = threading.Event()

    @hookimpl
    def tongban_application_event(self, event: ApplicationEvent) -> None:
        self.release.wait(30)

    @hookimpl
    def tongban_health(self, settings: dict[str, Any]) -> HealthReport:
        self.release.wait(30)
        return HealthReport("ok")


class Pages:
    """A plugin page under /-/pages/ (or wherever a test puts it)."""

    def __init__(self, prefix: str = "/-/pages", name: str = "pages_plugin") -> None:
        self.PLUGIN_NAME = name
        self.blueprint = Blueprint(name, __name__, url_prefix=prefix)
        self.blueprint.add_url_rule("/hello", "hello", lambda: "你好, plugin page")

    @hookimpl
    def tongban_blueprints(self) -> list[Blueprint]:
        return [self.blueprint]
