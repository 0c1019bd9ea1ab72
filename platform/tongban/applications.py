"""Drafts and submission: answers saved page by page, then one transaction makes the application."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col

from . import audit
from .connectors.calls import Owner, verified_values
from .definitions.publish import effective_version
from .fragments import refuse_in_shared_draw
from .models import (
    Application,
    ConnectorResult,
    DefinitionVersion,
    Draft,
    StoredUpload,
    saved_id,
    utcnow,
)
from .points import integrity, scoring
from .policy import Action, Actor, may_use_draft
from .workflow.runtime import start_flow

# No 0/O, 1/I/L: a reference read over the phone or copied from paper stays unambiguous.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DEFAULT_DRAFT_DAYS = 30


class DraftUnavailable(Exception):
    """The draft does not exist, belongs to someone else, or has expired."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "missing" | "forbidden" | "expired"


def new_reference(now: datetime) -> str:
    """Like 2611-K7QX-9MPA: year and month, then 8 random unambiguous characters."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{now:%y%m}-{body[:4]}-{body[4:]}"


def draft_days(service_content: dict[str, Any]) -> int:
    return int(service_content.get("settings", {}).get("draft_expiry_days", DEFAULT_DRAFT_DAYS))


def current_flow_version(session: Session, service_content: dict[str, Any]) -> int | None:
    """The id of the newest version of the service's flow in effect now; None for a service
    that names no flow (the runtime treats that as "no flow")."""
    code = service_content.get("flow")
    if code is None:
        return None
    row = effective_version(session, "flow", code)
    if row is None:
        # The loader refuses a service whose flow does not exist, and they publish together.
        raise LookupError(f'service "{service_content.get("code")}" names flow "{code}", '
                          "which has no published version")
    return saved_id(row)


def start_draft(session: Session, service_version: DefinitionVersion,
                form_version: DefinitionVersion, *, user_id: int | None,
                clerk_id: int | None = None, answers: dict[str, Any] | None = None,
                person_id: int | None = None, mandate_id: int | None = None) -> Draft:
    """A new draft pinned to the service, form, flow and rule-set versions current now:
    publishing later never changes what this draft (and the application it becomes) runs on."""
    now = utcnow()
    draft = Draft(
        token=secrets.token_urlsafe(24), user_id=user_id, clerk_id=clerk_id, person_id=person_id,
        mandate_id=mandate_id,
        service_code=service_version.code, service_version_id=saved_id(service_version),
        form_version_id=saved_id(form_version),
        flow_version_id=current_flow_version(session, service_version.content),
        rules_version_id=scoring.current_rules_version(session, service_version.content),
        answers=answers or {}, visited_pages=[],
        submit_key=secrets.token_urlsafe(24), created_at=now, updated_at=now,
        expires_at=now + timedelta(days=draft_days(service_version.content)),
    )
    session.add(draft)
    session.flush()
    return draft


def load_draft(session: Session, token: str, actor: Actor, action: Action = Action.VIEW) -> Draft:
    """The draft, read with one query into ``session``, when the access policy lets ``actor``,
    presenting its token, do ``action``. Changes go through :func:`save_answers` (or
    :func:`submit`) in a unit of work of the same session."""
    refuse_in_shared_draw("the draft")
    draft = session.scalars(select(Draft).where(col(Draft.token) == token)).first()
    if draft is None:
        raise DraftUnavailable("missing")
    if not may_use_draft(actor.holding(draft_token=token), action, draft):  # the token is presented
        raise DraftUnavailable("forbidden")
    if draft.status == "open" and draft.expires_at <= utcnow():
        raise DraftUnavailable("expired")
    return draft


def save_answers(session: Session, draft: Draft, answers: dict[str, Any],
                 page_id: str | None, service_content: dict[str, Any]) -> None:
    """Store the answers so far; each save extends the expiry from now. The caller's unit of
    work (``db.unit_of_work(session)``) writes it: one UPDATE of the draft's row."""
    now = utcnow()
    visited = list(draft.visited_pages)
    if page_id and page_id not in visited:
        visited.append(page_id)
    session.add(draft)
    integrity.record_draft_changes(session, draft.id, draft.answers, answers, now)
    draft.answers = answers
    draft.visited_pages = visited
    # JSON columns do not track changes made inside their values: a caller that changed
    # the draft's own answers in place must still have them written.
    flag_modified(draft, "answers")
    draft.updated_at = now
    draft.expires_at = now + timedelta(days=draft_days(service_content))


def user_drafts(session: Session, user_id: int) -> list[Draft]:
    return list(session.scalars(select(Draft).where(
        col(Draft.user_id) == user_id, col(Draft.status) == "open",
        col(Draft.expires_at) > utcnow())
        .order_by(col(Draft.updated_at).desc())))


