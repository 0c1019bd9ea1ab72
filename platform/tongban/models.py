"""Tables of the platform. The schema is made by Alembic migrations from these models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timezone-aware UTC now; the columns store and return UTC on every database."""
    return datetime.now(UTC)


class _Row(Protocol):
    id: int | None


def saved_id(row: _Row) -> int:
    """The primary key of a row that is in the database. A row gets its id when it is flushed;
    code that needs the id of one not yet flushed has a bug, named here rather than passing None
    on into a foreign key."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush it before using its id")
    return row.id


class Role(enum.StrEnum):
    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"
    COUNTER_CLERK = "counter_clerk"
    REVIEWER = "reviewer"
    DEPARTMENT_ADMIN = "department_admin"
    PLATFORM_ADMIN = "platform_admin"


class Department(SQLModel, table=True):
    __tablename__ = "department"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name_zh: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="department.id", index=True)


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=150, unique=True)
    display_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    # Wrong passwords since the last right one: counted for the audit trail, never a lock
    # (throttling is by address and account, see web/ratelimits.py).
    failed_logins: int = Field(default=0)
    last_login_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A role held by a user, optionally within one department (and its sub-departments)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "role", "department_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=32)
    department_id: int | None = Field(default=None, foreign_key="department.id")


class DefinitionVersion(SQLModel, table=True):
    """One immutable published version of a service, form or rule definition."""

    __tablename__ = "definition_version"
    __table_args__ = (UniqueConstraint("kind", "code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    code: str = Field(max_length=100, index=True)
    version: int
    content_hash: str = Field(max_length=64)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    source_path: str = Field(max_length=500)
    author: str = Field(max_length=150)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)


class AuditHead(SQLModel, table=True):
    """Single row holding the chain's tip; updating it first serialises appends."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0)
    last_hash: str = Field(default="", max_length=64)


class AuditEvent(SQLModel, table=True):
    """Append-only audit trail; each row carries the hash of the row before it."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),)

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)
    occurred_at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = Field(default=None)
    actor_name: str = Field(max_length=150)
    action: str = Field(max_length=64)
    object_type: str = Field(max_length=64)
    object_id: str = Field(max_length=100)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    request_id: str = Field(default="", max_length=64)
    prev_hash: str = Field(max_length=64)
    row_hash: str = Field(max_length=64)


class Draft(SQLModel, table=True):
    """Answers in progress, saved page by page, pinned to the versions it started on."""

    __tablename__ = "draft"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    clerk_id: int | None = Field(default=None, foreign_key="user_account.id")
    service_code: str = Field(max_length=100)
    service_version_id: int = Field(foreign_key="definition_version.id")
    form_version_id: int = Field(foreign_key="definition_version.id")
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    visited_pages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    submit_key: str = Field(max_length=64)
    status: str = Field(default="open", max_length=16)  # open | submitted
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Application(SQLModel, table=True):
    """A submitted application (申请/办件): answers frozen with the exact versions used."""

    __tablename__ = "application"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=32, unique=True)
    idempotency_key: str = Field(max_length=64, unique=True)
    draft_id: int | None = Field(default=None, foreign_key="draft.id", unique=True)
    service_code: str = Field(max_length=100, index=True)
    service_version_id: int = Field(foreign_key="definition_version.id")
    form_version_id: int = Field(foreign_key="definition_version.id")
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="submitted", max_length=32)
    submitter_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    clerk_id: int | None = Field(default=None, foreign_key="user_account.id")
    department_code: str = Field(max_length=64, index=True)
    submitted_at: datetime = Field(default_factory=utcnow)


class StoredUpload(SQLModel, table=True):
    """An uploaded file: stored outside static/ under a random name, with its hash."""

    __tablename__ = "stored_upload"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=64, unique=True)
    draft_id: int | None = Field(default=None, foreign_key="draft.id", index=True)
    application_id: int | None = Field(default=None, foreign_key="application.id", index=True)
    field_key: str = Field(max_length=200)
    stored_name: str = Field(max_length=200)
    original_name: str = Field(max_length=255)
    size: int
    sha256: str = Field(max_length=64)
    mime: str = Field(max_length=100)
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    # The client address of the upload: what visitors who are not signed in stored from one
    # address in a day is capped (UPLOAD_MAX_BYTES_PER_ADDRESS_PER_DAY).
    uploaded_from: str | None = Field(default=None, max_length=45, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class WebSession(SQLModel, table=True):
    """A browser's server-side session. The cookie holds a random id; this table holds only its
    SHA-256, so a read of the table does not give anyone a session to replay."""

    __tablename__ = "web_session"

    id_hash: str = Field(max_length=64, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    data: str = Field(sa_column=Column(Text, nullable=False))  # Flask's tagged JSON
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
