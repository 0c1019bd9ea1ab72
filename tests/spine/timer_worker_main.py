"""A real worker process for the kill tests and the timer benchmark: the consumer that
`tongban flow work` runs, with the test handlers registered.

    python -m tests.spine.timer_worker_main DATABASE_URL QUEUE_URL LEASE_SECONDS WORKERS [BATCH]

Test-only settings from the environment (the product's code is untouched):

- ``TONGBAN_TEST_AUDIT_KEY_FILE`` (the test's app) or ``TONGBAN_TEST_AUDIT_KEY`` (the
  benchmark's key): the audit key, so that the events the engine writes here join the same
  signed chain;
- ``TONGBAN_TEST_SLOW_DEADLINE``: a marker path; the engine's deadline timers then go through
  :func:`timer_handlers.slow_deadline`, which sleeps with the transaction open once, after the
  real effect of the first ``deadline.timeout`` it fires (the deadline kill test kills it there).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from tongban import audit, db
from tongban.workflow import queue, timers

from . import timer_handlers


def main(argv: list[str]) -> None:
    database_url, queue_url, lease, workers = argv[0], argv[1], int(argv[2]), int(argv[3])
    batch = int(argv[4]) if len(argv) > 4 else timers.FIRE_BATCH
    timer_handlers.register()
    engine = db.open_database(database_url, pool_size=max(db.POOL_SIZE, workers + 1))
    key_file, key = (os.environ.get(f"TONGBAN_TEST_AUDIT_KEY{end}") for end in ("_FILE", ""))
    if key_file or key:
        audit.use_key(engine, audit.KeySource(key, Path(key_file or "unused_key")))
    if os.environ.get("TONGBAN_TEST_SLOW_DEADLINE"):
        timer_handlers.register_slow_deadline(Path(os.environ["TONGBAN_TEST_SLOW_DEADLINE"]))
    settings = queue.QueueSettings(url=queue_url, lease=timedelta(seconds=lease),
                                   workers=workers, batch=batch, outbox=False)
    queue.consumer(queue.build(engine, settings), workers=workers).run()


if __name__ == "__main__":
    main(sys.argv[1:])
