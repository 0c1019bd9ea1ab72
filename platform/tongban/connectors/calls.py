"""One connector query for a draft or an application: parameters taken from the answers and
bound by name, the source asked outside any database transaction, the answer (or the failure)
kept with its provenance, and the call audited (who, why, which person). A repeat with the
same parameters reads the kept answer; a failed call is tried again on a request after the
registry's ``retry_seconds``."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit, db
from ..models import ConnectorResult, utcnow
from ..plugin_api import ConnectorError
from .registry import ConnectorRegistry

DEFAULT_TIMEOUT = 5.0
Purpose = Literal["prefill", "verify"]


@dataclass(frozen=True)
class Owner:
    """Whose call it is: a draft (prefill) or an application (verification)."""

    draft_id: int | None = None
    application_id: int | None = None

    def where(self) -> list[Any]:
        if self.application_id is not None:
            return [col(ConnectorResult.application_id) == self.application_id]
        return [col(ConnectorResult.draft_id) == self.draft_id]

    @property
    def kind(self) -> str:
        return "application" if self.application_id is not None else "draft"

    @property
    def id(self) -> int | None:
        return self.application_id if self.application_id is not None else self.draft_id


@dataclass(frozen=True)
class Outcome:
    """``status``: ok, none (the source has no record), unverified (the source failed: "could
    not be verified"), missing (an answer the query needs is empty: not asked)."""

    connector: str
    query_id: str
    status: str
    values: dict[str, Any] = field(default_factory=dict)   # form field path -> source's value
    source: dict[str, str] = field(default_factory=dict)   # {"zh": ..., "en": ...}
    fetched_at: datetime | None = None
    cached: bool = False


def answer_at(answers: Any, path: str) -> Any:
    node = answers
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _params(query: Mapping[str, Any], answers: Any) -> dict[str, Any] | None:
    values = {}
    for name, path in (query.get("params") or {}).items():
        value = answer_at(answers, path)
        if value is None or value == "":
            return None
        values[name] = value
    return values


def _hash(params: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()


def source_names(block: Mapping[str, Any]) -> dict[str, str]:
    department = block.get("options", {}).get("department")
    if isinstance(department, Mapping):
        return {"zh": str(department.get("zh", "")), "en": str(department.get("en", ""))}
    return {"zh": block["type"], "en": block["type"]}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _outcome(row: ConnectorResult, block: Mapping[str, Any], cached: bool) -> Outcome:
    return Outcome(row.connector, row.query_id, row.status, dict(row.values or {}),
                   source_names(block), row.fetched_at, cached)


def latest(session: Session, owner: Owner, connector: str, query_id: str) -> ConnectorResult | None:
    return session.scalars(select(ConnectorResult).where(
        *owner.where(), col(ConnectorResult.connector) == connector,
        col(ConnectorResult.query_id) == query_id).order_by(col(ConnectorResult.id).desc())).first()


def verified_values(session: Session, owner: Owner, service: Mapping[str, Any],
                    answers: Any) -> dict[str, Any]:
    """Question key -> the value a source gave for it: for each of the service's queries, the
    owner's kept answer for the parameters ``answers`` give now (an answer kept for another
    person, a failed call or one without a record gives nothing). What the points integrity
    check compares the submitted answers with."""
    found: dict[str, Any] = {}
    for name, block in (service.get("connectors") or {}).items():
        for query_id, query in block["queries"].items():
            params = _params(query, answers)
            kept = latest(session, owner, name, query_id) if params is not None else None
            if kept is None or kept.status != "ok" or kept.params_hash != _hash(params or {}):
                continue
            found.update({key: value for key, value in (kept.values or {}).items()
                          if value is not None})
    return found


def run_query(session: Session, connectors: ConnectorRegistry, service: Mapping[str, Any],
              connector: str, query_id: str, answers: Any, *, owner: Owner, purpose: Purpose,
              actor_id: int | None, actor_name: str, request_id: str = "",
              refresh: bool = False) -> Outcome:
    """Ask ``service``'s connector ``connector`` the query ``query_id`` about ``answers``.

    Commits on ``session``: call it outside a unit of work (the source is asked with no
    transaction open, so a slow source holds no lock of ours)."""
    block = service["connectors"][connector]
    query = block["queries"][query_id]
    params = _params(query, answers)
    if params is None:
        return Outcome(connector, query_id, "missing", source=source_names(block))
    digest = _hash(params)
    kept = latest(session, owner, connector, query_id)
    if kept is not None and kept.params_hash == digest and not refresh and (
            kept.status != "unverified"
            or utcnow() - _aware(kept.checked_at) < timedelta(seconds=connectors.retry_seconds)):
        return _outcome(kept, block, cached=True)
    if session.in_transaction():
        session.commit()  # no snapshot or lock held while the other system answers

    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    error: ConnectorError | None = None
    timeout = float(block["options"].get("timeout", DEFAULT_TIMEOUT))
    try:
        result = connectors.connector(service["code"], connector, block).fetch(
            query_id, query, params, timeout=timeout)
        rows = result.rows
    except ConnectorError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - a plugin's bug fails soft and shows in health
        error = ConnectorError(f"{type(exc).__name__}: {exc}", transient=False)
    elapsed_ms = round((time.monotonic() - started) * 1000)

    now = utcnow()
    if error is not None:
        status, values = "unverified", None
    elif not rows:
        status, values = "none", {}
    else:
        first = rows[0]
        status = "ok"
        values = {path: first.get(column) for column, path in (query.get("fields") or {}).items()}
    person = str(next(iter(params.values()), ""))[:64]
    with db.unit_of_work(session) as tx:
        row = kept if kept is not None and kept.params_hash == digest else None
        if row is None:
            row = ConnectorResult(draft_id=owner.draft_id, application_id=owner.application_id,
                                  service_code=service["code"], connector=connector,
                                  query_id=query_id, purpose=purpose, person=person,
                                  params_hash=digest, status=status, attempts=0)
        else:
            row = tx.merge(row)
        row.status, row.purpose, row.attempts, row.checked_at = status, purpose, row.attempts + 1, now
        if error is None:
            row.values, row.fetched_at, row.error, row.transient = values, now, "", True
            row.source = source_names(block)["zh"][:200]
        else:
            row.error, row.transient = str(error)[:500], error.transient
        tx.add(row)
        audit.record(tx, action=f"connector.{purpose}", object_type=owner.kind,
                     object_id=owner.id, actor_id=actor_id, actor_name=actor_name,
                     request_id=request_id,
                     after={"service": service["code"], "connector": connector,
                            "query": query_id, "person": person, "status": status,
                            "ms": elapsed_ms, **({"error": str(error)[:200],
                                                  "transient": error.transient}
                                                 if error is not None else {})})
    return _outcome(row, block, cached=False)
