"""The outbox worker: makes the calls of ``service`` nodes after the transaction that queued
them committed, never inside a user's request.

One row at a time: a short transaction claims a due row (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the write lock on SQLite) by counting the attempt and pushing ``next_attempt_at``
out by a lease; the hook runs with no transaction open; a second transaction marks the row
and tells the engine (``service_done`` / ``service_failed``). A worker that dies between the
two leaves the row pending: it is due again when the lease runs out. Retries follow the
node's ``retries`` and ``backoff_seconds`` (doubling); when they are spent the row is
``failed`` (an incident on /admin/incidents) and the engine takes the node's fallback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from .. import db, leases
from ..models import FlowOutbox, saved_id, utcnow
from . import hooks, runtime
from .errors import FlowError, Stale

LEASE = timedelta(minutes=5)
FINISH_TRIES = 3
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_SECONDS = 60
log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Claim:
    row_id: int
    hook: str
    payload: dict[str, Any]
    attempt: int
    lease_until: datetime


@dataclass(frozen=True)
class Outcome:
    row_id: int
    state: str  # pending (will retry) | done | failed | cancelled | lost
    attempt: int
    error: str = ""


def claim_next(session: Session, now: datetime, lease: timedelta = LEASE) -> Claim | None:
    """Take the oldest due pending row, count the attempt and lease it; the caller commits."""
    row = leases.claim(session, leases.oldest_pending(FlowOutbox, now), now, lease)
    if row is None:
        return None
    return Claim(saved_id(row), row.hook, dict(row.payload), row.attempts, row.next_attempt_at)


def _policy(session: Session, row: FlowOutbox) -> tuple[int, int]:
    """(retries, backoff seconds) of the row's node, from its pinned flow."""
    retries, backoff = DEFAULT_RETRIES, DEFAULT_BACKOFF_SECONDS
    if row.instance_id is not None:
        loaded = runtime.load_instance(session, row.instance_id)
        if loaded.instance.flow_version_id is not None:
            flow = runtime.flow_for(session, loaded.instance.flow_version_id)
            node = flow.nodes.get(row.node)
            if node is not None:  # a migration may have renamed it: the defaults apply
                retries, backoff = node.retries, node.backoff_seconds
    return retries, backoff


def call_hook(claim: Claim) -> tuple[bool, dict[str, Any], str]:
    """Run the hook with no transaction open; any exception is a failed attempt."""
    try:
        result = hooks.get(claim.hook)(claim.payload)
    except Exception as exc:  # a hook's failure, whatever it is, is recorded and retried
        return False, {}, f"{type(exc).__name__}: {exc}"[:2000]
    return True, dict(result or {}), ""


def finish(session: Session, claim: Claim, ok: bool, result: dict[str, Any], error: str,
           now: datetime) -> Outcome:
    """Record one attempt's outcome and tell the engine; the caller commits."""
    row = leases.relock(session, FlowOutbox, claim.row_id)
    if row.state != "pending" or row.next_attempt_at != claim.lease_until:
        # Withdrawn meanwhile, or the lease ran out and another worker holds the row now.
        return Outcome(claim.row_id, "lost" if row.state == "pending" else row.state,
                       claim.attempt)
    if ok:
        row.state, row.result, row.done_at, row.last_error = "done", result, now, ""
        session.add(row)
        try:
            runtime.service_result(session, row, ok=True, result=result, now=now)
        except Stale:
            raise
        except FlowError as exc:  # the node no longer waits (withdrawn, repaired)
            return _cancel(session, row, claim, exc)
        return Outcome(claim.row_id, "done", claim.attempt)
    retries, backoff = _policy(session, row)
    final = claim.attempt > retries
    row.last_error = error
    if final:
        row.state, row.done_at = "failed", now
    else:
        row.next_attempt_at = now + timedelta(seconds=backoff * 2 ** (claim.attempt - 1))
    session.add(row)
    try:
        runtime.service_result(session, row, ok=False, error=error, final=final, now=now)
    except Stale:
        raise
    except FlowError as exc:
        return _cancel(session, row, claim, exc)
    return Outcome(claim.row_id, "failed" if final else "pending", claim.attempt, error)


def _cancel(session: Session, row: FlowOutbox, claim: Claim, exc: FlowError) -> Outcome:
    # The engine refused before changing anything: the row alone records why it stops.
    row.state, row.result, row.done_at = "cancelled", None, None
    row.last_error = exc.text()[:2000]
    session.add(row)
    return Outcome(claim.row_id, "cancelled", claim.attempt, exc.text())


def run_one(target: Engine | db.SessionFactory, now: datetime | None = None,
            lease: timedelta = LEASE) -> Outcome | None:
    """Claim, call and finish one due row; None when nothing is due."""
    factory = db.session_factory(target)
    with factory() as session:
        with db.unit_of_work(session):
            claim = claim_next(session, now or utcnow(), lease)
        if claim is None:
            return None
        ok, result, error = call_hook(claim)
        for retry in range(FINISH_TRIES):
            try:  # a virtual clock stands still; the real one moved on during the call
                with db.unit_of_work(session):
                    outcome = finish(session, claim, ok, result, error, now or utcnow())
                break
            except Stale:  # a person acted on the instance meanwhile: record it again
                if retry == FINISH_TRIES - 1:
                    raise
    if outcome.state in ("failed", "pending") and outcome.error:
        log.warning("service call %s (%s) attempt %s failed: %s", claim.row_id, claim.hook,
                    claim.attempt, outcome.error)
    return outcome


def run_due(target: Engine | db.SessionFactory, now: datetime | None = None, *,
            limit: int = 100, lease: timedelta = LEASE) -> list[Outcome]:
    """Work through the rows due at ``now``, one at a time, up to ``limit``."""
    outcomes: list[Outcome] = []
    while len(outcomes) < limit:
        outcome = run_one(target, now, lease)
        if outcome is None:
            break
        outcomes.append(outcome)
    return outcomes
