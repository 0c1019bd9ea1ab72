"""What people read: a person's statement (balance, earned, redeemed, expired, what lapses
soon, the postings) and a ledger's totals for administrators."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from ...models import LedgerAccount, LedgerEntry, LedgerLot, LedgerPerson, LedgerPosting
from ...worktime.calendars import TZ
from . import expiry
from .definition import Ledger
from .posting import stock_left

SOON = timedelta(days=90)
RECENT = 100


@dataclass(frozen=True)
class Line:
    """One entry as it touched the person's account (``amount`` signed)."""

    entry: LedgerEntry
    amount: int


@dataclass
class Statement:
    ledger: Ledger
    id_number: str
    balance: int = 0
    earned: int = 0
    redeemed: int = 0
    expired: int = 0
    expiring: list[tuple[date, int]] = field(default_factory=list)  # (last day usable, points)
    lines: list[Line] = field(default_factory=list)

    def expiring_soon(self, today: date) -> list[tuple[date, int]]:
        return [(day, points) for day, points in self.expiring if day <= today + SOON]


def person_of_user(session: Session, user_id: int) -> LedgerPerson | None:
    return session.scalars(select(LedgerPerson)
                           .where(col(LedgerPerson.user_id) == user_id)).first()


def statement(session: Session, ledger: Ledger, id_number: str) -> Statement:
    result = Statement(ledger, id_number)
    mine = session.scalars(select(LedgerAccount).where(
        col(LedgerAccount.ledger) == ledger.id, col(LedgerAccount.holder) == id_number)
        .execution_options(populate_existing=True)).first()
    if mine is None:
        return result
    result.balance = mine.balance
    sums = dict(session.execute(
        select(col(LedgerEntry.kind), func.sum(col(LedgerEntry.points)))
        .where(col(LedgerEntry.account_id) == mine.id).group_by(col(LedgerEntry.kind))).all())
    result.earned, result.redeemed, result.expired = (int(sums.get(kind) or 0) for kind in
                                                      ("earn", "redeem", "expire"))
    by_day: dict[date, int] = {}
    for lapse, remaining in session.execute(
            select(col(LedgerLot.expires_at), col(LedgerLot.remaining))
            .where(col(LedgerLot.account_id) == mine.id, col(LedgerLot.remaining) > 0,
                   col(LedgerLot.expires_at).is_not(None))):
        last_day = lapse.astimezone(TZ).date() - timedelta(days=1)
        by_day[last_day] = by_day.get(last_day, 0) + remaining
    result.expiring = sorted(by_day.items())
    rows = session.execute(
        select(LedgerEntry, col(LedgerPosting.amount))
        .join(LedgerPosting, col(LedgerPosting.entry_id) == col(LedgerEntry.id), isouter=True)
        .where(col(LedgerEntry.account_id) == mine.id,
               (col(LedgerPosting.account_id) == mine.id) | col(LedgerPosting.id).is_(None))
        .order_by(col(LedgerEntry.occurred_at).desc(), col(LedgerEntry.id).desc())
        .limit(RECENT)).all()
    result.lines = [Line(entry, amount or 0) for entry, amount in rows]
    return result


@dataclass(frozen=True)
class TypeTotal:
    event_type: str
    events: int
    points: int
    capped: int      # events posted in part or refused by a cap (flagged)


@dataclass(frozen=True)
class RewardTotal:
    code: str
    initial: int
    left: int

    @property
    def redeemed(self) -> int:
        return self.initial - self.left


@dataclass
class Totals:
    ledger: Ledger
    issued: int
    redeemed: int
    expired: int
    outstanding: int
    people: int
    by_type: list[TypeTotal]
    rewards: list[RewardTotal]
    flagged: list[LedgerEntry]
    expiry_timers: dict[str, int]   # by state: pending ones wait, failed ones need a look


def totals(session: Session, ledger: Ledger) -> Totals:
    """Issued, redeemed and expired points (from the system accounts), what people hold, per
    event type, each reward's stock, and the latest flagged events."""
    balances = dict(session.execute(
        select(col(LedgerAccount.holder), col(LedgerAccount.balance))
        .where(col(LedgerAccount.ledger) == ledger.id, col(LedgerAccount.kind) != "person"))
        .all())
    outstanding, people = session.execute(
        select(func.coalesce(func.sum(col(LedgerAccount.balance)), 0), func.count())
        .where(col(LedgerAccount.ledger) == ledger.id, col(LedgerAccount.kind) == "person")).one()
    per_type = {row[0]: row for row in session.execute(
        select(col(LedgerEntry.event_type), func.count(),
               func.coalesce(func.sum(col(LedgerEntry.points)), 0))
        .where(col(LedgerEntry.ledger) == ledger.id, col(LedgerEntry.kind) == "earn")
        .group_by(col(LedgerEntry.event_type)))}
    flagged_counts = dict(session.execute(
        select(col(LedgerEntry.event_type), func.count())
        .where(col(LedgerEntry.ledger) == ledger.id, col(LedgerEntry.flagged))
        .group_by(col(LedgerEntry.event_type))).all())
    by_type = [TypeTotal(type_id, int(per_type[type_id][1]) if type_id in per_type else 0,
                         int(per_type[type_id][2]) if type_id in per_type else 0,
                         int(flagged_counts.get(type_id, 0)))
               for type_id in ledger.event_types]
    left = stock_left(session, ledger)
    rewards = [RewardTotal(code, reward.stock, left[code]) for code, reward in ledger.rewards.items()]
    flagged = list(session.scalars(select(LedgerEntry).where(
        col(LedgerEntry.ledger) == ledger.id, col(LedgerEntry.flagged))
        .order_by(col(LedgerEntry.id).desc()).limit(50)))
    return Totals(ledger, issued=-int(balances.get("@issuance", 0)),
                  redeemed=int(balances.get("@redemption", 0)),
                  expired=int(balances.get("@expiry", 0)), outstanding=int(outstanding),
                  people=int(people), by_type=by_type, rewards=rewards, flagged=flagged,
                  expiry_timers=expiry.timer_counts(session, ledger.id))


def statement_day(moment: datetime) -> date:
    """Today in Asia/Shanghai, the day "expiring soon" counts from."""
    return moment.astimezone(TZ).date()
