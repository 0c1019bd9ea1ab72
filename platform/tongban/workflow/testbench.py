"""The flow test bench (`tongban flow run SCRIPT.yaml`): a flow run by scripted actors on a
virtual clock, on the pure engine with an in-memory directory. No database, no Flask app: a
script runs from a fresh clone in milliseconds.

A script names the flow (a flow file, a flow written inline, or a service whose ``flow:`` key
names one), the answers, the users with their roles and departments, the applicant, the start
time and a list of timed actions. The bench starts the flow as the applicant, then does each
action in order at its time; every FlowEvent the engine emits becomes one trace line
``{"at", "event", "node", "actor", "task", "status"}`` (actor by username, times in
Asia/Shanghai as the script writes them). An operation the engine refuses is a trace line too,
``{"event": "refused", ..., "error": CODE}``, so that scripts test bad input. The format is
documented in docs/flows.md ("Test bench").
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from ..definitions.loader import meta_validator, schema_problems
from ..definitions.problems import Problem
from ..definitions.yamlpos import Document, ReadError, read_yaml
from ..models import FlowDeadline, FlowInstance, FlowOutbox, FlowTask, FlowTimer, FlowToken
from ..policy import EVERYWHERE_ROLES, DepartmentTree
from .deadlines import sync
from .timeouts import fire_timer

ZONE = ZoneInfo("Asia/Shanghai")  # C1: script times are local times in Shanghai
# The checkout's definitions (tongban.PROJECT_ROOT, which this module cannot import: the console
# runs service cases on the bench, and the app imports the console).
DEFINITIONS = Path(__file__).resolve().parents[3] / "workflow_definitions"
OPEN_TASK_STATES = frozenset({"open", "claimed"})
TRACE_KEYS = ("at", "event", "node", "actor", "task", "status")
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF_SECONDS = 60


class ScriptError(Exception):
    """A script the bench cannot run: every problem with file:line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# --- reading and checking a script ------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """Definitions given in memory instead of read from workflow_definitions/: a service's
    working copy, already loaded and checked (console/service_cases.py runs a service's test
    cases against its draft this way)."""

    service: dict[str, Any]
    flow: dict[str, Any]
    rules: tuple[str, dict[str, Any]] | None
    departments: list[dict[str, Any]]


@dataclass
class Script:
    path: Path
    document: Document
    name: str  # the file name shown in problems
    sources: Sources | None = None

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.document.data
        return data

    def problem(self, path: list[str | int], message: str) -> Problem:
        line, column = self.document.position(path)
        pointer = "/" + "/".join(str(p) for p in path) if path else ""
        return Problem(self.name, line, column, pointer, message)


def parse_time(text: str) -> datetime:
    """A script time (local, Asia/Shanghai) as the aware UTC instant the engine works with."""
    return datetime.fromisoformat(text).replace(tzinfo=ZONE).astimezone(UTC)


def show_time(value: datetime | None) -> str | None:
    """An instant as the script writes it: local time, to the minute unless seconds are set."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(ZONE).replace(tzinfo=None)
    return local.isoformat(timespec="minutes" if local.second == 0 else "seconds")


