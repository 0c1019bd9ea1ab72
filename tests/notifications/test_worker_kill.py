"""A notification worker killed mid-delivery (the SMS gateway took the message, the worker had
not recorded it) leaves the row leased; the next worker claims it when the lease runs out, the
gateway is asked again with the same key, and the person gets one message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tongban import PROJECT_ROOT

from ..spine.flow_world import submit
from ..spine.worker_processes import wait_for
from .world import reach, rows, start

LEASE_SECONDS = 2


def _worker(database_url: str, tmp_path: Path, marker: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.notifications.worker_main", database_url,
         str(tmp_path / "worker-instance"), str(tmp_path / "sms-twin.jsonl"), marker,
         str(LEASE_SECONDS)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_worker_killed_mid_delivery_delivers_exactly_once_after_restart(
        tmp_path: Path, database_url: str) -> None:
    app, world = start(tmp_path, database_url)
    reach(world, "citizen", phone="13800138000")
    submit(world, "one-step")
    sms_log, marker = tmp_path / "sms-twin.jsonl", tmp_path / "slowed"
    first = _worker(database_url, tmp_path, str(marker))
    try:
        wait_for(marker.exists, 60, "the first worker to hand the SMS to the gateway")
        first.kill()
        first.wait(timeout=30)
        sms = next(r for r in rows(world) if r.channel == "sms")
        assert (sms.state, sms.attempts) == ("pending", 1)  # leased, never recorded
        assert len(sms_log.read_text().splitlines()) == 1
        second = _worker(database_url, tmp_path, "-")
        try:
            wait_for(lambda: all(r.state == "sent" for r in rows(world)), 60,
                     "the second worker to deliver after the lease ran out")
        finally:
            second.kill()
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=30)
    sms = next(r for r in rows(world) if r.channel == "sms")
    assert sms.attempts == 2
    [entry] = [json.loads(line) for line in sms_log.read_text().splitlines()]
    assert entry["key"] == sms.key == marker.read_text()
