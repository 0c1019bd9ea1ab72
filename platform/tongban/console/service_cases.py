"""A service's test cases: test-bench scripts with expectations, kept as files of the service
(workflow_definitions/tests/<code>/<case>.yaml) and run against its draft before each publish
(docs/console.md, "Test cases").

A case runs on the pure engine (workflow/testbench.py) with the service's flow, rule set and
form as the working copy holds them; the answers must pass the form first. The result says, for
each expectation, what was expected and what the run gave. No Flask here: the bench page, the
publish gate and ``tongban defs test`` all call these functions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlmodel import Session

from ..definitions.loader import DefinitionSet, meta_validator, schema_problems
from ..definitions.problems import Problem
from ..definitions.yamlpos import Document, ReadError, read_yaml
from ..forms.definition import load_form
from ..forms.state import evaluate, validate_submission
from ..workflow.testbench import Bench, Script, ScriptError, Sources, check_script, show_time
from .layout import CASES_DIR, case_files, case_of, case_path, path_of
from .workspace import load_files

EXPECTATIONS = ("route", "status", "values", "points", "steps", "app_due")
APPROVALS = frozenset({"approved", "accepted"})  # what counts as approving a step
SCRIPT_KEYS = ("title", "answers", "departments", "department", "users", "applicant", "start_at",
               "delegations", "points", "hooks", "actions", "calendar")


@dataclass(frozen=True)
class Check:
    """One expectation: what the case says, what the run gave."""

    name: str  # "route", "status", "values.applicant.name", "steps.police.approved", …
    expected: Any
    actual: Any

    @property
    def ok(self) -> bool:
        return bool(self.expected == self.actual)


@dataclass
class CaseResult:
    name: str
    title: str = ""
    problems: list[str] = field(default_factory=list)  # the case could not run: why
    checks: list[Check] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)
    observed: dict[str, Any] = field(default_factory=dict)  # the run's own expectations
    points: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return not self.problems and all(check.ok for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]


# -- reading a case -----------------------------------------------------------------------------

def read_case(code: str, name: str, text: str) -> tuple[Document, dict[str, Any]]:
    """A case's document and its expectations, or ScriptError with every problem placed in
    the case's file: the case schema, then the test-bench script checks."""
    file = case_path(code, name)
    try:
        document = read_yaml(text)
    except ReadError as exc:
        raise ScriptError([Problem(file, exc.line, exc.column, "", exc.message)]) from None
    if not isinstance(document.data, dict):
        raise ScriptError([Problem(file, 1, 1, "", "expected a mapping of keys at the top")])
    problems = schema_problems(document, meta_validator("service-case"), file)
    if problems:
        raise ScriptError(problems)
    return document, document.data["expect"]


def script_of(code: str, name: str, document: Document, sources: Sources | None,
              answers: Any = None) -> Script:
    """The test-bench script inside a case (its keys but ``expect``, on the case's service,
    with ``answers`` when given), checked like a ``tongban flow run`` script."""
    data = {key: value for key, value in document.data.items() if key != "expect"}
    data["service"] = code
    if answers is not None:
        data["answers"] = answers
    script = Script(Path(case_path(code, name)), Document(data, document.tree),
                    case_path(code, name), sources)
    problems = schema_problems(script.document, meta_validator("flow-script"), script.name)
    if problems:
        raise ScriptError(problems)
    return check_script(script)


def sources_of(loaded: DefinitionSet, code: str) -> Sources | None:
    """The service's definitions as the bench reads them; None when the service or its flow
    did not load (their own problems say why)."""
    if code not in loaded.services or loaded.services[code].content.get("flow") not in loaded.flows:
        return None
    service = loaded.services[code].content
    rules_id = service.get("rules")
    rules = (rules_id, loaded.rules[rules_id].content) \
        if isinstance(rules_id, str) and rules_id in loaded.rules else None
    departments = loaded.departments.content if loaded.departments is not None else []
    rows = departments.get("departments", []) if isinstance(departments, dict) else departments
    return Sources(service=service, flow=loaded.flows[service["flow"]].content, rules=rules,
                   departments=[row for row in rows if isinstance(row, dict) and "code" in row])


# -- running ------------------------------------------------------------------------------------

