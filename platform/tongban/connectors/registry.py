"""The app's open connectors, one per service connector block (opened on first use, kept
for the app's life), and what an administrator sees of their health."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pluggy
from sqlalchemy import func, select
from sqlmodel import Session, col

from ..extend.manager import connector_type_plugins, connector_types, plugin_manager
from ..models import ConnectorResult, DefinitionVersion, utcnow
from ..plugin_api import Connector, ConnectorError, ConnectorType, HealthReport

EXTENSION = "tongban.connectors"


class ConnectorRegistry:
    """Open connectors by (service, connector name, options): a changed definition opens a new
    one. Thread-safe; ``close`` releases every pool."""

    def __init__(self, types: Mapping[str, ConnectorType], settings: Mapping[str, Any], *,
                 retry_seconds: float = 60) -> None:
        self.types = dict(types)
        self.settings = settings
        # A failed call is not repeated sooner than this (a source that is down would
        # otherwise cost every page save its time limit); a reviewer's "check again" is.
        self.retry_seconds = retry_seconds
        self._open: dict[tuple[str, str, str], Connector] = {}
        self._lock = threading.Lock()

    def connector(self, service: str, name: str, block: Mapping[str, Any]) -> Connector:
        """The open connector of ``block`` (raises ConnectorError, permanent, when its type is
        not installed or it cannot be opened: a missing setting, a bad URL)."""
        key = (service, name, json.dumps(block["options"], sort_keys=True, default=str))
        with self._lock:
            found = self._open.get(key)
            if found is not None:
                return found
            kind = self.types.get(block["type"])
            if kind is None:
                raise ConnectorError(f'no installed plugin offers the connector type '
                                     f'"{block["type"]}"', transient=False)
            try:
                opened = kind.open(block["options"], self.settings)
            except ConnectorError:
                raise
            except Exception as exc:  # a plugin's bug: shown in health, never a crash
                raise ConnectorError(f"the connector could not be opened: {exc}",
                                     transient=False) from exc
            self._open[key] = opened
            return opened

    def opened(self) -> list[tuple[str, str, Connector]]:
        with self._lock:
            return [(service, name, c) for (service, name, _), c in self._open.items()]

    def close(self) -> None:
        with self._lock:
            for connector in self._open.values():
                try:
                    connector.close()
                except Exception:  # noqa: BLE001, S110 - closing is best effort
                    pass
            self._open.clear()


def init_app(app: Any) -> ConnectorRegistry:
    """Keep the app's registry in ``app.extensions`` (after the plugin manager is built)."""
    found = ConnectorRegistry(connector_types(plugin_manager(app)),
                              app.config.get("CONNECTOR_SETTINGS") or {},
                              retry_seconds=app.config.get("CONNECTOR_RETRY_SECONDS", 60))
    app.extensions[EXTENSION] = found
    return found


def registry(app: Any) -> ConnectorRegistry:
    """The Flask app's registry (domain code gets the app passed: it imports no Flask)."""
    found: ConnectorRegistry = app.extensions[EXTENSION]
    return found


@dataclass(frozen=True)
class ConnectorHealth:
    service: str
    connector: str
    report: HealthReport


def health_reports(session: Session, connectors: ConnectorRegistry | None = None, *,
                   live: bool = False) -> list[ConnectorHealth]:
    """Each service connector's state from its latest call: a permanent failure is ``down``
    (an administrator must act: credentials, a missing table), a transient one ``degraded``.
    With ``live`` and ``connectors``, the open connectors are asked as well (``health()``: a
    cheap query)."""
    latest = (select(col(ConnectorResult.service_code), col(ConnectorResult.connector),
                     func.max(col(ConnectorResult.checked_at)))
              .group_by(col(ConnectorResult.service_code), col(ConnectorResult.connector)))
    found: dict[tuple[str, str], HealthReport] = {}
    for service, name, at in session.execute(latest):
        row = session.scalars(select(ConnectorResult).where(
            col(ConnectorResult.service_code) == service, col(ConnectorResult.connector) == name,
            col(ConnectorResult.checked_at) == at).order_by(col(ConnectorResult.id).desc())).first()
        if row is None:
            continue
        if row.status != "unverified":
            found[(service, name)] = HealthReport("ok", "", row.checked_at)
        else:
            found[(service, name)] = HealthReport("degraded" if row.transient else "down",
                                                  row.error, row.checked_at)
    if live and connectors is not None:
        for service, name, connector in connectors.opened():
            try:
                report = connector.health()
            except Exception as exc:  # noqa: BLE001 - a plugin's bug is a health finding
                report = HealthReport("down", f"health check failed: {exc}", utcnow())
            if report.state != "ok" or (service, name) not in found:
                found[(service, name)] = report
    return [ConnectorHealth(s, n, r) for (s, n), r in sorted(found.items())]


def _types_in_use(session: Session) -> dict[tuple[str, str], str]:
    """(service code, connector name) -> its connector type, from the published service
    definitions (a later version's block wins)."""
    found: dict[tuple[str, str], str] = {}
    rows = session.execute(select(col(DefinitionVersion.code), col(DefinitionVersion.content))
                           .where(col(DefinitionVersion.kind) == "service")
                           .order_by(col(DefinitionVersion.code), col(DefinitionVersion.version)))
    for code, content in rows:
        blocks = (content or {}).get("connectors") or {}
        for name, block in blocks.items() if isinstance(blocks, dict) else ():
            if isinstance(block, dict):
                found[(code, str(name))] = str(block.get("type", ""))
    return found


def health_by_plugin(session: Session, manager: pluggy.PluginManager,
                     connectors: ConnectorRegistry | None = None, *,
                     live: bool = False) -> dict[str, list[ConnectorHealth]]:
    """:func:`health_reports` by the plugin that offers each connector's type (what
    ``tongban plugins`` and /admin/plugins show under each plugin); under "" the connectors
    whose type no installed plugin offers, or whose service is no longer published."""
    owners = connector_type_plugins(manager)
    kinds = _types_in_use(session)
    grouped: dict[str, list[ConnectorHealth]] = {}
    for found in health_reports(session, connectors, live=live):
        plugin = owners.get(kinds.get((found.service, found.connector), ""), "")
        grouped.setdefault(plugin, []).append(found)
    return grouped
