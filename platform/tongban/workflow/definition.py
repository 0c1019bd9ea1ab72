"""A flow file compiled for stepping: immutable nodes with everything a step needs worked out.

``compile_flow`` takes the content of a flow file (already checked by the meta-schema and the
graph checks in ``tongban.definitions``) and precomputes successors, the join that closes each
split, the nodes of each split's region and, for every node, the splits it stands inside. A
step then looks things up by node id and never walks the definition, so it costs the same on a
200-node flow as on a 10-node one. Deadline blocks are compiled with their statutory presets
filled in (:mod:`~tongban.workflow.presets`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .deadline_spec import ApplicationDeadline, DeadlineSpec
from .presets import Preset, compile_application_deadline, compile_deadline

NODE_TYPES = frozenset({"start", "task", "exclusive", "inclusive", "parallel", "join", "service",
                        "wait", "cc", "end"})
TASK_KINDS = frozenset({"intake", "approve", "vote", "sign", "data"})
MODES = frozenset({"single", "sequential", "all", "any", "n_of_m"})
WHEN_EMPTY = frozenset({"error", "auto_pass", "department_admin"})
OUTCOMES = frozenset({"approved", "rejected", "completed"})
# What a node may list under ``operations`` (the engine refuses one the node does not list);
# without a list every operation is allowed.
NODE_OPERATIONS = frozenset({"accept", "accept_deficient", "accept_commitment", "refuse_intake",
                             "approve", "reject", "return", "transfer",
                             "add_signer", "correction", "cc", "comment"})
# Offered only where a node lists them (decisions at intake, docs/counter-intake.md).
OPT_IN_OPERATIONS = frozenset({"accept_deficient", "accept_commitment"})
DEFAULT_OPERATIONS = ("approve", "reject", "return", "transfer", "add_signer", "correction", "cc",
                      "comment")
SPLITS = frozenset({"parallel", "inclusive"})


@dataclass(frozen=True)
class Branch:
    """One conditional edge of a gateway: ``when`` is JsonLogic over ``{answers, vars}``."""

    when: Any
    to: str


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    name: Mapping[str, str] = field(default_factory=dict)
    # task nodes
    kind: str = "approve"
    who: Mapping[str, Any] | None = None
    mode: str = "single"          # single | sequential | all | any | n_of_m | vote | sign
    count: int | None = None      # n_of_m by count
    percent: float | None = None  # n_of_m by percentage of the people asked
    pass_count: int | None = None  # vote: approvals needed
    veto: bool = True             # vote: any veto fails at once
    distinct: int | None = None   # sign: distinct people needed
    when_empty: str = "error"
    same_approver: str = "repeat"
    exclusive_with: tuple[str, ...] = ()
    resubmit: str = "rewalk"
    status: str | None = None
    operations: frozenset[str] = NODE_OPERATIONS - OPT_IN_OPERATIONS
    deadline: DeadlineSpec | None = None   # task, service and wait nodes
    # edges
    next: tuple[str, ...] = ()    # one successor, or several for a parallel split
    branches: tuple[Branch, ...] = ()
    default: str | None = None
    split: str | None = None      # join: the split it closes
    # service / wait / end
    hook: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    retries: int = 3
    backoff_seconds: int = 60
    fallback: str | None = None
    message: str | None = None
    outcome: str | None = None
    # precomputed by compile_flow
    successors: tuple[str, ...] = ()
    join: str | None = None        # split: the join that closes it (None: branches end alone)
    region: frozenset[str] = frozenset()   # split: the nodes between it and its join
    enclosing: tuple[str, ...] = ()        # the splits whose region holds this node, outer first

    @property
    def is_human(self) -> bool:
        return self.type == "task"

    def threshold(self, asked: int) -> int:
        """Approvals that complete a multi-person node of ``asked`` people (slots)."""
        if self.mode == "n_of_m":
            if self.count is not None:
                return self.count
            return max(1, math.ceil(asked * (self.percent or 100) / 100 - 1e-9))
        if self.mode == "vote":
            return self.pass_count or asked
        if self.mode == "sign":
            return self.distinct or 1
        if self.mode in ("single", "any"):
            return 1
        return asked


@dataclass(frozen=True)
class Flow:
    code: str
    name: Mapping[str, str]
    nodes: Mapping[str, Node]
    start: str
    deadlines: tuple[ApplicationDeadline, ...] = ()

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]


def _text_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"zh": value, "en": value}
    if isinstance(value, Mapping):
        return {str(key): str(text) for key, text in value.items()}
    raise ValueError(f"{where}: name must be text or {{zh, en}}")


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: must be a whole number of 1 or more, not {value!r}")
    return value


def _mode(node_id: str, raw: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The node's mode and its numbers. ``mode: n_of_m`` takes ``n_of_m: {count|percent}``
    beside it (or ``mode: {n_of_m: {...}}``); kinds vote and sign take ``vote: {pass, veto}``
    and ``sign: {distinct}``."""
    where = f"node {node_id}"
    mode = raw.get("mode", "single")
    numbers: Mapping[str, Any] = {}
    if isinstance(mode, Mapping):
        if len(mode) != 1:
            raise ValueError(f"{where}: mode must name one mode")
        ((mode, numbers),) = mode.items()
        numbers = numbers or {}
    if kind in ("vote", "sign"):
        numbers = raw.get(kind) or numbers
        mode = kind
    elif mode not in MODES:
        raise ValueError(f"{where}: unknown mode {mode!r}")
    out: dict[str, Any] = {"mode": mode}
    if mode == "n_of_m":
        numbers = raw.get("n_of_m") or numbers
        if "count" in numbers:
            out["count"] = _positive_int(numbers["count"], f"{where} n_of_m.count")
        elif "percent" in numbers:
            percent = numbers["percent"]
            if isinstance(percent, bool) or not isinstance(percent, int | float) \
                    or not 0 < percent <= 100:
                raise ValueError(f"{where}: n_of_m.percent must be more than 0 and at most 100")
            out["percent"] = float(percent)
        else:
            raise ValueError(f"{where}: n_of_m needs count or percent")
    elif mode == "vote":
        if "pass" in numbers:
            out["pass_count"] = _positive_int(numbers["pass"], f"{where} vote.pass")
        out["veto"] = bool(numbers.get("veto", True))
    elif mode == "sign":
        out["distinct"] = _positive_int(numbers.get("distinct", 2), f"{where} sign.distinct")
    return out