def _read_shared(path: Path, name: str) -> Document:
    """A file the scripts share (the catalogue, service and flow files), read once while it does
    not change: ruamel's round-trip parser is the slowest part of the bench."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise ScriptError([Problem(name, 1, 1, "", f"cannot read the file: {exc.strerror}")]) from None
    return _read_cached(path, name, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _read_cached(path: Path, name: str, mtime_ns: int, size: int) -> Document:
    return _read_document(path, name)


def _read_document(path: Path, name: str) -> Document:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScriptError([Problem(name, 1, 1, "", "the file is not UTF-8 text")]) from None
    except OSError as exc:
        raise ScriptError([Problem(name, 1, 1, "", f"cannot read the file: {exc.strerror}")]) from None
    try:
        return read_yaml(text)
    except ReadError as exc:
        raise ScriptError([Problem(name, exc.line, exc.column, "", exc.message)]) from None


def load_script(path: Path | str) -> Script:
    """Read and check a script: the shipped JSON Schema, then what a schema cannot say (every
    actor is a user, times never go backwards, a delegation ends after it starts)."""
    path = Path(path)
    return check_script(Script(path, _read_document(path, str(path)), str(path)))


def check_script(script: Script) -> Script:
    """The checks of :func:`load_script` on a script already read."""
    if not isinstance(script.document.data, dict):
        raise ScriptError([script.problem([], "expected a mapping of keys at the top")])
    problems = schema_problems(script.document, meta_validator("flow-script"), script.name)
    if problems:
        raise ScriptError(problems)
    problems = _meaning_problems(script)
    if problems:
        raise ScriptError(problems)
    return script


def _meaning_problems(script: Script) -> list[Problem]:
    data = script.data
    problems: list[Problem] = []
    if ("flow" in data) == ("service" in data):
        problems.append(script.problem([], 'name either "flow" or "service" (exactly one)'))
    users = data["users"]
    if data["applicant"] not in users:
        problems.append(script.problem(["applicant"], f'"{data["applicant"]}" is not in users'))

    def need_user(path: list[str | int], username: Any) -> None:
        if isinstance(username, str) and username not in users:
            problems.append(script.problem(path, f'"{username}" is not in users'))

    start = parse_time(data["start_at"])
    for index, delegation in enumerate(data.get("delegations", [])):
        need_user(["delegations", index, "user"], delegation["user"])
        need_user(["delegations", index, "delegate"], delegation["delegate"])
        if parse_time(delegation["until"]) <= parse_time(delegation["from"]):
            problems.append(script.problem(["delegations", index, "until"],
                                           "a delegation must end after it starts"))
    previous = start
    for index, action in enumerate(data["actions"]):
        where: list[str | int] = ["actions", index]
        need_user([*where, "actor"], action.get("actor"))
        need_user([*where, "to"], action.get("to"))
        need_user([*where, "approver"], action.get("approver"))
        for position, username in enumerate(action.get("users", [])):
            need_user([*where, "users", position], username)
        if "at" not in action:  # an advance step: the clock moves on from the last time
            continue
        at = parse_time(action["at"])
        if at < previous:
            problems.append(script.problem([*where, "at"], "actions must be in time order; this "
                                           f"one is before {show_time(previous)}"))
        previous = max(previous, at)
        if action["action"] not in {"run_outbox", "deliver", "advance"} and "actor" not in action:
            problems.append(script.problem(where, f'"{action["action"]}" needs an "actor"'))
    return problems


# --- the in-memory directory ------------------------------------------------------------------


@dataclass(frozen=True)
class BenchDelegation:
    user_id: int
    delegate_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass
class BenchDirectory:
    """Who is who, for the engine's who-acts resolution (the spec's Directory protocol). User
    ids are 1, 2, … in the order the script lists the users."""

    usernames: dict[int, str]
    member_of: dict[int, frozenset[tuple[str, str | None]]]
    department_tree: DepartmentTree
    regions: dict[str, str]  # department code -> 6-digit region
    delegations: list[BenchDelegation] = field(default_factory=list)

    def covers(self, role: str, membership: tuple[str, str | None],
                departments: frozenset[str]) -> bool:
        held, department = membership
        if held != role:
            return False
        if department is None or held in EVERYWHERE_ROLES:
            return True
        return bool(self.department_tree.under(department) & departments)

    def users_with(self, role: str, departments: frozenset[str]) -> list[int]:
        return [uid for uid in sorted(self.member_of)
                if any(self.covers(role, m, departments) for m in self.member_of[uid])]

    def department_admins(self, department: str) -> list[int]:
        return self.users_with("department_admin", frozenset({department}))

    def user_id(self, username: str) -> int | None:
        for uid, name in self.usernames.items():
            if name == username:
                return uid
        return None

    def department_for_region(self, region: str, under: str) -> str | None:
        wanted = str(region)[:6]
        for code in sorted(self.department_tree.under(under)):
            if self.regions.get(code) == wanted:
                return code
        return None

    def tree(self) -> DepartmentTree:
        return self.department_tree

    def delegate_of(self, user_id: int, at: datetime) -> int | None:
        for delegation in self.delegations:
            if delegation.user_id == user_id and delegation.starts_at <= at < delegation.ends_at:
                return delegation.delegate_id
        return None

    def memberships(self, user_id: int) -> frozenset[tuple[str, str | None]]:
        return self.member_of.get(user_id, frozenset())


def _catalogue(data: Any) -> list[dict[str, Any]]:
    """Department rows from a catalogue: a list, or a mapping with a ``departments`` list."""
    rows = data.get("departments", []) if isinstance(data, dict) else data
    return [row for row in rows or [] if isinstance(row, dict) and "code" in row]


def department_rows(script: Script) -> list[dict[str, Any]]:
    """The script's departments, or the shipped catalogue."""
    if "departments" in script.data:
        return _catalogue(script.data["departments"])
    if script.sources is not None:
        return script.sources.departments
    path = DEFINITIONS / "departments.yaml"
    return _catalogue(_read_shared(path, str(path)).data) if path.exists() else []


