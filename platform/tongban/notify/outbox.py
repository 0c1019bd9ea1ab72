"""Writing notifications: the flow runtime calls :func:`queue` with the engine events of a
transition, in the transaction that makes them, so a transition that rolls back leaves no
message and one that commits always has its messages waiting for the worker.

Submission, correction request, decision (approved or refused) and deemed acceptance reach
the applicant: on the site always, by email and SMS when the account has an address or a
number and the person wants them (/my/settings). One row per (event, person, channel),
under a unique key."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session

from ..models import Application, DefinitionVersion, FlowEvent, Notification, User
from . import templates

PROGRESS_PATH = "/my/applications/{reference}"


def kind_of(event: FlowEvent) -> str | None:
    """The notification an engine event stands for, if any."""
    if event.type == "started":
        return "submitted"
    if event.type in ("correction_requested", "deemed_accepted"):
        return event.type
    if event.type == "ended":
        outcome = (event.data or {}).get("outcome")
        if outcome == "approved":
            return "approved"
        if outcome == "rejected":
            return "refused"
    return None


def channels_for(user: User) -> list[tuple[str, str]]:
    """(channel, recipient) pairs: the site always, email and SMS when the account has an
    address or a number and the person has not turned that channel off (/my/settings)."""
    found = [("site", str(user.id))]
    if user.email and user.notify_email:
        found.append(("email", user.email))
    if user.phone and user.notify_sms:
        found.append(("sms", user.phone))
    return found


def _service_name(session: Session, application: Application, language: str) -> str:
    version = session.get(DefinitionVersion, application.service_version_id)
    names = (version.content.get("name") if version is not None else None) or {}
    if isinstance(names, dict):
        return str(names.get(language) or names.get("zh") or application.service_code)
    return str(names)


def queue(session: Session, application: Application, events: Iterable[FlowEvent]) -> int:
    """Add the notifications of a transition to the caller's transaction; how many."""
    wanted = [(event, kind) for event in events if (kind := kind_of(event)) is not None]
    if not wanted or application.submitter_id is None:
        return 0
    user = session.get(User, application.submitter_id)
    if user is None:
        return 0
    language = templates.language_of(user.language)
    service = _service_name(session, application, language)
    link = PROGRESS_PATH.format(reference=application.reference)
    added = 0
    for event, kind in wanted:
        text = templates.render(kind, language, reference=application.reference, service=service)
        for channel, recipient in channels_for(user):
            session.add(Notification(
                key=f"{kind}:{event.instance_id}-{event.seq}:{user.id}:{channel}", kind=kind,
                reference=application.reference, user_id=user.id, channel=channel,
                recipient=recipient, language=language, subject=text.subject, body=text.body,
                link=link, created_at=event.at, next_attempt_at=event.at))
            added += 1
    return added
