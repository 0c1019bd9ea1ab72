"""A flow drawn as SVG by Graphviz, and the same flow as a list of steps in words.

The layout is Graphviz's (`dot`, through the `graphviz` package); this module only says which
nodes and edges there are and how each looks. Nodes are labelled with their names in the
page's language and shaped by type; the node(s) an application stands on are marked by a
thick border and a "当前" / "current" line, never by colour alone. The SVG is an image with a
title (`role="img"`); `diagram_steps` gives the text alternative, branches in words.

A flow version never changes once published, so each drawing is kept per (flow content,
language, current nodes): Graphviz runs once per key, not once per page view.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

import graphviz
from babel.support import NullTranslations, Translations
from markupsafe import Markup, escape

from ..i18n import N_, TRANSLATIONS_DIR, compile_catalogues
from .presets import compile_deadline, describe

CACHE_SIZE = 512
"""Drawings kept per process (flow version × language × current nodes)."""

FONT = "sans-serif"


class GraphvizMissing(RuntimeError):
    """Graphviz's `dot` program is not installed: no flow can be drawn."""


_found_versions: dict[str, str] = {}


def require_graphviz() -> str:
    """Graphviz's version, or `GraphvizMissing` saying how to install it (checked at start;
    a version found is remembered per PATH, so that making many apps runs `dot -V` once)."""
    path = os.environ.get("PATH", "")
    if path in _found_versions:
        return _found_versions[path]
    try:
        version = graphviz.version()
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing(
            "Graphviz is not installed: flow diagrams need its `dot` program. Install the "
            "Debian package `graphviz` (`apt-get install graphviz`, or `bash "
            "scripts/ensure-test-deps.sh`) and start again.") from exc
    found = _found_versions[path] = ".".join(str(part) for part in version)
    return found


# --- words -----------------------------------------------------------------------------------

TYPE_LABELS = {
    "start": N_("Start"),
    "end": N_("End"),
    "exclusive": N_("Decision"),
    "inclusive": N_("Choice of branches"),
    "parallel": N_("In parallel"),
    "join": N_("Join"),
    "service": N_("Automatic step"),
    "wait": N_("Waiting for a reply"),
    "cc": N_("Copy to"),
    "task": N_("Step"),
}
OUTCOMES = {
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "completed": N_("completed"),
}
MODES = {
    "sequential": N_("one after another"),
    "all": N_("all must approve"),
    "any": N_("any one approves"),
}
CURRENT = N_("[current]")
OTHERWISE = N_("otherwise")
IF_IT_FAILS = N_("if it fails")
COMPARISONS = {"==": "=", "===": "=", "!=": "≠", "!==": "≠", ">": ">", ">=": "≥", "<": "<", "<=": "≤"}


