"""Kill the worker in the middle of firing: every timer still fires exactly once.

Real worker processes (huey's consumer, as `tongban flow work` runs it) on the test's database
and a SQLite queue file. One timer's handler makes its effect, then sleeps with the
transaction open; the worker is SIGKILLed there. Another worker (or two at once) carries on:
the jobs left in the queue are taken as they are, the killed transaction committed nothing,
and the reaper hands its claim on when the lease runs out."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tongban.models import utcnow

from . import timer_handlers as th
from .flow_world import World, build
from .worker_processes import Workers, wait_for

TIMERS = 240


@pytest.fixture
def world(app) -> Iterator[World]:  # type: ignore[no-untyped-def]
    th.register()
    yield build(app.extensions["tongban.engine"])
    th.unregister()


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[Workers]:
    found = Workers(database_url, f"sqlite:///{tmp_path / 'queue.db'}")
    yield found
    found.stop_all()


def _run_and_kill(world: World, workers: Workers, tmp_path: Path, successors: int) -> None:
    instance_ids = th.instances(world, 6)
    now = utcnow()
    marker = tmp_path / "slow-marker"
    [slow] = th.schedule(world, instance_ids[:1], 1, now, kind="test.slow",
                         payload={"marker": str(marker), "sleep": 60}, prefix="slow")
    ids = [slow, *th.schedule(world, instance_ids, TIMERS - 1, now)]
    versions = th.bumps(world)
    first = workers.start()
    wait_for(marker.exists, 60, "the slow handler to start")
    first.send_signal(signal.SIGKILL)  # mid-transaction: its effect is written, not committed
    first.wait(timeout=30)
    killed_at = utcnow()
    for _ in range(successors):
        workers.start()

    def all_done() -> bool:
        return all(row.state == "done" for row in th.timer_rows(world).values())

    wait_for(all_done, 120, "every timer to fire")
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
