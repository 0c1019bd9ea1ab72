"""The flow editor's edits: pure functions from a flow file's text to its new text.

Each edit parses the text with ruamel.yaml's round-trip loader (comments, key order and the
flow style of small maps are kept), changes the nodes it is about and dumps the text again; it
never touches the database. A refused edit raises :class:`FlowEditError` whose ``template`` is
the English message (translated by the page) and changes nothing (docs/console.md, "Flow
editor").
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from ..definitions.deadlinecheck import STAFF_ROLES
from ..i18n import N_
from ..workflow.diagram import step_order
from .edits import EditRefused, dump, plain, put, round_trip_yaml, small

# 会签 / 或签 / 依次 and one person: the modes the panel offers (others stay as written).
MODES = ("single", "all", "any", "sequential")
# What a late step does besides being marked overdue ("" = what the preset says, or nothing).
TIMEOUT_ACTIONS = ("", "remind", "escalate", "auto_approve", "auto_return", "accept")
OPERATORS = ("==", "!=")
# Nodes that are one step with one next node: the ones the panel adds and removes.
STEPS = frozenset({"task", "cc", "service", "wait"})
ONE_NEXT = frozenset({"start", "task", "cc", "service", "wait", "join"})


class FlowEditError(EditRefused):
    """A refused edit of a flow file: ``template % params`` is the English message."""


def load(text: str) -> CommentedMap:
    """The flow file as a round-trip document; refused when it is not a YAML mapping of nodes."""
    try:
        doc = round_trip_yaml().load(text)
    except YAMLError:
        raise FlowEditError(N_("The flow file is not valid YAML: correct it in the text view "
                               "first.")) from None
    if not isinstance(doc, CommentedMap) or not isinstance(doc.get("nodes"), CommentedMap):
        raise FlowEditError(N_("The flow file has no nodes: correct it in the text view "
                               "first."))
    return doc


def _put(node: CommentedMap, key: str, value: Any, *, before: Iterable[str] = ("next",)) -> None:
    """Set key, a new key placed before the first of ``before`` the node has (else at the end)."""
    put(node, key, value, before=before)


def _node(doc: CommentedMap, node_id: str) -> CommentedMap:
    node = doc["nodes"].get(node_id)
    if not isinstance(node, CommentedMap):
        raise FlowEditError(N_('There is no step "%(step)s" in the flow.'), step=node_id)
    return node


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Branch:
    index: int
    to: str
    when: Any
    question: str = ""     # the simple shape {op: [{var: answers.KEY}, value]}, else ""
    operator: str = ""
    value: Any = None


@dataclass(frozen=True)
class Step:
    """One node as the panel shows it."""

    id: str
    type: str
    name_zh: str = ""
    name_en: str = ""
    role: str = ""
    department: str = ""
    district_of: str = ""          # the answer whose district picks the office under department
    actors_other: bool = False     # who is written another way (users, chosen_by, field): text view
    mode: str = "single"
    preset: str = ""
    working_days: int | None = None
    deadline_other: bool = False   # another unit (hours, natural days): kept unless changed
    on_timeout: str = ""
    next: tuple[str, ...] = ()
    branches: tuple[Branch, ...] = ()
    default: str = ""

    @property
    def is_step(self) -> bool:
        return self.type in STEPS

    @property
    def has_actors(self) -> bool:
        return self.type in ("task", "cc")


def _text(value: Any, lang: str) -> str:
    if isinstance(value, Mapping):
        return str(value.get(lang) or "")
    return str(value) if value is not None and lang == "zh" else ""


def _branch(index: int, raw: Any) -> Branch:
    when = plain(raw.get("when"))
    found = Branch(index, str(raw.get("to", "")), when)
    if isinstance(when, dict) and len(when) == 1:
        ((operator, args),) = when.items()
        if operator in OPERATORS and isinstance(args, list) and len(args) == 2 \
                and isinstance(args[0], dict) and set(args[0]) == {"var"} \
                and isinstance(args[0]["var"], str) and args[0]["var"].startswith("answers."):
            return Branch(index, found.to, when, args[0]["var"].removeprefix("answers."),
                          operator, args[1])
    return found


def _step(node_id: str, raw: Mapping[str, Any]) -> Step:
    values: dict[str, Any] = {"id": node_id, "type": str(raw.get("type", "")),
                              "name_zh": _text(raw.get("name"), "zh"),
                              "name_en": _text(raw.get("name"), "en")}
    who = raw.get("who")
    if isinstance(who, Mapping):
        department = who.get("department")
        if "role" in who and isinstance(department, str):
            values.update(role=str(who["role"]), department=department)
        elif "role" in who and isinstance(department, Mapping) and "district_of" in department:
            values.update(role=str(who["role"]), department=str(department.get("under", "")),
                          district_of=str(department["district_of"]))
        else:
            values["actors_other"] = True
    mode = raw.get("mode", "single")
    values["mode"] = mode if isinstance(mode, str) else "n_of_m"
    deadline = raw.get("deadline")
    if isinstance(deadline, Mapping):
        if "preset" in deadline:
            values["preset"] = str(deadline["preset"])
        elif "working_days" in deadline:
            values["working_days"] = deadline["working_days"]
        else:
            values["deadline_other"] = True
        actions = [a for a in deadline.get("on_timeout") or () if a != "remind"] \
            or list(deadline.get("on_timeout") or ())
        values["on_timeout"] = str(actions[0]) if actions else ""
    nexts = raw.get("next")
    values["next"] = (nexts,) if isinstance(nexts, str) else tuple(nexts or ())
    values["branches"] = tuple(_branch(i, b) for i, b in enumerate(raw.get("branches") or ())
                               if isinstance(b, Mapping))
    values["default"] = str(raw.get("default") or "")
    return Step(**values)


def steps(text: str) -> list[Step]:
    """The nodes in flow order (the diagram's step list order: start first, ends last)."""
    doc = load(text)
    nodes = doc["nodes"]
    content = plain(doc)
    try:
        order = step_order(content)
    except (KeyError, TypeError, AttributeError):
        order = []
    order += [node_id for node_id in nodes if node_id not in order]
    return [_step(str(node_id), nodes[node_id]) for node_id in order
            if isinstance(nodes.get(node_id), Mapping)]


# --- editing a step --------------------------------------------------------------------------

@dataclass(frozen=True)
class StepEdit:
    name_zh: str
    name_en: str = ""
    role: str = ""
    department: str = ""
    district_of: str = ""      # "" = the department itself
    mode: str = "single"
    deadline: str = ""         # "" none, "preset", "working_days", "keep" (another unit)
    preset: str = ""
    working_days: str = ""
    on_timeout: str = ""


def _set_actors(node: CommentedMap, edit: StepEdit) -> None:
    if edit.role not in STAFF_ROLES:
        raise FlowEditError(N_("Choose the role of the people who act on the step."))
    if not edit.department:
        raise FlowEditError(N_("Choose the department that acts on the step."))
    department: Any = edit.department
    if edit.district_of:
        department = small(district_of=edit.district_of, under=edit.department)
    old = node.get("who")
    if isinstance(old, CommentedMap) and "role" in old:
        old["role"] = edit.role
        old["department"] = department
        return
    _put(node, "who", small(role=edit.role, department=department),
         before=("operations", "deadline", "next"))


def _set_mode(node: CommentedMap, mode: str) -> None:
    if mode not in MODES:
        if mode == str(node.get("mode", "")) or (mode == "n_of_m" and "n_of_m" in node):
            return  # a mode the panel does not offer, left as written
        raise FlowEditError(N_("Choose how the people of the step decide."))
    node.pop("n_of_m", None)
    if mode == "single":
        node.pop("mode", None)
    else:
        _put(node, "mode", mode, before=("operations", "deadline", "next"))


def _working_days(text: str) -> int:
    text = text.strip()
    if not text.isdigit() or int(text) < 1 or int(text) > 999:
        raise FlowEditError(N_("Enter the time limit as a whole number of working days, from 1 "
                               "to 999."))
    return int(text)


def _set_deadline(node: CommentedMap, edit: StepEdit, presets: Iterable[str]) -> None:
    old = node.get("deadline")
    block = old if isinstance(old, CommentedMap) else CommentedMap()
    if edit.deadline == "":
        if edit.on_timeout:
            raise FlowEditError(N_("A step without a time limit cannot act when it is late: "
                                   "choose a time limit or no action."))
        node.pop("deadline", None)
        return
    if edit.deadline == "preset":
        if edit.preset not in set(presets):
            raise FlowEditError(N_("Choose a statutory time limit from the list."))
        for unit in [k for k in block if k not in ("preset", "on_timeout", "remind",
                                                     "escalate_to", "due_soon", "extension")]:
            del block[unit]
        _put(block, "preset", edit.preset, before=list(block)[:1])
    elif edit.deadline == "working_days":
        days = _working_days(edit.working_days)
        for unit in [k for k in block if k not in ("on_timeout", "remind", "escalate_to",
                                                     "due_soon", "extension")]:
            del block[unit]
        _put(block, "working_days", days, before=list(block)[:1])
    elif edit.deadline != "keep" or not block:
        raise FlowEditError(N_("Choose a time limit for the step."))
    if edit.on_timeout not in TIMEOUT_ACTIONS:
        raise FlowEditError(N_("Choose what happens when the step is late."))
    if edit.on_timeout == "":
        for key in ("on_timeout", "remind", "escalate_to"):
            block.pop(key, None)
    else:
        actions = ["remind", "escalate"] if edit.on_timeout == "escalate" else [edit.on_timeout]
        block["on_timeout"] = CommentedSeq(actions)
        block["on_timeout"].fa.set_flow_style()
        if "escalate" in actions:
            block.setdefault("escalate_to", "department_admin")
        else:
            block.pop("escalate_to", None)
        if "remind" not in actions:
            block.pop("remind", None)
    if len(block) <= 2 and "remind" not in block:
        block.fa.set_flow_style()
    if not isinstance(old, CommentedMap):
        _put(node, "deadline", block)


def edit_step(text: str, node_id: str, edit: StepEdit, *, presets: Iterable[str]) -> str:
    """The step's name, actors, mode, time limit and timeout action set as the panel says."""
    doc = load(text)
    node = _node(doc, node_id)
    if node.get("type") not in STEPS:
        raise FlowEditError(N_('"%(step)s" is not a step: gateways, joins, the start and the ends '
                               'are changed in the text view.'), step=node_id)
    name_zh, name_en = edit.name_zh.strip(), edit.name_en.strip()
    if not name_zh:
        raise FlowEditError(N_("Enter the Chinese name of the step."))
    name = node.get("name")
    if isinstance(name, CommentedMap):
        name["zh"] = name_zh
        if name_en:
            name["en"] = name_en
        else:
            name.pop("en", None)
    else:
        _put(node, "name", small(zh=name_zh, **({"en": name_en} if name_en else {})),
             before=[k for k in node if k != "type"][:1])
    if node["type"] in ("task", "cc"):
        _set_actors(node, edit)
    if node["type"] == "task":
        _set_mode(node, edit.mode)
    if node["type"] in ("task", "service", "wait"):
        _set_deadline(node, edit, presets)
    return dump(doc)


# --- adding and removing steps ---------------------------------------------------------------

def _new_id(nodes: Mapping[str, Any]) -> str:
    number = len(nodes)
    while f"step_{number}" in nodes:
        number += 1
    return f"step_{number}"


def add_step(text: str, after: str, name_zh: str, name_en: str = "", *,
             who: Mapping[str, Any]) -> tuple[str, str]:
    """A new task after node ``after`` (which must have one next node), taking over its next;
    its actors are those of ``after`` when it is a task, else ``who``. Returns (text, new id)."""
    doc = load(text)
    nodes = doc["nodes"]
    node = _node(doc, after)
    if not name_zh.strip():
        raise FlowEditError(N_("Enter the Chinese name of the step."))
    if node.get("type") not in ONE_NEXT or not isinstance(node.get("next"), str):
        raise FlowEditError(N_('A step can only be added after a node with one next node; '
                               '"%(step)s" has branches: add it after a step on the branch.'),
                            step=after)
    new_id = _new_id(nodes)
    actors = node.get("who") if node.get("type") == "task" and "role" in (node.get("who") or {}) \
        else who
    new = CommentedMap()
    new["type"] = "task"
    name = {"zh": name_zh.strip(), **({"en": name_en.strip()} if name_en.strip() else {})}
    new["name"] = small(**name)
    new["who"] = small(**copy.deepcopy(plain(actors)))
    new["next"] = node["next"]
    node["next"] = new_id
    keys = list(nodes)
    nodes.insert(keys.index(after) + 1, new_id, new)
    return dump(doc), new_id


def _retarget(doc: CommentedMap, old: str, new: str) -> None:
    """Every edge into ``old`` goes to ``new`` instead; refused when that breaks a node."""
    for node_id, node in doc["nodes"].items():
        if node_id == old or not isinstance(node, CommentedMap):
            continue
        nexts = node.get("next")
        if nexts == old:
            if new == node_id:
                raise FlowEditError(N_('Removing "%(step)s" would leave "%(other)s" leading to '
                                       'itself: change the flow in the text view.'),
                                    step=old, other=node_id)
            node["next"] = new
        elif isinstance(nexts, list) and old in nexts:
            if new in nexts:
                raise FlowEditError(N_('Removing "%(step)s" would give the split "%(other)s" '
                                       'two branches to the same node: change the flow in the '
                                       'text view.'), step=old, other=node_id)
            nexts[nexts.index(old)] = new
        for branch in node.get("branches") or ():
            if isinstance(branch, CommentedMap) and branch.get("to") == old:
                branch["to"] = new
        if node.get("default") == old:
            node["default"] = new
        if node.get("fallback") == old:
            raise FlowEditError(N_('"%(step)s" is the fallback of "%(other)s": change that step '
                                   'first.'), step=old, other=node_id)
        others = node.get("exclusive_with")
        if isinstance(others, list) and old in others:
            others.remove(old)
            if not others:
                del node["exclusive_with"]


def remove_step(text: str, node_id: str) -> str:
    """The step removed, every edge into it reconnected to its next node."""
    doc = load(text)
    node = _node(doc, node_id)
    if node.get("type") not in STEPS or not isinstance(node.get("next"), str):
        raise FlowEditError(N_('"%(step)s" is not a step: gateways, joins, the start and the ends '
                               'are changed in the text view.'), step=node_id)
    tasks = [n for n, raw in doc["nodes"].items()
             if isinstance(raw, Mapping) and raw.get("type") == "task"]
    if tasks == [node_id]:
        raise FlowEditError(N_("A flow needs at least one step: add another step before "
                               "removing this one."))
    _retarget(doc, node_id, node["next"])
    del doc["nodes"][node_id]
    return dump(doc)


def set_branch(text: str, gateway: str, index: int, question: str, operator: str,
               value: Any) -> str:
    """The condition of branch ``index`` of a gateway: the answer to ``question`` is (or is not)
    ``value``, written as JsonLogic over the answers."""
    doc = load(text)
    node = _node(doc, gateway)
    branches = node.get("branches")
    if node.get("type") not in ("exclusive", "inclusive") or not isinstance(branches, list) \
            or not 0 <= index < len(branches):
        raise FlowEditError(N_('There is no such branch of "%(step)s".'), step=gateway)
    branches[index]["when"] = _condition(question, operator, value)
    return dump(doc)


def _condition(question: str, operator: str, value: Any) -> CommentedMap:
    if operator not in OPERATORS:
        raise FlowEditError(N_("Choose whether the answer is or is not the value."))
    if not question:
        raise FlowEditError(N_("Choose the answer the branch depends on."))
    args = CommentedSeq([small(var=f"answers.{question}"), value])
    args.fa.set_flow_style()
    return small(**{DoubleQuotedScalarString(operator): args})  # as the files write it


def add_branch(text: str, gateway: str, to: str, question: str, operator: str,
               value: Any) -> str:
    """A new branch of a decision, after its others (checked before the default): to node
    ``to`` when the answer to ``question`` is (or is not) ``value``."""
    doc = load(text)
    node = _node(doc, gateway)
    if node.get("type") not in ("exclusive", "inclusive"):
        raise FlowEditError(N_('There is no such branch of "%(step)s".'), step=gateway)
    if to == gateway or to not in doc["nodes"] or doc["nodes"][to].get("type") == "start":
        raise FlowEditError(N_("Choose the step the branch leads to."))
    branch = CommentedMap()
    branch["when"] = _condition(question, operator, value)
    branch["to"] = to
    branches = node.get("branches")
    if not isinstance(branches, list):
        branches = CommentedSeq()
        _put(node, "branches", branches, before=("default",))
    branches.append(branch)
    return dump(doc)


def remove_branch(text: str, gateway: str, index: int) -> str:
    """Branch ``index`` of a decision removed (its default stays); a decision keeps one."""
    doc = load(text)
    node = _node(doc, gateway)
    branches = node.get("branches")
    if node.get("type") not in ("exclusive", "inclusive") or not isinstance(branches, list) \
            or not 0 <= index < len(branches):
        raise FlowEditError(N_('There is no such branch of "%(step)s".'), step=gateway)
    if len(branches) == 1:
        raise FlowEditError(N_('"%(step)s" needs at least one branch besides its default: '
                               'change the branch instead.'), step=gateway)
    del branches[index]
    return dump(doc)
