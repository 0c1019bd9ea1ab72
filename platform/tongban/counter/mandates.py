"""Mandates (代办): a person authorises an agent to apply for named services on their behalf
until a date, on the evidence of a signed power of attorney the counter keeps as the
principal's material. The counter and the agent's own account honour a mandate only while it
is in force (not past its end date, not revoked) and for the services it names; every use and
every refused use is an audit event. The principal online, or a clerk at the counter, may
revoke it early with a reason (docs/counter.md)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from .. import audit
from ..i18n import N_
from ..models import Mandate, Material, Person, User
from ..worktime import TZ
from .people import PersonRefused, parse_number

EVIDENCE_TYPE = "power-of-attorney"
MSG_EXPIRED = N_("This mandate ended on %(date)s and can no longer be used. Nothing was "
                 "started.")
MSG_REVOKED = N_("This mandate was revoked on %(date)s and can no longer be used. Nothing "
                 "was started.")
MSG_NOT_COVERED = N_("This mandate does not cover %(service)s. Nothing was started.")
MSG_NO_SERVICES = N_("Choose at least one service the agent may apply for")
MSG_DATE = N_("Enter the date the mandate ends, for example 2027-06-30")
MSG_DATE_PAST = N_("The date the mandate ends must be after today")
MSG_SELF = N_("The agent must be someone other than the applicant")
MSG_AGENT_KIND = N_("Enter the agent's 18-character ID number")
MSG_REASON = N_("Enter why the mandate is revoked")
MSG_REASON_LONG = N_("The reason must be 500 characters or fewer")
MSG_ALREADY_REVOKED = N_("This mandate was already revoked on %(date)s. Nothing was changed.")
MSG_ENDED = N_("This mandate ended on %(date)s; there is nothing to revoke. Nothing was "
               "changed.")
MSG_NOT_THEIRS = N_("This mandate was not given by this person, so it cannot be revoked here. "
                    "Nothing was changed.")
REASON_MAX = 500
VIA = ("online", "counter")


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
    return mandate.revoked_at is None and mandate.expires_on >= today


def local_day(moment: datetime) -> str:
    """The Shanghai day of ``moment`` (stored in UTC), as the pages show dates."""
    return moment.astimezone(TZ).date().isoformat()


def check_use(mandate: Mandate, service_code: str, service_name: str, today: date) -> None:
    """:class:`MandateRefused` unless the mandate is in force and names the service."""
    if mandate.revoked_at is not None:
        raise MandateRefused("revoked", MSG_REVOKED, date=local_day(mandate.revoked_at))
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


def record_refusal(session: Session, mandate: Mandate, refused: MandateRefused, *,
                   service_code: str, channel: str, actor_id: int | None, actor_name: str,
                   request_id: str = "") -> None:
    """A use the mandate did not allow is an audit event too (``mandate.use_refused``): which
    service, why (``expired``, ``revoked``, ``not_covered``), where, by whom. The caller
    commits."""
    audit.record(session, action="mandate.use_refused", object_type="mandate",
                 object_id=mandate.public_id, actor_id=actor_id, actor_name=actor_name,
                 after={"service": service_code, "reason": refused.code, "channel": channel},
                 request_id=request_id)


def check_revoke(mandate: Mandate, principal: Person, reason: str, today: date) -> str:
    """The reason, tidied, for revoking ``mandate`` of ``principal``, or
    :class:`MandateRefused` (``not_theirs``, ``already_revoked``, ``ended``, ``reason``)."""
    if mandate.principal_id != principal.id:
        raise MandateRefused("not_theirs", MSG_NOT_THEIRS)
    if mandate.revoked_at is not None:
        raise MandateRefused("already_revoked", MSG_ALREADY_REVOKED,
                             date=local_day(mandate.revoked_at))
    if mandate.expires_on < today:
        raise MandateRefused("ended", MSG_ENDED, date=mandate.expires_on.isoformat())
    tidy = " ".join((reason or "").split())
    if not tidy:
        raise MandateRefused("reason", MSG_REASON)
    if len(tidy) > REASON_MAX:
        raise MandateRefused("reason", MSG_REASON_LONG)
    return tidy


def revoke(session: Session, mandate: Mandate, *, principal: Person, reason: str, via: str,
           actor_id: int | None, actor_name: str, now: datetime, today: date,
           request_id: str = "") -> None:
    """Revoke ``mandate`` before its end date (``via`` online by the principal, or at the
    counter by a clerk), audited (``mandate.revoke``); :class:`MandateRefused` as
    :func:`check_revoke` and nothing changed. The caller commits."""
    if via not in VIA:
        raise ValueError(f"revoked via {via!r}")
    tidy = check_revoke(mandate, principal, reason, today)
    mandate.revoked_at, mandate.revoked_by = now, actor_id
    mandate.revoked_via, mandate.revoked_reason = via, tidy
    session.add(mandate)
    audit.record(session, action="mandate.revoke", object_type="mandate",
                 object_id=mandate.public_id, actor_id=actor_id, actor_name=actor_name,
                 before={"expires_on": mandate.expires_on.isoformat()},
                 after={"revoked_at": now.isoformat(), "via": via, "reason": tidy},
                 request_id=request_id)


def by_public_id(session: Session, public_id: str) -> Mandate | None:
    found: Mandate | None = session.scalars(
        select(Mandate).where(col(Mandate.public_id) == public_id)).first()
    return found


def of_principal(session: Session, principal: Person) -> list[Mandate]:
    return list(session.scalars(select(Mandate).where(col(Mandate.principal_id) == principal.id)
                                .order_by(col(Mandate.created_at).desc())))


def _verified_number(session: Session, user_id: int) -> str | None:
    number: str | None = session.scalars(select(col(User.id_number)).where(
        col(User.id) == user_id, col(User.id_verified_by).is_not(None))).first()
    return number or None


def of_agent_account(session: Session, user_id: int) -> list[Mandate]:
    """The mandates whose agent is the person the account is (its verified ID number)."""
    number = _verified_number(session, user_id)
    if not number:
        return []
    return list(session.scalars(select(Mandate).join(
        Person, col(Person.id) == col(Mandate.agent_id)).where(col(Person.id_number) == number)
        .order_by(col(Mandate.created_at).desc())))


def principal_of_account(session: Session, user_id: int) -> Person | None:
    """The person record the account is (its verified ID number), who may have given
    mandates; None when the account has no verified number or no person record."""
    number = _verified_number(session, user_id)
    if not number:
        return None
    found: Person | None = session.scalars(select(Person).where(
        col(Person.id_number) == number)).first()
    return found


def people_of(session: Session, mandates: Iterable[Mandate]) -> Mapping[int, Person]:
    """The principals and agents of ``mandates`` by id."""
    ids = {m.principal_id for m in mandates} | {m.agent_id for m in mandates}
    if not ids:
        return {}
    return {p.id: p for p in session.scalars(select(Person).where(col(Person.id).in_(ids)))
            if p.id is not None}


def revokers_of(session: Session, mandates: Iterable[Mandate]) -> Mapping[int, str]:
    """The user names of who revoked ``mandates``, by user id (for "revoked by")."""
    ids = {m.revoked_by for m in mandates if m.revoked_by is not None}
    if not ids:
        return {}
    return {u.id: u.username for u in session.scalars(select(User).where(col(User.id).in_(ids)))
            if u.id is not None}
