"""The form editor's edits: pure functions from a form document to a new one.

Each takes the parsed form file (:func:`form_doc.parse`) and returns a changed copy, or raises
:class:`EditError` with the message the administrator reads; the input is never changed. The
web layer writes the result back with :func:`form_doc.dump` through ``workspace.save_file``.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ..i18n import N_
from .form_doc import (
    NAMED_PATTERNS,
    OPERATORS,
    QUESTION_TYPES,
    UNARY_OPERATORS,
    Choice,
    Clause,
    Condition,
    Doc,
    EditError,
    QuestionEdit,
    all_questions,
    arr,
    choices_of,
    condition_logic,
    escape_key,
    kind_of,
    pages_of,
    schema_node,
    top_level_order,
)

_PAGE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _ui(doc: Doc) -> dict[str, Any]:
    ui = doc.setdefault("ui", {})
    if not isinstance(ui, dict):
        raise EditError(N_("The form file's \"ui\" must be an object: correct it in the text "
                           "view."))
    return ui


def _ui_field(doc: Doc, key: str) -> dict[str, Any]:
    fields = _ui(doc).setdefault("fields", {})
    return fields.setdefault(key, {})


def _editable(doc: Doc, key: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    found = schema_node(doc, key)
    if found is None:
        raise EditError(N_("The question \"%(key)s\" is not one the question list can change: "
                           "edit it in the text view."), key=key)
    return found


def _properties(doc: Doc) -> dict[str, Any]:
    schema = doc.setdefault("schema", {"type": "object"})
    if not isinstance(schema, dict):
        raise EditError(N_("The form's schema must be an object: correct it in the text view."))
    schema.setdefault("type", "object")
    return schema.setdefault("properties", {})


def _lang_text(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en} if en else {"zh": zh}


def new_key(doc: Doc) -> str:
    props = _properties(copy.deepcopy(doc))
    number = len(props) + 1
    while f"q{number}" in props:
        number += 1
    return f"q{number}"


def add_question(doc: Doc, kind: str, label_zh: str, label_en: str = "", *,
                 page_id: str | None = None) -> tuple[Doc, str]:
    """A new question at the end of a page (the last one when none is named); returns the
    new document and the question's key."""
    if kind not in QUESTION_TYPES:
        raise EditError(N_("Choose the type of question."))
    label_zh, label_en = label_zh.strip(), label_en.strip()
    if not label_zh:
        raise EditError(N_("Enter the question in Chinese."))
    doc = copy.deepcopy(doc)
    key = new_key(doc)
    _, schema, ui = QUESTION_TYPES[kind]
    _properties(doc)[key] = {**copy.deepcopy(schema), "title": label_zh}
    _ui(doc).setdefault("fields", {})[key] = {"label": _lang_text(label_zh, label_en),
                                              **copy.deepcopy(ui)}
    pages = pages_of(doc)
    if pages:
        page = _page(doc, page_id) if page_id else pages[-1]
        page.setdefault("fields", []).append(key)
    else:
        order = _ui(doc).get("order")
        if isinstance(order, list) and "*" not in order:
            order.append(key)
    return doc, key


def _page(doc: Doc, page_id: str) -> dict[str, Any]:
    for page in pages_of(doc):
        if page.get("id") == page_id:
            return page
    raise EditError(N_("There is no page \"%(page)s\" in this form."), page=page_id)


def update_question(doc: Doc, key: str, edit: QuestionEdit) -> Doc:
    """Change a question's texts, whether it must be answered, its limits and choices."""
    label_zh = edit.label_zh.strip()
    if not label_zh:
        raise EditError(N_("Enter the question in Chinese."))
    for low, high, message in (
            (edit.min_length, edit.max_length,
             N_("The shortest answer cannot be longer than the longest answer.")),
            (edit.minimum, edit.maximum,
             N_("The smallest number cannot be more than the largest number."))):
        if low is not None and high is not None and low > high:
            raise EditError(message)
    if edit.min_length is not None and edit.min_length < 0 or \
            edit.max_length is not None and edit.max_length < 0:
        raise EditError(N_("A length cannot be less than 0."))
    if edit.pattern and edit.pattern != "custom" and edit.pattern not in NAMED_PATTERNS:
        raise EditError(N_("Choose an answer format from the list."))
    doc = copy.deepcopy(doc)
    parent, name, node = _editable(doc, key)
    ui = _ui_field(doc, key)
    node["title"] = label_zh
    ui["label"] = _lang_text(label_zh, edit.label_en.strip())
    if edit.hint_zh.strip():
        ui["hint"] = _lang_text(edit.hint_zh.strip(), edit.hint_en.strip())
        node.pop("description", None)
    else:
        ui.pop("hint", None)
        node.pop("description", None)
    required = parent.setdefault("required", [])
    if edit.required and name not in required:
        required.append(name)
    elif not edit.required and name in required:
        required.remove(name)
    if not required:
        parent.pop("required")
    kind = kind_of(node, ui)
    if kind in ("text", "textarea", "address"):
        _set_or_drop(node, "minLength", edit.min_length)
        _set_or_drop(node, "maxLength", edit.max_length)
        if edit.pattern != "custom":
            _set_or_drop(node, "pattern", NAMED_PATTERNS[edit.pattern][1] if edit.pattern
                         else None)
    if kind in ("integer", "number"):
        _set_or_drop(node, "minimum", edit.minimum)
        _set_or_drop(node, "maximum", edit.maximum)
    if kind in ("choice", "choices") and edit.choices is not None:
        _set_choices(node, ui, edit.choices, key)
    return doc


