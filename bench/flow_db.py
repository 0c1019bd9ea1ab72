"""The database parts of bench/flow.py: (c) completions on SQLite through the runtime, and
(d) the inbox on PostgreSQL over a generated million open tasks.

Everything runs on scratch databases this module creates and removes: a SQLite file in a
temporary folder, a PostgreSQL database named ``tongban_bench_<pid>_<random>`` that is dropped at
the end (also on failure).
"""

from __future__ import annotations

import gc
import os
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlmodel import Session, col

from tongban import audit
from tongban.db import new_session, open_database, unit_of_work
from tongban.migrate import upgrade
from tongban.models import Application, DefinitionVersion, FlowTask, User
from tongban.policy import Actor, DepartmentTree

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BENCH_USERS = ("clerk", "reviewer", "head", "signer1", "signer2", "signer3", "applicant")


def _definition(session: Session, kind: str, code: str, content: dict[str, Any]) -> int:
    row = DefinitionVersion(kind=kind, code=code, version=1, content_hash=uuid.uuid4().hex * 2,
                            content=content, source_path=f"bench/{code}", author="bench")
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _service(flow_code: str) -> dict[str, Any]:
    return {"code": "bench-service", "name": {"zh": "基准事项", "en": "Bench service"},
            "department": {"code": "bench", "name": {"zh": "基准", "en": "Bench"}},
            "flow": flow_code}


# --- (c) SQLite through the runtime ----------------------------------------------------------

def sqlite_completions(folder: Path, flow: dict[str, Any], instances: int) -> dict[str, float]:
    """Completions/s through `runtime.act` (each one transaction with its flow and audit
    events), applications/s (start + all completions), and the baseline: transactions/s of
    the same shape writing one audit event."""
    from tongban.workflow.runtime import act, start_flow

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    upgrade(url)
    engine = open_database(url)
    audit.use_key(engine, audit.KeySource("bench-audit-key-" + "k" * 32, folder / "audit_key"))
    with new_session(engine) as session, unit_of_work(session):
        ids = {}
        for name in BENCH_USERS:
            user = User(username=name, display_name=name, password_hash="-")
            session.add(user)
            session.flush()
            ids[name] = user.id
        service_id = _definition(session, "service", "bench-service", _service(flow["code"]))
        form_id = _definition(session, "form", "bench-form", {"code": "bench-form"})
        flow_id = _definition(session, "flow", flow["code"], flow)

    def new_application(index: int) -> Application:
        return Application(reference=f"B{index:09d}", idempotency_key=uuid.uuid4().hex,
                           service_code="bench-service", service_version_id=service_id,
                           form_version_id=form_id, flow_version_id=flow_id,
                           answers={"amount": 500}, status="submitted",
                           submitter_id=ids["applicant"], department_code="bench",
                           submitted_at=NOW)

    def open_task(session: Session, instance_id: int) -> tuple[int, int, int | None, str] | None:
        row = session.execute(
            select(col(FlowTask.id), col(FlowTask.version), col(FlowTask.assignee_id),
                   col(FlowTask.kind))
            .where(col(FlowTask.instance_id) == instance_id, col(FlowTask.state) == "open",
                   col(FlowTask.kind) != "cc").order_by(col(FlowTask.id)).limit(1)).first()
        return tuple(row) if row else None  # type: ignore[return-value]

    def one_application(index: int) -> tuple[float, float, int]:
        """Start and finish one application; the wall and CPU seconds spent in completions, and
        their count."""
        with new_session(engine) as session, unit_of_work(session):
            application = new_application(index)
            session.add(application)
            session.flush()
            instance = start_flow(session, application, now=NOW)
            assert instance is not None and instance.id is not None
            instance_id = instance.id
        spent = cpu = 0.0
        done = 0
        while True:
            with new_session(engine) as session:  # the inbox read, as the task page makes it
                found = open_task(session, instance_id)
            if found is None:
                break
            task_id, version, assignee, kind = found
            began, cpu_began = time.perf_counter(), time.process_time()
            with new_session(engine) as session, unit_of_work(session):  # one request
                act(session, Actor.of(assignee, ()), task_id,
                    "accept" if kind == "intake" else "approve", version=version, now=NOW)
            spent += time.perf_counter() - began
            cpu += time.process_time() - cpu_began
            done += 1
        return spent, cpu, done

    def baseline_once(index: int) -> None:
        with new_session(engine) as session, unit_of_work(session):
            audit.record(session, action="bench.baseline", object_type="bench", object_id=index)

    one_application(0)  # warm: compiled flow, statements
    baseline_once(0)
    gc.collect()
    began = time.perf_counter()
    for index in range(1, instances + 1):
        baseline_once(index)
    baseline = instances / (time.perf_counter() - began)
    spent = cpu = total = 0.0
    completions = 0
    began = time.perf_counter()
    for index in range(1, instances + 1):
        seconds, cpu_seconds, done = one_application(index)
        spent += seconds
        cpu += cpu_seconds
        completions += done
    total = time.perf_counter() - began
    with new_session(engine) as session:
        statuses = session.execute(text("SELECT status, count(*) FROM application GROUP BY status")).all()
        events = session.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    engine.dispose()
    assert dict(statuses) == {"approved": instances + 1}, statuses
    return {"baseline": baseline, "completions": completions / spent,
            "completions per CPU-second": completions / cpu,
            "applications": instances / total,
            # every application (and the warm-up one) started and finished; the baseline wrote
            # one event per transaction (and its warm-up)
            "audit events per application": (events - (instances + 1)) / (instances + 1)}


