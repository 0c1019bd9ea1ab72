"""Who looked: reads of an application and openings of its files, recorded as audit events and
listed per application for the citizen's "who looked at my data" page.

Only reads that were allowed are recorded. A refused read (404) shows nothing, and recording it
would let any visitor append to the audit chain, whose appends are serialised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session, col

from . import audit
from .models import Application, AuditEvent, SealedDocumentRecord, StoredUpload

APPLICATION_READ = "application.read"
FILE_OPEN = "file.open"


def record_application_read(session: Session, application: Application, *, page: str,
                            actor_id: int | None, actor_name: str,
                            request_id: str = "") -> AuditEvent:
    """Record that an application was shown, and on which page. The caller commits."""
    return audit.record(session, action=APPLICATION_READ, object_type="application",
                        object_id=application.reference, actor_id=actor_id,
                        actor_name=actor_name, after={"page": page}, request_id=request_id)


def record_document_open(session: Session, document: SealedDocumentRecord, *, reference: str,
                         actor_id: int | None, actor_name: str,
                         request_id: str = "") -> AuditEvent:
    """Record that a sealed decision document was downloaded. The caller commits."""
    return audit.record(session, action=FILE_OPEN, object_type="sealed_document",
                        object_id=document.code, actor_id=actor_id, actor_name=actor_name,
                        after={"application": reference, "document": document.purpose},
                        request_id=request_id)


def record_file_open(session: Session, upload: StoredUpload, *, actor_id: int | None,
                     actor_name: str, request_id: str = "") -> AuditEvent:
    """Record that an uploaded file was opened. The caller commits."""
    reference = None
    if upload.application_id is not None:
        reference = session.scalar(select(col(Application.reference))
                                   .where(col(Application.id) == upload.application_id))
    return audit.record(session, action=FILE_OPEN, object_type="file",
                        object_id=upload.public_id, actor_id=actor_id, actor_name=actor_name,
                        after={"application": reference, "question": upload.field_key},
                        request_id=request_id)


@dataclass(frozen=True)
class Look:
    """One read of an application or of one of its files."""

    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    action: str  # APPLICATION_READ or FILE_OPEN
    page: str | None  # for APPLICATION_READ: "review" or "confirmation"
    file_name: str | None  # for FILE_OPEN: the file's name as uploaded
    request_id: str


def looks_at(session: Session, application: Application) -> list[Look]:
    """Every recorded read of the application and of its files, oldest first."""
    files = {row.public_id: row.original_name for row in session.execute(
        select(col(StoredUpload.public_id), col(StoredUpload.original_name))
        .where(col(StoredUpload.application_id) == application.id))}
    conditions = [and_(col(AuditEvent.action) == APPLICATION_READ,
                       col(AuditEvent.object_type) == "application",
                       col(AuditEvent.object_id) == application.reference)]
    if files:
        conditions.append(and_(col(AuditEvent.action) == FILE_OPEN,
                               col(AuditEvent.object_type) == "file",
                               col(AuditEvent.object_id).in_(files)))
    events = session.scalars(select(AuditEvent).where(or_(*conditions))
                             .order_by(col(AuditEvent.seq)))
    return [Look(occurred_at=event.occurred_at, actor_id=event.actor_id,
                 actor_name=event.actor_name, action=event.action,
                 page=_detail(event.after, "page") if event.action == APPLICATION_READ else None,
                 file_name=files.get(event.object_id) if event.action == FILE_OPEN else None,
                 request_id=event.request_id)
            for event in events]


def _detail(after: dict[str, Any] | None, name: str) -> str | None:
    return None if after is None else after.get(name)