def _set_or_drop(node: dict[str, Any], name: str, value: Any) -> None:
    if value is None:
        node.pop(name, None)
    else:
        node[name] = int(value) if isinstance(value, float) and value.is_integer() else value


def _set_choices(node: dict[str, Any], ui: dict[str, Any], choices: tuple[Choice, ...],
                 key: str) -> None:
    if not choices:
        raise EditError(N_("Give the question at least one choice."))
    zh_seen: set[str] = set()
    for choice in choices:
        if choice.zh in zh_seen:
            raise EditError(N_("The choice \"%(choice)s\" is listed twice."), choice=choice.zh)
        zh_seen.add(choice.zh)
    used = {str(c.value) for c in choices if c.value is not None}
    values = []
    for choice in choices:
        value = choice.value
        if value is None:
            number = 1
            while f"option-{number}" in used:
                number += 1
            value = f"option-{number}"
            used.add(value)
        values.append(Choice(value, choice.zh, choice.en))
    source = node["items"] if node.get("type") == "array" else node
    source.pop("enum", None)
    source["oneOf"] = [{"const": c.value, "title": c.zh} for c in values]
    ui["options"] = {str(c.value): _lang_text(c.zh, c.en) for c in values}


def _containing_list(doc: Doc, key: str) -> list[Any]:
    """The list a question is ordered in: its page's fields, or the top-level order."""
    for page in pages_of(doc):
        fields = page.get("fields")
        if isinstance(fields, list) and key in fields:
            return fields
    if "." in key:
        raise EditError(N_("A question inside a group moves with its group: edit the order in "
                           "the text view."))
    ui = _ui(doc)
    order = ui.get("order")
    if isinstance(order, list) and "*" not in order:
        for name in top_level_order(doc):
            if name not in order:
                order.append(name)
        return order
    # No pages and no order: the order is the order of the schema's properties.
    return top_level_order(doc)


def move_question(doc: Doc, key: str, direction: str) -> Doc:
    """One place up or down; past the top or bottom of a page, onto the page before or after."""
    if direction not in ("up", "down"):
        raise EditError(N_("Choose whether to move the question up or down."))
    doc = copy.deepcopy(doc)
    _editable(doc, key)
    order = _containing_list(doc, key)
    index = order.index(key)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(order):
        order[index], order[target] = order[target], order[index]
    else:
        pages = pages_of(doc)
        page_index = next((i for i, p in enumerate(pages) if p.get("fields") is order), None)
        other = None if page_index is None else page_index + (-1 if direction == "up" else 1)
        if other is None or not 0 <= other < len(pages):
            raise EditError(N_("The question is already the first or last one."))
        assert page_index is not None  # ``other`` is only set for a page's list
        if len(order) == 1 and _page_named(doc, pages[page_index].get("id")):
            raise EditError(N_("The question is the only one on its page and a rule of the "
                               "form names that page: edit it in the text view."))
        order.remove(key)
        fields = pages[other].setdefault("fields", [])
        fields.insert(len(fields) if direction == "up" else 0, key)
        if not order:  # the page it left is empty: a page needs a question
            _ui(doc)["pages"].remove(pages[page_index])
    if not pages_of(doc) and not isinstance(_ui(doc).get("order"), list):
        _reorder_properties(doc, order)
    return doc


def _page_named(doc: Doc, page_id: Any) -> bool:
    """Whether a rule shows, hides or blocks on this page."""
    return any(isinstance(r, dict) and page_id in (r.get("show_page"), r.get("hide_page"),
                                                   r.get("page")) for r in arr(doc.get("logic")))


def _reorder_properties(doc: Doc, order: list[str]) -> None:
    props = _properties(doc)
    names = {escape_key(n): n for n in props}
    reordered = {names[k]: props[names[k]] for k in order if k in names}
    props.clear()
    props.update(reordered)


