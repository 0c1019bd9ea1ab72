"""What the service's registers know of a signed-in person, for the pre-check: the service's
prefill queries asked with the account's ID number. Nothing is kept (no draft exists yet);
each call is audited like a prefill (who asked, about whom, with what result)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from .. import audit, db
from ..connectors.calls import DEFAULT_TIMEOUT, source_names
from ..connectors.prefill import prefill_queries
from ..connectors.registry import ConnectorRegistry
from ..plugin_api import ConnectorError


@dataclass(frozen=True)
class RegisterValues:
    """Field path -> a register's value, and the source (``{"zh", "en"}``) of each."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Mapping[str, str]] = field(default_factory=dict)
    failed: tuple[Mapping[str, str], ...] = ()  # the sources that could not be asked


def register_values(session: Session, connectors: ConnectorRegistry,
                    service: Mapping[str, Any], id_number: str | None, *,
                    actor_id: int | None, actor_name: str,
                    request_id: str = "") -> RegisterValues:
    """Ask each prefill query whose parameters are all the ID number; commits on
    ``session`` (one audit event per query asked)."""
    if not id_number:
        return RegisterValues()
    values: dict[str, Any] = {}
    sources: dict[str, Mapping[str, str]] = {}
    failed: list[Mapping[str, str]] = []
    for name, query_id, query in prefill_queries(service):
        params = query.get("params") or {}
        if not params:
            continue
        block = service["connectors"][name]
        source = source_names(block)
        started = time.monotonic()
        status, error = "none", ""
        try:
            rows = connectors.connector(service["code"], name, block).fetch(
                query_id, query, {param: id_number for param in params},
                timeout=float(block["options"].get("timeout", DEFAULT_TIMEOUT))).rows
        except ConnectorError as exc:
            rows, status, error = [], "unverified", str(exc)[:200]
        except Exception as exc:  # noqa: BLE001 - a plugin's bug fails soft, as in prefill
            rows, status, error = [], "unverified", f"{type(exc).__name__}: {exc}"[:200]
        if status == "unverified":
            failed.append(source)
        elif rows:
            status = "ok"
            for column, path in (query.get("fields") or {}).items():
                if rows[0].get(column) is not None:
                    values[path] = rows[0][column]
                    sources[path] = source
        with db.unit_of_work(session) as tx:
            audit.record(tx, action="connector.precheck", object_type="service",
                         object_id=service["code"], actor_id=actor_id, actor_name=actor_name,
                         request_id=request_id,
                         after={"service": service["code"], "connector": name,
                                "query": query_id, "person": id_number[:64], "status": status,
                                "ms": round((time.monotonic() - started) * 1000),
                                **({"error": error} if error else {})})
    return RegisterValues(values, sources, tuple(failed))
