"""Person records: who a counter clerk serves. A person by citizen ID number (GB 11643) or an
enterprise by unified social credit code (GB 32100), not necessarily an account. The name is
the population register's when it knows the person (verified), else what the clerk typed
from the papers shown (unverified). Drafts and applications made at the counter point here;
the person sees them in /my once they sign in to an account with the same verified ID number.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlmodel import Session, col

from .. import audit, db
from ..forms.formats import check_cn_id_number, check_cn_uscc, id_number_check_character
from ..i18n import N_
from ..models import Application, Draft, Person, User, utcnow
from ..plugin_api import ConnectorError

Kind = Literal["person", "enterprise"]
_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_OLD_ID_SHAPE = re.compile(r"[0-9]{15}")

MSG_EMPTY = N_("Enter the applicant's ID number or unified social credit code")
MSG_LENGTH = N_("Enter an 18-character ID number or unified social credit code")
MSG_NAME = N_("Enter the applicant's name as it is on their papers")
NAME_MAX = 200


class PersonRefused(ValueError):
    """Bad input at the counter; ``message`` is N_-marked for the page to translate."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def parse_number(typed: str) -> tuple[Kind, str]:
    """The kind and the number as stored (upper case, spaces removed) of what a clerk typed,
    or :class:`PersonRefused` with the format checker's own message: a wrong ID number
    check character is told as such, never looked up."""
    number = re.sub(r"\s+", "", typed or "").upper()
    if not number:
        raise PersonRefused("number", MSG_EMPTY)
    if _OLD_ID_SHAPE.fullmatch(number):
        raise PersonRefused("number", check_cn_id_number(number) or MSG_LENGTH)
    if len(number) != 18:
        raise PersonRefused("number", MSG_LENGTH)
    id_problem = check_cn_id_number(number)
    if id_problem is None:
        return "person", number
    if _ID_SHAPE.fullmatch(number) and check_cn_id_number(
            number[:17] + id_number_check_character(number[:17])) is None:
        raise PersonRefused("number", id_problem)  # an ID number but for its last character
    uscc_problem = check_cn_uscc(number)
    if uscc_problem is None:
        return "enterprise", number
    # Shaped like an ID number (17 digits and a digit or X): the ID number's reason.
    raise PersonRefused("number", id_problem if _ID_SHAPE.fullmatch(number) else uscc_problem)


def clean_name(typed: str) -> str:
    name = " ".join((typed or "").split())
    if not name or len(name) > NAME_MAX:
        raise PersonRefused("name", MSG_NAME)
    return name


def by_number(session: Session, number: str) -> Person | None:
    found: Person | None = session.scalars(
        select(Person).where(col(Person.id_number) == number)).first()
    return found


def by_public_id(session: Session, public_id: str) -> Person | None:
    found: Person | None = session.scalars(
        select(Person).where(col(Person.public_id) == public_id)).first()
    return found


def create(session: Session, *, kind: Kind, number: str, name: str, clerk_id: int | None,
           clerk_name: str, verified_by: str | None = None, request_id: str = "") -> Person:
    """A new person record, audited (``person.create``). The caller commits."""
    person = Person(public_id=secrets.token_urlsafe(12), kind=kind, id_number=number,
                    name=name, verified_by=verified_by,
                    verified_at=utcnow() if verified_by else None, created_by=clerk_id)
    session.add(person)
    session.flush()
    audit.record(session, action="person.create", object_type="person",
                 object_id=person.public_id, actor_id=clerk_id, actor_name=clerk_name,
                 after={"kind": kind, "number": number, "verified_by": verified_by},
                 request_id=request_id)
    return person


# --- the population register ------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterQuery:
    """Which service connector query the counter reads a person from (the COUNTER_REGISTER
    setting: ``service/connector/query``), as the service's published block has it."""

    service: Mapping[str, Any]
    connector: str
    query_id: str

    @property
    def block(self) -> Mapping[str, Any]:
        found: Mapping[str, Any] = self.service["connectors"][self.connector]
        return found

    @property
    def query(self) -> Mapping[str, Any]:
        found: Mapping[str, Any] = self.block["queries"][self.query_id]
        return found

    @property
    def source(self) -> dict[str, str]:
        department = self.block.get("options", {}).get("department") or {}
        return {"zh": str(department.get("zh", self.connector)),
                "en": str(department.get("en", self.connector))}


