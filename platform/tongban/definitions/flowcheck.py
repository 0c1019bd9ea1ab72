"""Graph checks of a flow file, run over the raw document after its meta-schema passed.

Each finding is a Problem with the file, the line and column of the offending value and a plain
English sentence saying what is expected. The checks: every edge names a node, exactly one start
and at least one end, every node reachable from the start and able to reach an end (no loop
without a way out), gateways with a default, joins naming the split they close (and every split
closed by one join), fallbacks naming task nodes, roles among the platform's staff roles,
departments in the catalogue, and JsonLogic conditions the forms' engine can parse, reading only
`answers.`, `vars.` and `points.` (total, eligible, grade) paths, and the time the flow sets
(deadline blocks, application deadlines and the presets they name; see deadlinecheck).
`check_flow_answers` then checks the answer paths against the form of each service that uses the
flow, and `check_flow_points` refuses `points.` to a service that names no rule set.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..forms.definition import FormDefinition
from ..forms.logic import check_rule, referenced_vars
from .deadlinecheck import STAFF_ROLES, check_application_deadlines, check_block
from .problems import Problem
from .yamlpos import Document

SPLITS = ("parallel", "inclusive")
GATEWAYS = ("exclusive", "inclusive")
DEPARTMENTS_FILE = "workflow_definitions/departments.yaml"
# What a condition may read of the application's latest score (tongban.workflow.routing).
POINTS_FIELDS = ("total", "eligible", "grade")

Path = list[str | int]


@dataclass(frozen=True)
class DepartmentInfo:
    code: str
    parent: str | None
    region: str | None


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    path: Path  # where the target is written


def _quote(value: Any) -> str:
    return f'"{value}"'


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _choices(ids: list[str]) -> str:
    return ", ".join(sorted(ids))


class _Checker:
    def __init__(self, document: Document, file: str,
                 departments: Mapping[str, DepartmentInfo],
                 presets: Mapping[str, Mapping[str, Any]]) -> None:
        self.document = document
        self.file = file
        self.departments = departments
        self.presets = presets
        self.nodes: dict[str, dict[str, Any]] = document.data["nodes"]
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str) -> None:
        line, column = self.document.position(path)
        pointer = "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)
        self.problems.append(Problem(self.file, line, column, pointer, message))

    def type_of(self, node_id: str) -> str:
        return str(self.nodes[node_id]["type"])

    # --- edges ---------------------------------------------------------------------------

    def edges(self) -> Iterator[Edge]:
        for node_id, node in self.nodes.items():
            here: Path = ["nodes", node_id]
            kind = node["type"]
            if kind == "parallel":
                for index, target in enumerate(node["next"]):
                    yield Edge(node_id, target, [*here, "next", index])
            elif "next" in node:
                yield Edge(node_id, node["next"], [*here, "next"])
            for index, branch in enumerate(node.get("branches", [])):
                yield Edge(node_id, branch["to"], [*here, "branches", index, "to"])
            if "default" in node:
                yield Edge(node_id, node["default"], [*here, "default"])
            if "fallback" in node:
                yield Edge(node_id, node["fallback"], [*here, "fallback"])

    def check(self) -> list[Problem]:
        successors: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        dangling = False
        for edge in self.edges():
            if edge.target not in self.nodes:
                dangling = True
                self.add(edge.path, f"node {_quote(edge.source)} leads to {_quote(edge.target)}, "
                                    "which is not a node of this flow; expected one of: "
                                    + _choices(list(self.nodes)))
            elif edge.target == edge.source:
                self.add(edge.path, f"node {_quote(edge.source)} leads to itself; expected "
                                    "another node")
            else:
                successors[edge.source].append(edge.target)
        starts = [n for n in self.nodes if self.type_of(n) == "start"]
        ends = [n for n in self.nodes if self.type_of(n) == "end"]
        if not starts:
            self.add(["nodes"], "the flow has no start node; expected exactly one node with "
                                "type: start")
        for extra in starts[1:]:
            self.add(["nodes", extra, "type"],
                     f"a second start node ({_quote(extra)}; the first is {_quote(starts[0])}); "
                     "expected exactly one node with type: start")
        if not ends:
            self.add(["nodes"], "the flow has no end node; expected at least one node with "
                                "type: end")
        for node_id, node in self.nodes.items():
            self.check_node(node_id, node)
        for path, message in check_application_deadlines(
                self.document.data.get("deadlines", []), self.nodes, self.presets, STAFF_ROLES):
            self.add(path, message)
        self.check_joins(successors)
        if starts and not dangling:
            # With a dangling edge the graph is incomplete: what it cuts off would be reported
            # as unreachable or endless, only repeating that problem.
            self.check_reachability(starts[0], ends, successors)
        return self.problems

    def check_reachability(self, start: str, ends: list[str],
                           successors: dict[str, list[str]]) -> None:
        reachable = _walk([start], successors)
        for node_id in self.nodes:
            if node_id not in reachable and self.type_of(node_id) != "start":
                self.add(["nodes", node_id],
                         f"node {_quote(node_id)} cannot be reached from the start node "
                         f"{_quote(start)}: no path leads to it; expected every node on a path "
                         "from the start")
        if not ends:
            return
        predecessors: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        for source, targets in successors.items():
            for target in targets:
                predecessors[target].append(source)
        finishing = _walk(ends, predecessors)
        stuck = [n for n in self.nodes if n in reachable and n not in finishing]
        # Report each trap once: a group of nodes that only lead to each other (the nodes
        # leading into it are stuck only because of it).
        reported: set[str] = set()
        for node_id in stuck:
            if node_id in reported:
                continue
            group = _walk([node_id], successors)
            if all(node_id in _walk([other], successors) for other in group):
                reported |= group
                names = ", ".join(_quote(n) for n in self.nodes if n in group)
                self.add(["nodes", node_id],
                         f"a loop with no way out: no end node can be reached from {names}; "
                         "expected a branch that leads to an end node")

    # --- one node ------------------------------------------------------------------------

    def check_node(self, node_id: str, node: dict[str, Any]) -> None:
        here: Path = ["nodes", node_id]
        kind = node["type"]
        if kind in GATEWAYS and "default" not in node:
            self.add(here, f"{kind} gateway {_quote(node_id)} has no default; expected "
                           "\"default: <node id>\", the node taken when no branch condition "
                           "holds")
        for index, branch in enumerate(node.get("branches", [])):
            self.check_condition(branch["when"], [*here, "branches", index, "when"],
                                 f"branch {index + 1} of {_quote(node_id)}")
        if "who" in node:
            self.check_who(node["who"], [*here, "who"])
        if "fallback" in node and node["fallback"] in self.nodes \
                and self.type_of(node["fallback"]) != "task":
            self.add([*here, "fallback"],
                     f"the fallback of service node {_quote(node_id)} is "
                     f"{_quote(node['fallback'])}, {_a(self.type_of(node['fallback']))} node; "
                     "expected a task node (a person does the work the service could not)")
        if "deadline" in node:
            human = kind == "task"
            for path, message in check_block(
                    node["deadline"], [*here, "deadline"], f"node {_quote(node_id)}", self.presets,
                    STAFF_ROLES, intake=node.get("kind") == "intake",
                    allowed=None if human else ("remind", "escalate")):
                self.add(path, message)
        for index, other in enumerate(node.get("exclusive_with", [])):
            where: Path = [*here, "exclusive_with", index]
            if other not in self.nodes:
                self.add(where, f"exclusive_with of {_quote(node_id)} names {_quote(other)}, "
                                "which is not a node of this flow; expected a task node")
            elif other == node_id or self.type_of(other) != "task":
                self.add(where, f"exclusive_with of {_quote(node_id)} names {_quote(other)}; "
                                "expected another task node")

    def check_who(self, who: dict[str, Any], here: Path) -> None:
        if "role" in who:
            self.check_role_in_department(who, here)
        if "from" in who:
            self.check_role_in_department(who["from"], [*here, "from"])

    def check_role_in_department(self, who: dict[str, Any], here: Path) -> None:
        if who["role"] not in STAFF_ROLES:
            self.add([*here, "role"], f"unknown role {_quote(who['role'])}; expected one of: "
                                      + ", ".join(STAFF_ROLES))
        department = who["department"]
        if isinstance(department, str):
            self.check_department(department, [*here, "department"])
        elif "under" in department:
            under = department["under"]
            if self.check_department(under, [*here, "department", "under"]):
                covered = self.covered(under)
                if not any(self.departments[c].region for c in covered if c in self.departments):
                    self.add([*here, "department", "under"],
                             f"department {_quote(under)} has no district office below it; "
                             "expected a department with sub-departments that have a region "
                             f"in {DEPARTMENTS_FILE}")

    def check_department(self, code: str, here: Path) -> bool:
        if code in self.departments:
            return True
        close = difflib.get_close_matches(code, list(self.departments), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        self.add(here, f"unknown department {_quote(code)}{hint}; expected a department of "
                       f"{DEPARTMENTS_FILE}")
        return False

    def covered(self, code: str) -> set[str]:
        return covered(code, self.departments)

    def check_condition(self, rule: Any, here: Path, what: str) -> None:
        shape = check_rule(rule)
        for problem in shape:
            self.add(here, f"the condition of {what} is not JsonLogic the platform can run: "
                           f"{problem}")
        if shape:
            return
        for path in sorted(referenced_vars(rule)):
            head, _, rest = path.partition(".")
            if head not in ("answers", "vars", "points") or not rest:
                self.add(here, f"the condition of {what} reads {_quote(path)}; expected a path "
                               "under answers. (a form answer), vars. (flow data) or points. "
                               "(the score of a service with rules)")
                continue
            if head == "vars":
                self.check_vars_path(rest, here, what)
            elif head == "points" and rest not in POINTS_FIELDS:
                self.add(here, f"the condition of {what} reads {_quote(path)}; expected one of: "
                               + ", ".join(f"points.{name}" for name in POINTS_FIELDS))

    def check_vars_path(self, rest: str, here: Path, what: str) -> None:
        area, _, tail = rest.partition(".")
        if area != "services":
            return  # messages, points results and connector data: named at run time
        node_id = tail.partition(".")[0]
        node = self.nodes.get(node_id)
        if node is None or node["type"] != "service":
            self.add(here, f"the condition of {what} reads vars.services.{node_id}; expected "
                           "vars.services.<node id> of a service node of this flow")

    # --- splits and joins ----------------------------------------------------------------

    def check_joins(self, successors: dict[str, list[str]]) -> None:
        closed_by: dict[str, str] = {}
        before = len(self.problems)
        for node_id, node in self.nodes.items():
            if node["type"] != "join":
                continue
            here: Path = ["nodes", node_id]
            split = node.get("split")
            if split is None:
                self.add(here, f"join {_quote(node_id)} does not name its split; expected "
                               "\"split: <node id>\" naming the parallel or inclusive gateway "
                               "it closes")
            elif split not in self.nodes:
                self.add([*here, "split"], f"join {_quote(node_id)} names the split "
                                           f"{_quote(split)}, which is not a node of this flow; "
                                           "expected a parallel or inclusive gateway")
            elif self.type_of(split) not in SPLITS:
                self.add([*here, "split"], f"join {_quote(node_id)} names {_quote(split)} as its "
                                           f"split, but it is {_a(self.type_of(split))} node; "
                                           "expected a parallel or inclusive gateway")
            elif split in closed_by:
                self.add([*here, "split"], f"the split {_quote(split)} is already closed by join "
                                           f"{_quote(closed_by[split])}; expected one join per "
                                           "split")
            else:
                closed_by[split] = node_id
                if node_id not in _walk(successors[split], successors):
                    self.add([*here, "split"], f"join {_quote(node_id)} cannot be reached from "
                                               f"its split {_quote(split)}; expected the split's "
                                               "branches to lead to it")
        if len(self.problems) > before:
            return  # a split left open by a broken join would only repeat that problem
        for node_id, node in self.nodes.items():
            if node["type"] in SPLITS and node_id not in closed_by:
                self.add(["nodes", node_id, "type"],
                         f"{node['type']} gateway {_quote(node_id)} is never closed; expected a "
                         f"join node with \"split: {node_id}\"")


def covered(code: str, departments: Mapping[str, DepartmentInfo]) -> set[str]:
    """The department and every department below it in the catalogue."""
    children: dict[str, set[str]] = {}
    for info in departments.values():
        if info.parent:
            children.setdefault(info.parent, set()).add(info.code)
    return _walk([code], {k: sorted(v) for k, v in children.items()})


def _walk(starts: list[str], successors: Mapping[str, list[str]]) -> set[str]:
    seen, stack = set(starts), list(starts)
    while stack:
        for target in successors.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def check_flow(document: Document, file: str, stem: str,
               departments: Mapping[str, DepartmentInfo],
               presets: Mapping[str, Mapping[str, Any]] | None = None) -> list[Problem]:
    """Every graph problem of a flow file whose content already passed the meta-schema.
    ``presets``: the deadline presets by id as written (default: the platform's)."""
    if presets is None:
        from ..workflow.presets import load_presets
        presets = {key: preset.raw for key, preset in load_presets().items()}
    checker = _Checker(document, file, departments, presets)
    code = document.data["code"]
    if code != stem:
        checker.add(["code"], f"the flow code {_quote(code)} differs from the file name; "
                              f"expected {_quote(stem)} (one file per flow: flows/<code>.yaml)")
    return checker.check()


# --- answer paths against a service's form ------------------------------------------------


def answer_paths(content: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """(where, answer path) for every form answer a flow reads: conditions (answers.X) and who
    (district_of, field)."""
    for node_id, node in content["nodes"].items():
        here: Path = ["nodes", node_id]
        for index, branch in enumerate(node.get("branches", [])):
            if check_rule(branch["when"]):
                continue
            for path in sorted(referenced_vars(branch["when"])):
                if path.startswith("answers.") and len(path) > len("answers."):
                    yield [*here, "branches", index, "when"], path.removeprefix("answers.")
        who = node.get("who")
        if not isinstance(who, dict):
            continue
        for where, holder in ((["who"], who), (["who", "from"], who.get("from"))):
            if not isinstance(holder, dict):
                continue
            department = holder.get("department")
            if isinstance(department, dict):
                for key in ("district_of", "field"):
                    if key in department:
                        yield [*here, *where, "department", key], department[key]
            if "field" in holder:
                yield [*here, *where, "field"], holder["field"]


def form_key(path: str) -> str:
    """An answer path as a form field key: list indexes dropped (members.0.name → members.name)."""
    return ".".join(part for part in path.split(".") if not part.isdigit())


def check_flow_answers(document: Document, file: str, form: FormDefinition, form_name: str,
                       service_code: str) -> list[Problem]:
    """Answer paths of the flow that the service's form does not ask."""
    problems = []
    for where, path in answer_paths(document.data):
        if form_key(path) in form.fields:
            continue
        close = difflib.get_close_matches(form_key(path), list(form.fields), n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        line, column = document.position(where)
        pointer = "/" + "/".join(str(p) for p in where)
        problems.append(Problem(file, line, column, pointer,
                                f"the answer {_quote(path)}{hint} is not a question of the form "
                                f"{_quote(form_name)} that service {_quote(service_code)} uses; "
                                "expected a question key of that form"))
    return problems


def points_paths(content: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    """(where, path) for every ``points.`` path a flow's conditions read."""
    for node_id, node in content["nodes"].items():
        for index, branch in enumerate(node.get("branches", [])):
            if check_rule(branch["when"]):
                continue
            for path in sorted(referenced_vars(branch["when"])):
                if path.partition(".")[0] == "points":
                    yield ["nodes", node_id, "branches", index, "when"], path


def check_flow_points(document: Document, file: str, service_code: str,
                      rules: str | None) -> list[Problem]:
    """A flow that reads the score (``points.``) serves only services that name a rule set
    (``rules:``): another service's applications have no score to route on."""
    if rules:
        return []
    problems = []
    for where, path in points_paths(document.data):
        line, column = document.position(where)
        problems.append(Problem(file, line, column, "/" + "/".join(str(p) for p in where),
                                f"the condition reads {_quote(path)}, but service "
                                f"{_quote(service_code)} names no rule set, so its applications "
                                "have no score; expected \"rules: <rule set id>\" in the "
                                "service or a condition without points"))
    return problems


# --- the department catalogue ---------------------------------------------------------------


def check_departments(document: Document, file: str) -> list[Problem]:
    """Duplicate codes, unknown or circular parents, unknown regions, and two district offices
    of the same bureau for one region (district_of would not know which)."""
    from ..forms import regions

    problems: list[Problem] = []

    def add(path: Path, message: str) -> None:
        line, column = document.position(path)
        problems.append(Problem(file, line, column,
                                "/" + "/".join(str(p) for p in path), message))

    entries = document.data["departments"]
    first: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if entry["code"] in first:
            add(["departments", index, "code"],
                f"department {_quote(entry['code'])} is listed twice (first as item "
                f"{first[entry['code']] + 1}); expected each code once")
        else:
            first[entry["code"]] = index
        region = entry.get("region")
        if region is not None and not regions.is_current(region):
            add(["departments", index, "region"],
                f"the region {_quote(region)} is not a current administrative code; expected a "
                "6-digit GB/T 2260 code such as 310115 (浦东新区)")
    parents = {e["code"]: e.get("parent") for e in entries}
    for index, entry in enumerate(entries):
        parent = entry.get("parent")
        if parent is not None and parent not in parents:
            add(["departments", index, "parent"],
                f"the parent {_quote(parent)} of {_quote(entry['code'])} is not in the "
                "catalogue; expected a department code listed in this file")
            continue
        seen, code = {entry["code"]}, parent
        while code is not None:
            if code in seen:
                add(["departments", index, "parent"],
                    f"department {_quote(entry['code'])} is its own ancestor; expected a tree")
                break
            seen.add(code)
            code = parents.get(code)
    by_bureau: dict[tuple[str, str], str] = {}
    for index, entry in enumerate(entries):
        region, code = entry.get("region"), entry["code"]
        if region is None:
            continue
        ancestor = parents.get(code)
        visited = {code}
        while ancestor is not None and ancestor not in visited:
            visited.add(ancestor)
            other = by_bureau.setdefault((ancestor, region), code)
            if other != code:
                add(["departments", index, "region"],
                    f"departments {_quote(other)} and {_quote(code)} both serve region "
                    f"{region} under {_quote(ancestor)}; expected one district office per "
                    "region under each department")
                break
            ancestor = parents.get(ancestor)
    return problems


def department_infos(content: Mapping[str, Any]) -> dict[str, DepartmentInfo]:
    return {e["code"]: DepartmentInfo(e["code"], e.get("parent"), e.get("region"))
            for e in content["departments"]}
