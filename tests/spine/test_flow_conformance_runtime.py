"""The conformance suite once more, through the runtime on the database: every script in
tests/flows/ replayed with `tongban.workflow.runtime` (rows loaded per operation, one
transaction each, status copied to the application, audit events written), and its trace read
back from the flow_event rows. It must equal the same hand-written expectation as the pure
bench's.

Every script runs on SQLite. The PostgreSQL run (scripts/run-tests.sh) replays only a few, one
for each kind of database work that differs most (parallel tokens, countersign with a return,
returning to an earlier step, transfer, a message kept until its step, a service call through
the outbox, an application scored and scored again by its rule set): the scripts differ in
engine logic, which the SQLite run and tests/unit already check, not in the SQL the runtime
sends. The rest are not collected there (no skips shown); all 81 on PostgreSQL took ~40 s of its
run."""

from __future__ import annotations

import copy
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session, col

from tongban import db
from tongban.applications import new_reference
from tongban.models import (
    Application,
    AuditEvent,
    DefinitionVersion,
    Delegation,
    Department,
    FlowDeadline,
    FlowEvent,
    FlowInstance,
    FlowOutbox,
    FlowTask,
    FlowTimer,
    FlowToken,
    Membership,
    PointsEvaluation,
    Role,
    User,
    saved_id,
)
from tongban.points import scoring
from tongban.policy import Actor
from tongban.workflow import runtime
from tongban.workflow.testbench import (
    Bench,
    BenchDirectory,
    ScriptError,
    department_rows,
    first_difference,
    load_script,
    parse_time,
    read_expected,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "tests" / "flows").glob("*.yaml"))
ON_POSTGRESQL = ("combo-nested-parallel", "combo-return-under-countersign", "op-return-previous",
                 "op-transfer", "wcp-24-persistent-trigger-early", "service-retry",
                 "demo-residence-points-scored")
DEFAULT_RETRIES, DEFAULT_BACKOFF = 3, 60


def _fresh(statement: Any) -> Any:
    return statement.execution_options(populate_existing=True)


