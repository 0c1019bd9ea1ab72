"""The ledger's core under load and in time: concurrent redemptions never take a balance below
zero nor sell more than the stock (threads, each its own session and transaction, on SQLite
and PostgreSQL), redemptions use the oldest lots first, and points lapse on a durable timer
that expires them once however often it fires."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, col

from tongban import db
from tongban.models import (
    FlowTimer,
    LedgerAccount,
    LedgerEntry,
    LedgerLot,
    LedgerPosting,
    LedgerReward,
)
from tongban.points import ledger
from tongban.points.ledger import expiry
from tongban.workflow import timers

LEDGER = "shanghai-green-points"
NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
PEOPLE = [base + c for base, c in (("31011519850612456", "1"), ("31010420000101789", "2"),
                                   ("31010419921111002", "9"))]


def engine_of(app: Flask) -> Engine:
    engine: Engine = app.extensions["tongban.engine"]
    return engine


def green(engine: Engine) -> ledger.Ledger:
    with db.new_session(engine) as session:
        return ledger.latest_ledger(session, LEDGER)


def earn(engine: Engine, person: str, tens: int, start: datetime = NOW - timedelta(days=60),
         prefix: str = "e") -> None:
    """``tens`` drop-offs of 10 points, one a day (within the caps)."""
    book = green(engine)
    with db.new_session(engine) as session, db.unit_of_work(session) as tx:
        for n in range(tens):
            ledger.post_event(tx, book, ledger.Event(
                f"{prefix}-{person}-{n}", "sorting_drop_off", person, 1,
                start + timedelta(days=n), "sorting-station"), now=NOW, actor_name="test")


def redeem_at_once(engine: Engine, people: list[str], reward: str) -> list[str]:
    """Each person redeems one ``reward`` in a thread of their own, all released together;
    the outcome of each: "ok" or the refusal's code."""
    book = green(engine)
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int, person: str) -> None:
        barrier.wait(10)
        try:
            with db.new_session(engine) as session, db.unit_of_work(session) as tx:
                ledger.redeem(tx, book, id_number=person, reward_code=reward, count=1,
                              key=f"race-{n}", source="reward-kiosk", now=NOW,
                              actor_name="test")
            result = "ok"
        except ledger.LedgerRefused as exc:
            result = exc.code
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(n, person))
               for n, person in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return sorted(outcomes)


def balance(session: Session, person: str) -> int:
    session.commit()  # a new read: see what the other sessions committed
    return session.scalars(select(col(LedgerAccount.balance)).where(
        col(LedgerAccount.ledger) == LEDGER, col(LedgerAccount.holder) == person)).one()


def test_concurrent_redemptions_never_take_a_balance_below_zero(demo: Flask,
                                                                session: Session) -> None:
    engine = engine_of(demo)
    earn(engine, PEOPLE[0], 25)  # 250 points: two bags of 100, not three
    outcomes = redeem_at_once(engine, [PEOPLE[0]] * 8, "reusable-bag")
    assert outcomes == ["insufficient_balance"] * 6 + ["ok"] * 2
    assert balance(session, PEOPLE[0]) == 50
    remaining = session.scalar(select(func.sum(col(LedgerLot.remaining))).where(
        col(LedgerLot.account_id) == select(col(LedgerAccount.id)).where(
            col(LedgerAccount.holder) == PEOPLE[0]).scalar_subquery()))
    assert remaining == 50


def test_concurrent_redemptions_never_sell_more_than_the_stock(demo: Flask,
                                                               session: Session) -> None:
    engine = engine_of(demo)
    for n, person in enumerate(PEOPLE):
        earn(engine, person, 20, prefix=f"s{n}")  # 200 points: enough for two bags each
    session.add(LedgerReward(ledger=LEDGER, code="reusable-bag", initial=500, stock=4))
    session.commit()
    outcomes = redeem_at_once(engine, PEOPLE * 2, "reusable-bag")
    assert outcomes == ["ok"] * 4 + ["out_of_stock"] * 2
    session.commit()  # a new read: see what the other sessions committed
    stock = session.scalars(select(LedgerReward).where(
        col(LedgerReward.code) == "reusable-bag")).one()
    assert stock.stock == 0
    assert sum(200 - balance(session, person) for person in PEOPLE) == 4 * 100


