"""What the core adds to one connector call: the same register query run N times straight
through the plugin's connector, then through tongban.connectors.run_query (kept result
written with its provenance and an audit event), then read back from the kept result.

    .venv/bin/python bench/connector_overhead.py [N]    # needs MariaDB with the demo registers
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import tongban_sql_connector
from tongban_sql_connector import demo_registers

from tongban import create_app, db
from tongban.connectors import Owner, registry, run_query
from tongban.migrate import upgrade

SERVICE = {"code": "bench", "connectors": {"population": {
    "type": "sql",
    "options": {"database_setting": "url", "department": {"zh": "人口库", "en": "Register"},
                "timeout": 3},
    "queries": {"person": {
        "sql": "SELECT name, household_address FROM people WHERE id_number = :id_number",
        "params": {"id_number": "applicant.id_number"},
        "fields": {"name": "applicant.name", "household_address": "transfer.from_address"}}}}}}
ANSWERS = {"applicant": {"id_number": demo_registers.FIRST_ID_NUMBER}}


def _timed(n: int, call: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    demo_registers.seed()
    url = f"{demo_registers.SERVER_URL}/{demo_registers.DATABASE}"
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade(database)
        app = create_app({"DATABASE_URL": database, "SECRET_KEY": "bench",
                          "CONNECTOR_SETTINGS": {"url": url}, "PLUGIN_ENTRY_POINTS": False,
                          "PLUGINS": [tongban_sql_connector]}, instance_path=folder)
        found = registry(app)
        block = SERVICE["connectors"]["population"]
        connector = found.connector("bench", "population", block)
        query = block["queries"]["person"]
        session = db.new_session(app.extensions["tongban.engine"])

        def through_core(refresh: bool) -> Callable[[], object]:
            return lambda: run_query(session, found, SERVICE, "population", "person", ANSWERS,
                                     owner=Owner(application_id=None, draft_id=None),
                                     purpose="prefill", actor_id=None, actor_name="bench",
                                     refresh=refresh)

        _timed(20, lambda: connector.fetch("person", query, {"id_number": "x"}, timeout=3))
        raw = _timed(n, lambda: connector.fetch(
            "person", query, {"id_number": demo_registers.FIRST_ID_NUMBER}, timeout=3))
        core = _timed(n, through_core(refresh=True))
        for name, times in (("plugin fetch", raw), ("run_query, asked and kept", core)):
            print(f"{name:28s} median {statistics.median(times):6.2f} ms   "
                  f"p95 {sorted(times)[int(len(times) * 0.95)]:6.2f} ms")
        print(f"core overhead per call: {statistics.median(core) - statistics.median(raw):.2f} ms "
              "(SQLite, one kept row and one audit event)")
        session.close()
        found.close()
        app.extensions["tongban.engine"].dispose()


if __name__ == "__main__":
    main()
