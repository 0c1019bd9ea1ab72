"""Kill the worker in the middle of firing: every timer still fires exactly once.

Real worker processes (huey's consumer, as `tongban flow work` runs it) on the test's database
and a SQLite queue file. One timer's handler makes its effect, then sleeps with the
transaction open; the worker is SIGKILLed there. Another worker (or two at once) carries on:
the jobs left in the queue are taken as they are, the killed transaction committed nothing,
and the reaper hands its claim on when the lease runs out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tongban import PROJECT_ROOT
from tongban.models import utcnow

from . import timer_handlers as th
from .flow_world import World, build

LEASE_SECONDS = 3
TIMERS = 240


@pytest.fixture
def world(app) -> Iterator[World]:  # type: ignore[no-untyped-def]
    th.register()
    yield build(app.extensions["tongban.engine"])
    th.unregister()


class Workers:
    def __init__(self, database_url: str, queue_url: str):
        self.database_url, self.queue_url = database_url, queue_url
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, threads: int = 2) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.spine.timer_worker_main", self.database_url,
             self.queue_url, str(LEASE_SECONDS), str(threads)],
            cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Workers]:
    found = Workers(database_url, f"sqlite:///{tmp_path / 'queue.db'}")
    yield found
    found.stop_all()


def _wait_for(check, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def _run_and_kill(world: World, workers: Workers, tmp_path: Path, successors: int) -> None:
    instance_ids = th.instances(world, 6)
    now = utcnow()
    marker = tmp_path / "slow-marker"
    [slow] = th.schedule(world, instance_ids[:1], 1, now, kind="test.slow",
                         payload={"marker": str(marker), "sleep": 60}, prefix="slow")
    ids = [slow, *th.schedule(world, instance_ids, TIMERS - 1, now)]
    versions = th.bumps(world)
    first = workers.start()
    _wait_for(marker.exists, 60, "the slow handler to start")
    first.send_signal(signal.SIGKILL)  # mid-transaction: its effect is written, not committed
    first.wait(timeout=30)
    killed_at = utcnow()
    for _ in range(successors):
        workers.start()

    def all_done() -> bool:
        return all(row.state == "done" for row in th.timer_rows(world).values())

    _wait_for(all_done, 120, "every timer to fire")
    effects = th.effects(world)
    assert sorted(effects) == sorted(ids)                       # none lost
    assert [i for i, n in effects.items() if n != 1] == []      # none doubled
    assert th.bumps(world) == versions + TIMERS  # one version step per effect
    row = th.timer_rows(world)[slow]
    assert row.attempts >= 2                                    # the reaper drove it again
    assert row.fired_at is not None and row.fired_at >= killed_at


def test_a_worker_killed_mid_firing_loses_and_doubles_nothing(
        world: World, workers: Workers, tmp_path: Path) -> None:
    _run_and_kill(world, workers, tmp_path, successors=1)


def test_two_workers_after_the_kill_fire_each_timer_once(
        world: World, workers: Workers, tmp_path: Path) -> None:
    _run_and_kill(world, workers, tmp_path, successors=2)