def register_query(setting: str, service: Mapping[str, Any] | None) -> RegisterQuery | None:
    """The query the setting names in ``service`` (its published content), or None when the
    setting is empty or the service has no such connector query (the counter then types)."""
    parts = setting.split("/") if setting else []
    if len(parts) != 3 or service is None:
        return None
    _code, connector, query_id = parts
    block = (service.get("connectors") or {}).get(connector)
    if not isinstance(block, Mapping) or query_id not in (block.get("queries") or {}):
        return None
    return RegisterQuery(service, connector, query_id)


@dataclass(frozen=True)
class RegisterAnswer:
    """``status``: ok (the register knows the person: ``name`` and ``values``, question path ->
    value), none (no record), unverified (the register failed), missing (no register)."""

    status: str
    name: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)


NAME_SUFFIX = ".name"


def read_register(session: Session, connectors: Any, register: RegisterQuery | None,
                  number: str, *, actor_id: int | None, actor_name: str,
                  request_id: str = "") -> RegisterAnswer:
    """Ask the register about ``number`` (its query's first parameter) and audit the call
    (``connector.counter``: who, which person, the outcome). Commits on ``session``: call it
    outside a unit of work, so a slow register holds no lock of ours."""
    if register is None:
        return RegisterAnswer("missing")
    query = register.query
    params = {name: number for name in (query.get("params") or {})}
    started = time.monotonic()
    status, error, rows = "ok", None, []
    try:
        result = connectors.connector(register.service["code"], register.connector,
                                      register.block).fetch(
            register.query_id, query, params,
            timeout=float(register.block.get("options", {}).get("timeout", 5)))
        rows = list(result.rows)
    except ConnectorError as exc:
        status, error = "unverified", str(exc)
    except Exception as exc:  # noqa: BLE001 - a plugin's bug fails soft: the clerk types
        status, error = "unverified", f"{type(exc).__name__}: {exc}"
    if status == "ok" and not rows:
        status = "none"
    values: dict[str, Any] = {}
    if rows:
        values = {path: rows[0].get(column)
                  for column, path in (query.get("fields") or {}).items()}
    name = next((str(v) for k, v in values.items() if k.endswith(NAME_SUFFIX) and v), "")
    if status == "ok" and not name:
        status = "none"  # a row without a name cannot confirm who this is
    with db.unit_of_work(session) as tx:
        audit.record(tx, action="connector.counter", object_type="person_number",
                     object_id=number, actor_id=actor_id, actor_name=actor_name,
                     after={"service": register.service["code"], "connector": register.connector,
                            "query": register.query_id, "status": status,
                            "ms": round((time.monotonic() - started) * 1000),
                            **({"error": error[:200]} if error else {})},
                     request_id=request_id)
    return RegisterAnswer(status, name, values, register.source)


# --- what a person has ------------------------------------------------------------------------

def open_drafts(session: Session, person: Person) -> list[Draft]:
    return list(session.scalars(select(Draft).where(
        col(Draft.person_id) == person.id, col(Draft.status) == "open",
        col(Draft.expires_at) > utcnow()).order_by(col(Draft.updated_at).desc())))


def applications(session: Session, person: Person) -> list[Application]:
    return list(session.scalars(select(Application).where(
        col(Application.person_id) == person.id)
        .order_by(col(Application.submitted_at).desc()).limit(200)))


def people_of_user(session: Session, user_id: int) -> list[int]:
    """The person records an account is: the one with the account's verified ID number."""
    number = session.scalars(select(col(User.id_number)).where(
        col(User.id) == user_id, col(User.id_verified_by).is_not(None))).first()
    if not number:
        return []
    return list(session.scalars(select(col(Person.id)).where(col(Person.id_number) == number)))


def is_theirs(session: Session, application: Application, user_id: int | None) -> bool:
    """Whether a signed-in account is the person a counter application was made for."""
    return (user_id is not None and application.person_id is not None
            and application.person_id in people_of_user(session, user_id))


def mine_filter(session: Session, user_id: int) -> Any:
    """A where-clause on Application for /my: one's own, taken in as a clerk, or made at the
    counter for the person the account is."""
    people = people_of_user(session, user_id)
    clauses = [col(Application.submitter_id) == user_id, col(Application.clerk_id) == user_id]
    if people:
        clauses.append(col(Application.person_id).in_(people))
    return or_(*clauses)


def verify_account(session: Session, user: User, number: str, how: str) -> None:
    """Record an account's ID number as verified (``how``: the demo loader, a counter check).
    The caller commits."""
    user.id_number = number
    user.id_verified_by = how
    user.id_verified_at = utcnow()
    session.add(user)
