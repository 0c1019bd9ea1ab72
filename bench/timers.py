"""Durable timers through the job queue (issue 12, item 8): 100,000 pending timers due over the
next minute (--spread), fired by real worker processes (huey's consumer as `tongban flow work`
runs it: 1 process of 2 threads on SQLite, 2 of 2 on PostgreSQL), every worker SIGKILLed
half-way and new ones started.

    .venv/bin/python bench/timers.py [--timers 100000] [--backends sqlite,redis] [--spread 60]
                                     [--shape 2x2] [--handler bump|deadline] [--batch 50]
                                     [--instances 20000]

Backends: "sqlite" is the embedded default (database SQLite, queue a SQLite file); "redis" is
the production shape (database PostgreSQL in a scratch database, queue Redis at
TONGBAN_BENCH_REDIS, default redis://127.0.0.1:6379/14). Each timer's handler is the test
suite's `test.bump`: one flow event on a real flow instance whose version it moves on (the
optimistic lock every transition takes), in the firing's transaction (on PostgreSQL the
batch's). Goal: every timer fired within 60 s
of its due time, none lost, none doubled. Baseline, measured in the same run: a plain loop
firing the same handler directly (one transaction per timer, no claim, no queue).

``--handler deadline`` fires the engine's own deadline timers instead (``runtime.timer_handler``:
load the instance, run ``timeouts.fire_timer``, store its rows and audit events): real
applications whose intake answer (preset ``intake_answer``) ran out, started through the
runtime in the past, two timers each (due soon, timeout); their timers' due times are moved to
the spread window. Each must end deemed accepted once; a timer whose deadline had closed when
it came up (a due-soon after the acceptance) is cancelled as stale, which counts as fired.

``--batch N``: timers a worker fires in one transaction on PostgreSQL, the ``TIMER_BATCH``
setting (default 50, the platform's since 2026-12-03: the optimistic batch; ``--batch 1``, one
transaction per timer, the default before); each queued job carries 50 claimed timers either
way. Batches of 50 with a SAVEPOINT per timer measured slower through the queue on 200
instances (see docs/operations.md (f)).

``--instances N``: the flow instances the ``test.bump`` timers fall on (default 20,000, five
timers each). Real timers fall on many applications, a few each (a deadline's due-soon and
timeout, a reminder); 200 instances (the default before 2026-12-03) put 500 timers on each,
so the batches in flight met on the same instances and mostly measured each other's row
locks and the stale retries that follow. ``--instances 200`` keeps that shape available.
The instances past the first are bulk-inserted copies of one submitted the real way
(``th.many_instances``): the handler reads and writes only the instance and its events.

Several workers: ``--shape PxT`` starts P worker processes of T threads each, as P times
``tongban flow work --workers T`` would (each sizes its database pool to its threads). On
PostgreSQL a firing's cost is mostly its commit's WAL flush, which concurrent commits share:
more threads help until the server's CPU or disk is the limit.

Where a ``test.bump`` timer's time goes on PostgreSQL (statements counted with SQLAlchemy's
cursor events, in-process ``timers.fire_many``): one transaction per timer (``--batch 1``) is
7 round trips, the guard that re-checks the claim and marks the row done (one UPDATE …
RETURNING), the handler's four statements, BEGIN and COMMIT. The optimistic batch of
``TIMER_BATCH`` (50) timers is the handlers' four statements a timer and, for the whole batch,
one guard (an UPDATE … WHERE (id, attempts) IN (…) RETURNING), one BEGIN and one COMMIT: one
WAL flush instead of 50 (``tests/spine/test_timers_optimistic.py`` counts them). Should a
handler fail, its batch is rolled back and fired again with a SAVEPOINT and its RELEASE per
timer (9 round trips a timer, one commit). The claim is one UPDATE … RETURNING per batch,
the connection checked out (and pinged) once per batch. Before 2026-12-02 it was 9 (a checkout
with its ping per timer and a second UPDATE marking the row done) plus two statements per
claim. The engine's deadline handler costs 22 statements a timer (it no longer reads its timer
again nor marks it twice). On SQLite every timer keeps its own transaction: its commit is no
WAL flush (``synchronous=NORMAL``), and batching measured no faster there (see
docs/operations.md).

Several workers on PostgreSQL with batches: two batches lock their instances in instance order
(a batch is fired sorted by instance id), so they wait for each other rather than deadlock on
the instances; a deadlock that still happens (the engine's handler also takes the audit head's
row lock) rolls the victim batch back whole and its timers are claimed again a second later.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import bindparam, func, insert, select  # noqa: E402
from sqlmodel import col  # noqa: E402
from tests.spine import timer_handlers as th  # noqa: E402
from tests.spine.flow_world import build  # noqa: E402

from tongban import audit, db  # noqa: E402
from tongban.migrate import upgrade  # noqa: E402
from tongban.models import FlowEvent, FlowTimer, utcnow  # noqa: E402
from tongban.workflow import runtime  # noqa: E402

REDIS_URL = os.environ.get("TONGBAN_BENCH_REDIS", "redis://127.0.0.1:6379/14")
INSTANCES = 20_000         # flow instances the test.bump timers fall on (--instances)
SPREAD_SECONDS = 60.0      # due times spread over this window, starting a few seconds ahead
LEASE_SECONDS = 10
# Worker processes × threads. SQLite takes one writer at a time: a second process only adds
# waiting on the lock. On PostgreSQL two processes of `tongban flow work`'s default 2 threads:
# on 2 cores measured faster than 2 × 4 (793 against 696/s) and 3 × 2 (732/s), 2026-12-03.
SHAPES = {"sqlite": (1, 2), "redis": (2, 2)}
# How often the benchmark counts the fired timers (a scan of the table): seldom enough that
# the count takes no noticeable share of the server from the workers it measures.
POLL_SECONDS = 1.0
BASELINE_TIMERS = 3000
BASELINE_DEADLINE_TIMERS = 1000   # the deadline handler: 500 applications, two timers each
AUDIT_KEY = "bench-audit-key-" + "k" * 32
GOAL_SECONDS = 60
BATCH = 50            # the workers' TIMER_BATCH (--batch); the platform's default


def line(label: str, value: str, ratio: str = "", goal: str = "") -> None:
    print(f"  {label:<52} {value:>20} {ratio:>9}  {goal}")


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    url = f"sqlite:///{folder / 'timers.sqlite3'}"
    upgrade(url)
    yield url


def _schedule(engine, ids: list[int], count: int, first_due: datetime, spread: float,  # type: ignore[no-untyped-def]
              prefix: str) -> None:
    now = utcnow()
    rows = [{"instance_id": ids[i % len(ids)], "deadline_seq": None, "kind": "test.bump",
             "key": f"{prefix}:{i}", "state": "pending", "payload": {}, "attempts": 0,
             "due_at": first_due + timedelta(seconds=spread * i / count), "last_error": "",
             "created_at": now} for i in range(count)]
    with db.new_session(engine) as session, db.unit_of_work(session):
        for start in range(0, count, 5000):
            session.execute(insert(FlowTimer), rows[start:start + 5000])


def baseline(engine, ids: list[int]) -> float:  # type: ignore[no-untyped-def]
    """Fired/s of a plain loop: the same handler, one transaction per timer, no queue."""
    _schedule(engine, ids, BASELINE_TIMERS, utcnow() - timedelta(seconds=1), 0, "base")
    with db.new_session(engine) as session:
        todo = list(session.scalars(select(col(FlowTimer.id)).where(
            col(FlowTimer.key).like("base:%"))))
    began = time.perf_counter()
    for timer_id in todo:
        with db.new_session(engine) as session, db.unit_of_work(session):
            timer = session.get(FlowTimer, timer_id)
            assert timer is not None
            now = utcnow()
            th.bump(session, timer, now)
            timer.state, timer.fired_at = "done", now
            session.add(timer)
    return len(todo) / (time.perf_counter() - began)


def baseline_deadline(world) -> float:  # type: ignore[no-untyped-def]
    """Fired/s of a plain loop over the engine's deadline handler: one transaction per timer."""
    first = min(th.overdue_intakes(world, BASELINE_DEADLINE_TIMERS // 2))
    with world.session() as session:
        todo = list(session.scalars(select(col(FlowTimer.id)).where(
            col(FlowTimer.instance_id) >= first, col(FlowTimer.state) == "pending")
            .order_by(col(FlowTimer.due_at), col(FlowTimer.id))))
    began = time.perf_counter()
    for timer_id in todo:
        with world.session() as session, db.unit_of_work(session):
            runtime.fire_timer(session, timer_id, utcnow())  # reads, fires and marks the timer
    return len(todo) / (time.perf_counter() - began)


def _schedule_deadlines(world, count: int, spread: float) -> int:  # type: ignore[no-untyped-def]
    """``count`` deadline timers (count / 2 overdue intakes), due over the spread window (from
    5 s after the intakes are ready) in the order they would have come due; returns the first
    instance id of the lot."""
    first = min(th.overdue_intakes(world, count // 2))
    first_due = utcnow() + timedelta(seconds=5)
    with world.session() as session, db.unit_of_work(session):
        ids = list(session.scalars(select(col(FlowTimer.id)).where(
            col(FlowTimer.instance_id) >= first).order_by(col(FlowTimer.instance_id),
                                                          col(FlowTimer.due_at))))
        table = FlowTimer.__table__  # type: ignore[attr-defined]
        session.execute(table.update().where(table.c.id == bindparam("timer"))
                        .values(due_at=bindparam("due")),
                        [{"timer": timer_id, "due": first_due + timedelta(
                            seconds=spread * i / len(ids))} for i, timer_id in enumerate(ids)])
    return first


def _start(database_url: str, queue_url: str, shape: tuple[int, int]) -> list[subprocess.Popen[bytes]]:
    processes, threads = shape
    return [subprocess.Popen(
        [sys.executable, "-m", "tests.spine.timer_worker_main", database_url, queue_url,
         str(LEASE_SECONDS), str(threads), str(BATCH)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
                       "TONGBAN_TEST_AUDIT_KEY": AUDIT_KEY},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(processes)]


def _mine(first_instance: int | None):  # type: ignore[no-untyped-def]
    """The benchmark's timers: the test.bump ones by key, the deadline ones by instance."""
    if first_instance is None:
        return col(FlowTimer.key).like("t:%")
    return col(FlowTimer.instance_id) >= first_instance


def _done(engine, first_instance: int | None = None) -> int:  # type: ignore[no-untyped-def]
    with db.new_session(engine) as session:
        return int(session.execute(select(func.count()).select_from(FlowTimer).where(
            _mine(first_instance), col(FlowTimer.state).in_(("done", "cancelled")))).scalar_one())


def _deadline_effects(engine, first_instance: int) -> tuple[set[int], int, int]:  # type: ignore[no-untyped-def]
    """(the timers fired, lost, doubled) of the deadline run: a timeout not done or an
    instance not deemed accepted is lost; a second acceptance of an instance is doubled."""
    with db.new_session(engine) as session:
        rows = session.execute(select(col(FlowTimer.id), col(FlowTimer.instance_id),
                                      col(FlowTimer.kind), col(FlowTimer.state)).where(
            _mine(first_instance))).all()
        accepted: dict[int, int] = {}
        for instance_id in session.scalars(select(col(FlowEvent.instance_id)).where(
                col(FlowEvent.instance_id) >= first_instance,
                col(FlowEvent.type) == "deemed_accepted")):
            accepted[instance_id] = accepted.get(instance_id, 0) + 1
    fired = {row[0] for row in rows if row[3] in ("done", "cancelled")}
    timeouts = {row[1]: row[3] for row in rows if row[2] == "deadline.timeout"}
    lost = len(rows) - len(fired) + sum(1 for instance_id, state in timeouts.items()
                                        if state != "done" or instance_id not in accepted)
    return fired, lost, sum(1 for n in accepted.values() if n > 1)


def run(label: str, database_url: str, queue_url: str, count: int,
        shape: tuple[int, int], handler: str = "bump") -> None:
    from tongban.workflow import queue

    queue.storage(queue_url).flush()  # a queue left over from an earlier run
    engine = db.open_database(database_url)
    audit.use_key(engine, audit.KeySource(AUDIT_KEY, Path(tempfile.gettempdir()) / "unused_key"))
    th.register()
    runtime._compiled.clear()
    world = build(engine)
    first_instance: int | None = None
    if handler == "deadline":
        count -= count % 2
        base = baseline_deadline(world)
        first_instance = _schedule_deadlines(world, count, SPREAD_SECONDS)
    else:
        ids = th.many_instances(world, INSTANCES)
        base = baseline(engine, ids)
        _schedule(engine, ids, count, utcnow() + timedelta(seconds=5), SPREAD_SECONDS, "t")
    started = time.perf_counter()
    workers = _start(database_url, queue_url, shape)
    restarted_at = None
    try:
        while _done(engine, first_instance) < count // 2:
            time.sleep(POLL_SECONDS)
        for process in workers:
            process.send_signal(signal.SIGKILL)
            process.wait()
        restarted_at = _done(engine, first_instance)
        workers = _start(database_url, queue_url, shape)
        give_up = time.monotonic() + SPREAD_SECONDS + 5 + 600
        while _done(engine, first_instance) < count and time.monotonic() < give_up:
            time.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - started
    finally:
        for process in workers:
            process.send_signal(signal.SIGINT)
        for process in workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    with db.new_session(engine) as session:
        fired = session.execute(select(col(FlowTimer.id), col(FlowTimer.due_at),
                                       col(FlowTimer.fired_at)).where(
            _mine(first_instance), col(FlowTimer.state).in_(("done", "cancelled")),
            col(FlowTimer.fired_at).is_not(None))).all()
        effects: dict[int, int] = {}
        for data in session.scalars(select(col(FlowEvent.data)).where(
                col(FlowEvent.type) == th.EFFECT)):
            effects[int(data["timer"])] = effects.get(int(data["timer"]), 0) + 1
        fired_ids = {row[0] for row in fired}
    if first_instance is not None:
        # Due-soon timers cancelled unfired by the acceptance's transaction have no fired_at.
        fired_ids, lost, doubled = _deadline_effects(engine, first_instance)
    else:
        lost = count - len(fired_ids & set(effects))
        doubled = sum(1 for n in effects.values() if n > 1)
    engine.dispose()
    lateness = sorted((row[2] - row[1]).total_seconds() for row in fired)
    rate = len(fired_ids) / elapsed
    p50 = statistics.median(lateness) if lateness else float("nan")
    p99 = lateness[int(len(lateness) * 0.99) - 1] if lateness else float("nan")
    late = sum(1 for s in lateness if s > GOAL_SECONDS)
    ok = lost == 0 and doubled == 0 and late == 0 and len(fired_ids) == count
    what = "deadline timers (runtime.timer_handler)" if first_instance is not None \
        else "timers (test.bump)"
    print(f"\n  {label}: {count:,} {what} due over {SPREAD_SECONDS} s, "
          f"{'' if first_instance is not None else f'on {INSTANCES:,} instances, '}"
          f"{shape[0]}×{shape[1]} workers, batch {BATCH}, all SIGKILLed at {restarted_at:,} fired, lease "
          f"{LEASE_SECONDS} s")
    line("baseline: plain loop, same handler, no queue", f"{base:,.0f}/s", "1.00×")
    # Over the whole run: bounded by the due rate when the workers keep up (small counts).
    line("through the queue (wall time, restart included)", f"{rate:,.0f}/s", f"{rate / base:.2f}×")
    line("lateness (fired_at - due_at)",
         f"p50 {p50:.1f} s  p99 {p99:.1f} s  max {lateness[-1] if lateness else 0:.1f} s", "",
         f"goal all ≤ {GOAL_SECONDS} s: {'MET' if late == 0 else f'MISSED ({late:,} late)'}")
    line("lost / doubled", f"{lost:,} / {doubled:,}", "", "MET" if ok else "MISSED")


def main(argv: list[str] | None = None) -> None:
    global SPREAD_SECONDS, BATCH, INSTANCES
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,redis")
    parser.add_argument("--spread", type=float, default=SPREAD_SECONDS,
                        help="seconds over which the due times are spread")
    parser.add_argument("--handler", choices=["bump", "deadline"], default="bump",
                        help="the timers' effect: the test handler (default) or the engine's "
                        "deadline handler on real overdue intakes (deemed acceptance)")
    parser.add_argument("--shape", help="worker processes×threads for every backend, e.g. 2x4 "
                        "(default: 1x2 on SQLite, 2x2 on PostgreSQL)")
    parser.add_argument("--batch", type=int, default=BATCH,
                        help="timers per transaction on PostgreSQL (TIMER_BATCH; 1: a "
                        "transaction per timer)")
    parser.add_argument("--instances", type=int, default=INSTANCES,
                        help="flow instances the test.bump timers fall on (200: 500 timers "
                        "each at 100,000, the lock contention of earlier runs)")
    args = parser.parse_args(argv)
    SPREAD_SECONDS, BATCH, INSTANCES = args.spread, args.batch, args.instances
    if args.shape:
        processes, threads = (int(n) for n in args.shape.split("x"))
        SHAPES.update({name: (processes, threads) for name in SHAPES})
    print(f"bench/timers.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  cores {os.cpu_count()}  "
          f"load {os.getloadavg()[0]:.1f}")
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as scratch, sqlite_database(Path(scratch)) as url:
            run("SQLite database, SQLite queue (embedded default)", url,
                f"sqlite:///{Path(scratch) / 'queue.db'}", args.timers, SHAPES["sqlite"], args.handler)
    if "redis" in backends:
        import flow_db

        with flow_db.scratch_postgres() as url:
            run("PostgreSQL database, Redis queue (production shape)", url, REDIS_URL,
                args.timers, SHAPES["redis"], args.handler)


if __name__ == "__main__":
    main()
