"""Plugin health: which plugins are installed (name, version, where from, hooks), what each
says when asked (``tongban_health``, each with a time limit), the last failure of each of
its hooks the core recorded (an application event that raised or hung) and, for a plugin
that offers connector types, how each service connector of those types did on its latest
call (``tongban.connectors.health_by_plugin``). ``tongban plugins`` and /admin/plugins show
the same list."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from sqlalchemy import select
from sqlmodel import Session, col

from ..models import PluginHealth, utcnow
from ..plugin_api import HealthReport
from .calls import call_each

if TYPE_CHECKING:
    from ..connectors.registry import ConnectorHealth

SEVERITY = {"ok": 0, "degraded": 1, "down": 2}


@dataclass(frozen=True)
class Failure:
    hook: str
    failures: int
    error: str
    at: datetime | None


@dataclass(frozen=True)
class PluginStatus:
    name: str
    version: str
    origin: str              # "package tongban-local-storage" or "app setting PLUGINS"
    location: str            # the module's folder
    hooks: list[str]
    report: HealthReport | None
    failures: list[Failure] = field(default_factory=list)
    connectors: Sequence[ConnectorHealth] = ()   # the service connectors of its types

    @property
    def state(self) -> str:
        """ok, degraded or down: the worst of its own report and its connectors'; a hook
        failing since its last success makes it degraded at least."""
        states = [found.report.state for found in self.connectors]
        if self.report is not None:
            states.append(self.report.state)
        if self.failures:
            states.append("degraded")
        return max(states, key=SEVERITY.__getitem__, default="ok")


def _where(plugin: object) -> str:
    module = inspect.getmodule(plugin) if not inspect.ismodule(plugin) else plugin
    path = getattr(module, "__file__", None)
    return str(Path(path).parent) if path else ""


def inventory(manager: pluggy.PluginManager) -> list[tuple[str, str, str, str, list[str]]]:
    """(name, version, origin, location, hooks) of every registered plugin, by name."""
    packages = {id(plugin): dist for plugin, dist in manager.list_plugin_distinfo()}
    found = []
    for name, plugin in manager.list_name_plugin():
        if name is None or plugin is None:
            continue
        dist = packages.get(id(plugin))
        if dist is not None:
            version, origin = str(dist.version), f"package {dist.project_name}"
        else:
            version = str(getattr(plugin, "__version__", "") or "-")
            origin = "app setting PLUGINS"
        callers = manager.get_hookcallers(plugin) or []
        hooks = sorted(caller.name for caller in callers)
        found.append((name, version, origin, _where(plugin), hooks))
    return sorted(found)


def record(session: Session, plugin: str, hook: str, *, error: str = "",
           now: datetime | None = None) -> None:
    """Note one call of ``plugin``'s ``hook``: a failure (``error``) or a success. The caller
    commits."""
    now = now or utcnow()
    row = session.scalars(select(PluginHealth).where(col(PluginHealth.plugin) == plugin,
                                                     col(PluginHealth.hook) == hook)).first()
    if row is None:
        row = PluginHealth(plugin=plugin, hook=hook)
    if error:
        row.failures += 1
        row.last_error, row.last_failure_at = error[:2000], now
    else:
        row.failures, row.last_success_at = 0, now
    session.add(row)


def recorded_failures(session: Session | None) -> dict[str, list[Failure]]:
    """Hooks failing since their last success, by plugin."""
    if session is None:
        return {}
    rows = session.scalars(select(PluginHealth).where(col(PluginHealth.failures) > 0)
                           .order_by(col(PluginHealth.plugin), col(PluginHealth.hook))).all()
    found: dict[str, list[Failure]] = {}
    for row in rows:
        found.setdefault(row.plugin, []).append(
            Failure(row.hook, row.failures, row.last_error, row.last_failure_at))
    return found


def check(manager: pluggy.PluginManager, settings: Mapping[str, Any], timeout: float,
          session: Session | None = None, *,
          connectors: Mapping[str, Sequence[ConnectorHealth]] | None = None) -> list[PluginStatus]:
    """Every plugin with what its health hook answers now (each on its own, with the time
    limit: one that raises or hangs is down, with the error), its recorded failures and its
    service connectors' health (``connectors``: by plugin name)."""
    reports: dict[str, HealthReport] = {}
    for outcome in call_each(manager, "tongban_health", {"settings": dict(settings)}, timeout):
        if not outcome.ok:
            reports[outcome.plugin] = HealthReport("down", outcome.error, utcnow())
        elif isinstance(outcome.value, HealthReport):
            reports[outcome.plugin] = outcome.value
        elif outcome.value is not None:
            reports[outcome.plugin] = HealthReport(
                "down", f"the health hook returned {type(outcome.value).__name__}, "
                        "not a HealthReport", utcnow())
    failures = recorded_failures(session)
    by_plugin = connectors or {}
    return [PluginStatus(name, version, origin, location, hooks, reports.get(name),
                         failures.get(name, []), list(by_plugin.get(name, ())))
            for name, version, origin, location, hooks in inventory(manager)]
