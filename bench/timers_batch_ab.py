"""One transaction per timer against the optimistic batch, in one process on PostgreSQL (no
queue, no worker processes): ``test.bump`` timers, each on an instance of its own, claimed
50 at a time beforehand, then fired by ``timers.fire_many`` with ``batch`` 1 (A) or 50 (B),
alternating A and B for a few rounds so that a machine whose load changes weighs on both.

    .venv/bin/python bench/timers_batch_ab.py [--timers 2000] [--rounds 3] [--batch 50]
                                              [--savepoints]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import flow_db  # noqa: E402
from tests.spine import timer_handlers as th  # noqa: E402
from tests.spine.flow_world import build  # noqa: E402

from tongban import audit, db  # noqa: E402
from tongban.models import utcnow  # noqa: E402
from tongban.workflow import timers  # noqa: E402


def fired_per_second(world, ids: list[int], batch: int, prefix: str,  # type: ignore[no-untyped-def]
                     savepoints: bool = False) -> float:
    now = utcnow()
    th.schedule(world, ids, len(ids), now - timedelta(seconds=1), prefix=prefix)
    claims: list[timers.Claim] = []
    while found := timers.claim_batch(world.engine, now, limit=timers.FIRE_BATCH,
                                      lease=timedelta(minutes=10)):
        claims.extend(found)
    assert len(claims) == len(ids)
    began = time.perf_counter()
    for start in range(0, len(claims), timers.FIRE_BATCH):
        job = claims[start:start + timers.FIRE_BATCH]
        if savepoints:
            with db.held_session(world.engine) as session:
                outcomes = timers.fire_batch(session, job, now)
        else:
            outcomes = timers.fire_many(world.engine, job, now, batch=batch)
        assert {o.state for o in outcomes} == {"done"}, outcomes
    return len(claims) / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=timers.FIRE_BATCH)
    parser.add_argument("--savepoints", action="store_true",
                        help="also the savepoint batch (timers.fire_batch), a third way")
    args = parser.parse_args()
    th.register()
    with flow_db.scratch_postgres() as url:
        engine = db.open_database(url)
        audit.use_key(engine, audit.KeySource("bench-audit-key-" + "k" * 32,
                                              Path(tempfile.gettempdir()) / "unused_key"))
        world = build(engine)
        ids = th.many_instances(world, args.timers)
        ways = [("one transaction per timer", 1, False),
                (f"optimistic batch of {args.batch}", args.batch, False)]
        if args.savepoints:
            ways.append((f"savepoint batch of {timers.FIRE_BATCH}", timers.FIRE_BATCH, True))
        for n in range(args.rounds):
            for label, batch, savepoints in (ways if n % 2 == 0 else ways[::-1]):
                load = os.getloadavg()[0]
                rate = fired_per_second(world, ids, batch, f"r{n}{label[:3]}", savepoints)
                print(f"round {n + 1}  {label:<28} {rate:7.0f} fired/s  load {load:.1f}",
                      flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
