"""Tables of the platform. The schema is made by Alembic migrations from these models."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, CheckConstraint, Column, Index, Integer, Text, UniqueConstraint, text
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


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


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
    # The 6-digit administrative code of the district a district office serves (flows route
    # to "the district of the applicant's address" by it).
    region: str | None = Field(default=None, max_length=6)


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
    # Set by an administrator's reset (the password is a one-time one) and by the rotation
    # policy: the next sign-in asks for a new password before anything else.
    must_change_password: bool = Field(default=False)
    password_changed_at: datetime | None = Field(default=None)
    # TOTP (RFC 6238) second factor: the base32 secret once enrolment is confirmed, and the
    # last time step accepted (a code is good once: a replayed one is refused).
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled_at: datetime | None = Field(default=None)
    totp_last_step: int | None = Field(default=None)
    # Where notifications reach the person besides the site inbox (tongban.notify): email
    # and SMS go only to an account that has an address or a number; language zh or en.
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    language: str | None = Field(default=None, max_length=8)
    # The person's own choice (/my/settings): an address or number given may still be kept
    # out of notifications. Site messages are always on.
    notify_email: bool = Field(default=True)
    notify_sms: bool = Field(default=True)
    # The person's citizen ID number once it has been verified, and how (docs/counter.md):
    # applications a counter clerk made for that person show in their /my. Unverified
    # numbers are never stored here.
    id_number: str | None = Field(default=None, max_length=18, unique=True)
    id_verified_by: str | None = Field(default=None, max_length=64)
    id_verified_at: datetime | None = Field(default=None)


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
    # From when a new application starts on this version (None: at once); an application
    # started earlier keeps the version it started on (docs/console.md).
    effective_from: datetime | None = Field(default=None)


class AuditHead(SQLModel, table=True):
    """Single row holding the chain's tip; updating it first serialises appends."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    last_seq: int = Field(default=0)
    last_hash: str = Field(default="", max_length=64)


class AuditEvent(SQLModel, table=True):
    """Append-only audit trail; each row carries the hash of the row before it."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_object", "object_type", "object_id"),
                      Index("ix_audit_event_actor", "actor_id"))

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


PERSON_KINDS = ("person", "enterprise")


class Person(SQLModel, table=True):
    """An applicant served at the counter (docs/counter.md): a person by citizen ID number or
    an enterprise by USCC, not necessarily an account. ``verified_by`` names the register that
    confirmed the name (and ``verified_at`` when); both None: the clerk typed it, unverified."""

    __tablename__ = "person"
    __table_args__ = (_one_of("kind", PERSON_KINDS, "ck_person_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=16)
    id_number: str = Field(max_length=18, unique=True)
    name: str = Field(max_length=200)
    verified_by: str | None = Field(default=None, max_length=200)
    verified_at: datetime | None = Field(default=None)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class Mandate(SQLModel, table=True):
    """代办: a person (``principal_id``) authorises another (``agent_id``) to apply for the
    services ``services`` names (codes) until ``expires_on``, on the evidence of a signed
    power of attorney kept as the principal's material (docs/counter.md)."""

    __tablename__ = "mandate"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=64, unique=True)
    principal_id: int = Field(foreign_key="person.id", index=True)
    agent_id: int = Field(foreign_key="person.id", index=True)
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    expires_on: date
    # The power of attorney: the public id of the principal's material (not a foreign key:
    # material -> application -> mandate would make a cycle of tables).
    evidence: str = Field(max_length=64)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    # Revoked before its end date, by the principal online or a clerk at the counter
    # (``revoked_via``: online / counter), with the reason; from then on refused like an
    # expired one.
    revoked_at: datetime | None = Field(default=None)
    revoked_by: int | None = Field(default=None, foreign_key="user_account.id")
    revoked_via: str | None = Field(default=None, max_length=16)
    revoked_reason: str | None = Field(default=None, max_length=500)


