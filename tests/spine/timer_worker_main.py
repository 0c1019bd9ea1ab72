"""A real worker process for the kill test and the timer benchmark: the consumer that
`tongban flow work` runs, with the test handlers registered.

    python -m tests.spine.timer_worker_main DATABASE_URL QUEUE_URL LEASE_SECONDS WORKERS
"""

from __future__ import annotations

import sys
from datetime import timedelta

from tongban import db
from tongban.workflow import queue

from . import timer_handlers


def main(argv: list[str]) -> None:
    database_url, queue_url, lease, workers = argv[0], argv[1], int(argv[2]), int(argv[3])
    timer_handlers.register()
    engine = db.open_database(database_url)
    settings = queue.QueueSettings(url=queue_url, lease=timedelta(seconds=lease),
                                   workers=workers, outbox=False)
    queue.consumer(queue.build(engine, settings), workers=workers).run()


if __name__ == "__main__":
    main(sys.argv[1:])