@cache
def _catalogue(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    compile_catalogues()
    return Translations.load(str(TRANSLATIONS_DIR), ["zh"])


def _t(message: str, lang: str) -> str:
    return _catalogue(lang).ugettext(message)


def _pick(text: Any, lang: str) -> str:
    if isinstance(text, dict):
        return str(text.get(lang) or text.get("zh") or text.get("en") or "")
    return "" if text is None else str(text)


def branch_words(condition: Any, lang: str) -> str:
    """A branch in words: its label when the flow gives one, else its condition spelt out."""
    if isinstance(condition, dict) and set(condition) == {"label"}:
        return _pick(condition["label"], lang)
    return condition_words(condition, lang)


def node_name(node_id: str, node: dict[str, Any], lang: str) -> str:
    """The node's own name, or its type's, or (last) its id."""
    if node.get("name"):
        return _pick(node["name"], lang)
    label = TYPE_LABELS.get(node.get("type", ""))
    return _t(label, lang) if label else node_id


def _mode_words(node: dict[str, Any], lang: str) -> str:
    mode = node.get("mode", "single")
    if mode in MODES:
        return _t(MODES[mode], lang)
    if mode == "n_of_m":
        spec = node.get("n_of_m") or {}
        if "percent" in spec:
            return _t(N_("%(percent)s%% must approve"), lang) % {"percent": spec["percent"]}
        return _t(N_("%(count)s must approve"), lang) % {"count": spec.get("count", "?")}
    if node.get("kind") == "vote":
        vote = node.get("vote") or {}
        return _t(N_("vote: %(count)s to pass"), lang) % {"count": vote.get("pass", "?")}
    if node.get("kind") == "sign":
        sign = node.get("sign") or {}
        return _t(N_("%(count)s different people sign"), lang) % {"count": sign.get("distinct", 2)}
    return ""


def deadline_words(node: dict[str, Any], lang: str) -> str:
    """The step's period in words ("5 个工作日", "20 working days (+10)"), or "" when it has none
    or names a preset this platform does not ship (a drawing never fails on a deadline)."""
    block = node.get("deadline")
    if not isinstance(block, dict):
        return ""
    try:
        spec = compile_deadline(block)
    except (ValueError, KeyError, TypeError):
        return ""
    return describe(spec, lang) if spec else ""


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return f"“{value}”"
    return json.dumps(value, ensure_ascii=False)


def condition_words(rule: Any, lang: str) -> str:
    """A JsonLogic condition in words ("answers.amount > 100"); anything unusual as JSON."""
    if not isinstance(rule, dict) or len(rule) != 1:
        return _literal(rule)
    (op, args), = rule.items()
    if not isinstance(args, list):
        args = [args]
    if op == "var":
        path = args[0] if args else ""
        return str(path)
    if op in COMPARISONS and len(args) == 2:
        return f"{_operand(args[0], lang)} {COMPARISONS[op]} {_operand(args[1], lang)}"
    if op in ("and", "or") and args:
        joiner = _t(N_(" and "), lang) if op == "and" else _t(N_(" or "), lang)
        return joiner.join(_grouped(arg, lang) for arg in args)
    if op in ("!", "not") and len(args) == 1:
        return _t(N_("not %(condition)s"), lang) % {"condition": _grouped(args[0], lang)}
    if op == "!!" and len(args) == 1:
        return _t(N_("%(value)s is given"), lang) % {"value": _operand(args[0], lang)}
    if op == "in" and len(args) == 2:
        return _t(N_("%(value)s is one of %(choices)s"), lang) % {
            "value": _operand(args[0], lang), "choices": _operand(args[1], lang)}
    return json.dumps(rule, ensure_ascii=False)


def _operand(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return _grouped(value, lang)
    return _literal(value)


def _grouped(value: Any, lang: str) -> str:
    words = condition_words(value, lang)
    if isinstance(value, dict) and next(iter(value), None) in ("and", "or"):
        return f"({words})"
    return words


# --- the graph -------------------------------------------------------------------------------

def _edges(node: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(target, kind, condition) of each edge leaving a node, in the file's order."""
    kind = node.get("type")
    if kind in ("exclusive", "inclusive"):
        for branch in node.get("branches") or []:
            # A branch's own label (zh/en) says what its condition means; else the condition.
            yield str(branch.get("to")), "branch", (
                {"label": branch["label"]} if isinstance(branch.get("label"), dict)
                else branch.get("when"))
        if node.get("default"):
            yield str(node["default"]), "default", None
        return
    nxt = node.get("next")
    if isinstance(nxt, list):
        for target in nxt:
            yield str(target), "next", None
    elif nxt:
        yield str(nxt), "next", None
    if node.get("fallback"):
        yield str(node["fallback"]), "fallback", None


def _start(nodes: dict[str, Any]) -> str | None:
    return next((nid for nid, node in nodes.items() if node.get("type") == "start"), None)


def step_order(flow_content: dict[str, Any]) -> list[str]:
    """Node ids in reading order: a depth-first reverse postorder from the start (a topological
    order when the flow has no loops), branches in the file's order; unreachable nodes last."""
    nodes: dict[str, Any] = flow_content.get("nodes") or {}
    seen: set[str] = set()
    post: list[str] = []
    start = _start(nodes)
    roots = ([start] if start else []) + list(nodes)
    for root in roots:
        if root in seen:
            continue
        # Iterative DFS (a 200-node chain must not hit the recursion limit).
        seen.add(root)
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(_successors(nodes, root)))]
        while stack:
            nid, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                post.append(nid)
            elif child in nodes and child not in seen:
                seen.add(child)
                stack.append((child, iter(_successors(nodes, child))))
        if root == start:
            ordered = post[::-1]
            post = []
    if start is None:
        return post[::-1]
    return ordered + post[::-1]


def _successors(nodes: dict[str, Any], nid: str) -> list[str]:
    # Reversed, so that in the reverse postorder the first branch is read first.
    return [target for target, _, _ in _edges(nodes[nid])][::-1]


def diagram_steps(flow_content: dict[str, Any], lang: str = "zh",
                  current: Iterable[str] = frozenset()) -> list[str]:
    """The flow's steps in order, one sentence each, with where each branch goes in words."""
    nodes: dict[str, Any] = flow_content.get("nodes") or {}
    order = step_order(flow_content)
    current = frozenset(current)
    steps = []
    for index, nid in enumerate(order):
        node = nodes[nid]
        following = order[index + 1] if index + 1 < len(order) else None
        words = node_name(nid, node, lang)
        mode = _mode_words(node, lang) if node.get("type") == "task" else ""
        if mode:
            words += _t(N_(" (%(mode)s)"), lang) % {"mode": mode}
        if node.get("type") == "end" and node.get("outcome"):
            outcome = OUTCOMES.get(node["outcome"])
            words += _t(N_(": %(outcome)s"), lang) % {
                "outcome": _t(outcome, lang) if outcome else node["outcome"]}
        edges = list(_edges(node))
        name = {target: node_name(target, nodes.get(target, {}), lang) for target, _, _ in edges}
        kind = node.get("type")
        if kind in ("exclusive", "inclusive"):
            parts = [_t(N_("if %(condition)s, go to %(step)s"), lang) % {
                "condition": branch_words(cond, lang), "step": name[target]}
                for target, how, cond in edges if how == "branch"]
            parts += [_t(N_("otherwise go to %(step)s"), lang) % {"step": name[target]}
                      for target, how, _ in edges if how == "default"]
            if kind == "inclusive":
                words += _t(N_(": every branch whose condition holds runs: "), lang)
            else:
                words += _t(N_(": the first condition that holds decides: "), lang)
            words += _t(N_("; "), lang).join(parts)
        elif kind == "parallel":
            words += _t(N_(": at the same time, %(steps)s"), lang) % {
                "steps": _t(N_(", "), lang).join(name[target] for target, _, _ in edges)}
        elif kind == "join":
            split = node.get("split")
            words += _t(N_(" (waits for the branches from %(split)s)"), lang) % {
                "split": node_name(str(split), nodes.get(str(split), {}), lang)}
        for target, how, _ in edges:
            if kind in ("exclusive", "inclusive", "parallel"):
                break
            if how == "fallback":
                words += _t(N_("; if it fails: %(step)s"), lang) % {"step": name[target]}
            elif target != following:
                words += _t(N_(", then go to %(step)s"), lang) % {"step": name[target]}
        if nid in current:
            words += _t(N_(" (current step)"), lang)
        steps.append(words)
    return steps


SHAPES: dict[str, dict[str, str]] = {
    "start": {"shape": "circle", "style": "filled", "fillcolor": "#e8f1f8", "width": "0.5"},
    "end": {"shape": "doublecircle", "style": "filled", "fillcolor": "#e8f1f8", "width": "0.5"},
    "task": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff"},
    "exclusive": {"shape": "diamond", "style": "filled", "fillcolor": "#fff7e0"},
    "inclusive": {"shape": "diamond", "style": "filled,dashed", "fillcolor": "#fff7e0"},
    "parallel": {"shape": "diamond", "style": "filled", "fillcolor": "#eef7ee", "peripheries": "2"},
    "join": {"shape": "diamond", "style": "filled", "fillcolor": "#eef7ee", "peripheries": "2"},
    "service": {"shape": "component", "style": "filled", "fillcolor": "#f3f2f1"},
    "wait": {"shape": "hexagon", "style": "filled", "fillcolor": "#f3f2f1"},
    "cc": {"shape": "note", "style": "filled", "fillcolor": "#f3f2f1"},
}
_SHORT = 40


def _short(text: str) -> str:
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _dot_source(flow_content: dict[str, Any], current: frozenset[str], lang: str) -> graphviz.Digraph:
    nodes: dict[str, Any] = flow_content.get("nodes") or {}
    graph = graphviz.Digraph(
        name="flow",
        graph_attr={"rankdir": "TB", "fontname": FONT, "nodesep": "0.3", "ranksep": "0.35",
                    "bgcolor": "transparent", "pad": "0.1"},
        node_attr={"fontname": FONT, "fontsize": "12", "color": "#0b0c0c", "penwidth": "1",
                   "fontcolor": "#0b0c0c", "margin": "0.15,0.06"},
        edge_attr={"fontname": FONT, "fontsize": "11", "color": "#505a5f", "fontcolor": "#0b0c0c",
                   "arrowsize": "0.7"})
    for nid in step_order(flow_content):
        node = nodes[nid]
        kind = str(node.get("type", "task"))
        attrs = dict(SHAPES.get(kind, SHAPES["task"]))
        label = node_name(nid, node, lang)
        if kind in ("start", "end"):
            attrs["fixedsize"] = "false"
        if kind == "task":
            mode = _mode_words(node, lang)
            if mode:
                label += f"\n{mode}"
        period = deadline_words(node, lang)
        if period:
            label += f"\n{period}"
        if kind == "end" and node.get("outcome") in OUTCOMES:
            label += "\n" + _t(OUTCOMES[node["outcome"]], lang)
        classes = ["tb-flow-node", f"tb-flow-node--{kind}"]
        if nid in current:
            label = f"{_t(CURRENT, lang)}\n{label}"
            attrs["penwidth"] = "3.5"
            attrs["style"] = attrs["style"].replace("dashed", "") + ",bold"
            attrs["fillcolor"] = "#ffdd00"
            classes.append("tb-flow-node--current")
        attrs["class"] = " ".join(classes)
        attrs["id"] = f"flow-node-{nid}"
        graph.node(nid, label=label, **attrs)
    for nid in step_order(flow_content):
        for target, how, cond in _edges(nodes[nid]):
            if target not in nodes:
                continue
            attrs = {}
            if how == "branch":
                attrs["label"] = _short(branch_words(cond, lang))
            elif how == "default":
                attrs["label"] = _t(OTHERWISE, lang)
                attrs["style"] = "dashed"
            elif how == "fallback":
                attrs["label"] = _t(IF_IT_FAILS, lang)
                attrs["style"] = "dotted"
            graph.edge(nid, target, **attrs)
    return graph


_INNER_TITLE = re.compile(r"<title>[^<]*</title>\n?")
_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def _accessible(svg: str, title: str, key: str) -> str:
    """Graphviz's SVG as an image with a title (its natural size; CSS narrows it to the page)."""
    svg = svg[svg.index("<svg"):]
    svg = _COMMENT.sub("", svg).replace("&#45;", "-")  # Graphviz escapes every hyphen
    # Graphviz titles every node and edge with its id ("intake->review"): noise to a reader.
    svg = _INNER_TITLE.sub("", svg)
    title_id = f"flow-diagram-title-{key}"
    opening = _SVG_OPEN.search(svg)
    if opening is None:  # pragma: no cover - Graphviz always writes one
        raise ValueError("Graphviz wrote no <svg> element")
    tag = opening.group(0)[:-1] + (f' role="img" aria-labelledby="{title_id}" class="tb-flow-diagram__svg"'
                      ' focusable="false">')
    return (tag + f'\n<title id="{title_id}">{escape(title)}</title>'
            + svg[opening.end():].rstrip() + "\n")


_cache: OrderedDict[tuple[str, str, frozenset[str]], Markup] = OrderedDict()
_lock = threading.Lock()


def content_key(flow_content: dict[str, Any]) -> str:
    """A short digest of a flow's content: the same published version gives the same key."""
    canonical = json.dumps(flow_content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def diagram_svg(flow_content: dict[str, Any], current: frozenset[str] = frozenset(),
                lang: str = "zh") -> Markup:
    """The flow as an accessible inline SVG (Graphviz layout); kept per content, language and
    current nodes. Raises `GraphvizMissing` when `dot` is not installed."""
    current = frozenset(current)
    key = (content_key(flow_content), lang, current)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    title = _t(N_("Flow diagram: %(name)s"), lang) % {"name": _pick(flow_content.get("name"), lang)}
    if current:
        names = [node_name(n, (flow_content.get("nodes") or {}).get(n, {}), lang) for n in sorted(current)]
        title += _t(N_(" (current step: %(steps)s)"), lang) % {"steps": _t(N_(", "), lang).join(names)}
    try:
        raw = _dot_source(flow_content, current, lang).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizMissing(str(exc)) from exc
    unique = hashlib.sha256(repr((key[0], lang, sorted(current))).encode()).hexdigest()[:12]
    drawn = Markup(_accessible(raw, title, unique))
    with _lock:
        _cache[key] = drawn
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return drawn


_SIZE_PT = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')
_images: OrderedDict[tuple[str, str, frozenset[str]], Markup] = OrderedDict()


def diagram_img(flow_content: dict[str, Any], current: frozenset[str] = frozenset(),
                lang: str = "zh") -> Markup:
    """The same drawing as an ``<img>`` (the SVG as a data URL) whose ``alt`` is its title.

    Pages use this form: text drawn inside an inline SVG sits on SVG shapes, where no checker
    (axe) can tell its contrast, while an image with a text alternative is plain to check and
    to read. The steps in words (`diagram_steps`) go beside it."""
    current = frozenset(current)
    key = (content_key(flow_content), lang, current)
    with _lock:
        found = _images.get(key)
        if found is not None:
            _images.move_to_end(key)
            return found
    svg = str(diagram_svg(flow_content, current, lang))
    title = re.search(r"<title id=\"[^\"]*\">([^<]*)</title>", svg)
    size = _SIZE_PT.search(svg)
    assert title is not None and size is not None  # written by _accessible / Graphviz
    width, height = (round(float(value) * 4 / 3) for value in size.groups())  # pt -> px
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    image = Markup(f'<img class="tb-flow-diagram__svg" src="data:image/svg+xml;base64,{data}" '
                   f'alt="{title.group(1)}" width="{width}" height="{height}">')
    with _lock:
        _images[key] = image
        while len(_images) > CACHE_SIZE:
            _images.popitem(last=False)
    return image