def department_infos(script: Script) -> dict[str, Any]:
    from ..definitions.flowcheck import DepartmentInfo
    infos = {row["code"]: DepartmentInfo(row["code"], row.get("parent"), row.get("region"))
             for row in department_rows(script)}
    for user in script.data.get("users", {}).values():  # departments named only by a role
        for pair in user.get("roles", []):
            if len(pair) > 1 and pair[1] is not None and pair[1] not in infos:
                infos[pair[1]] = DepartmentInfo(pair[1], None, None)
    return infos


def build_directory(script: Script) -> BenchDirectory:
    data = script.data
    rows = department_rows(script)
    parents: dict[str, str | None] = {row["code"]: row.get("parent") for row in rows}
    for row in rows:  # a parent named but not listed still counts as a department
        if row.get("parent"):
            parents.setdefault(row["parent"], None)
    regions = {row["code"]: str(row["region"]) for row in rows if row.get("region")}
    usernames = {index: name for index, name in enumerate(data["users"], start=1)}
    member_of: dict[int, frozenset[tuple[str, str | None]]] = {}
    for uid, name in usernames.items():
        roles = data["users"][name].get("roles", [])
        member_of[uid] = frozenset((pair[0], pair[1] if len(pair) > 1 else None) for pair in roles)
        for pair in roles:
            if len(pair) > 1 and pair[1] is not None:
                parents.setdefault(pair[1], None)
    ids = {name: uid for uid, name in usernames.items()}
    delegations = [BenchDelegation(ids[d["user"]], ids[d["delegate"]], parse_time(d["from"]),
                                   parse_time(d["until"]))
                   for d in data.get("delegations", [])]
    return BenchDirectory(usernames, member_of, DepartmentTree.from_parents(parents), regions,
                          delegations)


# --- finding the flow -------------------------------------------------------------------------


class _Inline(Document):
    """A flow written inside the script: its positions are the script's."""

    def __init__(self, data: Any, outer: Document, prefix: list[str | int]) -> None:
        super().__init__(data, outer.tree)
        self.outer, self.prefix = outer, prefix

    def position(self, path: list[str | int]) -> tuple[int, int]:
        return self.outer.position([*self.prefix, *path])


def _check_flow(script: Script, document: Document, file: str, stem: str) -> None:
    """The flow passes the shipped meta-schema and the graph checks, with its own positions
    (an inline flow's lines are the script's)."""
    from ..definitions.flowcheck import check_flow
    problems = schema_problems(document, meta_validator("flow"), file)
    if not problems:
        problems = check_flow(document, file, stem, department_infos(script))
    if problems:
        raise ScriptError(problems)


def _flow_content(script: Script, value: Any, where: list[str | int]) -> dict[str, Any]:
    """A flow given as a path (relative to the script) or inline, checked."""
    if isinstance(value, dict):
        _check_flow(script, _Inline(value, script.document, list(where)), script.name,
                    str(value.get("code", "")))
        return value
    path = (script.path.parent / value).resolve()
    if not path.exists():
        path = DEFINITIONS / "flows" / f"{value}.yaml"
    if not path.exists():
        raise ScriptError([script.problem(where, f'no flow file "{value}" (a path relative to '
                                          "the script, or a flow code under "
                                          "workflow_definitions/flows/)")])
    document = _read_shared(path, str(path))
    if not isinstance(document.data, dict):
        raise ScriptError([Problem(str(path), 1, 1, "", "expected a flow: a mapping of keys")])
    _check_flow(script, document, str(path), path.stem)
    return document.data


def _service_data(script: Script) -> Any:
    """The script's service file's data (the sources' service when given)."""
    if script.sources is not None:
        return script.sources.service
    path = (script.path.parent / script.data["service"]).resolve()
    if not path.is_file():
        path = DEFINITIONS / f"{script.data['service']}.yaml"
    return _read_shared(path, str(path)).data


