"""The dashboards' queries on 100,000 applications (issue 14 item 9).

Seeds a generated year (tongban.dashboards.history) into a scratch database, then times every
query of /admin/dashboards for that year counted by month, all services, as the platform
administrator sees it. Machines here are shared, so the figure printed is a ratio against a
baseline measured in the same run: a plain ``SELECT count(*) FROM application`` on the same
database (docs/operations.md, Dashboards; ../shared/reference/perf-method.md).

    .venv/bin/python bench/dashboards.py                 # SQLite, 100,000 applications
    .venv/bin/python bench/dashboards.py --postgresql    # a scratch PostgreSQL database too
    .venv/bin/python bench/dashboards.py --applications 20000 --explain
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import func, select, text  # noqa: E402 - after the path is set
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from tongban import audit  # noqa: E402
from tongban.dashboards import figures  # noqa: E402
from tongban.dashboards.history import seed_history  # noqa: E402
from tongban.db import new_session, open_database  # noqa: E402
from tongban.demo import load_demo  # noqa: E402
from tongban.models import Application  # noqa: E402

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
SCOPE = figures.Scope(start=NOW - timedelta(days=365), end=NOW, period="month")
LOOP = ("urban-event-report",)


def page_queries(session: Session) -> None:
    """Every query the dashboards page runs for SCOPE."""
    figures.volumes(session, SCOPE)
    figures.volumes_by_department(session, SCOPE)
    figures.backlog(session, SCOPE, now=NOW, soon=NOW + timedelta(days=1))
    figures.handling_times(session, SCOPE)
    figures.correction_rates(session, SCOPE)
    figures.return_reasons(session, SCOPE)
    figures.return_count(session, SCOPE)
    figures.closed_loop(session, SCOPE, LOOP)


def baseline(session: Session) -> None:
    session.scalar(select(func.count()).select_from(Application))


def median_ms(session: Session, work: Callable[[Session], None], runs: int) -> float:
    work(session)  # warm: the first run reads the pages into the cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work(session)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def per_figure(session: Session, runs: int) -> list[tuple[str, float]]:
    calls: list[tuple[str, Callable[[Session], Any]]] = [
        ("volumes", lambda s: figures.volumes(s, SCOPE)),
        ("by department", lambda s: figures.volumes_by_department(s, SCOPE)),
        ("backlog", lambda s: figures.backlog(s, SCOPE, now=NOW, soon=NOW + timedelta(days=1))),
        ("handling time", lambda s: figures.handling_times(s, SCOPE)),
        ("correction rate", lambda s: figures.correction_rates(s, SCOPE)),
        ("return reasons", lambda s: (figures.return_reasons(s, SCOPE),
                                      figures.return_count(s, SCOPE))),
        ("closed loop", lambda s: figures.closed_loop(s, SCOPE, LOOP)),
    ]
    return [(name, median_ms(session, call, runs)) for name, call in calls]


def explain(engine: Engine) -> None:
    """The plans of the two queries that read flow_event, the largest table."""
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with new_session(engine) as session:
        for name, statement in (
                ("correction rate", "SELECT count(DISTINCT instance_id) FROM flow_event "
                                    "WHERE type = 'correction_requested'"),
                ("returns in a range", "SELECT count(*) FROM flow_event WHERE type IN "
                                       "('returned', 'auto_returned') AND at >= '2026-01-01'")):
            print(f"  plan, {name}:")
            for row in session.execute(text(prefix + statement)):
                print("    " + " | ".join(str(value) for value in row))


def run(url: str, scratch: Path, applications: int, runs: int, show_plans: bool) -> None:
    engine = open_database(url)
    audit.use_key(engine, audit.KeySource("bench-audit-key-" + "k" * 32, scratch / "audit_key"))
    load_demo(engine, ROOT)
    with new_session(engine) as session:
        started = time.perf_counter()
        seed_history(session, applications=applications, now=NOW, seed=2026)
        session.commit()
        print(f"  seeded {applications:,} applications in {time.perf_counter() - started:.1f} s")
        session.execute(text("ANALYZE"))  # the planners see the new sizes
        session.commit()
        rows = {table: session.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in ("flow_instance", "flow_task", "flow_event", "flow_deadline")}
        print("  rows: " + ", ".join(f"{table} {count:,}" for table, count in rows.items()))
        base = median_ms(session, baseline, runs)
        page = median_ms(session, page_queries, runs)
        print(f"  baseline count(*) of applications: {base:.2f} ms")
        print(f"  the dashboards page's queries (a year by month, all services): {page:.1f} ms")
        print(f"  ratio to the baseline: {page / base:.1f}")
        for name, ms in per_figure(session, runs):
            print(f"    {name:<16} {ms:8.1f} ms  ({ms / base:.1f} x baseline)")
    if show_plans:
        explain(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgresql", action="store_true", help="also on a scratch PostgreSQL")
    parser.add_argument("--explain", action="store_true", help="print the flow_event plans")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        print("SQLite:")
        run(f"sqlite:///{scratch}/bench.sqlite3", Path(scratch), options.applications,
            options.runs, options.explain)
        if options.postgresql:
            import flow_db

            with flow_db.scratch_postgres() as url:
                print("PostgreSQL:")
                run(url, Path(scratch), options.applications, options.runs, options.explain)


if __name__ == "__main__":
    main()