# --- (d) PostgreSQL inbox --------------------------------------------------------------------

ADMIN_URL = os.environ.get("TONGBAN_BENCH_POSTGRES",
                           os.environ.get("TONGBAN_TEST_POSTGRES",
                                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """A new, migrated PostgreSQL database, dropped afterwards."""
    name = f"tongban_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", ADMIN_URL)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


DISTRICTS, STREETS, BUREAUS = 16, 12, 20
STAFF = 20_000
ROLES = ("counter_clerk", "reviewer")


def _departments() -> list[tuple[str, str | None, str | None]]:
    """(code, parent, region): the city; its 16 districts with 12 street offices each; 20
    municipal bureaus with a branch in every district. 549 departments."""
    rows: list[tuple[str, str | None, str | None]] = [("sh", None, None)]
    for d in range(1, DISTRICTS + 1):
        district = f"sh-d{d:02d}"
        rows.append((district, "sh", f"3101{d:02d}"))
        rows += [(f"{district}-s{s:02d}", district, None) for s in range(1, STREETS + 1)]
    for b in range(1, BUREAUS + 1):
        bureau = f"sh-b{b:02d}"
        rows.append((bureau, "sh", None))
        rows += [(f"{bureau}-d{d:02d}", bureau, f"3101{d:02d}") for d in range(1, DISTRICTS + 1)]
    return rows


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def fill_postgres(url: str, *, open_tasks: int, seed: int = 11) -> dict[str, int]:
    """Departments, staff with memberships, applications, instances, open and finished tasks.

    Shape: 80% of the open tasks' instances have one open task, the rest a 3-person 会签 (three
    assigned tasks); half of the single tasks are offered to a group (a role in a street office,
    a district or a bureau branch), half assigned to one person; each instance also has two
    finished tasks (its history). Due dates spread over the next 30 days and the past 10, one
    in seven without. Staff: 20,000, each with a role in one department, one in ten with a
    second; 20 municipal reviewers whose membership covers every department."""
    import psycopg

    rng = random.Random(seed)
    departments = _departments()
    department_codes = [code for code, _, _ in departments]
    leaves = [code for code in department_codes if code.count("-") == 2]
    middles = [code for code in department_codes if code.count("-") == 1]
    # Groups live mostly in street offices and bureau branches, some at district/bureau level.
    group_departments = leaves * 4 + middles
    shape: dict[str, int] = {}
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        cur = conn.cursor()
        ids: dict[str, int] = {}
        for code, parent, region in departments:
            cur.execute("INSERT INTO department (code, name_zh, name_en, parent_id, region) "
                        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                        (code, code, code, ids.get(parent) if parent else None, region))
            ids[code] = cur.fetchone()[0]
        shape["departments"] = len(departments)
        stamp = NOW.isoformat()
        _copy(cur, "user_account", ("id", "username", "display_name", "password_hash", "is_active",
                                    "failed_logins", "created_at"),
              ((i, f"staff{i}", f"Staff {i}", "-", True, 0, stamp) for i in range(1, STAFF + 1)))
        cur.execute("SELECT setval('user_account_id_seq', %s)", (STAFF,))
        memberships = []
        for user in range(1, STAFF + 1):
            held = {(rng.choice(ROLES), ids[rng.choice(group_departments)])}
            if rng.random() < 0.1:
                held.add((rng.choice(ROLES), ids[rng.choice(middles)]))
            memberships += [(user, role, dept) for role, dept in held]
        municipal = list(range(STAFF - 19, STAFF + 1))
        memberships += [(user, "reviewer", ids["sh"]) for user in municipal]
        shape["staff"] = STAFF
        shape["memberships"] = _copy(cur, "membership", ("user_id", "role", "department_id"),
                                     iter(memberships))
        version_ids = {}
        for kind, code in (("service", "bench-service"), ("form", "bench-form"),
                           ("flow", "bench-flow")):
            cur.execute("INSERT INTO definition_version (kind, code, version, content_hash, "
                        "content, source_path, author, comment, created_at) VALUES "
                        "(%s, %s, 1, %s, %s, '-', 'bench', '', %s) RETURNING id",
                        (kind, code, "0" * 64, '{"flow": "bench-flow"}', stamp))
            version_ids[kind] = cur.fetchone()[0]
        countersigned = open_tasks // 10          # 3 open tasks each
        instances = open_tasks - 2 * countersigned
        statuses = ("accepted", "in_progress", "in_progress", "in_progress", "publicizing")

        def when(days_back: float) -> str:
            return (NOW - timedelta(days=days_back)).isoformat()

        app_departments = [rng.choice(middles) for _ in range(997)]
        shape["applications"] = _copy(
            cur, "application",
            ("id", "reference", "idempotency_key", "service_code", "service_version_id",
             "form_version_id", "answers", "status", "flow_version_id", "answers_version",
             "department_code", "submitted_at"),
            ((i, f"B{i:010d}", f"k{i}", "bench-service", version_ids["service"],
              version_ids["form"], "{}", statuses[i % len(statuses)], version_ids["flow"], 1,
              app_departments[i % 997], when(rng.uniform(1, 60)))
             for i in range(1, instances + 1)))
        shape["instances"] = _copy(
            cur, "flow_instance",
            ("id", "application_id", "flow_code", "flow_version_id", "status", "department_code",
             "vars", "next_seq", "clock_paused", "overdue", "started_at", "version"),
            ((i, i, "bench-flow", version_ids["flow"], statuses[i % len(statuses)],
              app_departments[i % 997], "{}", 20, False, False, when(30), 1)
             for i in range(1, instances + 1)))

        def tasks() -> Iterator[tuple[Any, ...]]:
            task_id = 0
            for instance in range(1, instances + 1):
                created = rng.uniform(0, 60)
                for seq in (1, 2):  # history: finished intake and review
                    task_id += 1
                    yield (task_id, instance, seq, seq, "intake" if seq == 1 else "review",
                           "intake" if seq == 1 else "approve", "done", rng.randint(1, STAFF),
                           None, None, "approved", "{}", when(created + 3 - seq), "",
                           when(created + 2 - seq), rng.randint(1, STAFF), None, 3, 0)
                due = None if rng.random() < 1 / 7 else when(-rng.uniform(-10, 30))
                count = 3 if instance <= countersigned else 1
                group = count == 1 and rng.random() < 0.5
                for position in range(count):
                    task_id += 1
                    if group:
                        role, department = rng.choice(ROLES), rng.choice(group_departments)
                        owner = (None, role, department)
                    else:
                        owner = (rng.randint(1, STAFF), None, None)
                    yield (task_id, instance, 3 + position, 3, "decide", "approve", "open",
                           *owner, None, "{}", when(created), "", None, None, due, 1, position)

        shape["tasks"] = _copy(
            cur, "flow_task",
            ("id", "instance_id", "seq", "token_seq", "node", "kind", "state", "assignee_id",
             "candidate_role", "candidate_department", "outcome", "data", "created_at", "comment",
             "done_at", "done_by", "due_at", "version", "position"),
            tasks())
        shape["open tasks"] = open_tasks
        for table in ("user_account", "application", "flow_instance", "flow_task"):
            cur.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    return shape


def _times(call: Callable[[], Any], count: int) -> list[float]:
    for _ in range(min(20, count)):
        call()
    out = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        out.append(time.perf_counter() - began)
    return out


def time_inbox(url: str, *, queries: int, seed: int = 7) -> dict[str, float]:
    """p95 seconds of each inbox query for users of each kind, and of the baseline."""
    from tongban.workflow import inbox

    rng = random.Random(seed)
    engine = open_database(url)
    figures: dict[str, float] = {}
    with Session(engine) as session:
        tree = DepartmentTree.load(session)
        code_of = dict(session.execute(text("SELECT id, code FROM department")).all())
        members: dict[int, list[tuple[str, str]]] = {}
        for user, role, dept in session.execute(
                text("SELECT user_id, role, department_id FROM membership")):
            members.setdefault(user, []).append((role, code_of[dept]))
        max_task = session.execute(text("SELECT max(id) FROM flow_task")).scalar_one()

        def users(where: Callable[[list[tuple[str, str]]], bool]) -> list[Actor]:
            found = [Actor.of(user, held) for user, held in members.items() if where(held)]
            rng.shuffle(found)
            return found[:max(queries, 1)]

        street = users(lambda held: len(held) == 1 and held[0][1].count("-") == 2)
        district = users(lambda held: len(held) == 1 and held[0][1].count("-") == 1)
        two = users(lambda held: len(held) == 2)
        city = users(lambda held: any(dept == "sh" for _, dept in held))
        everyone = users(lambda held: True)

        def cycle(actors: list[Actor]) -> Callable[[], Actor]:
            state = {"i": 0}

            def next_actor() -> Actor:
                state["i"] += 1
                return actors[state["i"] % len(actors)]
            return next_actor

        def pk() -> Any:
            return session.execute(select(col(FlowTask.id), col(FlowTask.state))
                                   .where(col(FlowTask.id) == rng.randint(1, max_task))).first()

        figures["baseline: one task by primary key"] = p95(_times(pk, queries))
        nxt = cycle(everyone)
        figures["my_tasks (any member of staff), first page of 50"] = p95(_times(
            lambda: inbox.my_tasks(session, nxt().user_id or 0), queries))
        for label, actors in (("a street office", street), ("a district office or bureau", district),
                              ("two memberships", two), ("the whole city (municipal reviewer)", city)):
            pick = cycle(actors)
            rows = inbox.group_tasks(session, pick(), tree)
            figures[f"group_tasks, {label}, first page"] = p95(_times(
                lambda pick=pick: inbox.group_tasks(session, pick(), tree), queries))
            assert rows, f"no group tasks for {label}"
        pick = cycle(city)
        figures["group_tasks, whole city, page 20 (offset 950)"] = p95(_times(
            lambda: inbox.group_tasks(session, pick(), tree, offset=950), max(queries // 4, 20)))
        pick = cycle(district)
        figures["counts (navigation), district member"] = p95(_times(
            lambda: inbox.counts(session, pick(), tree), queries))
        pick = cycle(city)
        figures["counts (navigation), municipal reviewer"] = p95(_times(
            lambda: inbox.counts(session, pick(), tree), queries))
    engine.dispose()
    return figures


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


__all__ = ["fill_postgres", "scratch_postgres", "sqlite_completions", "time_inbox"]