def flow_content(script: Script) -> dict[str, Any]:
    data = script.data
    if "flow" in data:
        return _flow_content(script, data["flow"], ["flow"])
    if script.sources is not None:
        return script.sources.flow
    service = data["service"]
    path = (script.path.parent / service).resolve()
    if not path.is_file():
        path = DEFINITIONS / f"{service}.yaml"
    if not path.is_file():
        raise ScriptError([script.problem(["service"], f'no service "{service}" (a path relative '
                                          "to the script, or a service code under "
                                          "workflow_definitions/)")])
    document = _read_shared(path, str(path))
    code = document.data.get("flow") if isinstance(document.data, dict) else None
    if not isinstance(code, str):
        raise ScriptError([Problem(str(path), 1, 1, "", 'the service names no flow (its "flow" '
                                   "key)")])
    return _flow_content(script, code, ["service"])


def application_department(script: Script) -> str:
    """The application's department: as the script says, else its service's, else the first
    department the script lists."""
    data = script.data
    if "department" in data:
        return str(data["department"])
    if "service" in data:
        service = _service_data(script)
        department = service.get("department", {}) if isinstance(service, dict) else {}
        if isinstance(department, dict) and department.get("code"):
            return str(department["code"])
    rows = _catalogue(data.get("departments", []))
    return str(rows[0]["code"]) if rows else ""


def service_rules(script: Script) -> tuple[str, dict[str, Any]] | None:
    """The rule set the script's service names (``rules:``): its id and the content of
    workflow_definitions/rules/<id>.yaml; None for a flow without such a service."""
    data = script.data
    if "service" not in data:
        return None
    if script.sources is not None:
        return script.sources.rules
    service = _service_data(script)
    rules = service.get("rules") if isinstance(service, dict) else None
    if not isinstance(rules, str):
        return None
    rules_path = DEFINITIONS / "rules" / f"{rules}.yaml"
    return rules, _read_shared(rules_path, str(rules_path)).data


def _scorer(content: dict[str, Any], start_at: datetime
            ) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """What conditions read of answers scored by a rule set on the start date. A required
    answer missing gives no score (None), never 0 points."""
    from ..points import BadInput, MissingInput, compile_rules, evaluate
    rule_set = compile_rules(content)
    day = start_at.astimezone(ZONE).date()

    def score(answers: dict[str, Any]) -> dict[str, Any] | None:
        try:
            result = evaluate(rule_set, answers, day).to_json()
        except (MissingInput, BadInput):
            return None
        return {"total": result["total"], "eligible": result["eligible"],
                "grade": result.get("grade")}

    return score


def compile_content(script: Script, content: dict[str, Any], where: list[str | int]) -> Any:
    from .definition import compile_flow
    try:
        return compile_flow(content)
    except ValueError as exc:
        raise ScriptError([script.problem(where, f"the flow does not compile: {exc}")]) from None


# --- running ----------------------------------------------------------------------------------


def _modules() -> list[ModuleType]:
    """Where the operations live: the engine core, its operations, the admin operations."""
    found = []
    for name in ("tongban.workflow.engine", "tongban.workflow.operations",
                 "tongban.workflow.admin_ops", "tongban.workflow.deadlines"):
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def operation(name: str) -> Callable[..., Any]:
    for module in _modules():
        ops = getattr(module, "ops", None)
        for owner in (ops, module):
            function = getattr(owner, name, None) if owner is not None else None
            if callable(function):
                return function
    raise LookupError(f"the engine has no operation {name!r}")


def _is_refusal(exc: Exception) -> bool:
    """The engine's errors (tongban.workflow.errors) carry an HTTP status and a code."""
    return isinstance(getattr(exc, "status", None), int) and isinstance(getattr(exc, "code", None),
                                                                           str)


def _snapshot(bench: Bench) -> Any:
    return (bench.instance.model_dump(), [t.model_dump() for t in bench.tokens],
            [t.model_dump() for t in bench.tasks], copy.deepcopy(bench.answers),
            [d.model_dump() for d in bench.deadlines], [t.model_dump() for t in bench.timers])