def _targets(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ValueError(f"{where}: next must be a node id or a list of node ids")


def _node(node_id: str, raw: Any, presets: Mapping[str, Preset] | None) -> Node:
    if not isinstance(raw, Mapping):
        raise ValueError(f"node {node_id}: must be a mapping")
    node_type = raw.get("type")
    if node_type not in NODE_TYPES:
        raise ValueError(f"node {node_id}: unknown type {node_type!r}")
    where = f"node {node_id}"
    values: dict[str, Any] = {"id": node_id, "type": node_type,
                              "name": _text_map(raw.get("name"), where)}
    nexts = _targets(raw.get("next"), where)
    if len(nexts) > 1 and node_type != "parallel":
        raise ValueError(f"{where}: only a parallel split has several next nodes")
    values["next"] = nexts
    if node_type == "task":
        kind = raw.get("kind", "approve")
        if kind not in TASK_KINDS:
            raise ValueError(f"{where}: unknown kind {kind!r}")
        who = raw.get("who")
        if not isinstance(who, Mapping):
            raise ValueError(f"{where}: a task needs who")
        values.update(kind=kind, who=copy.deepcopy(dict(who)), **_mode(node_id, raw, kind))
        when_empty = raw.get("when_empty", "error")
        if when_empty not in WHEN_EMPTY:
            raise ValueError(f"{where}: unknown when_empty {when_empty!r}")
        same = raw.get("same_approver", "repeat")
        if same not in ("repeat", "auto_pass"):
            raise ValueError(f"{where}: unknown same_approver {same!r}")
        resubmit = raw.get("resubmit", "rewalk")
        if resubmit not in ("rewalk", "straight_back"):
            raise ValueError(f"{where}: unknown resubmit {resubmit!r}")
        operations = raw.get("operations")
        values.update(
            when_empty=when_empty, same_approver=same, resubmit=resubmit,
            exclusive_with=tuple(raw.get("exclusive_with") or ()),
            status=raw.get("status"),
            operations=frozenset(operations) if operations is not None
            else NODE_OPERATIONS - OPT_IN_OPERATIONS)
        if len(nexts) != 1:
            raise ValueError(f"{where}: a task needs one next node")
    elif node_type in ("exclusive", "inclusive"):
        branches = raw.get("branches") or []
        if not isinstance(branches, list):
            raise ValueError(f"{where}: branches must be a list")
        built = []
        for index, branch in enumerate(branches):
            if not isinstance(branch, Mapping) or not isinstance(branch.get("to"), str) \
                    or "when" not in branch:
                raise ValueError(f"{where}: branch {index + 1} needs when and to")
            built.append(Branch(when={"!!": [copy.deepcopy(branch["when"])]}, to=branch["to"]))
        default = raw.get("default")
        if not isinstance(default, str):
            raise ValueError(f"{where}: a gateway needs a default")
        values.update(branches=tuple(built), default=default)
    elif node_type == "join":
        split = raw.get("split")
        if not isinstance(split, str):
            raise ValueError(f"{where}: a join names its split")
        values["split"] = split
    elif node_type == "service":
        values.update(hook=str(raw.get("hook", "noop")), options=copy.deepcopy(raw.get("options") or {}),
                      retries=int(raw.get("retries", 3)),
                      backoff_seconds=int(raw.get("backoff_seconds", 60)),
                      fallback=raw.get("fallback"))
    elif node_type == "wait":
        message = raw.get("message")
        if not isinstance(message, str):
            raise ValueError(f"{where}: a wait node names its message")
        values["message"] = message
    elif node_type == "cc":
        who = raw.get("who")
        if not isinstance(who, Mapping):
            raise ValueError(f"{where}: a cc node needs who")
        values["who"] = copy.deepcopy(dict(who))
    elif node_type == "end":
        outcome = raw.get("outcome", "completed")
        if outcome not in OUTCOMES:
            raise ValueError(f"{where}: unknown outcome {outcome!r}")
        values["outcome"] = outcome
    if node_type in ("task", "service", "wait"):
        values["deadline"] = compile_deadline(raw.get("deadline"), presets)
    if node_type not in ("end", "exclusive", "inclusive") and not nexts:
        raise ValueError(f"{where}: needs next")
    return Node(**values)


def _successors(node: Node) -> tuple[str, ...]:
    found = list(node.next)
    for branch in node.branches:
        found.append(branch.to)
    if node.default:
        found.append(node.default)
    if node.fallback:
        found.append(node.fallback)
    return tuple(dict.fromkeys(found))


def _reach(start: tuple[str, ...], edges: Mapping[str, tuple[str, ...]],
           stop: frozenset[str]) -> set[str]:
    seen: set[str] = set()
    stack = [node for node in start if node not in stop]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(target for target in edges.get(node, ()) if target not in stop)
    return seen


def compile_flow(content: Mapping[str, Any], presets: Mapping[str, Preset] | None = None) -> Flow:
    """Compile a checked flow file. Raises ValueError on anything it cannot compile.
    ``presets``: the deadline presets by id (default: the platform's)."""
    if not isinstance(content, Mapping):
        raise ValueError("a flow must be a mapping")
    raw_nodes = content.get("nodes")
    if not isinstance(raw_nodes, Mapping) or not raw_nodes:
        raise ValueError("a flow needs nodes")
    nodes = {str(node_id): _node(str(node_id), raw, presets) for node_id, raw in raw_nodes.items()}
    starts = [node.id for node in nodes.values() if node.type == "start"]
    if len(starts) != 1:
        raise ValueError("a flow needs exactly one start node")
    successors = {node_id: _successors(node) for node_id, node in nodes.items()}
    for node_id, targets in successors.items():
        for target in targets:
            if target not in nodes:
                raise ValueError(f"node {node_id}: unknown target {target!r}")
    for node in nodes.values():
        if node.fallback and nodes[node.fallback].type != "task":
            raise ValueError(f"node {node.id}: fallback {node.fallback!r} is not a task node")
        for other in node.exclusive_with:
            if other not in nodes:
                raise ValueError(f"node {node.id}: exclusive_with names unknown node {other!r}")
    predecessors: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for node_id, targets in successors.items():
        for target in targets:
            predecessors[target].append(node_id)
    back = {node_id: tuple(sources) for node_id, sources in predecessors.items()}

    joins: dict[str, str] = {}
    for node in nodes.values():
        if node.type == "join":
            split = nodes.get(node.split or "")
            if split is None or split.type not in SPLITS:
                raise ValueError(f"node {node.id}: split {node.split!r} is not a split")
            if node.split in joins:
                raise ValueError(f"node {node.id}: split {node.split!r} already has a join")
            joins[node.split or ""] = node.id
    regions: dict[str, frozenset[str]] = {}
    for split_id, join_id in joins.items():
        stop = frozenset({split_id, join_id})
        forward = _reach(successors[split_id], successors, stop)
        backward = _reach(back[join_id], back, stop)
        regions[split_id] = frozenset(forward & backward)
    # Outer splits first: an enclosing region is larger than the regions inside it.
    ordered = sorted(regions, key=lambda split_id: (-len(regions[split_id]), split_id))
    enclosing: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for split_id in ordered:
        for node_id in regions[split_id]:
            enclosing[node_id].append(split_id)
        # the join stands where its split stands
    for split_id in ordered:
        enclosing[joins[split_id]] = list(enclosing[split_id])

    compiled = {
        node_id: replace(node, successors=successors[node_id], join=joins.get(node_id),
                          region=regions.get(node_id, frozenset()),
                          enclosing=tuple(enclosing[node_id]))
        for node_id, node in nodes.items()}
    deadlines = tuple(compile_application_deadline(entry, presets)
                      for entry in content.get("deadlines") or ())
    return Flow(code=str(content.get("code", "")), name=_text_map(content.get("name"), "flow"),
                nodes=compiled, start=starts[0], deadlines=deadlines)

