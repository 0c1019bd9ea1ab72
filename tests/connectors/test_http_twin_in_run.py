"""Issue 15 item 4: `make run` (run.py) starts the e-licence twin beside the platform where the
default settings look for it, and carries on without it when its port is taken."""

from __future__ import annotations

import contextlib
import socket

import httpx
import pytest
import run
from tongban_http_connector import twin


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_run_py_starts_the_twin_and_stops_it_with_the_platform(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    monkeypatch.setattr(twin, "DEMO_PORT", port)
    with contextlib.ExitStack() as stack:
        run.start_elicence_twin(stack)
        answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/health",
                           headers={twin.TOKEN_HEADER: twin.DEMO_TOKEN}, trust_env=False)
        assert answer.json() == {"status": "UP"}
    assert capsys.readouterr().out == f"E-licence twin: http://127.0.0.1:{port}/api/v1\n"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/api/v1/health", trust_env=False)


def test_a_taken_port_is_reported_and_the_platform_starts_anyway(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(twin, "DEMO_PORT", taken.getsockname()[1])
        with contextlib.ExitStack() as stack:
            run.start_elicence_twin(stack)
        port = taken.getsockname()[1]
    assert capsys.readouterr().err.endswith(
        f"E-licence twin not started (port {port}): port {port} is in use\n")
