"""People and their accounts in a ledger, made on first use (an INSERT that ignores a row made
at the same moment elsewhere), and the refusal every ledger operation raises on bad input."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from ...forms.formats import check_cn_id_number
from ...models import LedgerAccount, LedgerPerson, utcnow

SYSTEM_HOLDERS = {"issuance": "@issuance", "redemption": "@redemption", "expiry": "@expiry"}


class LedgerRefused(ValueError):
    """Bad input or a refusal; ``template % params`` is the English message (an ``N_`` msgid,
    shown translated; a parameter given as ``{"zh": ..., "en": ...}`` is shown in the message's
    language, see :meth:`params_in`), ``code`` names the case for machines. Nothing was
    changed."""

    def __init__(self, code: str, template: str, status: int = 422, **params: Any):
        self.code, self.template, self.params, self.status = code, template, params, status
        super().__init__(template % self.params_in("en"))

    def params_in(self, lang: str) -> dict[str, Any]:
        return {key: value.get(lang, value.get("en")) if isinstance(value, dict) else value
                for key, value in self.params.items()}


def insert_ignoring_conflict(session: Session, model: Any, values: dict[str, Any],
                              keys: list[str]) -> None:
    """INSERT that does nothing when a row with the same ``keys`` exists (or appears at the
    same moment in another transaction)."""
    dialect = session.get_bind().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(make(model).values(**values).on_conflict_do_nothing(index_elements=keys))


def locked(session: Session, query: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update()
    return query


def valid_id_number(value: object) -> str:
    """The ID number with a lower-case x made upper, or :class:`LedgerRefused` saying why not."""
    reason = check_cn_id_number(value)
    if reason is not None:
        raise LedgerRefused("bad_id_number", reason)
    assert isinstance(value, str)
    return value.upper()


def person(session: Session, id_number: str) -> LedgerPerson:
    """The person of an ID number, made on first use."""
    insert_ignoring_conflict(session, LedgerPerson, {"id_number": id_number,
                                                      "created_at": utcnow()},
                              ["id_number"])
    return session.scalars(select(LedgerPerson).where(col(LedgerPerson.id_number) == id_number)
                           .execution_options(populate_existing=True)).one()


def link_user(session: Session, id_number: str, user_id: int) -> LedgerPerson:
    """Link a person (by ID number) to the user account they sign in with; a user has one ID
    number, so a link the user had to another is moved."""
    found = person(session, valid_id_number(id_number))
    session.execute(update(LedgerPerson)
                    .where(col(LedgerPerson.user_id) == user_id, col(LedgerPerson.id) != found.id)
                    .values(user_id=None).execution_options(synchronize_session=False))
    found.user_id = user_id
    session.add(found)
    session.flush()
    return found


def account(session: Session, ledger_id: str, holder: str, kind: str = "person",
            person_id: int | None = None, *, lock: bool = False) -> LedgerAccount:
    """The account of ``holder`` (an ID number, or a system holder), made on first use."""
    insert_ignoring_conflict(session, LedgerAccount, {
        "ledger": ledger_id, "kind": kind, "holder": holder, "person_id": person_id,
        "balance": 0, "created_at": utcnow()}, ["ledger", "holder"])
    query = (select(LedgerAccount).where(col(LedgerAccount.ledger) == ledger_id,
                                         col(LedgerAccount.holder) == holder)
             .execution_options(populate_existing=True))
    return session.scalars(locked(session, query) if lock else query).one()


def system_account(session: Session, ledger_id: str, kind: str) -> LedgerAccount:
    return account(session, ledger_id, SYSTEM_HOLDERS[kind], kind)


def balance_of(session: Session, account_id: int) -> int:
    return int(session.scalars(select(col(LedgerAccount.balance))
                               .where(col(LedgerAccount.id) == account_id)).one())


