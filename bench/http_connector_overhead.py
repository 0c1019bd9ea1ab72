"""What the `http` connector adds to one call of a JSON API: the e-licence twin on loopback
asked N times with a plain httpx client (same URL, same token header, answer parsed), then
through the plugin's ``fetch`` (templates filled, retry loop, JSON-pointer mapping), then
through tongban.connectors.run_query (kept result with provenance and an audit event, SQLite).
Prints medians, p95 and the ratios against the plain call. Under a minute at the default N.

    .venv/bin/python bench/http_connector_overhead.py [N]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import tongban_http_connector
from tongban_http_connector.twin import DEMO_TOKEN, DEMO_USCC, TOKEN_HEADER, serve

from tongban import create_app, db
from tongban.connectors import Owner, registry, run_query
from tongban.migrate import upgrade

SERVICE = {"code": "bench", "connectors": {"licences": {
    "type": "http",
    "options": {"base_url_setting": "url", "department": {"zh": "电子证照库", "en": "E-licences"},
                "auth": {"header": TOKEN_HEADER, "token_setting": "token"}, "timeout": 3},
    "queries": {"business_licence": {
        "path": "/enterprises/{uscc}/business-licence", "params": {"uscc": "enterprise.uscc"},
        "rows": "/data",
        "fields": {"/name": "enterprise.name", "/establishedOn": "enterprise.established_on"}}}}}}
ANSWERS = {"enterprise": {"uscc": DEMO_USCC}}


def _timed(n: int, call: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _line(name: str, times: list[float], plain: float) -> str:
    median = statistics.median(times)
    return (f"{name:30s} median {median:6.2f} ms   p95 {sorted(times)[int(len(times) * 0.95)]:6.2f} ms"
            f"   x{median / plain:.2f} of the plain call")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    with serve() as twin, tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        upgrade(database)
        app = create_app({"DATABASE_URL": database, "SECRET_KEY": "bench",
                          "CONNECTOR_SETTINGS": {"url": twin.base_url, "token": DEMO_TOKEN},
                          "PLUGIN_ENTRY_POINTS": False, "PLUGINS": [tongban_http_connector]},
                         instance_path=folder)
        found = registry(app)
        block = SERVICE["connectors"]["licences"]
        connector = found.connector("bench", "licences", block)
        query = block["queries"]["business_licence"]
        session = db.new_session(app.extensions["tongban.engine"])
        client = httpx.Client(headers={TOKEN_HEADER: DEMO_TOKEN}, trust_env=False, timeout=3)
        url = f"{twin.base_url}/enterprises/{DEMO_USCC}/business-licence"

        def plain_call() -> object:
            return client.get(url).json()["data"]["name"]

        _timed(30, plain_call)  # warm both pools
        _timed(30, lambda: connector.fetch("b", query, {"uscc": DEMO_USCC}, timeout=3))
        plain: list[float] = []
        fetch: list[float] = []
        core: list[float] = []
        for _ in range(n):  # interleaved, so a busy moment of the shared machine hits all three
            plain += _timed(1, plain_call)
            fetch += _timed(1, lambda: connector.fetch("b", query, {"uscc": DEMO_USCC}, timeout=3))
            core += _timed(1, lambda: run_query(
                session, found, SERVICE, "licences", "business_licence", ANSWERS, owner=Owner(),
                purpose="verify", actor_id=None, actor_name="bench", refresh=True))
        base = statistics.median(plain)
        print(f"{n} calls each, the twin on loopback (werkzeug, threaded), SQLite for our side")
        print(_line("plain httpx call", plain, base))
        print(_line("connector fetch", fetch, base))
        print(_line("run_query, asked and kept", core, base))
        print(f"connector overhead per call: {statistics.median(fetch) - base:.2f} ms; "
              f"core (kept row + audit event): {statistics.median(core) - statistics.median(fetch):.2f} ms")
        client.close()
        session.close()
        found.close()
        app.extensions["tongban.engine"].dispose()


if __name__ == "__main__":
    main()