class Bench:
    """One scripted run: the instance's state, the virtual clock, the outbox the worker serves."""

    def __init__(self, script: Script) -> None:
        self.script = script
        data = script.data
        self.content = flow_content(script)
        where: list[str | int] = ["flow"] if "flow" in data else ["service"]
        self.flow = compile_content(script, self.content, where)
        self.directory = build_directory(script)
        self.ids = {name: uid for uid, name in self.directory.usernames.items()}
        self.applicant_id = self.ids[data["applicant"]]
        self.start_at = parse_time(data["start_at"])
        self.hooks: dict[str, dict[str, Any]] = data.get("hooks", {})
        self.next_version_id = 2
        # The instance's rows, as the runtime keeps them in the database between requests.
        self.instance = FlowInstance(id=1, application_id=1,
                                     flow_code=str(self.content.get("code", "")),
                                     flow_version_id=1, status="submitted",
                                     applicant_id=self.applicant_id, vars={}, next_seq=1,
                                     department_code=application_department(script),
                                     started_at=self.start_at)
        self.tokens: list[FlowToken] = []
        self.tasks: list[FlowTask] = []
        self.answers: dict[str, Any] = copy.deepcopy(data.get("answers", {}))
        # The score gateways read: the script's double, else the service's rules over the
        # answers on the start date (scored again when a correction replaces the answers).
        self.rules = service_rules(script)
        self.score = None if "points" in data or self.rules is None else \
            _scorer(self.rules[1], self.start_at)
        self.points: dict[str, Any] | None = data.get("points") or (
            self.score(self.answers) if self.score is not None else None)
        self.outbox: list[FlowOutbox] = []
        self.trace: list[dict[str, Any]] = []
        # Tasks are shown and named by their number in creation order (1, 2, …), whatever
        # sequence numbers the engine gives them: traces stay writable by hand.
        self.number_of: dict[int, int] = {}
        self.seq_of: dict[int, int] = {}
        self.calls: dict[str, int] = {}  # successful hook calls per service node
        # Time: the calendar (the script's, else the service's, else shanghai), the clocks and
        # the timers the worker would fire, and the virtual clock (the last action's time).
        self.calendar = _calendar(script)
        self.deadlines: list[FlowDeadline] = []
        self.timers: list[FlowTimer] = []
        self.clock = self.start_at

    # -- helpers

    def username(self, user_id: int | None) -> str | None:
        return None if user_id is None else self.directory.usernames.get(user_id, f"#{user_id}")

    def _line(self, at: datetime, event: str, node: str | None, actor: int | None,
              task: int | None, status: str, task_seq: int | None = None,
              **extra: Any) -> dict[str, Any]:
        line: dict[str, Any] = {"at": show_time(at), "event": event, "node": node,
                                "actor": self.username(actor), "task": task, "status": status}
        line.update({k: v for k, v in extra.items() if v is not None})
        line.update(self._clocks(task_seq))
        return line

    def _clocks(self, task_seq: int | None) -> dict[str, Any]:
        """The trace's time fields: ``due`` (the line's task's due instant), ``app_due`` (the
        application deadline's) and ``paused: true`` while the application's clock stands."""
        found: dict[str, Any] = {}
        task = next((t for t in self.tasks if t.seq == task_seq), None) \
            if task_seq is not None else None
        if task is not None and task.due_at is not None:
            found["due"] = show_time(task.due_at)
        application = [d for d in self.deadlines if d.scope == "application"
                       and d.state in ("running", "paused")]
        if application:
            first = min(application, key=lambda d: d.seq)
            if first.due_at is not None:
                found["app_due"] = show_time(first.due_at)
            if first.state == "paused":
                found["paused"] = True
        return found

    def _number_tasks(self) -> None:
        for task in sorted(self.tasks, key=lambda t: t.seq):
            if task.seq not in self.number_of:
                number = len(self.number_of) + 1
                self.number_of[task.seq] = number
                self.seq_of[number] = task.seq

    def _collect(self, state: Any) -> None:
        self._number_tasks()
        for event in state.events:
            extra = {}
            if getattr(event, "on_behalf_of", None) is not None:
                extra["on_behalf_of"] = self.username(event.on_behalf_of)
            task = None if event.task_seq is None else self.number_of.get(event.task_seq,
                                                                             event.task_seq)
            self.trace.append(self._line(event.at, event.type, event.node, event.actor_id,
                                         task, event.status, task_seq=event.task_seq, **extra))
        self.outbox.extend(row for row in state.new_rows if isinstance(row, FlowOutbox))
        for timer in self.timers:  # a changed clock's pending timers give way to its new ones
            if timer.state == "pending" and timer.deadline_seq in state.cancelled_timers:
                timer.state = "cancelled"
        self.timers.extend(row for row in state.new_rows if isinstance(row, FlowTimer))

    def _state(self) -> Any:
        """A fresh State over the instance's rows for one operation, as the runtime builds one
        per request (the engine adds the tokens and tasks it creates to these lists)."""
        from .engine import State
        return State(flow=self.flow, instance=self.instance, tokens=self.tokens, tasks=self.tasks,
                     answers=self.answers, applicant_id=self.applicant_id,
                     directory=self.directory, new_rows=[], events=[],
                     deadlines=self.deadlines, calendar=self.calendar, points=self.points,
                     score=self.score)

    def call(self, name: str, actor: int | None, now: datetime, /, *,
             shown_node: str | None = None, shown_task: int | None = None, **args: Any) -> None:
        """One engine operation: its events become trace lines; a refusal becomes one line."""
        function = operation(name)
        before = _snapshot(self)
        state = self._state()
        try:
            function(state, actor, now, **args)
            sync(state, now)
        except Exception as exc:
            if not _is_refusal(exc):
                raise
            changed = _snapshot(self) != before
            self.trace.append(self._line(now, "refused", shown_node, actor, shown_task,
                                         self.instance.status,
                                         error=str(getattr(exc, "code", "")),
                                         changed=True if changed else None,
                                         task_seq=args.get("task_seq")))
            return
        self.answers, self.flow = state.answers, state.flow  # a correction, a migration
        self.points = state.points
        self._collect(state)

    def task_seq(self, where: list[str | int], ref: int | str, actor: int | None,
                 *, own_done: bool = False) -> tuple[int, str | None]:
        """The engine's seq of a task given by number (creation order), or the actor's open task
        on a node (their latest done one for own_done); failing that any open task there, then
        the latest (the engine then says why the actor may not act). Returns (seq, node)."""
        tasks = [t for t in self.tasks if t.kind != "cc"]
        if isinstance(ref, int):
            seq = self.seq_of.get(ref)
            if seq is None:  # no such task: an unused seq, so that the engine refuses it
                return max([0, *(t.seq for t in self.tasks)]) + 1000 + ref, None
            return seq, next(t.node for t in self.tasks if t.seq == seq)
        on_node = [t for t in tasks if t.node == ref]
        if not on_node:
            raise ScriptError([self.script.problem(where, f'no task on node "{ref}" yet')])
        if own_done:
            mine = [t for t in on_node if t.state == "done" and actor in (t.done_by, t.assignee_id)]
            if mine:
                return max(t.seq for t in mine), ref
        open_ = [t for t in on_node if t.state in OPEN_TASK_STATES]
        mine = [t for t in open_ if self._offered_to(t, actor)]
        chosen = mine or open_
        if chosen:
            return min(t.seq for t in chosen), ref
        return max(t.seq for t in on_node), ref

    def _offered_to(self, task: FlowTask, actor: int | None) -> bool:
        if actor is None:
            return False
        if task.assignee_id is not None:
            return task.assignee_id == actor
        if task.candidate_role is None:
            return False
        wanted = frozenset({task.candidate_department or ""})
        return any(self.directory.covers(task.candidate_role, m, wanted)
                   for m in self.directory.memberships(actor))

    def users(self, names: Iterable[str]) -> list[int]:
        return [self.ids[name] for name in names]

    # -- the run

    def run(self) -> list[dict[str, Any]]:
        self.call("start", self.applicant_id, self.start_at)
        for index, action in enumerate(self.script.data["actions"]):
            self.do(["actions", index], action)
        return self.trace

    def do(self, where: list[str | int], action: Mapping[str, Any]) -> None:
        name = action["action"]
        if name == "advance":
            self.advance(where, action)
            return
        wanted = {"return": "return_to", "deliver": "deliver_message", "run_outbox": "service_done"}
        try:
            operation(wanted.get(name, name))
        except LookupError as exc:
            raise ScriptError([self.script.problem([*where, "action"], str(exc))]) from None
        now = parse_time(action["at"])
        if now < self.clock:
            raise ScriptError([self.script.problem([*where, "at"], "this action is before the "
                                                   "virtual clock, advanced to "
                                                   f"{show_time(self.clock)}")])
        self.clock = now
        actor = self.ids.get(action.get("actor", ""))
        if name == "run_outbox":
            self.run_outbox(now)
            return
        if name == "deliver":
            message = action["deliver"]
            self.call("deliver_message", None, now, name=message["message"], key=message["key"],
                      payload=copy.deepcopy(message.get("payload", {})), sender=action.get("sender", "bench"))
            return
        args: dict[str, Any] = {}
        seq: int | None = None
        node: str | None = None
        if "task" in action:
            seq, node = self.task_seq([*where, "task"], action["task"], actor,
                                      own_done=name == "withdraw_action")
            args["task_seq"] = seq
            number = action["task"] if isinstance(action["task"], int) else self.number_of[seq]
        if "comment" in action:
            args["reason" if name == "refuse_intake" else "comment"] = action["comment"]
        if name == "approve" and "choose" in action:
            args["choose"] = {node_id: self.users(names)
                              for node_id, names in action["choose"].items()}
        if name == "approve" and "values" in action:
            args["values"] = copy.deepcopy(action["values"])
        elif name == "return":
            args["target"] = action["target"]
        elif name == "vote":
            args["choice"] = action["vote"]
        elif name == "request_correction":
            args["questions"] = list(action.get("questions", []))
            args["materials"] = list(action.get("materials", []))
        elif name in {"resubmit", "submit_correction"}:
            given = action.get("answers")
            args["answers"] = None if given is None else _merged(self.answers, given)
        elif name == "transfer":
            args["to_user_id"] = self.ids[action["to"]]
        elif name == "add_signer":
            args["user_ids"] = self.users(action["users"])
            args["where"] = action["where"]
        elif name == "comment":
            args["text"] = action["text"]
        elif name == "cc":
            args["user_ids"] = self.users(action["users"])
        elif name == "repair":
            args["node"] = action["node"]
            args["reason"] = action["reason"]
        elif name == "migrate":
            self.migrate(where, actor, now, action)
            return
        elif name in CLOCK_ACTIONS:
            args.update(_clock_args(self, name, action))
        function = {"return": "return_to"}.get(name, name)
        self.call(function, actor, now, shown_node=node,
                  shown_task=number if "task" in action else None, **args)

    def advance(self, where: list[str | int], action: Mapping[str, Any]) -> None:
        """The virtual clock moves on (``by`` working days, natural days or hours, or
        ``until`` a time); every timer due on the way fires in due order, each on a fresh
        State through timeouts.fire_timer, as the worker would."""
        if "until" in action:
            target = parse_time(action["until"])
        else:
            ((unit, amount),) = action["by"].items()
            if unit == "hours":
                target = self.clock + timedelta(hours=amount)
            else:
                from ..worktime import CalendarNotPublished, add_working_days, local_day
                day = local_day(self.clock)
                try:
                    later = add_working_days(self.calendar, day, amount) \
                        if unit == "working_days" else day + timedelta(days=amount)
                except CalendarNotPublished as exc:
                    raise ScriptError([self.script.problem([*where, "by"], str(exc))]) from None
                target = self.clock + timedelta(days=(later - day).days)
        if target < self.clock:
            raise ScriptError([self.script.problem(where, "the clock cannot go back to "
                                                   f"{show_time(target)}")])
        while (timer := self.next_timer(target)) is not None:
            self.fire(timer, max(_aware(timer.due_at), self.clock))
        self.clock = target

    def next_timer(self, until: datetime) -> FlowTimer | None:
        """The first pending timer due by ``until`` (by due time, then creation)."""
        due = [t for t in self.timers if t.state == "pending" and _aware(t.due_at) <= until]
        return min(due, key=lambda t: (_aware(t.due_at), self.timers.index(t))) if due else None

    def fire(self, timer: FlowTimer, now: datetime) -> None:
        state = self._state()
        fire_timer(state, timer, now)
        sync(state, now)
        timer.state, timer.fired_at = "done", now
        self._collect(state)

    def migrate(self, where: list[str | int], actor: int | None, now: datetime,
                action: Mapping[str, Any]) -> None:
        content = _flow_content(self.script, action["to_flow"], [*where, "to_flow"])
        new_flow = compile_content(self.script, content, [*where, "to_flow"])
        version_id = self.next_version_id
        self.call("migrate", actor, now, new_flow=new_flow, new_version_id=version_id,
                  mapping=dict(action.get("mapping", {})))
        if self.instance.flow_version_id == version_id:
            self.next_version_id += 1
            self.flow = new_flow
            self.content = content

    def _node_settings(self, node: str) -> Mapping[str, Any]:
        settings = self.content.get("nodes", {}).get(node, {})
        return settings if isinstance(settings, dict) else {}

    def _result(self, node: str, double: Mapping[str, Any]) -> dict[str, Any]:
        """The double's answer: ``result`` every time, or the next of ``results`` (the last
        one repeats)."""
        if "results" in double:
            calls = self.calls[node] = self.calls.get(node, 0) + 1
            results = double["results"]
            return copy.deepcopy(results[min(calls, len(results)) - 1])
        return copy.deepcopy(double.get("result", {}))

    def run_outbox(self, now: datetime) -> None:
        """The worker: every pending outbox row that is due calls its hook double (C10), then
        reports back with service_done or service_failed (backoff doubling each retry)."""
        due = [row for row in self.outbox if row.state == "pending" and _aware(row.next_attempt_at) <= now]
        for row in sorted(due, key=lambda r: (r.token_seq, r.node)):
            settings = self._node_settings(row.node)
            double = self.hooks.get(row.node, {})
            row.attempts += 1
            fail = double.get("fail", 0)
            failed = fail == "always" or (isinstance(fail, int) and row.attempts <= fail)
            if not failed:
                result = self._result(row.node, double)
                row.state, row.result, row.done_at = "done", result, now
                self.call("service_done", None, now, shown_node=row.node, token_seq=row.token_seq,
                          result=result)
                continue
            error = str(double.get("error", "test double failure"))
            retries = int(settings.get("retries", DEFAULT_RETRIES))
            final = row.attempts > retries
            row.last_error = error
            if final:
                row.state = "failed"
            else:
                backoff = int(settings.get("backoff_seconds", DEFAULT_BACKOFF_SECONDS))
                row.next_attempt_at = now + timedelta(seconds=backoff * 2 ** (row.attempts - 1))
            self.call("service_failed", None, now, shown_node=row.node, token_seq=row.token_seq,
                      error=error, final=final)


