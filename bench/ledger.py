"""Points-ledger throughput: events posted per second (one transaction each, as the API does)
and redemptions per second from several threads at once (issue 13 item 5).

    .venv/bin/python bench/ledger.py [--db URL] [--events 2000] [--threads 8]

Without --db it runs on a fresh SQLite file in a temporary folder. With a PostgreSQL URL the
database must be empty (a fresh one made for the run); it is migrated first. The shipped
green-points ledger is published, then: ``--events`` drop-offs spread over 200 people (one
per person and day, inside every cap), then every person redeems a reusable bag from
``--threads`` threads, and the script checks that no balance went below zero and the stock
fell by exactly the redemptions that succeeded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))

PEOPLE = 200


def _people() -> list[str]:
    from tongban.forms.formats import id_number_check_character

    numbers = []
    for n in range(PEOPLE):
        first = f"310104{date(1990, 1, 1) + timedelta(days=n):%Y%m%d}123"
        numbers.append(first + id_number_check_character(first))
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    from sqlalchemy import func, select
    from sqlmodel import col

    from tongban import audit, db
    from tongban.definitions import load_directory, publish
    from tongban.migrate import upgrade
    from tongban.models import LedgerAccount
    from tongban.points import ledger

    folder = Path(tempfile.mkdtemp())
    url = args.db or f"sqlite:///{folder}/ledger.db"
    upgrade(url)
    engine = db.open_database(url)
    audit.use_key(engine, audit.KeySource("bench-audit-key-" + "k" * 32, folder / "audit_key"))
    with db.new_session(engine) as session, db.unit_of_work(session) as tx:
        publish(tx, load_directory(ROOT), author="bench")
        book = ledger.latest_ledger(tx, "shanghai-green-points")
    people = _people()
    now = datetime(2026, 12, 2, 4, tzinfo=UTC)

    started = time.perf_counter()
    with db.new_session(engine) as session:
        for n in range(args.events):
            with db.unit_of_work(session) as tx:
                ledger.post_event(tx, book, ledger.Event(
                    f"bench-{n}", "sorting_drop_off", people[n % PEOPLE], 1,
                    now - timedelta(days=n // PEOPLE), "sorting-station"),
                    now=now, actor_name="bench")
    posting = time.perf_counter() - started
    print(f"{args.events} events posted in {posting:.2f} s: {args.events / posting:.0f}/s "
          f"({engine.dialect.name})")

    outcomes: list[str] = []
    lock = threading.Lock()
    queue = list(enumerate(people))

    def work() -> None:
        with db.new_session(engine) as session:
            while True:
                with lock:
                    if not queue:
                        return
                    n, person = queue.pop()
                try:
                    with db.unit_of_work(session) as tx:
                        ledger.redeem(tx, book, id_number=person, reward_code="reusable-bag",
                                      count=1, key=f"bench-{n}", source="reward-kiosk",
                                      now=now, actor_name="bench")
                    result = "ok"
                except ledger.LedgerRefused as exc:
                    result = exc.code
                with lock:
                    outcomes.append(result)

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    redeeming = time.perf_counter() - started
    done = outcomes.count("ok")
    print(f"{len(outcomes)} redemptions from {args.threads} threads in {redeeming:.2f} s: "
          f"{len(outcomes) / redeeming:.0f}/s ({done} made, {len(outcomes) - done} refused)")
    with db.new_session(engine) as session:
        lowest = session.scalar(select(func.min(col(LedgerAccount.balance)))
                                .where(col(LedgerAccount.kind) == "person"))
        stock = ledger.stock_left(session, book)["reusable-bag"]
    assert lowest is not None and lowest >= 0, lowest
    assert stock == 500 - done, (stock, done)
    print(f"lowest balance {lowest}; reusable-bag stock {stock} = 500 - {done}")


if __name__ == "__main__":
    main()
