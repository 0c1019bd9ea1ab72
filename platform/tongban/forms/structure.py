"""The pages, task-list sections and logic rules of a form file, checked and compiled.

Part of loading a form (:mod:`tongban.forms.definition`): each function reports mistakes by
JSON pointer through the ``err`` callback it is given and returns what it could build.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tongban.forms import formats_and_rules, paths
from tongban.forms.fields import Field, LangText

ACTIONS = ("show", "hide", "show_page", "hide_page", "require", "set", "block")


@dataclass(frozen=True)
class Page:
    id: str
    title: LangText | None
    hint: LangText | None
    keys: tuple[str, ...]
    one_question: bool
    section: str | None


@dataclass(frozen=True)
class Section:
    id: str
    title: LangText
    pages: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    action: str
    target: str | None
    when: Any
    value: Any
    message: LangText | None
    field: str | None
    page: str | None
    pointer: str


def pages(ui: Mapping[str, Any], root: Field, known: Mapping[str, Field],
          err: Any) -> tuple[Page, ...]:
    """The pages of ``ui.pages`` (one page of every top-level question when there are none);
    ``err(pointer, message)`` is told of each mistake."""
    declared = ui.get("pages")
    if not declared:
        keys = tuple(c.key for c in root.children) if root.children else ("",)
        return (Page("main", None, None, keys, False, None),)
    pages: list[Page] = []
    seen_ids: set[str] = set()
    placed: dict[str, str] = {}
    for index, page in enumerate(declared):
        pointer = f"/ui/pages/{index}"
        if page["id"] in seen_ids:
            err(pointer + "/id", f"page id {page['id']!r} is used twice")
        seen_ids.add(page["id"])
        for position, key in enumerate(page["fields"]):
            where = f"{pointer}/fields/{position}"
            fld = known.get(key)
            if fld is None:
                err(where, f"page {page['id']!r} lists {key!r}, which is not a field")
                continue
            if fld.is_item or inside_array(key, known):
                err(where, f"{key!r} is inside a repeatable group; list the group instead")
                continue
            clash = next((k for k in placed if k == key or k.startswith(key + ".")
                          or key.startswith(k + ".")), None)
            if clash is not None:
                err(where, f"{key!r} is already on page {placed[clash]!r}")
                continue
            placed[key] = page["id"]
        pages.append(Page(page["id"], page.get("title"), page.get("hint"),
                          tuple(page["fields"]), bool(page.get("one_question")),
                          page.get("section")))
    return tuple(pages)


def inside_array(key: str, known: Mapping[str, Field]) -> bool:
    parts = paths.split(key)
    for end in range(1, len(parts)):
        parent = known.get(paths.join(*parts[:end]))
        if parent is not None and parent.widget in ("repeatable", "checkboxes"):
            return True
    return False


def sections(ui: Mapping[str, Any], pages: tuple[Page, ...], err: Any) -> tuple[Section, ...]:
    """The task-list sections of ``ui.sections`` with their pages."""
    declared = ui.get("sections") or []
    ids = [s["id"] for s in declared]
    for index, page in enumerate(pages):
        if page.section and page.section not in ids:
            err(f"/ui/pages/{index}/section", f"no section {page.section!r} in ui.sections")
    return tuple(Section(s["id"], s["title"], tuple(p.id for p in pages if p.section == s["id"]))
                 for s in declared)


def rules(logic: list[Mapping[str, Any]], known: Mapping[str, Field], page_ids: set[str],
          err: Any) -> tuple[Rule, ...]:
    """The rules of ``logic``, each checked against the fields and pages."""
    rules: list[Rule] = []
    ids: set[str] = set()
    # Conditions written the same way (a show rule and its require rule, say) become one
    # object, so that one evaluation pass runs each once (state._run).
    conditions: dict[str, Any] = {}

    def _shared(when: Any) -> Any:
        if when is None:
            return None
        return conditions.setdefault(json.dumps(when, sort_keys=True, default=str), when)

    for index, spec in enumerate(logic):
        pointer = f"/logic/{index}"
        actions = [a for a in ACTIONS if a in spec]
        if len(actions) != 1:
            err(pointer, "a rule needs exactly one of " + ", ".join(ACTIONS))
            continue
        action = actions[0]
        rule_id = spec.get("id") or f"rule-{index + 1}"
        if rule_id in ids:
            err(pointer + "/id", f"rule id {rule_id!r} is used twice")
        ids.add(rule_id)
        target = spec[action] if action != "block" else None
        if action in ("show_page", "hide_page"):
            if target not in page_ids:
                err(f"{pointer}/{action}", f"no page {target!r}")
        elif target is not None and target not in known:
            err(f"{pointer}/{action}", f"no field {target!r} in the schema")
        elif target is not None and inside_array(target, known):
            err(f"{pointer}/{action}", f"{target!r} is inside a repeatable group; rules act on "
                "the whole group")
        if action == "set" and "value" not in spec:
            err(pointer, "a set rule needs a value (a JsonLogic expression)")
        if action != "set" and "value" in spec:
            err(pointer + "/value", "only set rules take a value")
        if action == "block":
            if spec.get("field") is not None and spec["field"] not in known:
                err(pointer + "/field", f"no field {spec['field']!r} in the schema")
            if spec.get("page") is not None and spec["page"] not in page_ids:
                err(pointer + "/page", f"no page {spec['page']!r}")
        elif "field" in spec or "page" in spec:
            err(pointer, "only block rules take field or page")
        if action != "set" and "when" not in spec:
            err(pointer, f"a {action} rule needs a when condition")
        for word in ("when", "value"):
            if word not in spec:
                continue
            for message in formats_and_rules.check_rule(spec[word]):
                err(f"{pointer}/{word}", message)
            for var in sorted(formats_and_rules.referenced_vars(spec[word])):
                if var_key(var, known) is None:
                    err(f"{pointer}/{word}", f"the rule reads {var!r}, which is not a field")
        rules.append(Rule(rule_id, action, target, _shared(spec.get("when")),
                          spec.get("value"), spec.get("block"), spec.get("field"),
                          spec.get("page"), pointer))
    return tuple(rules)


def var_key(var: str, known: Mapping[str, Field]) -> str | None:
    """The field a JsonLogic ``var`` reads (indices dropped), or None."""
    parts = [p for p in var.split(".") if not paths.is_index(p)]
    key = ".".join(parts)
    if key in known:
        return key
    return None
