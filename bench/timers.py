"""Durable timers through the job queue (issue 12, item 8): 100,000 pending timers due over the
next minute (--spread), fired by real worker processes (huey's consumer as `tongban flow work`
runs it: 1 process of 2 threads on SQLite, 2 of 4 on PostgreSQL), every worker SIGKILLed
half-way and new ones started.

    .venv/bin/python bench/timers.py [--timers 100000] [--backends sqlite,redis] [--spread 60]
                                     [--shape 2x4]

Backends: "sqlite" is the embedded default (database SQLite, queue a SQLite file); "redis" is
the production shape (database PostgreSQL in a scratch database, queue Redis at
TONGBAN_BENCH_REDIS, default redis://127.0.0.1:6379/14). Each timer's handler is the test
suite's `test.bump`: one flow event on a real flow instance whose version it moves on (the
optimistic lock every transition takes), in the timer's own transaction. Goal: every timer fired within 60 s
of its due time, none lost, none doubled. Baseline, measured in the same run: a plain loop
firing the same handler directly (one transaction per timer, no claim, no queue).
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

from sqlalchemy import func, insert, select  # noqa: E402
from sqlmodel import col  # noqa: E402
from tests.spine import timer_handlers as th  # noqa: E402
from tests.spine.flow_world import build  # noqa: E402

from tongban import audit, db  # noqa: E402
from tongban.migrate import upgrade  # noqa: E402
from tongban.models import FlowEvent, FlowTimer, utcnow  # noqa: E402

REDIS_URL = os.environ.get("TONGBAN_BENCH_REDIS", "redis://127.0.0.1:6379/14")
INSTANCES = 200
SPREAD_SECONDS = 60.0      # due times spread over this window, starting a few seconds ahead
LEASE_SECONDS = 10
# Worker processes × threads. SQLite takes one writer at a time: a second process only adds
# waiting on the lock. PostgreSQL gains from more, each waiting on its own round trips.
SHAPES = {"sqlite": (1, 2), "redis": (2, 4)}
BASELINE_TIMERS = 3000
GOAL_SECONDS = 60


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


def _start(database_url: str, queue_url: str, shape: tuple[int, int]) -> list[subprocess.Popen[bytes]]:
    processes, threads = shape
    return [subprocess.Popen(
        [sys.executable, "-m", "tests.spine.timer_worker_main", database_url, queue_url,
         str(LEASE_SECONDS), str(threads)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(processes)]


def _done(engine) -> int:  # type: ignore[no-untyped-def]
    with db.new_session(engine) as session:
        return int(session.execute(select(func.count()).select_from(FlowTimer).where(
            col(FlowTimer.key).like("t:%"), col(FlowTimer.state) == "done")).scalar_one())


def run(label: str, database_url: str, queue_url: str, count: int,
        shape: tuple[int, int]) -> None:
    from tongban.workflow import queue

    queue.storage(queue_url).flush()  # a queue left over from an earlier run
    engine = db.open_database(database_url)
    audit.use_key(engine, audit.KeySource("bench-audit-key-" + "k" * 32,
                                          Path(tempfile.gettempdir()) / "unused_key"))
    th.register()
    world = build(engine)
    ids = th.instances(world, INSTANCES)
    base = baseline(engine, ids)
    first_due = utcnow() + timedelta(seconds=5)
    _schedule(engine, ids, count, first_due, SPREAD_SECONDS, "t")
    started = time.perf_counter()
    workers = _start(database_url, queue_url, shape)
    restarted_at = None
    try:
        while _done(engine) < count // 2:
            time.sleep(0.2)
        for process in workers:
            process.send_signal(signal.SIGKILL)
            process.wait()
        restarted_at = _done(engine)
        workers = _start(database_url, queue_url, shape)
        give_up = time.monotonic() + SPREAD_SECONDS + 5 + 600
        while _done(engine) < count and time.monotonic() < give_up:
            time.sleep(0.2)
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
            col(FlowTimer.key).like("t:%"), col(FlowTimer.state) == "done")).all()
        effects: dict[int, int] = {}
        for data in session.scalars(select(col(FlowEvent.data)).where(
                col(FlowEvent.type) == th.EFFECT)):
            effects[int(data["timer"])] = effects.get(int(data["timer"]), 0) + 1
        fired_ids = {row[0] for row in fired}
    engine.dispose()
    lateness = sorted((row[2] - row[1]).total_seconds() for row in fired)
    lost = count - len(fired_ids & set(effects))
    doubled = sum(1 for n in effects.values() if n > 1)
    rate = len(fired) / elapsed
    p50 = statistics.median(lateness) if lateness else float("nan")
    p99 = lateness[int(len(lateness) * 0.99) - 1] if lateness else float("nan")
    late = sum(1 for s in lateness if s > GOAL_SECONDS)
    ok = lost == 0 and doubled == 0 and late == 0 and len(fired) == count
    print(f"\n  {label}: {count:,} timers due over {SPREAD_SECONDS} s, "
          f"{shape[0]}×{shape[1]} workers, all SIGKILLed at {restarted_at:,} fired, lease "
          f"{LEASE_SECONDS} s")
    line("baseline: plain loop, same handler, no queue", f"{base:,.0f}/s", "1.00×")
    # Over the whole run: bounded by the due rate when the workers keep up (small counts).
    line("through the queue (wall time, restart included)", f"{rate:,.0f}/s", f"{rate / base:.2f}×")
    line("lateness (fired_at - due_at)",
         f"p50 {p50:.1f} s  p99 {p99:.1f} s  max {lateness[-1] if lateness else 0:.1f} s", "",
         f"goal all ≤ {GOAL_SECONDS} s: {'MET' if late == 0 else f'MISSED ({late:,} late)'}")
    line("lost / doubled", f"{lost:,} / {doubled:,}", "", "MET" if ok else "MISSED")


def main(argv: list[str] | None = None) -> None:
    global SPREAD_SECONDS
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,redis")
    parser.add_argument("--spread", type=float, default=SPREAD_SECONDS,
                        help="seconds over which the due times are spread")
    parser.add_argument("--shape", help="worker processes×threads for every backend, e.g. 2x4 "
                        "(default: 1x2 on SQLite, 2x4 on PostgreSQL)")
    args = parser.parse_args(argv)
    SPREAD_SECONDS = args.spread
    if args.shape:
        processes, threads = (int(n) for n in args.shape.split("x"))
        SHAPES.update({name: (processes, threads) for name in SHAPES})
    print(f"bench/timers.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  cores {os.cpu_count()}  "
          f"load {os.getloadavg()[0]:.1f}")
    backends = args.backends.split(",")
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as scratch, sqlite_database(Path(scratch)) as url:
            run("SQLite database, SQLite queue (embedded default)", url,
                f"sqlite:///{Path(scratch) / 'queue.db'}", args.timers, SHAPES["sqlite"])
    if "redis" in backends:
        import flow_db

        with flow_db.scratch_postgres() as url:
            run("PostgreSQL database, Redis queue (production shape)", url, REDIS_URL,
                args.timers, SHAPES["redis"])


if __name__ == "__main__":
    main()