class RuntimeBench(Bench):
    """The bench's script reading and action arguments; the runtime and the database do the
    rest. Refusals roll the transaction back and become `refused` lines, as on the bench."""

    def __init__(self, script: Any, engine: Any) -> None:
        super().__init__(script)
        self.engine = engine
        self.session: Session = db.new_session(engine)
        self.last_seq = 0
        self.version = 1
        with db.unit_of_work(self.session):
            self._world()

    # -- the world: departments, users, definitions, the application

    def _world(self) -> None:
        session = self.session
        rows = department_rows(self.script)
        codes = [row["code"] for row in rows]
        for pairs in (u.get("roles", []) for u in self.script.data["users"].values()):
            codes += [pair[1] for pair in pairs if len(pair) > 1 and pair[1] and pair[1] not in codes]
        info = {row["code"]: row for row in rows}
        ids: dict[str, int] = {}
        pending = list(dict.fromkeys(codes))
        while pending:  # parents first
            code = next(c for c in pending if not info.get(c, {}).get("parent")
                        or info[c]["parent"] in ids or info[c]["parent"] not in pending)
            pending.remove(code)
            parent = info.get(code, {}).get("parent")
            row = Department(code=code, name_zh=code, name_en=code, parent_id=ids.get(parent or ""),
                             region=info.get(code, {}).get("region"))
            session.add(row)
            session.flush()
            ids[code] = saved_id(row)
        names: dict[int, str] = {}
        members: dict[int, frozenset[tuple[str, str | None]]] = {}
        for username, spec in self.script.data["users"].items():
            user = User(username=username, display_name=spec.get("name", username),
                        password_hash="!")
            session.add(user)
            session.flush()
            uid = saved_id(user)
            names[uid] = username
            held = [(pair[0], pair[1] if len(pair) > 1 else None) for pair in spec.get("roles", [])]
            members[uid] = frozenset(held)
            for role, department in held:
                session.add(Membership(user_id=uid, role=str(Role(role)),
                                       department_id=ids[department] if department else None))
        self.ids = {name: uid for uid, name in names.items()}
        self.applicant_id = self.ids[self.script.data["applicant"]]
        self.directory = BenchDirectory(names, members, self.directory.department_tree,
                                        self.directory.regions, [])
        for delegation in self.script.data.get("delegations", []):
            session.add(Delegation(user_id=self.ids[delegation["user"]],
                                   delegate_id=self.ids[delegation["delegate"]],
                                   starts_at=parse_time(delegation["from"]),
                                   ends_at=parse_time(delegation["until"])))
        code = str(self.content["code"])
        self.flow_version_id = self._definition("flow", code, self.content)
        department = self.instance.department_code or "d0"
        service = self._definition("service", "svc", {
            "code": "svc", "flow": code, "department": {"code": department},
            **({"calendar": self.script.data["calendar"]} if "calendar" in self.script.data
               else {})})
        form = self._definition("form", "f", {"code": "f", "pages": []})
        # A service with rules: its rule set pinned, and the application scored as submission
        # does (or given the script's score double).
        rules = self._definition("rules", self.rules[0], self.rules[1]) if self.rules else None
        application = Application(
            reference=new_reference(self.start_at), idempotency_key=secrets.token_hex(16),
            service_code="svc", service_version_id=service, form_version_id=form,
            answers=copy.deepcopy(self.answers), status="submitted",
            flow_version_id=self.flow_version_id, rules_version_id=rules,
            submitter_id=self.applicant_id, department_code=department,
            submitted_at=self.start_at)
        session.add(application)
        session.flush()
        self.application_id = saved_id(application)
        double = self.script.data.get("points")
        if rules is not None and double is not None:
            session.add(PointsEvaluation(
                application_id=self.application_id, rules_version_id=rules,
                rule_set=self.rules[0] if self.rules else "", as_of=self.start_at.date(),
                total=double.get("total", 0), eligible=bool(double.get("eligible")),
                grade=double.get("grade"), result=dict(double)))
        elif rules is not None:
            scoring.score(session, application)

    def _definition(self, kind: str, code: str, content: dict[str, Any]) -> int:
        version = 1 + (self.session.execute(
            select(func.count()).select_from(DefinitionVersion)
            .where(col(DefinitionVersion.kind) == kind, col(DefinitionVersion.code) == code))
            .scalar() or 0)
        row = DefinitionVersion(kind=kind, code=code, version=version,
                                content_hash=secrets.token_hex(8), content=copy.deepcopy(content),
                                source_path=f"{kind}s/{code}.yaml", author="bench")
        self.session.add(row)
        self.session.flush()
        return saved_id(row)

    def actor(self, user_id: int | None) -> Actor:
        return Actor.of(user_id, self.directory.memberships(user_id or 0))

    # -- reading the rows back

    def _application(self) -> Application:
        return self.session.scalars(_fresh(select(Application).where(
            col(Application.id) == self.application_id))).one()

    def _instance(self) -> FlowInstance:
        return self.session.scalars(_fresh(select(FlowInstance).where(
            col(FlowInstance.application_id) == self.application_id))).one()

    def _reload(self) -> None:
        instance = self._instance()
        self.instance = instance
        self.tasks = list(self.session.scalars(_fresh(select(FlowTask).where(
            col(FlowTask.instance_id) == instance.id).order_by(col(FlowTask.seq)))))
        self.tokens = list(self.session.scalars(_fresh(select(FlowToken).where(
            col(FlowToken.instance_id) == instance.id))))
        self.answers = copy.deepcopy(self._application().answers)
        self.deadlines = list(self.session.scalars(_fresh(select(FlowDeadline).where(
            col(FlowDeadline.instance_id) == instance.id).order_by(col(FlowDeadline.seq)))))
        self._number_tasks()
        events = self.session.scalars(_fresh(select(FlowEvent).where(
            col(FlowEvent.instance_id) == instance.id, col(FlowEvent.seq) > self.last_seq)
            .order_by(col(FlowEvent.seq)))).all()
        for event in events:
            extra = {}
            if event.on_behalf_of is not None:
                extra["on_behalf_of"] = self.username(event.on_behalf_of)
            task = None if event.task_seq is None else self.number_of.get(event.task_seq)
            self.trace.append(self._line(event.at, event.type, event.node, event.actor_id, task,
                                         event.status, task_seq=event.task_seq, **extra))
            self.last_seq = max(self.last_seq, event.seq)

    # -- the operations through the runtime

    def run(self) -> list[dict[str, Any]]:
        try:
            with db.unit_of_work(self.session):
                runtime.start_flow(self.session, self._application(), now=self.start_at)
            self._reload()
            for index, action in enumerate(self.script.data["actions"]):
                self.do(["actions", index], action)
            return self.trace
        finally:  # no connection left open: PostgreSQL drops the test database afterwards
            self.session.close()

    def call(self, name: str, actor: int | None, now: datetime, /, *,
             shown_node: str | None = None, shown_task: int | None = None, **args: Any) -> None:
        name = {"return": "return_to"}.get(name, name)
        task_seq = args.get("task_seq")
        try:
            with db.unit_of_work(self.session):
                if name == "deliver_message":
                    runtime.deliver_message(self.session, self._application(), args["name"],
                                            args["key"], args["payload"], sender=args["sender"],
                                            now=now)
                elif name in ("service_done", "service_failed"):
                    self._service(now, name, **args)
                elif "task_seq" in args and name in runtime.TASK_OPERATIONS:
                    seq = args.pop("task_seq")
                    task_id = self.session.execute(select(col(FlowTask.id)).where(
                        col(FlowTask.instance_id) == self.instance.id,
                        col(FlowTask.seq) == seq)).scalar()
                    if task_id is None:
                        raise runtime.FlowNotFound(f"no task {seq}")
                    runtime.act(self.session, self.actor(actor), task_id, name, version=None,
                                now=now, **args)
                else:
                    runtime.act_on_application(self.session, self.actor(actor),
                                               self.application_id, name, now=now, **args)
        except runtime.FlowNotFound:
            self.trace.append(self._line(now, "refused", shown_node, actor, shown_task,
                                         self._instance().status, error="not_found",
                                         task_seq=task_seq))
            return
        except Exception as exc:
            if not (isinstance(getattr(exc, "status", None), int)
                    and isinstance(getattr(exc, "code", None), str)):
                raise
            self.trace.append(self._line(now, "refused", shown_node, actor, shown_task,
                                         self._instance().status, error=str(exc.code),
                                         task_seq=task_seq))
            return
        self._reload()

    def next_timer(self, until: datetime) -> Any:
        return self.session.scalars(_fresh(select(FlowTimer).where(
            col(FlowTimer.instance_id) == self.instance.id, col(FlowTimer.state) == "pending",
            col(FlowTimer.due_at) <= until)
            .order_by(col(FlowTimer.due_at), col(FlowTimer.id)))).first()

    def fire(self, timer: Any, now: datetime) -> None:
        """The worker: the timer fires through the runtime in its own transaction."""
        with db.unit_of_work(self.session):
            runtime.fire_timer(self.session, saved_id(timer), now)
        self._reload()

    def migrate(self, where: list[str | int], actor: int | None, now: datetime,
                action: Any) -> None:
        from tongban.workflow.testbench import _flow_content
        content = _flow_content(self.script, action["to_flow"], [*where, "to_flow"])
        with db.unit_of_work(self.session):
            version_id = self._definition("flow", str(content["code"]), content)
        self.call("migrate", actor, now, new_version_id=version_id,
                  mapping=dict(action.get("mapping", {})))

    def run_outbox(self, now: datetime) -> None:
        """The worker's steps (claim, call the script's double, record, tell the engine) for
        every due row, in the worker's order."""
        due = self.session.scalars(_fresh(select(FlowOutbox).where(
            col(FlowOutbox.state) == "pending", col(FlowOutbox.next_attempt_at) <= now)
            .order_by(col(FlowOutbox.next_attempt_at), col(FlowOutbox.id)))).all()
        for row in due:
            self.call("service_done", None, now, shown_node=row.node, row_id=saved_id(row))

    def _service(self, now: datetime, name: str, row_id: int) -> None:
        row = self.session.get_one(FlowOutbox, row_id)
        double = self.hooks.get(row.node, {})
        row.attempts += 1
        fail = double.get("fail", 0)
        if not (fail == "always" or (isinstance(fail, int) and row.attempts <= fail)):
            result = self._result(row.node, double)
            row.state, row.result, row.done_at = "done", result, now
            self.session.add(row)
            runtime.service_result(self.session, row, ok=True, result=result, now=now)
            return
        node = self.flow.nodes[row.node]
        retries = int(getattr(node, "retries", DEFAULT_RETRIES))
        backoff = int(getattr(node, "backoff_seconds", DEFAULT_BACKOFF))
        final = row.attempts > retries
        row.last_error = str(double.get("error", "test double failure"))
        if final:
            row.state, row.done_at = "failed", now
        else:
            row.next_attempt_at = now + timedelta(seconds=backoff * 2 ** (row.attempts - 1))
        self.session.add(row)
        runtime.service_result(self.session, row, ok=False, error=row.last_error, final=final,
                               now=now)

    def in_step(self) -> tuple[str, str, int, int]:
        """(application status, instance status, flow events, their audit events)."""
        application, instance = self._application(), self._instance()
        events = self.session.execute(select(func.count()).select_from(FlowEvent).where(
            col(FlowEvent.instance_id) == instance.id)).scalar() or 0
        audited = self.session.execute(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.object_id) == application.reference,
            col(AuditEvent.action).like("flow.%"))).scalar() or 0
        return application.status, instance.status, events, audited