def run_case(loaded: DefinitionSet, code: str, name: str, text: str) -> CaseResult:
    """Run one case on loaded definitions (a draft's, or the repository's)."""
    result = CaseResult(name)
    try:
        document, expect = read_case(code, name, text)
        result.title = str(document.data.get("title", ""))
        sources = sources_of(loaded, code)
        if sources is None:
            result.problems.append(f"the service {path_of('service', code)} or its flow does "
                                   "not load")
            return result
        form_errors, answers = _form_check(loaded, code, document.data.get("answers", {}))
        if form_errors:
            result.checks.append(Check("answers", [], form_errors))
            return result
        bench = Bench(script_of(code, name, document, sources, answers))
        result.trace = bench.run()
    except ScriptError as exc:
        result.problems.extend(str(problem) for problem in exc.problems)
        return result
    result.points = bench.points
    result.observed = observe(bench, answers)
    result.checks = compare(expect, bench)
    return result


def _form_check(loaded: DefinitionSet, code: str, answers: Any) -> tuple[list[str], Any]:
    """What the service's form says of the answers, ``path (code)`` each ([] when accepted),
    and the answers as a submission stores them (hidden answers dropped, calculated ones such
    as a birth date read from the ID number filled in)."""
    form_code = loaded.services[code].content["form"]
    form = loaded.forms.get(form_code)
    if form is None:
        return [f"the form {form_code} does not load"], answers
    compiled = load_form(form.content, name=form.path)
    state = evaluate(compiled, answers if isinstance(answers, dict) else {})
    errors = validate_submission(compiled, answers, state)
    return [f"{error.path or '/'} ({error.code})" for error in errors], state.answers


def run_cases(loaded: DefinitionSet, problems: list[Problem], code: str,
              files: Mapping[str, str]) -> list[CaseResult]:
    """Every case of the service among ``files``, by name. A service whose files have problems
    runs none: each case says so."""
    results = []
    for name, text in case_files(code, dict(files)).items():
        if problems:
            results.append(CaseResult(name, problems=[
                f"the service's files have {len(problems)} problem(s): fix them first"]))
        else:
            results.append(run_case(loaded, code, name, text))
    return results


def run_draft_cases(session: Session, code: str, files: Mapping[str, str]) -> list[CaseResult]:
    """Every case of a working copy, against the working copy's own definitions."""
    loaded, problems = load_files(session, code, files)
    return run_cases(loaded, problems, code, files)


def run_draft_case(session: Session, code: str, files: Mapping[str, str], name: str,
                   text: str) -> CaseResult:
    """One case (saved or not yet) against the working copy."""
    loaded, problems = load_files(session, code, files)
    if problems:
        return CaseResult(name, problems=[
            f"the service's files have {len(problems)} problem(s): fix them first"])
    return run_case(loaded, code, name, text)


# -- what a run shows ---------------------------------------------------------------------------

def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _value(bench: Bench, dotted: str) -> Any:
    if dotted.startswith("vars."):
        return _get(bench.instance.vars, dotted[len("vars."):])
    return _get(bench.answers, dotted)


def _leaves(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping) and data:
        found: dict[str, Any] = {}
        for key, value in data.items():
            found.update(_leaves(value, f"{prefix}{key}."))
        return found
    return {prefix[:-1]: data} if prefix else {}


def steps_of(bench: Bench) -> dict[str, dict[str, Any]]:
    """Per node with human tasks: who was offered them, who approved, the last one's due."""
    steps: dict[str, dict[str, Any]] = {}
    for task in sorted(bench.tasks, key=lambda t: t.seq):
        if task.kind == "cc":
            continue
        step = steps.setdefault(task.node, {"offered": [], "approved": [], "due": None})
        for uid, name in bench.directory.usernames.items():
            if name not in step["offered"] and _offered(bench, task, uid):
                step["offered"].append(name)
        step["due"] = show_time(task.due_at)
    for line in bench.trace:
        if line["event"] in APPROVALS and line["node"] in steps and line["actor"]:
            steps[line["node"]]["approved"].append(line["actor"])
    for step in steps.values():
        step["offered"].sort()
    return steps


def _offered(bench: Bench, task: Any, user_id: int) -> bool:
    """Whether the task was offered to the user: its candidate group (kept after a claim) or
    the person it was given to."""
    if task.candidate_role is not None:
        wanted = frozenset({task.candidate_department or ""})
        if any(bench.directory.covers(task.candidate_role, membership, wanted)
               for membership in bench.directory.memberships(user_id)):
            return True
    return bool(task.assignee_id == user_id)