def _uses(doc: Doc, key: str) -> list[str]:
    """Other questions whose condition reads this one, by their Chinese label."""
    found = []
    questions = {q.key: q for q in all_questions(doc)}
    for rule in doc.get("logic") or []:
        if not isinstance(rule, dict):
            continue
        target = next((rule[a] for a in ("show", "hide", "require", "set")
                       if isinstance(rule.get(a), str)), None)
        if target == key:
            continue
        if _reads(rule.get("when"), key) or _reads(rule.get("value"), key):
            label = questions[target].label_zh if target in questions else str(target or "")
            found.append(label)
    return found


def _reads(logic: Any, key: str) -> bool:
    if isinstance(logic, dict):
        if "var" in logic:
            var = logic["var"]
            name = var[0] if isinstance(var, list) and var else var
            return isinstance(name, str) and (name == key or name.startswith(key + "."))
        return any(_reads(v, key) for v in logic.values())
    if isinstance(logic, list):
        return any(_reads(v, key) for v in logic)
    return False


def _remove(doc: Doc, key: str) -> None:
    """Take one question (or group) out of the schema, its ui, the order and the pages."""
    parent, name, _ = _editable(doc, key)
    del parent["properties"][name]
    if name in (parent.get("required") or []):
        parent["required"].remove(name)
        if not parent["required"]:
            del parent["required"]
    fields = _ui(doc).get("fields")
    if isinstance(fields, dict):
        for field_key in [k for k in fields if k == key or k.startswith(key + ".")]:
            del fields[field_key]
    order = _ui(doc).get("order")
    if isinstance(order, list) and key in order:
        order.remove(key)
    pages = pages_of(doc)
    for page in pages:
        if key in (page.get("fields") or []):
            page["fields"].remove(key)
    if pages and any(not p.get("fields") for p in pages):
        _ui(doc)["pages"] = [p for p in pages if p.get("fields")] or None
        if not _ui(doc)["pages"]:
            del _ui(doc)["pages"]


def delete_question(doc: Doc, key: str) -> Doc:
    """Remove a question, its ui and the rules about it; refused while another question's
    condition reads it."""
    users = _uses(doc, key)
    if users:
        raise EditError(N_("The condition of \"%(other)s\" uses this question: change that "
                           "condition first."), other=users[0])
    doc = copy.deepcopy(doc)
    _editable(doc, key)
    removed = {key}
    while True:
        _remove(doc, key)
        removed.add(key)
        # A group left without questions goes too: an empty object has nothing to ask, and
        # the form engine would draw it for applicants as a box for raw JSON.
        group = key.rpartition(".")[0]
        found = schema_node(doc, group) if group else None
        if found is None or found[2].get("properties") or found[2].get("type") != "object":
            break
        key = group
    if isinstance(doc.get("logic"), list):
        doc["logic"] = [r for r in doc["logic"] if not (isinstance(r, dict) and any(
            r.get(a) in removed for a in ("show", "hide", "require", "set")))]
    return doc


def set_condition(doc: Doc, key: str, condition: Condition | None) -> Doc:
    """Show the question only while the condition holds (None: always show it). The rule
    written is a ``show`` rule whose JsonLogic comes from the dropdowns."""
    doc = copy.deepcopy(doc)
    _editable(doc, key)
    questions = {q.key: q for q in all_questions(doc)}
    logic = arr(doc.get("logic"))
    rules = [r for r in logic if not (isinstance(r, dict) and (r.get("show") == key
                                                               or r.get("hide") == key))]
    if condition is not None:
        if condition.combine not in ("all", "any"):
            raise EditError(N_("Choose whether all or any of the conditions must hold."))
        clauses = tuple(_checked_clause(doc, key, c, questions) for c in condition.clauses)
        if not clauses:
            raise EditError(N_("Choose the question the condition is about."))
        rule: dict[str, Any] = {"show": key,
                                "when": condition_logic(Condition(condition.combine, clauses))}
        rule_id = "show-" + key.replace(".", "-").lower()
        if _PAGE_ID.match(rule_id) and not any(isinstance(r, dict) and r.get("id") == rule_id
                                               for r in rules):
            rule = {"id": rule_id, **rule}
        rules.append(rule)
    if rules:
        doc["logic"] = rules
    else:
        doc.pop("logic", None)
    return doc