@pytest.fixture(autouse=True)
def _compiled_flows_of_this_database() -> None:
    """The runtime compiles each flow version once per process, by version id; every test here
    has a new database whose version ids start again at 1."""
    runtime._compiled.clear()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    scripts = SCRIPTS
    if metafunc.config.getoption("--db") == "postgresql":
        scripts = [path for path in SCRIPTS if path.stem in ON_POSTGRESQL]
        assert len(scripts) == len(ON_POSTGRESQL), "a script named in ON_POSTGRESQL is missing"
    metafunc.parametrize("script", scripts, ids=lambda path: path.stem)


def test_the_runtime_gives_the_expected_trace(script: Path, app: Flask) -> None:
    bench = RuntimeBench(load_script(script), app.extensions["tongban.engine"])
    try:
        trace = bench.run()
    except ScriptError as exc:  # the runtime refused what the engine allowed: say which step
        refused = [line for line in bench.trace if line["event"] == "refused"]
        pytest.fail(f"{script.name} through the runtime: {exc}; refusals so far: {refused}")
    expected = read_expected(script.with_name(script.name.removesuffix(".yaml")
                                              + ".expected.jsonl"))
    difference = first_difference(trace, expected)
    assert difference is None, f"{script.name} through the runtime: {difference}"
    with db.new_session(app.extensions["tongban.engine"]) as session:
        bench.session = session
        application_status, instance_status, events, audited = bench.in_step()
    assert application_status == instance_status
    assert events == audited
