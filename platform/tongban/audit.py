"""The audit trail: append an event inside the caller's transaction; verify the hash chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from .models import AuditEvent, AuditHead, utcnow


def _row_digest(event: AuditEvent) -> str:
    payload = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(session: Session, *, action: str, object_type: str, object_id: Any,
           actor_id: int | None = None, actor_name: str = "system",
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           request_id: str = "") -> AuditEvent:
    """Append one event. Commits nothing: it belongs to the caller's transaction."""
    session.flush()
    # Bumping the head row takes a row lock (PostgreSQL) / the write lock (SQLite), so two
    # concurrent transactions can never both extend the chain from the same tip.
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(last_seq=AuditHead.last_seq + 1))
    head = session.execute(select(AuditHead.last_seq, AuditHead.last_hash)
                           .where(AuditHead.id == 1)).one()
    event = AuditEvent(
        seq=head.last_seq, occurred_at=utcnow(), actor_id=actor_id, actor_name=actor_name,
        action=action, object_type=object_type, object_id=str(object_id),
        before=before, after=after, request_id=request_id, prev_hash=head.last_hash,
        row_hash="",
    )
    event.row_hash = _row_digest(event)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(last_hash=event.row_hash))
    return event


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(session: Session) -> ChainReport:
    """Walk the chain in order and report the first row that does not fit."""
    prev_hash, expected_seq, checked = "", 1, 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)):
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"row {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.seq, "its link to the previous row is broken")
        if _row_digest(event) != event.row_hash:
            return ChainReport(checked, event.seq, "its content was changed after it was written")
        prev_hash, expected_seq, checked = event.row_hash, expected_seq + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq != checked or head.last_hash != prev_hash):
        return ChainReport(checked, checked + 1, "rows at the end of the chain are missing")
    return ChainReport(checked)
