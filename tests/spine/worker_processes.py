"""Real worker processes for the kill tests (``timer_worker_main``: the consumer that
`tongban flow work` runs, with the test handlers) and the waiting they need."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tongban import PROJECT_ROOT

# Long enough for a batch to be fired within it on a loaded machine: a lease that runs out
# mid-batch counts another attempt, and after five the timer fails.
LEASE_SECONDS = 10


class Workers:
    """Starts workers on one database and one queue; ``stop_all`` kills those still running."""

    def __init__(self, database_url: str, queue_url: str, env: dict[str, str] | None = None):
        self.database_url, self.queue_url, self.env = database_url, queue_url, dict(env or {})
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, threads: int = 2, *,
              slow_marker: Path | None = None) -> subprocess.Popen[bytes]:
        """A worker of ``threads`` threads; with ``slow_marker`` its deadline handler sleeps
        once, after the first deemed acceptance's effect (``TONGBAN_TEST_SLOW_DEADLINE``)."""
        env = {**os.environ, **self.env, "PYTHONPATH": os.pathsep.join(sys.path)}
        env.pop("TONGBAN_TEST_SLOW_DEADLINE", None)
        if slow_marker is not None:
            env["TONGBAN_TEST_SLOW_DEADLINE"] = str(slow_marker)
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.spine.timer_worker_main", self.database_url,
             self.queue_url, str(LEASE_SECONDS), str(threads)],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
