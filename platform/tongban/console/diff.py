"""A readable diff of a service's files: a form by its questions and pages, a flow by its steps,
a service or rule set by the keys that changed, never raw JSON only (the text's own unified
diff comes along for who wants it)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .layout import kind_of, parse

SHORT = 80  # longest value shown inline


@dataclass(frozen=True)
class Change:
    change: str  # "added" | "removed" | "changed"
    what: str  # "question" | "page" | "step" | "key" | "file"
    name: str  # the question's path, the step's id, the key's dotted path
    label: Any = None  # {zh, en} or text, when the thing has a label
    before: str = ""
    after: str = ""
    keys: tuple[str, ...] = ()  # for a changed question or step: what changed in it


@dataclass
class FileDiff:
    path: str
    kind: str
    status: str  # "added" | "removed" | "changed" | "unchanged"
    changes: list[Change] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # unified diff lines


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHORT else text[:SHORT - 1] + "…"


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list) and value and all(isinstance(i, dict) for i in value):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{prefix}[{index}]")
    else:
        yield prefix, value


def key_changes(old: Any, new: Any) -> list[Change]:
    """Changed keys of two mappings, as dotted paths with their values before and after."""
    before, after = dict(_leaves(old)), dict(_leaves(new))
    changes = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key not in after:
            changes.append(Change("removed", "key", key, before=_short(before[key])))
        elif key not in before:
            changes.append(Change("added", "key", key, after=_short(after[key])))
        elif before[key] != after[key]:
            changes.append(Change("changed", "key", key, before=_short(before[key]),
                                  after=_short(after[key])))
    return changes


def _named_changes(what: str, old: Mapping[str, Any], new: Mapping[str, Any],
                   label_of: Any) -> list[Change]:
    changes = []
    for name in [*old, *(n for n in new if n not in old)]:
        if name not in new:
            changes.append(Change("removed", what, name, label_of(name, old[name])))
        elif name not in old:
            changes.append(Change("added", what, name, label_of(name, new[name])))
        elif old[name] != new[name]:
            keys = sorted({key.split(".")[0].split("[")[0]
                           for key in (c.name for c in key_changes(old[name], new[name]))})
            changes.append(Change("changed", what, name, label_of(name, new[name]),
                                  keys=tuple(keys)))
    return changes


def _questions(form: Any) -> dict[str, dict[str, Any]]:
    """path -> {schema: the question's own schema (without nested questions), ui: its ui}."""
    found: dict[str, dict[str, Any]] = {}
    ui = ((form.get("ui") or {}).get("fields") or {}) if isinstance(form, dict) else {}

    def walk(node: Any, prefix: str) -> None:
        properties = node.get("properties") if isinstance(node, dict) else None
        if not isinstance(properties, dict):
            return
        for key, child in properties.items():
            path = f"{prefix}.{key}" if prefix else key
            own = {k: v for k, v in child.items() if k != "properties"} \
                if isinstance(child, dict) else child
            found[path] = {"schema": own, "ui": ui.get(path)}
            walk(child, path)
        # which children are required belongs to each child
        for key in node.get("required") or []:
            path = f"{prefix}.{key}" if prefix else key
            if path in found:
                found[path]["required"] = True

    if isinstance(form, dict):
        walk(form.get("schema"), "")
    return found


def _question_label(path: str, question: dict[str, Any]) -> Any:
    ui = question.get("ui") or {}
    schema = question.get("schema") or {}
    return ui.get("label") or schema.get("title") or path


def _pages(form: Any) -> dict[str, Any]:
    pages = ((form.get("ui") or {}).get("pages") or []) if isinstance(form, dict) else []
    return {str(page.get("id")): page for page in pages if isinstance(page, dict)}


def _without(data: Any, *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys} if isinstance(data, dict) else {}


def _titled(name: str, item: Any) -> Any:
    found = item.get("title") or item.get("name") if isinstance(item, dict) else None
    return found or name


def form_changes(old: Any, new: Any) -> list[Change]:
    changes = _named_changes("question", _questions(old), _questions(new), _question_label)
    changes += _named_changes("page", _pages(old), _pages(new), _titled)
    return changes + key_changes(_without(old, "schema", "ui"), _without(new, "schema", "ui"))


def _nodes(flow: Any) -> dict[str, Any]:
    nodes = flow.get("nodes") if isinstance(flow, dict) else None
    return nodes if isinstance(nodes, dict) else {}


def flow_changes(old: Any, new: Any) -> list[Change]:
    changes = _named_changes("step", _nodes(old), _nodes(new), _titled)
    return changes + key_changes(_without(old, "nodes"), _without(new, "nodes"))


def diff_files(old: Mapping[str, str], new: Mapping[str, str]) -> list[FileDiff]:
    """Per file of either side, in the order service, form, flow, rules."""
    order = {"service": 0, "form": 1, "flow": 2, "rules": 3}
    paths = sorted(set(old) | set(new),
                   key=lambda p: (order.get((kind_of(p) or ("", ""))[0], 9), p))
    result = []
    for path in paths:
        kind = (kind_of(path) or ("file", path))[0]
        before, after = old.get(path), new.get(path)
        text = list(difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(),
                                         f"live/{path}", f"draft/{path}", lineterm="", n=2))
        if before is None:
            result.append(FileDiff(path, kind, "added", text=text))
            continue
        if after is None:
            result.append(FileDiff(path, kind, "removed", text=text))
            continue
        if before == after:
            result.append(FileDiff(path, kind, "unchanged"))
            continue
        old_data, new_data = parse(path, before), parse(path, after)
        if old_data == new_data:
            changes: list[Change] = []  # only layout or comments changed
        elif kind == "form":
            changes = form_changes(old_data, new_data)
        elif kind == "flow":
            changes = flow_changes(old_data, new_data)
        else:
            changes = key_changes(old_data, new_data)
        result.append(FileDiff(path, kind, "changed", changes, text))
    return result
