"""Start Tongban on the embedded default: SQLite in instance/, demo services and accounts."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from sqlalchemy import Engine

from tongban import create_app
from tongban.demo import DemoRefused, load_demo

WORKER_INTERVAL_SECONDS = 5.0


def work_in_background(engine: Engine, stop: threading.Event) -> None:
    """The embedded default's worker: service-step calls queued in the outbox, made in this
    process every few seconds (production runs `tongban flow work` as its own process)."""
    from tongban.workflow.worker import run_due

    while not stop.wait(WORKER_INTERVAL_SECONDS):
        try:
            run_due(engine)
        except Exception as exc:  # noqa: BLE001 - a leased row is picked again; keep serving
            print(f"worker error, retrying: {exc}", file=sys.stderr)


def main() -> None:
    app = create_app()
    try:
        for line in load_demo(app.extensions["tongban.engine"], Path(app.config["DEFINITIONS_DIR"])):
            print(line)
    except DemoRefused as exc:  # an instance with real accounts: serve it as it is
        print(f"Demo data not loaded: {exc}", file=sys.stderr)
    stop = threading.Event()
    threading.Thread(target=work_in_background, args=(app.extensions["tongban.engine"], stop),
                     name="flow-worker", daemon=True).start()
    host, port = app.config["HOST"], app.config["PORT"]
    print(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    try:
        app.run(host=host, port=port, debug=False, threaded=True)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
