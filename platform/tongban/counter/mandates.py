"""Mandates (代办): a person authorises an agent to apply for named services on their behalf
until a date, on the evidence of a signed power of attorney the counter keeps as the
principal's material. The counter and the agent's own account honour a mandate only while it
is in force and for the services it names; every use is an audit event (docs/counter.md)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..i18n import N_
from ..models import Mandate, Material, Person, User
from .people import PersonRefused, parse_number

EVIDENCE_TYPE = "power-of-attorney"
MSG_EXPIRED = N_("This mandate ended on %(date)s and can no longer be used. Nothing was "
                 "started.")
MSG_NOT_COVERED = N_("This mandate does not cover %(service)s. Nothing was started.")
MSG_NO_SERVICES = N_("Choose at least one service the agent may apply for")
MSG_DATE = N_("Enter the date the mandate ends, for example 2027-06-30")
MSG_DATE_PAST = N_("The date the mandate ends must be after today")
MSG_SELF = N_("The agent must be someone other than the applicant")
MSG_AGENT_KIND = N_("Enter the agent's 18-character ID number")


class MandateRefused(ValueError):
    """A use the mandate does not allow; ``message`` N_-marked, ``params`` for it."""

    def __init__(self, code: str, message: str, **params: Any):
        super().__init__(message)
        self.code, self.message, self.params = code, message, params


def check_request(principal: Person, agent_number: str, services: Iterable[str],
                  offered: Iterable[str], expires: str, today: date
                  ) -> tuple[str, list[str], date]:
    """The agent's number, the services and the end date of a mandate the clerk is recording,
    or :class:`PersonRefused` naming the first field in error (``number`` for the agent's)."""
    try:
        kind, number = parse_number(agent_number)
    except PersonRefused as exc:
        raise PersonRefused("agent_number", exc.message) from exc
    if kind != "person":
        raise PersonRefused("agent_number", MSG_AGENT_KIND)
    if number == principal.id_number:
        raise PersonRefused("agent_number", MSG_SELF)
    known = set(offered)
    chosen = sorted({code for code in services if code in known})
    if not chosen:
        raise PersonRefused("services", MSG_NO_SERVICES)
    try:
        ends = date.fromisoformat((expires or "").strip())
    except ValueError:
        raise PersonRefused("expires_on", MSG_DATE) from None
    if ends <= today:
        raise PersonRefused("expires_on", MSG_DATE_PAST)
    return number, chosen, ends


def record(session: Session, *, principal: Person, agent: Person, services: list[str],
           expires_on: date, evidence: Material, clerk_id: int | None, clerk_name: str,
           request_id: str = "") -> Mandate:
    """A new mandate, audited (``mandate.create``). The caller commits."""
    mandate = Mandate(public_id=secrets.token_urlsafe(12), principal_id=principal.id or 0,
                      agent_id=agent.id or 0, services=services, expires_on=expires_on,
                      evidence=evidence.public_id, created_by=clerk_id)
    session.add(mandate)
    session.flush()
    audit.record(session, action="mandate.create", object_type="mandate",
                 object_id=mandate.public_id, actor_id=clerk_id, actor_name=clerk_name,
                 after={"principal": principal.id_number, "agent": agent.id_number,
                        "services": services, "expires_on": expires_on.isoformat(),
                        "evidence": evidence.public_id}, request_id=request_id)
    return mandate


def in_force(mandate: Mandate, today: date) -> bool:
    return mandate.expires_on >= today


def check_use(mandate: Mandate, service_code: str, service_name: str, today: date) -> None:
    """:class:`MandateRefused` unless the mandate is in force and names the service."""
    if not in_force(mandate, today):
        raise MandateRefused("expired", MSG_EXPIRED, date=mandate.expires_on.isoformat())
    if service_code not in mandate.services:
        raise MandateRefused("not_covered", MSG_NOT_COVERED, service=service_name)


def record_use(session: Session, mandate: Mandate, *, service_code: str, draft_id: int | None,
               channel: str, actor_id: int | None, actor_name: str,
               request_id: str = "") -> None:
    """Every use of a mandate is an audit event (``mandate.use``): which service, which draft,
    at the counter or online, by whom. The caller commits."""
    audit.record(session, action="mandate.use", object_type="mandate",
                 object_id=mandate.public_id, actor_id=actor_id, actor_name=actor_name,
                 after={"service": service_code, "draft": draft_id, "channel": channel},
                 request_id=request_id)


def by_public_id(session: Session, public_id: str) -> Mandate | None:
    found: Mandate | None = session.scalars(
        select(Mandate).where(col(Mandate.public_id) == public_id)).first()
    return found


def of_principal(session: Session, principal: Person) -> list[Mandate]:
    return list(session.scalars(select(Mandate).where(col(Mandate.principal_id) == principal.id)
                                .order_by(col(Mandate.created_at).desc())))


def of_agent_account(session: Session, user_id: int) -> list[Mandate]:
    """The mandates whose agent is the person the account is (its verified ID number)."""
    number = session.scalars(select(col(User.id_number)).where(
        col(User.id) == user_id, col(User.id_verified_by).is_not(None))).first()
    if not number:
        return []
    return list(session.scalars(select(Mandate).join(
        Person, col(Person.id) == col(Mandate.agent_id)).where(col(Person.id_number) == number)
        .order_by(col(Mandate.created_at).desc())))


def people_of(session: Session, mandates: Iterable[Mandate]) -> Mapping[int, Person]:
    """The principals and agents of ``mandates`` by id."""
    ids = {m.principal_id for m in mandates} | {m.agent_id for m in mandates}
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(col(Person.id).in_(ids)))
            if p.id is not None}
