"""Start Tongban on the embedded default: SQLite in instance/, demo services and accounts."""

from __future__ import annotations

import sys
from pathlib import Path

from tongban import create_app
from tongban.demo import DemoRefused, load_demo


def main() -> None:
    app = create_app()
    try:
        for line in load_demo(app.extensions["tongban.engine"], Path(app.config["DEFINITIONS_DIR"])):
            print(line)
    except DemoRefused as exc:  # an instance with real accounts: serve it as it is
        print(f"Demo data not loaded: {exc}", file=sys.stderr)
    host, port = app.config["HOST"], app.config["PORT"]
    print(f"Serving on http://{host}:{port}/  (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False, threaded=True)


if __name__ == "__main__":
    main()
