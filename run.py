"""Start Tongban on the embedded default: SQLite in instance/, demo services and accounts, and
the background worker (timers, service calls) as a process of its own beside the web server."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

from tongban import create_app
from tongban.demo import DemoRefused, load_demo

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the worker child: the kernel sends it SIGTERM when run.py dies, however it dies."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: run.py's finally still stops it
        pass


def start_worker(instance_path: str) -> subprocess.Popen[bytes]:
    """`tongban flow work` on the same instance folder (so the same settings and queue)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from tongban.cli import main; main()", "flow", "work"],
        env={**os.environ, "TONGBAN_INSTANCE_PATH": instance_path},
        preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGINT)  # graceful: finish the jobs in hand
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def seed_demo_registers() -> None:
    """The other department's registers the demo services read (population, social
    insurance) on the local MariaDB server; the platform runs without them, marking what
    it cannot check as "could not be verified"."""
    try:
        from tongban_sql_connector import demo_registers
    except ImportError:
        print("Demo registers not made: the sql connector plugin is not installed", file=sys.stderr)
        return
    try:
        made = demo_registers.seed()
    except Exception as exc:  # noqa: BLE001 - any server trouble: say so and serve anyway
        print(f"Demo registers not made (MariaDB on 127.0.0.1:3306?): {exc}", file=sys.stderr)
        return
    print(f"Demo registers: {demo_registers.DATABASE} {'created' if made else 'ready'}")


def start_elicence_twin(stack: contextlib.ExitStack) -> None:
    """The e-licence API twin (tongban_http_connector.twin) on 127.0.0.1:8701 in a thread,
    where the default CONNECTOR_SETTINGS look for it, until ``stack`` closes; skipped when
    the plugin is missing or the port is taken (say, by a twin started by hand)."""
    try:
        from tongban_http_connector import twin
    except ImportError:
        return
    try:
        running = stack.enter_context(twin.serve(twin.DEMO_PORT))
    except OSError as exc:
        print(f"E-licence twin not started (port {twin.DEMO_PORT}): {exc}", file=sys.stderr)
        return
    print(f"E-licence twin: {running.base_url}")


def main() -> None:
    with contextlib.ExitStack() as stack:
        start_elicence_twin(stack)
        serve()


def seal_demo_decisions() -> None:
    """The demo seals every decision as OFD (GB/T 38540) and PDF (PAdES) with the test-only
    demo keys, when both seal plugins are installed (`make install` installs them); the
    worker started below inherits the setting. An explicit TONGBAN_DECISION_SIGNERS wins."""
    try:
        import tongban_ofd_seal  # noqa: F401
        import tongban_pdf_seal  # noqa: F401
    except ImportError:
        return
    os.environ.setdefault("TONGBAN_DECISION_SIGNERS", "ofd-seal,pdf-seal")


def serve() -> None:
    seed_demo_registers()
    seal_demo_decisions()
    app = create_app()
    try:
        for line in load_demo(app.extensions["tongban.engine"], Path(app.config["DEFINITIONS_DIR"])):
            print(line)
    except DemoRefused as exc:  # an instance with real accounts: serve it as it is
        print(f"Demo data not loaded: {exc}", file=sys.stderr)
    worker = start_worker(app.instance_path)
    host, port = app.config["HOST"], app.config["PORT"]
    print(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    try:
        app.run(host=host, port=port, debug=False, threaded=True)
    finally:
        stop_worker(worker)


if __name__ == "__main__":
    main()