def _checked_clause(doc: Doc, key: str, clause: Clause, questions: dict[str, Any]) -> Clause:
    other = questions.get(clause.question)
    if other is None:
        raise EditError(N_("Choose the question the condition is about."))
    if clause.question == key:
        raise EditError(N_("A question cannot depend on its own answer."))
    if clause.operator not in OPERATORS:
        raise EditError(N_("Choose how the answer is compared."))
    if clause.operator in UNARY_OPERATORS:
        return Clause(clause.question, clause.operator)
    value = clause.value
    if isinstance(value, str):
        value = value.strip()
    if value in (None, ""):
        raise EditError(N_("Choose or enter the answer the condition compares with."))
    kind = other.kind
    if clause.operator == "contains" and kind != "choices":
        raise EditError(N_("\"includes\" only fits a question with several choices."))
    if clause.operator in ("gt", "lt") and kind not in ("integer", "number"):
        raise EditError(N_("\"is more than\" and \"is less than\" only fit a number question."))
    if kind in ("choice", "choices"):
        found = schema_node(doc, clause.question)
        ui = (doc.get("ui") or {}).get("fields", {}).get(clause.question, {})
        choices = choices_of(found[2], ui) if found else []
        match = next((c.value for c in choices if str(c.value) == str(value)
                      or c.zh == value or c.en == value), None)
        if match is None:
            raise EditError(N_("\"%(value)s\" is not one of the choices of \"%(question)s\"."),
                            value=value, question=other.label_zh)
        return Clause(clause.question, clause.operator, match)
    if kind == "yes_no":
        if str(value).lower() in ("true", "yes", "是"):
            return Clause(clause.question, clause.operator, True)
        if str(value).lower() in ("false", "no", "否"):
            return Clause(clause.question, clause.operator, False)
        raise EditError(N_("Choose yes or no."))
    if kind in ("integer", "number"):
        try:
            number = float(str(value))
        except ValueError:
            raise EditError(N_("Enter a number for \"%(question)s\"."),
                            question=other.label_zh) from None
        return Clause(clause.question, clause.operator,
                      int(number) if number.is_integer() else number)
    return Clause(clause.question, clause.operator, value)


def split_page(doc: Doc, key: str, title_zh: str, title_en: str = "") -> Doc:
    """Start a new page at this question: it and the questions after it on its page move to
    the new page. A form without pages first becomes one page of every question."""
    title_zh = title_zh.strip()
    if not title_zh:
        raise EditError(N_("Enter the page title in Chinese."))
    doc = copy.deepcopy(doc)
    _editable(doc, key)
    ui = _ui(doc)
    if not pages_of(doc):
        title = doc.get("title") if isinstance(doc.get("title"), dict) else {"zh": ""}
        ui["pages"] = [{"id": "page-1", "title": copy.deepcopy(title),
                        "fields": top_level_order(doc)}]
    pages = pages_of(doc)
    index = next((i for i, p in enumerate(pages) if key in (p.get("fields") or [])), None)
    if index is None:
        raise EditError(N_("Only a question directly on a page can start a new page."))
    fields = pages[index]["fields"]
    at = fields.index(key)
    if at == 0:
        raise EditError(N_("The question already starts its page."))
    taken = {str(p.get("id")) for p in pages}
    number = len(pages) + 1
    while f"page-{number}" in taken:
        number += 1
    new_page: dict[str, Any] = {"id": f"page-{number}", "title": _lang_text(title_zh,
                                                                            title_en.strip()),
                                "fields": fields[at:]}
    if pages[index].get("section"):
        new_page["section"] = pages[index]["section"]
    del fields[at:]
    ui["pages"].insert(ui["pages"].index(pages[index]) + 1, new_page)
    return doc


def rename_page(doc: Doc, page_id: str, title_zh: str, title_en: str = "") -> Doc:
    title_zh = title_zh.strip()
    if not title_zh:
        raise EditError(N_("Enter the page title in Chinese."))
    doc = copy.deepcopy(doc)
    _page(doc, page_id)["title"] = _lang_text(title_zh, title_en.strip())
    return doc


def merge_page(doc: Doc, page_id: str) -> Doc:
    """Remove a page break: the page's questions join the page before it."""
    doc = copy.deepcopy(doc)
    pages = pages_of(doc)
    page = _page(doc, page_id)
    index = pages.index(page)
    if index == 0:
        raise EditError(N_("The first page has no page before it to join."))
    if _page_named(doc, page_id):
        raise EditError(N_("A rule of the form names this page: edit it in the text view."))
    pages[index - 1].setdefault("fields", []).extend(page.get("fields") or [])
    _ui(doc)["pages"].remove(page)
    if len(_ui(doc)["pages"]) == 1 and not pages[0].get("section"):
        del _ui(doc)["pages"]
    return doc


__all__ = ["QuestionEdit", "add_question", "delete_question", "merge_page", "move_question",
           "rename_page", "set_condition", "split_page", "update_question"]