CLOCK_ACTIONS = frozenset({"pause_clock", "resume_clock", "request_extension", "decide_extension"})


def _clock_args(bench: Bench, name: str, action: Mapping[str, Any]) -> dict[str, Any]:
    """A clock action's arguments: ``deadline`` (a seq; default the governing clock)."""
    args: dict[str, Any] = {"deadline_seq": action.get("deadline")}
    if name == "pause_clock":
        args.update(reason=action.get("reason", ""), note=action.get("note", ""),
                    expected_days=action.get("expected_days"))
    elif name == "request_extension":
        args.update(units=action.get("units"), reason=action.get("reason", ""),
                    approver_id=bench.ids.get(action["approver"]) if "approver" in action
                    else None)
    elif name == "decide_extension":
        args.update(approve=action.get("approve", True), comment=action.get("comment", ""))
    return args


def _calendar(script: Script) -> Any:
    """The script's ``calendar:``, else its service's, else ``shanghai`` (a file calendar)."""
    from ..worktime import file_calendar
    name = script.data.get("calendar")
    if name is None and "service" in script.data:
        service = _service_data(script)
        name = service.get("calendar") if isinstance(service, dict) else None
    return file_calendar(str(name or "shanghai"))


def _merged(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """``new`` written over ``old``, nested mappings key by key."""
    out = copy.deepcopy(dict(old))
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def run_script(path: Path | str) -> list[dict[str, Any]]:
    """Load, check and run a script; the trace as a list of line mappings."""
    return Bench(load_script(path)).run()


# --- trace text and comparison ----------------------------------------------------------------


def trace_text(trace: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(dict(line), ensure_ascii=False) + "\n" for line in trace)


def read_expected(path: Path | str) -> list[dict[str, Any]]:
    """The lines of an expected trace (blank lines skipped); a bad line is a ScriptError."""
    name = str(path)
    lines: list[dict[str, Any]] = []
    for number, text in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScriptError([Problem(name, number, exc.colno, "", f"not JSON: {exc.msg}")]) from None
        if not isinstance(value, dict):
            raise ScriptError([Problem(name, number, 1, "", "expected one JSON object per line")])
        lines.append(value)
    return lines


def first_difference(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> str | None:
    """None when the traces agree (key order aside); else the first line that differs."""
    for number, (got, want) in enumerate(zip(actual, expected, strict=False), start=1):
        if got != want:
            keys = [k for k in dict.fromkeys([*want, *got]) if got.get(k) != want.get(k)]
            return (f"line {number} differs in {', '.join(keys)}:\n"
                    f"  expected {json.dumps(want, ensure_ascii=False)}\n"
                    f"  got      {json.dumps(got, ensure_ascii=False)}")
    if len(actual) > len(expected):
        return (f"line {len(expected) + 1}: expected the end of the trace, got "
                f"{json.dumps(actual[len(expected)], ensure_ascii=False)}")
    if len(expected) > len(actual):
        return (f"line {len(actual) + 1}: the trace ended; expected "
                f"{json.dumps(expected[len(actual)], ensure_ascii=False)}")
    return None