def app_due(bench: Bench) -> str | None:
    clocks = [d for d in bench.deadlines if d.scope == "application"]
    if not clocks:
        return None
    return show_time(min(clocks, key=lambda d: d.seq).due_at)


def _points(bench: Bench) -> dict[str, Any]:
    points = bench.points or {}
    found = {"total": points.get("total"), "eligible": points.get("eligible")}
    if points.get("grade") is not None:
        found["grade"] = points["grade"]
    return found


def observe(bench: Bench, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The run as expectations: what "save as test case" writes. Values: only the answers the
    run changed (a correction)."""
    before = _leaves(answers)
    observed: dict[str, Any] = {
        "route": [line["node"] for line in bench.trace if line["event"] == "node_entered"],
        "status": bench.instance.status,
    }
    changed = {key: value for key, value in _leaves(bench.answers).items()
               if before.get(key) != value}
    if changed:
        observed["values"] = changed
    if bench.rules is not None and bench.points is not None:
        observed["points"] = _points(bench)
    observed["steps"] = steps_of(bench)
    due = app_due(bench)
    if due is not None:
        observed["app_due"] = due
    return observed


def compare(expect: Mapping[str, Any], bench: Bench) -> list[Check]:
    checks: list[Check] = []
    if "route" in expect:
        checks.append(Check("route", list(expect["route"]),
                            [line["node"] for line in bench.trace
                             if line["event"] == "node_entered"]))
    if "status" in expect:
        checks.append(Check("status", expect["status"], bench.instance.status))
    for dotted, value in expect.get("values", {}).items():
        checks.append(Check(f"values.{dotted}", value, _value(bench, dotted)))
    if "points" in expect:
        actual = bench.points or {}
        for key, value in expect["points"].items():
            checks.append(Check(f"points.{key}", value, actual.get(key)))
    if "steps" in expect:
        steps = steps_of(bench)
        for node, wanted in expect["steps"].items():
            got = steps.get(node, {"offered": [], "approved": [], "due": None})
            for key, value in wanted.items():
                checks.append(Check(f"steps.{node}.{key}", value, got[key]))
    if "app_due" in expect:
        checks.append(Check("app_due", expect["app_due"], app_due(bench)))
    return checks


# -- writing a case -----------------------------------------------------------------------------

def case_text(script: Mapping[str, Any], expect: Mapping[str, Any]) -> str:
    """A case file's text: the script's keys in the documented order, then ``expect``."""
    data = {key: copy.deepcopy(script[key]) for key in SCRIPT_KEYS if key in script}
    data["expect"] = {key: copy.deepcopy(expect[key]) for key in EXPECTATIONS if key in expect}
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = None
    yaml.allow_unicode = True
    yaml.width = 100
    yaml.representer.sort_base_mapping_type_on_output = False  # the documented key order
    out = StringIO()
    yaml.dump(data, out)
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())


# -- the repository's cases (tongban defs check / defs test) ---------------------------------

def folder_cases(root: Path, code: str | None = None) -> dict[str, dict[str, str]]:
    """service code -> case name -> text, of the case files under ``root``'s
    workflow_definitions/tests/ (one service's when ``code`` is given)."""
    found: dict[str, dict[str, str]] = {}
    folder = root / CASES_DIR
    for file in sorted(folder.glob("*/*.yaml")) if folder.is_dir() else []:
        case = case_of(file.relative_to(root).as_posix())
        if case is not None and (code is None or case[0] == code):
            found.setdefault(case[0], {})[case[1]] = file.read_text(encoding="utf-8")
    return found


def case_problems(loaded: DefinitionSet, code: str, name: str, text: str) -> list[Problem]:
    """The problems of a case file's format (nothing is run): what `tongban defs check` says."""
    file = case_path(code, name)
    if code not in loaded.services and not any(problem.file == path_of("service", code)
                                               for problem in loaded.problems):
        return [Problem(file, 1, 1, "", f'there is no service "{code}" for this test case')]
    sources = sources_of(loaded, code)
    if sources is None:
        return []  # the service's own problems are reported: its cases cannot be read yet
    try:
        document, _ = read_case(code, name, text)
        script_of(code, name, document, sources)
    except ScriptError as exc:
        return exc.problems
    return []
