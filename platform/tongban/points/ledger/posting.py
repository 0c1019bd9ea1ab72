"""Posting to a ledger: an event earns points (within its caps), a redemption spends them on a
reward. Each is one journal entry whose postings sum to zero, written in the caller's
transaction together with its audit event.

Concurrency: the person's account row is the lock. An event locks it before counting the caps
(``SELECT ... FOR UPDATE`` on PostgreSQL, the write lock on SQLite), a redemption takes its
points with ``UPDATE ... SET balance = balance - n WHERE balance >= n`` and its reward with
``UPDATE ... SET stock = stock - k WHERE stock >= k``: whoever comes second sees what the first
left, so a balance never goes negative and a reward never oversells. An event id is unique per
ledger: the same event posted twice (even at once: the unique index decides) is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from ... import audit
from ...i18n import N_
from ...models import (
    LedgerAccount,
    LedgerEntry,
    LedgerLot,
    LedgerPosting,
    LedgerReward,
    saved_id,
)
from . import expiry
from .accounts import (
    LedgerRefused,
    account,
    balance_of,
    insert_ignoring_conflict,
    locked,
    person,
    system_account,
    valid_id_number,
)
from .definition import Ledger, day_bounds, month_bounds

MAX_QUANTITY = 10_000
MAX_REWARDS_AT_ONCE = 20
MAX_ID = 100
FUTURE_SLACK = timedelta(minutes=10)  # a source's clock may run a little ahead of ours
CITIZEN_SOURCE = "citizen"            # a redemption made by the person on /my/points


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    person: str          # citizen ID number
    quantity: float
    occurred_at: datetime
    source: str


@dataclass
class Posted:
    """An entry as stored; ``duplicate``: it was stored before, by an earlier call."""

    entry: LedgerEntry
    duplicate: bool = False
    balance: int = 0
    notes: list[str] = field(default_factory=list)


def find_entry(session: Session, ledger_id: str, event_id: str) -> LedgerEntry | None:
    return session.scalars(select(LedgerEntry).where(col(LedgerEntry.ledger) == ledger_id,
                                                     col(LedgerEntry.event_id) == event_id)).first()


def _move(session: Session, entry: LedgerEntry, amounts: list[tuple[LedgerAccount, int]],
          *, balance_taken: int | None = None) -> None:
    """The entry's postings (they sum to zero) and the accounts' balances; ``balance_taken``:
    the account whose balance the caller has moved already (a redemption's conditional UPDATE)."""
    if sum(amount for _, amount in amounts) != 0:
        raise ValueError("an entry's postings must sum to zero")
    for target, amount in amounts:
        session.add(LedgerPosting(entry_id=saved_id(entry), account_id=saved_id(target),
                                  amount=amount))
        if target.id == balance_taken:
            continue
        session.execute(update(LedgerAccount).where(col(LedgerAccount.id) == target.id)
                        .values(balance=col(LedgerAccount.balance) + amount)
                        .execution_options(synchronize_session=False))


def _checked_event(ledger: Ledger, event: Event, now: datetime) -> str:
    """The person's ID number; refuses an unknown type, a bad ID number, a source the type
    does not take, a bad quantity, an event in the future."""
    event_type = ledger.event_types.get(event.type)
    if event_type is None:
        raise LedgerRefused("unknown_event_type",
                            N_('Unknown event type "%(type)s": expected one of %(known)s'),
                            type=event.type, known=", ".join(ledger.event_types))
    id_number = valid_id_number(event.person)
    if event.source not in event_type.sources:
        raise LedgerRefused("source_not_allowed",
                            N_('The source "%(source)s" may not post "%(type)s" events'),
                            status=403, source=event.source, type=event.type)
    quantity = event.quantity
    whole = float(quantity).is_integer()
    if not 0 < quantity <= MAX_QUANTITY or (event_type.unit is None and not whole):
        raise LedgerRefused("bad_quantity", N_("The quantity must be a whole number from 1 to "
                                               "%(most)s") if event_type.unit is None else
                            N_("The quantity must be a number above 0 and at most %(most)s"),
                            most=MAX_QUANTITY)
    if event.occurred_at > now + FUTURE_SLACK:
        raise LedgerRefused("occurred_in_future", N_("The event's time is in the future"))
    return id_number


def _earned_between(session: Session, account_id: int, event_type: str,
                    window: tuple[datetime, datetime]) -> int:
    return int(session.scalar(
        select(func.coalesce(func.sum(col(LedgerEntry.points)), 0))
        .where(col(LedgerEntry.account_id) == account_id, col(LedgerEntry.kind) == "earn",
               col(LedgerEntry.event_type) == event_type,
               col(LedgerEntry.occurred_at) >= window[0],
               col(LedgerEntry.occurred_at) < window[1])) or 0)


def _capped(session: Session, ledger: Ledger, account_id: int, event: Event,
            requested: int) -> tuple[int, str]:
    """The points the caps leave for this event, and which cap when fewer than requested
    (``cap:daily:20``; :func:`reason_message` says it in words)."""
    event_type = ledger.event_types[event.type]
    allowed, reason = requested, ""
    for period, cap, window in (("daily", event_type.daily_cap, day_bounds(event.occurred_at)),
                                ("monthly", event_type.monthly_cap,
                                 month_bounds(event.occurred_at))):
        if cap is None:
            continue
        left = max(cap - _earned_between(session, account_id, event.type, window), 0)
        if left < allowed:
            allowed, reason = left, f"cap:{period}:{cap}"
    return allowed, reason


CAP_MESSAGES = {
    "daily": N_("Over the daily cap of %(cap)s points for this event type: %(points)s of "
                "%(requested)s points accepted"),
    "monthly": N_("Over the monthly cap of %(cap)s points for this event type: %(points)s of "
                  "%(requested)s points accepted"),
}


def reason_message(entry: LedgerEntry) -> tuple[str, dict[str, Any]] | None:
    """Why an event was capped or refused, as an ``N_`` template and its values."""
    if not entry.reason.startswith("cap:"):
        return None
    _cap, period, cap = entry.reason.split(":", 2)
    return CAP_MESSAGES[period], {"cap": int(cap), "points": entry.points,
                                  "requested": entry.requested}


def post_event(session: Session, ledger: Ledger, event: Event, *, now: datetime,
               actor_name: str, actor_id: int | None = None, request_id: str = "") -> Posted:
    """Post one event (the caller commits). An event whose id is stored already answers that
    entry with ``duplicate``. An event over a cap is stored ``capped`` (part accepted) or
    ``refused`` (nothing), flagged, with the reason."""
    id_number = _checked_event(ledger, event, now)
    earlier = find_entry(session, ledger.id, event.event_id)
    if earlier is not None:
        return Posted(earlier, duplicate=True,
                      balance=balance_of(session, earlier.account_id))
    holder = person(session, id_number)
    mine = account(session, ledger.id, id_number, "person", holder.id, lock=True)
    requested = ledger.event_types[event.type].points_for(event.quantity)
    points, reason = _capped(session, ledger, saved_id(mine), event, requested)
    status = "posted" if points == requested else ("capped" if points else "refused")
    entry = LedgerEntry(ledger=ledger.id, ledger_version=ledger.version, kind="earn",
                        event_id=event.event_id, event_type=event.type,
                        account_id=saved_id(mine), quantity=event.quantity,
                        requested=requested, points=points, status=status,
                        flagged=status != "posted", reason=reason, source=event.source,
                        occurred_at=event.occurred_at, created_at=now)
    session.add(entry)
    session.flush()
    if points:
        _move(session, entry, [(system_account(session, ledger.id, "issuance"), -points),
                               (mine, points)])
        lapse = ledger.expires_at(event.occurred_at)
        session.add(LedgerLot(ledger=ledger.id, entry_id=saved_id(entry),
                              account_id=saved_id(mine), points=points, remaining=points,
                              earned_at=event.occurred_at, expires_at=lapse))
        if lapse is not None:
            expiry.schedule(session, ledger.id, lapse, now)
    session.flush()
    audit.record(session, action=f"ledger.{'flag' if entry.flagged else 'post'}",
                 object_type="ledger_entry", object_id=f"{ledger.id}:{entry.id}",
                 actor_id=actor_id, actor_name=actor_name, request_id=request_id,
                 after={"event_id": event.event_id, "type": event.type, "points": points,
                        "requested": requested, "status": status, "source": event.source,
                        "reason": reason})
    return Posted(entry, balance=balance_of(session, saved_id(mine)))


def _reward_row(session: Session, ledger: Ledger, code: str) -> None:
    reward = ledger.rewards[code]
    insert_ignoring_conflict(session, LedgerReward, {
        "ledger": ledger.id, "code": code, "initial": reward.stock, "stock": reward.stock},
        ["ledger", "code"])


def stock_left(session: Session, ledger: Ledger) -> dict[str, int]:
    """Each reward's stock now (its initial stock while nobody has redeemed it)."""
    rows = dict(session.execute(select(col(LedgerReward.code), col(LedgerReward.stock))
                                .where(col(LedgerReward.ledger) == ledger.id)).all())
    return {code: rows.get(code, reward.stock) for code, reward in ledger.rewards.items()}


def _take_from_lots(session: Session, account_id: int, points: int) -> None:
    """Take ``points`` from the account's lots, the soonest to lapse first."""
    lots = session.scalars(locked(session, select(LedgerLot).where(
        col(LedgerLot.account_id) == account_id, col(LedgerLot.remaining) > 0)
        .order_by(col(LedgerLot.expires_at).is_(None), col(LedgerLot.expires_at),
                  col(LedgerLot.id)).execution_options(populate_existing=True))).all()
    for lot in lots:
        if points == 0:
            break
        taken = min(points, lot.remaining)
        lot.remaining -= taken
        points -= taken
        session.add(lot)
    if points:
        raise RuntimeError(f"account {account_id}: its lots hold less than its balance")


def redeem(session: Session, ledger: Ledger, *, id_number: str, reward_code: str, count: int,
           key: str, source: str, now: datetime, actor_name: str,
           actor_id: int | None = None, request_id: str = "") -> Posted:
    """Spend a person's points on ``count`` of a reward (the caller commits; when this raises
    the caller rolls back). ``key`` makes the request idempotent: the same key again answers
    the first redemption with ``duplicate``."""
    reward = ledger.rewards.get(reward_code)
    if reward is None:
        raise LedgerRefused("unknown_reward",
                            N_('Unknown reward "%(reward)s": expected one of %(known)s'),
                            reward=reward_code, known=", ".join(ledger.rewards))
    if not isinstance(count, int) or isinstance(count, bool) \
            or not 1 <= count <= MAX_REWARDS_AT_ONCE:
        raise LedgerRefused("bad_count", N_("The number of rewards must be a whole number "
                                            "from 1 to %(most)s"), most=MAX_REWARDS_AT_ONCE)
    id_number = valid_id_number(id_number)
    event_id = f"redeem:{key}"
    earlier = find_entry(session, ledger.id, event_id)
    if earlier is not None:
        return Posted(earlier, duplicate=True, balance=balance_of(session, earlier.account_id))
    holder = person(session, id_number)
    mine = account(session, ledger.id, id_number, "person", holder.id)
    cost = reward.cost * count
    taken = session.execute(
        update(LedgerAccount)
        .where(col(LedgerAccount.id) == mine.id, col(LedgerAccount.balance) >= cost)
        .values(balance=col(LedgerAccount.balance) - cost)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result has rowcount
        raise LedgerRefused("insufficient_balance",
                            N_("Not enough points: %(cost)s needed, the balance is %(balance)s"),
                            cost=cost, balance=balance_of(session, saved_id(mine)))
    _reward_row(session, ledger, reward_code)
    sold = session.execute(
        update(LedgerReward)
        .where(col(LedgerReward.ledger) == ledger.id, col(LedgerReward.code) == reward_code,
               col(LedgerReward.stock) >= count)
        .values(stock=col(LedgerReward.stock) - count)
        .execution_options(synchronize_session=False))
    if sold.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result has rowcount
        raise LedgerRefused("out_of_stock",
                            N_('Not enough "%(reward)s" left: %(asked)s asked, %(left)s in stock'),
                            reward=dict(reward.name), asked=count,
                            left=stock_left(session, ledger)[reward_code])
    _take_from_lots(session, saved_id(mine), cost)
    entry = LedgerEntry(ledger=ledger.id, ledger_version=ledger.version, kind="redeem",
                        event_id=event_id, account_id=saved_id(mine), requested=cost,
                        points=cost, source=source, reward_code=reward_code,
                        reward_count=count, occurred_at=now, created_at=now)
    session.add(entry)
    session.flush()
    _move(session, entry, [(mine, -cost), (system_account(session, ledger.id, "redemption"), cost)],
          balance_taken=mine.id)
    session.flush()
    audit.record(session, action="ledger.redeem", object_type="ledger_entry",
                 object_id=f"{ledger.id}:{entry.id}", actor_id=actor_id, actor_name=actor_name,
                 request_id=request_id,
                 after={"reward": reward_code, "count": count, "points": cost, "source": source})
    return Posted(entry, balance=balance_of(session, saved_id(mine)))