def test_every_entry_balances_and_the_accounts_sum_to_zero(demo: Flask, session: Session) -> None:
    engine = engine_of(demo)
    earn(engine, PEOPLE[1], 15)
    redeem_at_once(engine, [PEOPLE[1]], "reusable-bag")
    unbalanced = session.execute(select(col(LedgerPosting.entry_id))
                                 .group_by(col(LedgerPosting.entry_id))
                                 .having(func.sum(col(LedgerPosting.amount)) != 0)).all()
    assert unbalanced == []
    assert session.scalar(select(func.sum(col(LedgerAccount.balance)))) == 0


def test_redemptions_take_the_points_that_lapse_first(demo: Flask, session: Session) -> None:
    engine = engine_of(demo)
    person = PEOPLE[2]
    earn(engine, person, 10, start=datetime(2025, 6, 1, 2, tzinfo=UTC), prefix="y2025")
    earn(engine, person, 10, start=datetime(2026, 6, 1, 2, tzinfo=UTC), prefix="y2026")
    assert redeem_at_once(engine, [person], "reusable-bag") == ["ok"]
    lots = session.scalars(select(LedgerLot).join(
        LedgerAccount, col(LedgerAccount.id) == col(LedgerLot.account_id))
        .where(col(LedgerAccount.holder) == person).order_by(col(LedgerLot.earned_at))).all()
    assert [lot.remaining for lot in lots] == [0] * 10 + [10] * 10
    assert {lot.expires_at for lot in lots[:10]} == {datetime(2026, 12, 31, 16, tzinfo=UTC)}


def test_points_lapse_on_the_timer_at_the_end_of_the_next_calendar_year_once(
        demo: Flask, session: Session) -> None:
    engine = engine_of(demo)
    person = PEOPLE[0]
    earn(engine, person, 3, start=datetime(2025, 3, 1, 2, tzinfo=UTC))
    lapse = datetime(2026, 12, 31, 16, tzinfo=UTC)  # 2027-01-01 00:00 in Shanghai
    timer = session.scalars(select(FlowTimer).where(
        col(FlowTimer.key) == expiry.timer_key(LEDGER, lapse))).one()
    assert (timer.kind, timer.state, timer.due_at) == ("ledger.expire", "pending", lapse)
    assert timers.run_due(engine, lapse - timedelta(seconds=1)) == []
    [fired] = [o for o in timers.run_due(engine, lapse + timedelta(minutes=1))
               if o.timer_id == timer.id]
    assert fired.state == "done"
    assert balance(session, person) == 0
    # Fired again (a worker that lost its claim, an operator's retry): nothing more lapses.
    session.execute(update(FlowTimer).where(col(FlowTimer.id) == timer.id)
                    .values(state="pending", attempts=0))
    session.commit()
    [again] = [o for o in timers.run_due(engine, lapse + timedelta(minutes=2))
               if o.timer_id == timer.id]
    assert again.state == "done"
    account_id = session.scalars(select(col(LedgerAccount.id))
                                 .where(col(LedgerAccount.holder) == person)).one()
    mine = session.scalars(select(LedgerEntry).where(col(LedgerEntry.kind) == "expire",
                                                     col(LedgerEntry.account_id) == account_id)).all()
    assert [(e.points, e.occurred_at) for e in mine] == [(30, lapse)]
    book = green(engine)
    statement = ledger.statement(session, book, person)
    assert (statement.balance, statement.earned, statement.expired) == (0, 30, 30)


@pytest.mark.parametrize("rule, earned, expected", [
    ({"rule": "end_of_next_calendar_year"}, "2026-05-03T10:00:00+08:00", "2028-01-01T00:00:00+08:00"),
    ({"rule": "end_of_next_calendar_year"}, "2026-12-31T23:59:00+08:00", "2028-01-01T00:00:00+08:00"),
    ({"rule": "end_of_next_calendar_year"}, "2026-12-31T16:30:00+00:00", "2029-01-01T00:00:00+08:00"),
    ({"rule": "end_of_calendar_year"}, "2026-05-03T10:00:00+08:00", "2027-01-01T00:00:00+08:00"),
    ({"rule": "after_days", "days": 30}, "2026-05-03T10:00:00+08:00", "2026-06-03T00:00:00+08:00"),
    ({"rule": "never"}, "2026-05-03T10:00:00+08:00", None),
])
def test_expiry_rules_count_shanghai_days(rule: dict[str, object], earned: str,
                                          expected: str | None) -> None:
    content = {"id": "x", "name": {"zh": "x", "en": "x"}, "sources": [], "event_types": [],
               "expiry": rule, "rewards": []}
    lapse = ledger.compile_ledger(content).expires_at(datetime.fromisoformat(earned))
    assert lapse == (datetime.fromisoformat(expected) if expected else None)