class Draft(SQLModel, table=True):
    """Answers in progress, saved page by page, pinned to the versions it started on."""

    __tablename__ = "draft"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    clerk_id: int | None = Field(default=None, foreign_key="user_account.id")
    # The applicant a counter clerk serves (docs/counter.md); None for one's own draft.
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    mandate_id: int | None = Field(default=None, foreign_key="mandate.id")  # an agent's draft
    service_code: str = Field(max_length=100)
    service_version_id: int = Field(foreign_key="definition_version.id")
    form_version_id: int = Field(foreign_key="definition_version.id")
    flow_version_id: int | None = Field(default=None, foreign_key="definition_version.id")
    rules_version_id: int | None = Field(default=None, foreign_key="definition_version.id")
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    visited_pages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # A clerk's draft: the service's required materials the clerk marked 容缺 at the materials
    # check (codes); their questions do not block the submit (docs/counter-intake.md).
    deferred_materials: list[str] = Field(default_factory=list,
                                          sa_column=Column(JSON, nullable=False))
    submit_key: str = Field(max_length=64)
    status: str = Field(default="open", max_length=16)  # open | submitted
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Application(SQLModel, table=True):
    """A submitted application (申请/办件): answers frozen with the exact versions used."""

    __tablename__ = "application"
    __table_args__ = (CheckConstraint(
        "status IN ('draft', 'submitted', 'correction_requested', 'accepted', 'in_progress', "
        "'publicizing', 'waiting_external', 'returned', 'approved', 'rejected', 'withdrawn', "
        "'abandoned', 'completed', 'result_held', 'revoked')", name="ck_application_status"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=32, unique=True)
    idempotency_key: str = Field(max_length=64, unique=True)
    draft_id: int | None = Field(default=None, foreign_key="draft.id", unique=True)
    service_code: str = Field(max_length=100, index=True)
    service_version_id: int = Field(foreign_key="definition_version.id")
    form_version_id: int = Field(foreign_key="definition_version.id")
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Taken in at a counter with required materials marked 容缺 and not given (codes of the
    # service's materials): the clerk's 容缺受理 names them.
    outstanding_materials: list[str] = Field(default_factory=list,
                                             sa_column=Column(JSON, nullable=False))
    status: str = Field(default="submitted", max_length=32)
    flow_version_id: int | None = Field(default=None, foreign_key="definition_version.id")
    rules_version_id: int | None = Field(default=None, foreign_key="definition_version.id")
    answers_version: int = Field(default=1)
    submitter_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    clerk_id: int | None = Field(default=None, foreign_key="user_account.id")
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    mandate_id: int | None = Field(default=None, foreign_key="mandate.id")
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
    # A question that names a material type: where the library's copy went when the file was
    # uploaded (it becomes the applicant's material at submit), or the stored material the
    # applicant chose instead of uploading (then there is no file under stored_name).
    storage: str | None = Field(default=None, max_length=32)
    storage_key: str | None = Field(default=None, max_length=200)
    material_id: int | None = Field(default=None, foreign_key="material.id", index=True)


# --- The material library (电子材料库, docs/materials.md). -------------------------------------
MATERIAL_SOURCES = ("uploaded", "e_licence", "decision")
TRUST_LEVELS = ("A", "B", "C", "D")


class Material(SQLModel, table=True):
    """A document a person or enterprise handed in once, kept for reuse: whose it is (``owner``,
    an ID number or a USCC), its type from the catalogue, where its bytes are (``storage`` and
    ``storage_key`` through the material-storage hook), its issue and expiry dates, how it came
    (``source``) and how far it can be trusted (``trust_level``, the national A-D scale)."""

    __tablename__ = "material"
    __table_args__ = (
        _one_of("source", MATERIAL_SOURCES, "ck_material_source"),
        _one_of("trust_level", TRUST_LEVELS, "ck_material_trust_level"),
        Index("ix_material_owner_type", "owner", "type_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=64, unique=True)
    owner: str = Field(max_length=18)
    owner_kind: str = Field(max_length=16)   # person | enterprise
    type_code: str = Field(max_length=64)
    sha256: str = Field(max_length=64)
    size: int
    mime: str = Field(max_length=100)        # sniffed from the content, never the name
    original_name: str = Field(max_length=255)
    storage: str = Field(max_length=32)
    storage_key: str = Field(max_length=200)
    issuer: str = Field(default="", max_length=200)
    issued_on: date | None = Field(default=None)
    expires_on: date | None = Field(default=None)
    source: str = Field(max_length=16)
    trust_level: str = Field(max_length=1)
    application_id: int | None = Field(default=None, foreign_key="application.id", index=True)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
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


# --- The flow engine's runtime (see docs/flows.md). -------------------------------------------
# Application and instance statuses: the C7 vocabulary, enforced by a CHECK constraint.
APPLICATION_STATUSES = ("draft", "submitted", "correction_requested", "accepted", "in_progress",
                        "publicizing", "waiting_external", "returned", "approved", "rejected",
                        "withdrawn", "abandoned", "completed",
                        # 容缺受理: an approving end waits for the promised material (0026);
                        # an approval revoked for a broken 告知承诺.
                        "result_held", "revoked")
TASK_STATES = ("open", "claimed", "done", "cancelled", "transferred", "expired")
TOKEN_STATES = ("active", "waiting", "done", "cancelled")
OUTBOX_STATES = ("pending", "done", "failed", "cancelled")
DEADLINE_STATES = ("running", "paused", "done", "cancelled")
DEADLINE_UNITS = ("working_days", "natural_days", "hours", "working_hours")
TIMER_STATES = ("pending", "claimed", "done", "cancelled", "failed")


def _version_column() -> Column[int]:
    """The optimistic-lock counter: SQLAlchemy's ``version_id_col`` must be given the column
    itself (a name is not enough), so each table makes its own before its mapper is set up."""
    return Column("version", Integer, nullable=False, default=1)


_INSTANCE_VERSION = _version_column()
_TASK_VERSION = _version_column()


class FlowInstance(SQLModel, table=True):
    """One run of a pinned flow version for one application. ``version`` is SQLAlchemy's
    optimistic-lock column: a transition that read a stale instance fails instead of doubling."""

    __tablename__ = "flow_instance"
    __table_args__ = (_one_of("status", APPLICATION_STATUSES, "ck_flow_instance_status"),)
    __mapper_args__ = {"version_id_col": _INSTANCE_VERSION}  # noqa: RUF012 - mapper config

    id: int | None = Field(default=None, primary_key=True)
    application_id: int | None = Field(default=None, foreign_key="application.id", unique=True)
    flow_code: str = Field(max_length=100)
    flow_version_id: int | None = Field(default=None, foreign_key="definition_version.id")
    status: str = Field(default="submitted", max_length=32)
    outcome: str | None = Field(default=None, max_length=32)  # set when an end node is reached
    applicant_id: int | None = Field(default=None, foreign_key="user_account.id")
    clerk_id: int | None = Field(default=None, foreign_key="user_account.id")
    department_code: str = Field(default="", max_length=64)
    # Engine bookkeeping that grows with the run, never with the definition: the trail of
    # finished nodes, chosen approvers, the open correction request, a pending straight-back.
    vars: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    next_seq: int = Field(default=1)  # per-instance numbering of tokens, tasks and events
    clock_paused: bool = Field(default=False)
    overdue: bool = Field(default=False)
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = Field(default=None)
    version: int = Field(default=1, sa_column=_INSTANCE_VERSION)


class FlowToken(SQLModel, table=True):
    """A position in the flow: where an instance stands (one per parallel branch)."""

    __tablename__ = "flow_token"
    __table_args__ = (UniqueConstraint("instance_id", "seq"),
                      _one_of("state", TOKEN_STATES, "ck_flow_token_state"))

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int | None = Field(default=None, foreign_key="flow_instance.id", index=True)
    seq: int
    node: str = Field(max_length=100)
    state: str = Field(default="active", max_length=16)
    split_seq: int | None = Field(default=None)  # the token that split, for its join
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    arrived_at: datetime = Field(default_factory=utcnow)
    left_at: datetime | None = Field(default=None)


_GROUP_OPEN = text("state = 'open' AND assignee_id IS NULL AND kind <> 'cc'")
"""The partial group indexes' predicate (``workflow.inbox`` writes these constants into its
queries so that the databases can use them)."""


class FlowTask(SQLModel, table=True):
    """A piece of human work: offered to one user (``assignee_id``) or to a candidate group
    (role within a department, claimed by one member)."""

    __tablename__ = "flow_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "seq"),
        _one_of("state", TASK_STATES, "ck_flow_task_state"),
        # The inbox: my open tasks by due date.
        Index("ix_flow_task_assignee_open", "assignee_id", "state", "due_at"),
        Index("ix_flow_task_done_by", "done_by", "done_at"),  # the inbox: done by me
        # The inbox: my groups' unclaimed tasks in the list's order, per (department, role)
        # for narrow memberships, per role (department checked in the index) for wide ones.
        Index("ix_flow_task_group_due", "candidate_department", "candidate_role", "due_at",
              "created_at", "id", postgresql_where=_GROUP_OPEN, sqlite_where=_GROUP_OPEN),
        Index("ix_flow_task_group_role_due", "candidate_role", "due_at", "created_at", "id",
              "candidate_department", postgresql_where=_GROUP_OPEN, sqlite_where=_GROUP_OPEN),
    )
    __mapper_args__ = {"version_id_col": _TASK_VERSION}  # noqa: RUF012 - mapper config

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int | None = Field(default=None, foreign_key="flow_instance.id", index=True)
    seq: int
    token_seq: int
    node: str = Field(max_length=100)
    kind: str = Field(default="approve", max_length=16)  # approve | intake | vote | sign | data
    state: str = Field(default="open", max_length=16)
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id")
    candidate_role: str | None = Field(default=None, max_length=32)
    candidate_department: str | None = Field(default=None, max_length=64)
    on_behalf_of: int | None = Field(default=None, foreign_key="user_account.id")  # 代 X 审批
    position: int = Field(default=0)  # order within a sequential (依次) node
    outcome: str | None = Field(default=None, max_length=32)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    added_by: int | None = Field(default=None, foreign_key="user_account.id")  # 加签
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = Field(default=None)
    done_at: datetime | None = Field(default=None)
    done_by: int | None = Field(default=None, foreign_key="user_account.id")
    due_at: datetime | None = Field(default=None)
    version: int = Field(default=1, sa_column=_TASK_VERSION)


class FlowEvent(SQLModel, table=True):
    """The instance's history: every step, operation and comment, in order. The timeline pages
    and the test bench's trace read it; each row is also written to the audit chain."""

    __tablename__ = "flow_event"
    __table_args__ = (
        UniqueConstraint("instance_id", "seq"),
        # The dashboards: events of one type (corrections, returns) in a time range.
        Index("ix_flow_event_type_at", "type", "at", "instance_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int | None = Field(default=None, foreign_key="flow_instance.id", index=True)
    seq: int
    at: datetime = Field(default_factory=utcnow)
    type: str = Field(max_length=48)
    node: str | None = Field(default=None, max_length=100)
    task_seq: int | None = Field(default=None)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    on_behalf_of: int | None = Field(default=None, foreign_key="user_account.id")
    status: str = Field(max_length=32)  # the application status after the event
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FlowOutbox(SQLModel, table=True):
    """A call a ``service`` node makes, done by the worker after the transaction commits,
    never inside a user's request. A row that spends its retries is an incident."""

    __tablename__ = "flow_outbox"
    __table_args__ = (_one_of("state", OUTBOX_STATES, "ck_flow_outbox_state"),
                      Index("ix_flow_outbox_due", "state", "next_attempt_at"))

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int | None = Field(default=None, foreign_key="flow_instance.id", index=True)
    token_seq: int
    node: str = Field(max_length=100)
    hook: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = Field(default=None)


class FlowMessage(SQLModel, table=True):
    """A message from another system for a ``wait`` node; a second delivery with the same key
    is refused by the unique constraint, counted and audited."""

    __tablename__ = "flow_message"
    __table_args__ = (UniqueConstraint("instance_id", "name", "message_key"),)

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int = Field(foreign_key="flow_instance.id", index=True)
    name: str = Field(max_length=100)
    message_key: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    sender: str = Field(max_length=150)
    received_at: datetime = Field(default_factory=utcnow)
    duplicates: int = Field(default=0)


class Delegation(SQLModel, table=True):
    """While away: tasks created for ``user_id`` inside [starts_at, ends_at) go to the delegate."""

    __tablename__ = "flow_delegation"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ck_flow_delegation_window"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    delegate_id: int = Field(foreign_key="user_account.id")
    starts_at: datetime
    ends_at: datetime
    cancelled: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class AnswerVersion(SQLModel, table=True):
    """Earlier answers of an application, kept when a correction or a resubmission replaces
    them (``Application.answers`` holds the current ones)."""

    __tablename__ = "answer_version"
    __table_args__ = (UniqueConstraint("application_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    number: int
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=32)  # correction | resubmission
    created_at: datetime = Field(default_factory=utcnow)


class FlowDeadline(SQLModel, table=True):
    """One running clock of an instance: a task's (``scope`` "task", the node's ``deadline:``) or
    the application's (``scope`` "application": a statutory period such as the licence decision's
    20 working days). Numbered per instance like tokens and tasks (``seq``), so the engine refers
    to it without a database id.

    The clock: ``started_at`` (moved by a restart, 补正 received) and ``amount`` ``unit`` plus
    ``extended`` (approved extensions, at most ``extension_limit``) give ``due_at``. A pause
    (时间不计入: hearing, inspection, expert review) sets ``paused_at`` and clears ``due_at``;
    ``elapsed`` keeps what was used before the pause (working days for day units, seconds for hour
    units) and ``segment_start`` when the clock last started running (C4: on resume the due date
    is the resume day + what is left)."""

    __tablename__ = "flow_deadline"
    __table_args__ = (
        UniqueConstraint("instance_id", "seq"),
        _one_of("state", DEADLINE_STATES, "ck_flow_deadline_state"),
        _one_of("unit", DEADLINE_UNITS, "ck_flow_deadline_unit"),
        CheckConstraint("amount > 0", name="ck_flow_deadline_amount"),
        Index("ix_flow_deadline_running_due", "state", "due_at"),
        # The dashboards: statutory clocks that ended in a time range.
        Index("ix_flow_deadline_closed", "scope", "state", "ended_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int | None = Field(default=None, foreign_key="flow_instance.id", index=True)
    seq: int
    scope: str = Field(default="task", max_length=16)  # task | application
    task_seq: int | None = Field(default=None)
    node: str | None = Field(default=None, max_length=100)
    purpose: str = Field(default="node", max_length=48)  # "node" or a statutory preset's id
    unit: str = Field(max_length=16)
    amount: int
    extension_limit: int = Field(default=0)  # most extra units an approver may grant
    extended: int = Field(default=0)  # extra units granted so far
    calendar_id: str = Field(default="", max_length=64)
    calendar_version_id: int | None = Field(default=None, foreign_key="definition_version.id")
    started_at: datetime
    segment_start: datetime
    elapsed: int = Field(default=0)
    due_at: datetime | None = Field(default=None)
    state: str = Field(default="running", max_length=16)
    overdue: bool = Field(default=False)
    restarts: int = Field(default=0)
    paused_at: datetime | None = Field(default=None)
    pause_reason: str | None = Field(default=None, max_length=32)
    pause_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # An extension waiting for its approver: {units, reason, requested_by, approver_id, at}.
    pending_extension: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = Field(default=None)


class TimerFacts(Protocol):
    """What a timer handler reads of its timer, as it was claimed: a :class:`FlowTimer`, or
    the worker's plain copy of the row its guard returned (building a table model costs more
    than firing a simple timer's statements)."""

    @property
    def id(self) -> int | None: ...
    @property
    def instance_id(self) -> int | None: ...
    @property
    def deadline_seq(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def due_at(self) -> datetime: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def attempts(self) -> int: ...


class FlowTimer(SQLModel, table=True):
    """Something to do at ``due_at``: remind, act on a timeout, deem an intake accepted. The
    worker claims due rows and fires each in one transaction with the instance's optimistic
    lock, so a timer's effect happens once even with two workers or a worker killed mid-way.
    ``key`` is unique: scheduling the same timer twice keeps one row."""

    __tablename__ = "flow_timer"
    __table_args__ = (
        _one_of("state", TIMER_STATES, "ck_flow_timer_state"),
        Index("ix_flow_timer_due", "state", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    instance_id: int | None = Field(default=None, foreign_key="flow_instance.id", index=True)
    deadline_seq: int | None = Field(default=None)
    kind: str = Field(max_length=48)
    key: str = Field(max_length=200, unique=True)
    due_at: datetime
    state: str = Field(default="pending", max_length=16)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attempts: int = Field(default=0)
    lease_until: datetime | None = Field(default=None)
    claimed_by: str | None = Field(default=None, max_length=100)
    fired_at: datetime | None = Field(default=None)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)


# --- Points (see docs/points.md). ----------------------------------------------------------------

class PointsEvaluation(SQLModel, table=True):
    """One scoring of an application's answers by its pinned rule-set version. Rows are never
    changed: a new score (answers corrected, an appeal upheld, a reviewer's recount) is a new row
    naming the one it supersedes and why; the latest row of an application is its score.
    ``result`` is :meth:`tongban.points.Evaluation.to_json` (total, eligibility, grade and every
    indicator with its points, inputs and explanation)."""

    __tablename__ = "points_evaluation"
    __table_args__ = (Index("ix_points_evaluation_application", "application_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    rules_version_id: int = Field(foreign_key="definition_version.id")
    rule_set: str = Field(max_length=100)
    as_of: date
    total: float
    eligible: bool
    grade: str | None = Field(default=None, max_length=16)
    result: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    answers_version: int = Field(default=1)
    reason: str = Field(default="submitted", max_length=32)  # submitted | answers_changed | appeal | recount
    reason_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    supersedes_id: int | None = Field(default=None, foreign_key="points_evaluation.id")
    actor_name: str = Field(default="", max_length=150)
    created_at: datetime = Field(default_factory=utcnow)


# --- Points: appeals and integrity flags (kept apart from the ledgers below). ----------------------

FLAG_KINDS = ("duplicate_id", "contradicts_verified", "implausible", "repeated_edits")
FLAG_STATES = ("open", "cleared")
APPEAL_STATES = ("open", "upheld", "dismissed")


class PointsFlag(SQLModel, table=True):
    """Something in an application a reviewer should look at before trusting its score (the
    same ID number in another open application, an answer that contradicts verified data, an
    implausible combination, a field changed again and again before submit). A flag never
    blocks the application or changes its score; a reviewer clears it with a reason."""

    __tablename__ = "points_flag"
    __table_args__ = (_one_of("kind", FLAG_KINDS, "ck_points_flag_kind"),
                      _one_of("status", FLAG_STATES, "ck_points_flag_status"),
                      Index("ix_points_flag_application", "application_id", "id"))

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    kind: str = Field(max_length=32)
    field: str = Field(max_length=200)  # the answer's dotted path (or paths, comma-separated)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message_zh: str = Field(sa_column=Column(Text, nullable=False))
    message_en: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="open", max_length=16)
    cleared_by: int | None = Field(default=None, foreign_key="user_account.id")
    cleared_by_name: str = Field(default="", max_length=150)
    cleared_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    cleared_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class DraftFieldChange(SQLModel, table=True):
    """One change of a draft answer's value on save (a draft keeps only its latest answers):
    what the "edited again and again before submit" flag counts. The first answer to a
    question is not a change."""

    __tablename__ = "draft_field_change"
    __table_args__ = (Index("ix_draft_field_change_draft", "draft_id", "field"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="draft.id")
    field: str = Field(max_length=200)
    changed_at: datetime = Field(default_factory=utcnow)


_OPEN_APPEAL = text("status = 'open'")


class PointsAppeal(SQLModel, table=True):
    """An applicant contesting one indicator of a score (复核/申诉), and its outcome: upheld
    (a new evaluation supersedes the contested one, which is kept) or dismissed with a reason.
    One open appeal per application and indicator (a partial unique index)."""

    __tablename__ = "points_appeal"
    __table_args__ = (
        _one_of("status", APPEAL_STATES, "ck_points_appeal_status"),
        UniqueConstraint("submit_key", name="uq_points_appeal_submit_key"),
        Index("ix_points_appeal_application", "application_id", "id"),
        Index("ix_points_appeal_queue", "status", "department_code", "created_at"),
        Index("uq_points_appeal_open", "application_id", "indicator", unique=True,
              postgresql_where=_OPEN_APPEAL, sqlite_where=_OPEN_APPEAL),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    evaluation_id: int = Field(foreign_key="points_evaluation.id")  # the contested score
    indicator: str = Field(max_length=100)
    reasons: str = Field(sa_column=Column(Text, nullable=False))
    materials: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    department_code: str = Field(max_length=64)  # whose reviewers decide it
    submit_key: str = Field(max_length=64)  # a repeated POST finds this row
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    status: str = Field(default="open", max_length=16)
    corrections: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    decision_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    decided_by_name: str = Field(default="", max_length=150)
    decided_at: datetime | None = Field(default=None)
    new_evaluation_id: int | None = Field(default=None, foreign_key="points_evaluation.id")
    created_at: datetime = Field(default_factory=utcnow)




# --- Points: ledgers (civic and green points: accounts, postings, rewards). ------------------------

LEDGER_ACCOUNT_KINDS = ("person", "issuance", "redemption", "expiry")
LEDGER_ENTRY_KINDS = ("earn", "redeem", "expire")
LEDGER_ENTRY_STATUSES = ("posted", "capped", "refused")


class LedgerPerson(SQLModel, table=True):
    """A person who holds points, by citizen ID number; linked to their user account when they
    have one (the statement page finds them by it)."""

    __tablename__ = "ledger_person"
    __table_args__ = (UniqueConstraint("id_number", name="uq_ledger_person_id_number"),
                      UniqueConstraint("user_id", name="uq_ledger_person_user"))

    id: int | None = Field(default=None, primary_key=True)
    id_number: str = Field(max_length=18)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)


class LedgerAccount(SQLModel, table=True):
    """One account of a ledger: a person's (``holder`` = the ID number) or one of the ledger's
    system accounts (``holder`` = ``@issuance``, ``@redemption``, ``@expiry``). Every posting
    moves ``balance``; a person's never goes below zero (the CHECK, and the conditional UPDATE
    of a redemption)."""

    __tablename__ = "ledger_account"
    __table_args__ = (
        UniqueConstraint("ledger", "holder", name="uq_ledger_account_holder"),
        _one_of("kind", LEDGER_ACCOUNT_KINDS, "ck_ledger_account_kind"),
        CheckConstraint("kind <> 'person' OR balance >= 0", name="ck_ledger_account_balance"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ledger: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    holder: str = Field(max_length=20)
    person_id: int | None = Field(default=None, foreign_key="ledger_person.id", index=True)
    balance: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)


class LedgerEntry(SQLModel, table=True):
    """One journal entry: an event earning points, a redemption or an expiry; its postings sum
    to zero. ``event_id`` is unique per ledger, which makes posting idempotent. An event over a
    cap is kept as ``capped`` (part accepted) or ``refused`` (none) with its reason and
    ``flagged`` for an administrator."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("ledger", "event_id", name="uq_ledger_entry_event"),
        _one_of("kind", LEDGER_ENTRY_KINDS, "ck_ledger_entry_kind"),
        _one_of("status", LEDGER_ENTRY_STATUSES, "ck_ledger_entry_status"),
        Index("ix_ledger_entry_account", "account_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ledger: str = Field(max_length=100)
    ledger_version: int
    kind: str = Field(max_length=16)
    event_id: str = Field(max_length=100)
    event_type: str | None = Field(default=None, max_length=60)
    account_id: int = Field(foreign_key="ledger_account.id")
    quantity: float | None = Field(default=None)
    requested: int = Field(default=0)   # the points the event would earn without caps
    points: int = Field(default=0)      # the points posted
    status: str = Field(default="posted", max_length=16)
    flagged: bool = Field(default=False)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    source: str = Field(max_length=100)
    reward_code: str | None = Field(default=None, max_length=60)
    reward_count: int | None = Field(default=None)
    occurred_at: datetime
    created_at: datetime = Field(default_factory=utcnow)


class LedgerPosting(SQLModel, table=True):
    """One side of an entry: an amount to one account (the amounts of an entry sum to zero)."""

    __tablename__ = "ledger_posting"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="ledger_entry.id", index=True)
    account_id: int = Field(foreign_key="ledger_account.id", index=True)
    amount: int


class LedgerLot(SQLModel, table=True):
    """Points earned by one entry, with when they lapse; redemptions take from the oldest
    lots first, expiry takes what is left at ``expires_at`` (None: never)."""

    __tablename__ = "ledger_lot"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= points", name="ck_ledger_lot_remaining"),
        Index("ix_ledger_lot_account", "account_id", "expires_at"),
        Index("ix_ledger_lot_expiry", "ledger", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ledger: str = Field(max_length=100)
    entry_id: int = Field(foreign_key="ledger_entry.id")
    account_id: int = Field(foreign_key="ledger_account.id")
    points: int
    remaining: int
    earned_at: datetime
    expires_at: datetime | None = Field(default=None)


class LedgerReward(SQLModel, table=True):
    """A reward's stock, made from the definition's initial stock on first use; a redemption
    takes from it with ``UPDATE ... WHERE stock >= n``, so it never oversells."""

    __tablename__ = "ledger_reward"
    __table_args__ = (
        UniqueConstraint("ledger", "code", name="uq_ledger_reward_code"),
        CheckConstraint("stock >= 0", name="ck_ledger_reward_stock"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ledger: str = Field(max_length=100)
    code: str = Field(max_length=60)
    initial: int
    stock: int


class ServiceWorkspace(SQLModel, table=True):
    """A service as the admin console sees it: its department, owner and status (draft until
    first published, live, archived). docs/console.md"""

    __tablename__ = "service_workspace"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'live', 'archived')", name="ck_service_workspace_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=100, unique=True)
    department_code: str = Field(max_length=64, index=True)
    owner_id: int | None = Field(default=None, foreign_key="user_account.id")
    status: str = Field(default="draft", max_length=16)
    # Four-eyes: a publish needs the approval of an administrator other than its requester.
    four_eyes: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ServiceDraft(SQLModel, table=True):
    """A service's working copy: its files as text in the repository layout (path -> text),
    never half-published. ``revision`` is the optimistic lock of every save."""

    __tablename__ = "service_draft"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="service_workspace.id", unique=True)
    files: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    # path -> the published version number the file started from (None: a new file)
    base_versions: dict[str, int | None] = Field(sa_column=Column(JSON, nullable=False))
    revision: int = Field(default=1)
    # Each step back (undo) or forward (redo): the files that differ, path -> text (None where
    # the file was not there), newest last, at most 100.
    undo_stack: list[dict[str, str | None]] = Field(default_factory=list,
                                                    sa_column=Column(JSON, nullable=False))
    redo_stack: list[dict[str, str | None]] = Field(default_factory=list,
                                                    sa_column=Column(JSON, nullable=False))
    updated_by: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow)


class PublishRequest(SQLModel, table=True):
    """Four-eyes: a publish asked for by one administrator, waiting for another's approval of
    exactly the draft revision it names."""

    __tablename__ = "service_publish_request"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'withdrawn')",
                        name="ck_service_publish_request_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="service_workspace.id", index=True)
    revision: int
    # path -> live version number when it was asked for (what the approver's diff is against)
    live_versions: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    effective_from: datetime | None = Field(default=None)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default="pending", max_length=16)
    requested_by: int = Field(foreign_key="user_account.id")
    requested_at: datetime = Field(default_factory=utcnow)
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None)


# --- Staff administration: password policy and history, two-factor recovery codes. ------------


class SecuritySetting(SQLModel, table=True):
    """The password and two-factor policy: one row (id 1), edited at /admin/security."""

    __tablename__ = "security_setting"

    id: int = Field(default=1, primary_key=True)
    min_length: int = Field(default=8)
    # How many of the four character classes (lower, upper, digit, other) a password needs.
    min_classes: int = Field(default=1)
    history_count: int = Field(default=0)  # a new password may not be one of the last N
    rotation_enabled: bool = Field(default=False)  # off: ASVS 6.2.10; on: 等保 2.0 8.1.4.1 a)
    rotation_days: int = Field(default=90)
    require_totp_for_staff: bool = Field(default=False)
    updated_by: str = Field(default="system", max_length=150)
    updated_at: datetime = Field(default_factory=utcnow)


class PasswordHistory(SQLModel, table=True):
    """Hashes of a user's earlier passwords, for the policy's "not one of the last N"."""

    __tablename__ = "password_history"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)


class RecoveryCode(SQLModel, table=True):
    """A one-time code that stands in for a TOTP code when the phone is lost (argon2 hash)."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    code_hash: str = Field(max_length=255)
    used_at: datetime | None = Field(default=None)


class PluginEvent(SQLModel, table=True):
    """An application event (submitted, task done, completed) waiting to be told to plugins:
    written in the transaction that made it, delivered by the worker after commit
    (tongban.extend.events), deleted once every plugin was called."""

    __tablename__ = "plugin_event"
    __table_args__ = (Index("ix_plugin_event_due", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    reference: str = Field(max_length=40)
    service: str = Field(max_length=100)
    actor: str | None = Field(default=None, max_length=150)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """One message to one person on one channel, rendered in their language and written in
    the transaction of the event that caused it (tongban.notify); ``key`` (event, recipient,
    channel) is unique, so the worker delivers it once. Site messages are read from here."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "state", "next_attempt_at"),
                      Index("ix_notification_inbox", "user_id", "channel", "state"))

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)
    reference: str = Field(max_length=40)
    user_id: int | None = Field(default=None, foreign_key="user_account.id")
    channel: str = Field(max_length=32)
    recipient: str = Field(max_length=254)
    language: str = Field(max_length=8)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    link: str = Field(max_length=300)
    state: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = Field(default=None)
    read_at: datetime | None = Field(default=None)


class PluginHealth(SQLModel, table=True):
    """What calling one plugin's hook last did, for plugin health (/admin/plugins, `tongban
    plugins`): a hook that raised or ran past its time limit leaves its error here."""

    __tablename__ = "plugin_health"
    __table_args__ = (UniqueConstraint("plugin", "hook"),)

    id: int | None = Field(default=None, primary_key=True)
    plugin: str = Field(max_length=100)
    hook: str = Field(max_length=100)
    failures: int = Field(default=0)  # failed calls since the last success
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    last_failure_at: datetime | None = Field(default=None)
    last_success_at: datetime | None = Field(default=None)


class ConnectorResult(SQLModel, table=True):
    """What one connector query answered for a draft (prefill) or an application
    (verification), with its provenance: the latest call per owner, connector, query and
    parameters (a repeat within the same parameters reads this row instead of the source).
    ``status``: ok (a record found), none (no record), unverified (the source failed; the
    page says "could not be verified" and the next view tries again)."""

    __tablename__ = "connector_result"
    __table_args__ = (
        CheckConstraint("status IN ('ok', 'none', 'unverified')", name="ck_connector_result_status"),
        CheckConstraint("purpose IN ('prefill', 'verify')", name="ck_connector_result_purpose"),
        Index("ix_connector_result_draft", "draft_id", "connector", "query_id"),
        Index("ix_connector_result_application", "application_id", "connector", "query_id"),
        Index("ix_connector_result_failed", "status", "checked_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int | None = Field(default=None, foreign_key="draft.id")
    application_id: int | None = Field(default=None, foreign_key="application.id")
    service_code: str = Field(max_length=100)
    connector: str = Field(max_length=64)
    query_id: str = Field(max_length=64)
    purpose: str = Field(max_length=16)
    person: str = Field(default="", max_length=64)   # the first parameter's value: whom we asked about
    params_hash: str = Field(max_length=64)
    status: str = Field(max_length=16)
    # form field path -> the source's value; None when unverified
    values: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    source: str = Field(default="", max_length=200)
    error: str = Field(default="", max_length=500)
    transient: bool = Field(default=True)
    attempts: int = Field(default=1)
    fetched_at: datetime | None = Field(default=None)  # when the source last answered
    checked_at: datetime = Field(default_factory=utcnow)  # when we last asked


class SealedDocumentRecord(SQLModel, table=True):
    """A document the platform sealed (a decision, a notice): where its file is kept (the
    material storage's key), its content hash, and the verification code printed on it that
    anyone may type on the public verification page (/verify)."""

    __tablename__ = "sealed_document"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    sha256: str = Field(max_length=64, index=True)
    size: int
    signer_id: str = Field(max_length=64)
    media_type: str = Field(max_length=100)
    file_name: str = Field(max_length=200)
    storage_key: str = Field(max_length=200)
    purpose: str = Field(max_length=32)
    title: str = Field(max_length=300)
    reference: str = Field(default="", max_length=100)   # the document's number (文号)
    application_id: int | None = Field(default=None, foreign_key="application.id", index=True)
    sealed_by: str = Field(default="", max_length=300)
    signed_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class DecisionJob(SQLModel, table=True):
    """A decision document to seal (受理通知书, 不予受理告知书, 准予/不予许可决定书, 积分结果通知书),
    written in the transaction of the step that decided it and sealed by the worker with the
    ``DECISION_SIGNERS`` (tongban.decisions). ``data`` keeps what the document says that the
    step knew (the reason of a refusal). ``state``: pending, done, failed."""

    __tablename__ = "decision_job"
    __table_args__ = (
        UniqueConstraint("application_id", "kind"),
        CheckConstraint("state IN ('pending', 'done', 'failed')", name="ck_decision_job_state"),
        Index("ix_decision_job_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    kind: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = Field(default=None)


# --- 好差评: service ratings (issue 17 item 10, docs/ratings.md). -------------------------------

RATING_SOURCES = ("applicant", "default")
RATING_APPEAL_STATES = ("none", "requested", "upheld", "dismissed")


class ServiceRating(SQLModel, table=True):
    """One rating of a finished application (一事一评): its level 5 (非常满意) to 1 (非常不满意),
    given by the applicant or by default when nobody rated in time. Who is rated is copied in
    when the rating is made: the service, the department, the window (the counter department
    that took it in) and the clerk. An upheld appeal keeps the row but takes it out of the
    figures (``excluded``)."""

    __tablename__ = "service_rating"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="ck_service_rating_level"),
        _one_of("source", RATING_SOURCES, "ck_service_rating_source"),
        _one_of("appeal_state", RATING_APPEAL_STATES, "ck_service_rating_appeal_state"),
        Index("ix_service_rating_rated_at", "rated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", unique=True)
    reference: str = Field(max_length=32)
    service_code: str = Field(max_length=100, index=True)
    department_code: str = Field(max_length=64, index=True)
    window_code: str | None = Field(default=None, max_length=64)
    clerk_id: int | None = Field(default=None, foreign_key="user_account.id")
    rater_id: int | None = Field(default=None, foreign_key="user_account.id")
    level: int
    source: str = Field(default="applicant", max_length=16)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    finished_at: datetime | None = Field(default=None)
    rated_at: datetime = Field(default_factory=utcnow)
    excluded: bool = Field(default=False)
    appeal_state: str = Field(default="none", max_length=16)
    appeal_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    appeal_by: int | None = Field(default=None, foreign_key="user_account.id")
    appeal_at: datetime | None = Field(default=None)
    appeal_decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    appeal_decided_at: datetime | None = Field(default=None)
    appeal_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class RatingFollowUp(SQLModel, table=True):
    """The 回访 and 整改 task a real-name 差评 opens for the department's staff: due on a working
    day, done with what the rater said when called back and the reply sent to them."""

    __tablename__ = "rating_follow_up"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'done')", name="ck_rating_follow_up_state"),
        Index("ix_rating_follow_up_open", "department_code", "state", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="service_rating.id", unique=True)
    department_code: str = Field(max_length=64)
    state: str = Field(default="open", max_length=16)
    due_on: date
    created_at: datetime = Field(default_factory=utcnow)
    done_by: int | None = Field(default=None, foreign_key="user_account.id")
    done_at: datetime | None = Field(default=None)
    visit_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    reply: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


# --- Decisions at intake and the counter's queue (docs/counter-intake.md). --------------------

HOLD_STATES = ("pending", "received", "overdue")
COMMITMENT_STATES = ("pending", "kept", "broken")
TICKET_STATES = ("waiting", "called", "done", "missed")


class IntakeHold(SQLModel, table=True):
    """容缺受理: an application accepted with materials missing, on the applicant's promise to
    bring them by ``due_on``. While ``pending`` the flow's approving end waits (the result is
    not issued); the applicant's upload of every named material makes it ``received``."""

    __tablename__ = "intake_hold"
    __table_args__ = (_one_of("state", HOLD_STATES, "ck_intake_hold_state"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", unique=True)
    # [{"code": ..., "name": {"zh": ..., "en": ...}, "upload": public id once uploaded}]
    materials: list[dict[str, Any]] = Field(default_factory=list,
                                            sa_column=Column(JSON, nullable=False))
    due_on: date
    state: str = Field(default="pending", max_length=16)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow)
    received_at: datetime | None = Field(default=None)


class IntakeCommitment(SQLModel, table=True):
    """告知承诺制: the commitment the applicant signed at intake (the service file's text, as it
    was), and the later check of it by a reviewer: ``kept``, or ``broken`` (the approval is
    revoked, or the application ended if still in progress, and the applicant is barred)."""

    __tablename__ = "intake_commitment"
    __table_args__ = (_one_of("state", COMMITMENT_STATES, "ck_intake_commitment_state"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", unique=True)
    department_code: str = Field(max_length=64, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    confirmed_at: datetime
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")
    verify_by: date
    state: str = Field(default="pending", max_length=16)
    verified_by: int | None = Field(default=None, foreign_key="user_account.id")
    verified_at: datetime | None = Field(default=None)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    revoked: bool = Field(default=False)   # broken after the approval: the approval revoked


class CreditBar(SQLModel, table=True):
    """Someone who may not use 告知承诺 (or 容缺) until their credit is repaired (信用修复):
    listed by ID number, from the demo data or recorded when a promise was broken."""

    __tablename__ = "credit_bar"

    id: int | None = Field(default=None, primary_key=True)
    id_number: str = Field(max_length=18, index=True)
    reason: str = Field(max_length=300)
    source: str = Field(max_length=32)          # demo | broken_commitment | ...
    application_id: int | None = Field(default=None, foreign_key="application.id")
    created_at: datetime = Field(default_factory=utcnow)
    lifted_at: datetime | None = Field(default=None)


class QueueTicket(SQLModel, table=True):
    """A queue number (排队号) for one counter window on one day: taken at the kiosk, called
    by the clerk sitting at that window."""

    __tablename__ = "queue_ticket"
    __table_args__ = (
        UniqueConstraint("window", "day", "number"),
        _one_of("state", TICKET_STATES, "ck_queue_ticket_state"),
        Index("ix_queue_ticket_waiting", "window", "day", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    window: str = Field(max_length=16)
    day: date
    number: int
    state: str = Field(default="waiting", max_length=16)
    reference: str = Field(default="", max_length=32)   # the application it is about, if known
    taken_at: datetime = Field(default_factory=utcnow)
    called_at: datetime | None = Field(default=None)
    called_by: int | None = Field(default=None, foreign_key="user_account.id", index=True)


class BundleApplication(SQLModel, table=True):
    """One 一件事 application (docs/bundles.md): the shared answers asked once, one reference
    and receipt over several services' applications (its parts). ``status``: open (being
    filled in), submitted. ``precheck_passed`` is the bundle's pre-check on submission (None:
    the bundle has none); ``auto_accepted`` whether its parts' intakes were accepted by it."""

    __tablename__ = "bundle_application"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'submitted')", name="ck_bundle_application_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    reference: str | None = Field(default=None, max_length=32, unique=True)
    bundle_code: str = Field(max_length=100, index=True)
    bundle_version_id: int = Field(foreign_key="definition_version.id")
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    status: str = Field(default="open", max_length=16)
    precheck_passed: bool | None = Field(default=None)
    auto_accepted: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = Field(default=None)


class BundlePart(SQLModel, table=True):
    """One service of a bundle application: its draft, and the application it became once
    what it needs was approved. ``status``: open (being filled in), waiting (submitted with
    the bundle, its dependencies not yet approved), started (its application exists)."""

    __tablename__ = "bundle_part"
    __table_args__ = (
        UniqueConstraint("bundle_id", "service_code"),
        CheckConstraint("status IN ('open', 'waiting', 'started')", name="ck_bundle_part_status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    bundle_id: int = Field(foreign_key="bundle_application.id", index=True)
    position: int
    service_code: str = Field(max_length=100)
    needs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    draft_id: int = Field(foreign_key="draft.id", unique=True)
    application_id: int | None = Field(default=None, foreign_key="application.id", unique=True)
    status: str = Field(default="open", max_length=16)
