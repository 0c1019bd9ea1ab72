"""run.py starts the worker as a process of its own (`tongban flow work` on the same instance
folder) and stops it with the server."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import run

from tongban.models import FlowTimer

from . import timer_handlers as th
from .flow_world import World, build


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build(app.extensions["tongban.engine"])


def test_run_py_starts_a_worker_process_that_takes_due_timers_and_stops_with_it(
        world: World, database_url: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    [instance] = th.instances(world, 1)
    [timer_id] = th.schedule(world, [instance], 1, datetime(2020, 1, 1, tzinfo=UTC),
                             kind="nobody.knows")
    monkeypatch.setenv("TONGBAN_DATABASE_URL", database_url)
    worker = run.start_worker(str(tmp_path / "instance"))
    try:
        deadline = time.monotonic() + 60
        while True:
            with world.session() as session:
                timer = session.get(FlowTimer, timer_id)
                assert timer is not None
                # Claimed first (one commit), then fired (another): wait for the second.
                if timer.attempts and timer.state != "claimed":
                    break
            assert time.monotonic() < deadline, "the worker never took the timer"
            time.sleep(0.2)
        # No handler for the kind: the try is counted and the timer waits out its backoff.
        assert (timer.state, timer.last_error) \
            == ("pending", "NoHandler: no handler for timer kind 'nobody.knows'")
        assert (tmp_path / "instance" / "queue.db").exists()
    finally:
        run.stop_worker(worker)
    assert worker.returncode is not None