def purge_expired(session: Session) -> tuple[int, list[str]]:
    """Delete open drafts past their expiry with their upload rows. The caller commits, then
    removes the returned stored file names from disk (files go only after the rows are gone)."""
    expired = list(session.scalars(select(col(Draft.id)).where(col(Draft.status) == "open",
                                                               col(Draft.expires_at) <= utcnow())))
    if not expired:
        return 0, []
    files = []
    for upload in session.scalars(select(StoredUpload).where(col(StoredUpload.draft_id).in_(expired))):
        if upload.stored_name:  # a stored material chosen instead of an upload has no file
            files.append(upload.stored_name)
        session.delete(upload)
    # What a register said for a draft nobody sent goes with it (each call stays audited).
    session.execute(delete(ConnectorResult).where(col(ConnectorResult.draft_id).in_(expired)))
    for draft in session.scalars(select(Draft).where(col(Draft.id).in_(expired))):
        session.delete(draft)
    audit.record(session, action="draft.purge", object_type="draft", object_id="expired",
                 after={"drafts": len(expired), "files": len(files)})
    return len(expired), files


@dataclass(frozen=True)
class Submitted:
    application: Application
    created: bool  # False when this was a repeat of an earlier submission


def existing_submission(session: Session, idempotency_key: str) -> Application | None:
    return session.scalars(select(Application)
                           .where(col(Application.idempotency_key) == idempotency_key)).first()


def submitted_application(session: Session, draft: Draft) -> Application:
    """The application a submitted draft became: the one made with its submit key."""
    application = existing_submission(session, draft.submit_key)
    if application is None:
        raise LookupError(f"draft {draft.id} was submitted, but no application has its submit key")
    return application


def outstanding_materials(service: Mapping[str, Any], draft: Draft, answers: Any) -> list[str]:
    """A clerk's draft: the codes of the materials marked 容缺 (``deferred_materials``) whose
    question (the service's ``form_field``) is still empty when it is sent."""
    if draft.clerk_id is None or not draft.deferred_materials:
        return []
    chosen = set(draft.deferred_materials)
    found = []
    for material in service.get("materials") or ():
        if material.get("code") not in chosen or not material.get("form_field"):
            continue
        value: Any = answers
        for segment in str(material["form_field"]).split("."):
            value = value.get(segment) if isinstance(value, Mapping) else None
        if not value:
            found.append(str(material["code"]))
    return found


def submit(session: Session, draft: Draft, answers: dict[str, Any], *, department_code: str,
           actor_id: int | None, actor_name: str, request_id: str = "") -> Submitted:
    """Create the application from a fully validated set of answers. The caller commits.

    The draft's submit key is the idempotency key: a double click, a replayed POST or a
    back-and-submit finds the application made the first time instead of making another.
    """
    earlier = existing_submission(session, draft.submit_key)
    if earlier is not None:
        return Submitted(earlier, created=False)
    now = utcnow()
    rules_version_id = draft.rules_version_id
    if rules_version_id is None:  # a draft begun before its service had rules
        service = session.get(DefinitionVersion, draft.service_version_id)
        rules_version_id = scoring.current_rules_version(
            session, service.content if service is not None else {})
    service = session.get(DefinitionVersion, draft.service_version_id)
    outstanding = outstanding_materials(service.content if service is not None else {},
                                        draft, answers)
    application = Application(
        reference=new_reference(now), idempotency_key=draft.submit_key, draft_id=draft.id,
        service_code=draft.service_code, service_version_id=draft.service_version_id,
        form_version_id=draft.form_version_id, flow_version_id=draft.flow_version_id,
        rules_version_id=rules_version_id, answers=answers, submitter_id=draft.user_id,
        clerk_id=draft.clerk_id, person_id=draft.person_id, mandate_id=draft.mandate_id,
        department_code=department_code, outstanding_materials=outstanding,
        submitted_at=now,
    )
    session.add(application)
    session.flush()  # raises IntegrityError when a concurrent submit got there first
    session.add(draft)
    draft.status = "submitted"
    draft.updated_at = now
    session.execute(update(StoredUpload).where(col(StoredUpload.draft_id) == draft.id)
                    .values(application_id=application.id))
    audit.record(session, action="application.submit", object_type="application",
                 object_id=application.reference, actor_id=actor_id, actor_name=actor_name,
                 after={"service": draft.service_code,
                        "service_version_id": draft.service_version_id,
                        "form_version_id": draft.form_version_id,
                        "flow_version_id": draft.flow_version_id,
                        "rules_version_id": rules_version_id,
                        "on_behalf": draft.clerk_id is not None,
                        **({"outstanding_materials": outstanding} if outstanding else {}),
                        **({"mandate": draft.mandate_id} if draft.mandate_id else {})},
                 request_id=request_id)
    # Scored before the flow starts: its first gateway may route on the score.
    scoring.score(session, application, reason=scoring.SUBMITTED, actor_id=actor_id,
                  actor_name=actor_name, request_id=request_id)
    # What the registers said when the draft was prefilled: a submitted answer that differs is
    # flagged for the reviewer (a changed prefilled answer is never silent).
    verified = verified_values(session, Owner(draft_id=draft.id),
                               service.content if service is not None else {}, answers)
    integrity.check_application(session, application, verified=verified,
                                actor_name=actor_name, request_id=request_id)
    start_flow(session, application, now=now, actor_id=actor_id, actor_name=actor_name,
               request_id=request_id)
    return Submitted(application, created=True)


__all__ = ["DraftUnavailable", "IntegrityError", "Submitted", "current_flow_version",
           "existing_submission",
           "load_draft", "new_reference", "purge_expired", "save_answers", "start_draft",
           "submit", "submitted_application", "user_drafts"]
