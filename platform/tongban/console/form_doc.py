"""A form file as the form editor sees it: parsed text, its questions and pages, written back in
the canonical form (2-space indent, Chinese kept as it is, keys in their existing order).

Reading only; the edits themselves are in :mod:`tongban.console.form_edit`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..forms.schema_tree import ordered_names
from ..i18n import N_
from .edits import EditRefused

Doc = dict[str, Any]


class EditError(EditRefused):
    """An edit of a form file refused: ``template % params`` is the English message."""


# The question types offered, in the order of the "add a question" list. Each is the schema and
# ui a new question starts from; the widget follows from the schema as the engine decides.
QUESTION_TYPES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "text": (N_("Short text"), {"type": "string", "maxLength": 100}, {}),
    "textarea": (N_("Long text"), {"type": "string", "maxLength": 2000}, {"widget": "textarea"}),
    "integer": (N_("Whole number"), {"type": "integer"}, {}),
    "number": (N_("Number"), {"type": "number"}, {}),
    "date": (N_("Date"), {"type": "string", "format": "date"}, {}),
    "yes_no": (N_("Yes or no"), {"type": "boolean"}, {}),
    "choice": (N_("One choice"), {"oneOf": [{"const": "option-1", "title": "选项一"},
                                            {"const": "option-2", "title": "选项二"}]},
               {"options": {"option-1": {"zh": "选项一", "en": "Option 1"},
                            "option-2": {"zh": "选项二", "en": "Option 2"}}}),
    "choices": (N_("Several choices"),
                {"type": "array", "uniqueItems": True,
                 "items": {"oneOf": [{"const": "option-1", "title": "选项一"},
                                     {"const": "option-2", "title": "选项二"}]}},
                {"options": {"option-1": {"zh": "选项一", "en": "Option 1"},
                             "option-2": {"zh": "选项二", "en": "Option 2"}}}),
    "file": (N_("File upload"), {"type": "string", "contentMediaType": "application/pdf"},
             {"accept": ["pdf", "jpeg", "png"]}),
    "id_number": (N_("ID card number"), {"type": "string", "format": "cn-id-number"}, {}),
    "mobile": (N_("Mobile number"), {"type": "string", "format": "cn-mobile"}, {}),
    "uscc": (N_("Unified social credit code"), {"type": "string", "format": "cn-uscc"}, {}),
    "postal_code": (N_("Postal code"), {"type": "string", "format": "cn-postal-code"}, {}),
    "region": (N_("Province, city and district"), {"type": "string", "format": "cn-region"}, {}),
    "address": (N_("Street address"), {"type": "string", "maxLength": 200},
                {"widget": "textarea", "rows": 2, "autocomplete": "street-address"}),
    "email": (N_("Email address"), {"type": "string", "format": "email"}, {}),
}
_FORMAT_KINDS = {"cn-id-number": "id_number", "cn-mobile": "mobile", "cn-uscc": "uscc",
                 "cn-postal-code": "postal_code", "cn-region": "region", "date": "date",
                 "email": "email"}

# Patterns an administrator picks by name (never types): the regex is written into the schema.
NAMED_PATTERNS: dict[str, tuple[str, str]] = {
    "han": (N_("Chinese characters only"), "^\\p{Han}+$"),
    "cn_name": (N_("A name in Chinese characters"), "^[\\p{Han}·]{2,20}$"),
    "digits": (N_("Digits only"), "^[0-9]+$"),
    "letters_digits": (N_("Letters and digits only"), "^[A-Za-z0-9]+$"),
    "plate": (N_("Vehicle plate number"), "^\\p{Han}[A-Z][A-Z0-9]{5,6}$"),
    "landline": (N_("Landline phone number"), "^0[0-9]{2,3}-?[0-9]{7,8}$"),
}

# Condition operators: the words in the dropdown and the JsonLogic operator they write.
OPERATORS: dict[str, str] = {
    "eq": N_("is"),
    "ne": N_("is not"),
    "gt": N_("is more than"),
    "lt": N_("is less than"),
    "contains": N_("includes"),
    "answered": N_("is answered"),
    "not_answered": N_("is not answered"),
}
UNARY_OPERATORS = frozenset({"answered", "not_answered"})
_LOGIC_OPERATORS = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<"}


@dataclass(frozen=True)
class Choice:
    value: Any
    zh: str
    en: str


@dataclass(frozen=True)
class Clause:
    question: str
    operator: str
    value: Any = None


@dataclass(frozen=True)
class Condition:
    combine: str  # "all" or "any"
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class QuestionEdit:
    """What an administrator sets on a question (the panel's fields); blanks as None."""

    label_zh: str
    label_en: str = ""
    hint_zh: str = ""
    hint_en: str = ""
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str = ""  # a key of NAMED_PATTERNS, "custom" for one typed in the text view
    choices: tuple[Choice, ...] | None = None  # None: leave the choices as they are


@dataclass(frozen=True)
class Question(QuestionEdit):
    """A question as the list shows it: what the panel edits, and where it stands."""

    key: str = field(kw_only=True)
    kind: str | None = field(kw_only=True)  # a key of QUESTION_TYPES, "group", None: text view
    condition: Condition | None = None
    condition_custom: bool = False  # a show/hide rule the dropdowns cannot show
    depth: int = 0  # 1 for a question inside a group
    page: str = "main"


@dataclass
class PageView:
    id: str
    title_zh: str
    title_en: str
    section: str
    questions: list[Question]


def parse(text: str) -> Doc:
    """The form file's text as a document; a file that is not a JSON object is refused."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EditError(N_("The form file is not valid JSON (line %(line)s, column %(column)s): "
                           "correct it in the text view."), line=exc.lineno,
                        column=exc.colno) from exc
    if not isinstance(doc, dict):
        raise EditError(N_("The form file must be a JSON object: correct it in the text view."))
    return doc


def dump(doc: Doc) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def obj(value: Any) -> dict[str, Any]:
    """A JSON object of the file, or an empty one where the file has something else."""
    return value if isinstance(value, dict) else {}


def arr(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def escape_key(name: str) -> str:
    return name.replace("~", "~0").replace(".", "~1")


def split_key(key: str) -> list[str]:
    return [s.replace("~1", ".").replace("~0", "~") for s in key.split(".")]


def schema_node(doc: Doc, key: str) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
    """(parent object schema, property name, property schema) of a question the editor can
    change: one reached through ``properties`` only."""
    parent = doc.get("schema")
    names = split_key(key)
    for depth, name in enumerate(names):
        if not isinstance(parent, dict):
            return None
        props = parent.get("properties")
        if not isinstance(props, dict) or not isinstance(props.get(name), dict):
            return None
        if depth == len(names) - 1:
            return parent, name, props[name]
        parent = props[name]
    return None


def ui_fields(doc: Doc) -> dict[str, Any]:
    ui = doc.get("ui") if isinstance(doc.get("ui"), dict) else {}
    fields = ui.get("fields") if isinstance(ui, dict) else None
    return fields if isinstance(fields, dict) else {}


def _text(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or "")
    return str(value) if isinstance(value, str) and lang == "zh" else ""


def kind_of(node: dict[str, Any], ui: dict[str, Any]) -> str | None:
    if "contentMediaType" in node or ui.get("widget") == "file":
        return "file"
    kind_by_format = _FORMAT_KINDS.get(str(node.get("format", "")))
    if kind_by_format:
        return kind_by_format
    if "oneOf" in node or "enum" in node:
        return "choice"
    if node.get("type") == "array" and isinstance(node.get("items"), dict) and (
            "oneOf" in node["items"] or "enum" in node["items"]):
        return "choices"
    simple = {"integer": "integer", "number": "number", "boolean": "yes_no"}
    if node.get("type") in simple:
        return simple[node["type"]]
    if node.get("type") == "string":
        if ui.get("autocomplete") == "street-address":
            return "address"
        return "textarea" if ui.get("widget") == "textarea" else "text"
    if node.get("type") == "object" and isinstance(node.get("properties"), dict):
        return "group"  # a group of questions: its texts and whether it is required
    return None


def choices_of(node: dict[str, Any], ui: dict[str, Any]) -> list[Choice]:
    source = node.get("items", node) if node.get("type") == "array" else node
    options = obj(ui.get("options"))
    found: list[Choice] = []
    if isinstance(source.get("oneOf"), list):
        for option in source["oneOf"]:
            if isinstance(option, dict) and "const" in option:
                label = options.get(str(option["const"]), {})
                found.append(Choice(option["const"], _text(label, "zh") or str(
                    option.get("title", option["const"])), _text(label, "en")))
    elif isinstance(source.get("enum"), list):
        for value in source["enum"]:
            label = options.get(str(value), {})
            found.append(Choice(value, _text(label, "zh") or str(value), _text(label, "en")))
    return found


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _question(doc: Doc, key: str, depth: int, page: str,
              conditions: dict[str, tuple[Condition | None, bool]]) -> Question:
    ui = ui_fields(doc).get(key)
    ui = ui if isinstance(ui, dict) else {}
    found = schema_node(doc, key)
    node = found[2] if found else {}
    required = bool(found and key.split(".")[-1] in (found[0].get("required") or []))
    kind = kind_of(node, ui) if found else None
    pattern = ""
    if "pattern" in node:
        pattern = next((name for name, (_, regex) in NAMED_PATTERNS.items()
                        if regex == node["pattern"]), "custom")
    condition, custom = conditions.get(key, (None, False))
    return Question(
        key=key, kind=kind,
        label_zh=_text(ui.get("label"), "zh") or str(node.get("title") or key),
        label_en=_text(ui.get("label"), "en"),
        hint_zh=_text(ui.get("hint"), "zh") or str(node.get("description") or ""),
        hint_en=_text(ui.get("hint"), "en"), required=required,
        min_length=node.get("minLength"), max_length=node.get("maxLength"),
        minimum=_number(node.get("minimum")), maximum=_number(node.get("maximum")),
        pattern=pattern,
        choices=tuple(choices_of(node, ui)) if kind in ("choice", "choices") else (),
        condition=condition, condition_custom=custom, depth=depth, page=page)


def top_level_order(doc: Doc) -> list[str]:
    """The top-level question keys in the order the engine shows them without pages."""
    props = obj(obj(doc.get("schema")).get("properties"))
    return ordered_names([escape_key(n) for n in props], obj(doc.get("ui")).get("order"))


def pages_of(doc: Doc) -> list[dict[str, Any]]:
    ui = doc.get("ui") if isinstance(doc.get("ui"), dict) else {}
    pages = ui.get("pages") if isinstance(ui, dict) else None
    return [p for p in pages if isinstance(p, dict)] if isinstance(pages, list) else []


def page_views(doc: Doc) -> list[PageView]:
    """Pages with their questions (groups followed by the questions inside them), as listed."""
    conditions = read_conditions(doc)
    declared = pages_of(doc)
    if not declared:
        declared = [{"id": "main", "fields": top_level_order(doc)}]
    views = []
    for page in declared:
        page_id = str(page.get("id", ""))
        questions: list[Question] = []
        for key in page.get("fields") or []:
            if not isinstance(key, str):
                continue
            questions.append(_question(doc, key, 0, page_id, conditions))
            found = schema_node(doc, key)
            children = found[2].get("properties") if found else None
            if found and found[2].get("type") == "object" and isinstance(children, dict):
                for child in children:
                    questions.append(_question(doc, f"{key}.{escape_key(child)}", 1, page_id,
                                               conditions))
        views.append(PageView(page_id, _text(page.get("title"), "zh"),
                              _text(page.get("title"), "en"), str(page.get("section") or ""),
                              questions))
    return views


def all_questions(doc: Doc) -> list[Question]:
    return [q for page in page_views(doc) for q in page.questions]


def _clause(logic: Any) -> Clause | None:
    if not isinstance(logic, dict) or len(logic) != 1:
        return None
    (op, args), = logic.items()
    if op in ("!!", "!"):
        arg = args[0] if isinstance(args, list) and len(args) == 1 else args
        if isinstance(arg, dict) and set(arg) == {"var"} and isinstance(arg["var"], str):
            return Clause(arg["var"], "answered" if op == "!!" else "not_answered")
        return None
    if not isinstance(args, list) or len(args) != 2:
        return None
    first, second = args
    if op == "in" and isinstance(second, dict) and set(second) == {"var"} \
            and not isinstance(first, dict | list):
        return Clause(str(second["var"]), "contains", first)
    name = {v: k for k, v in _LOGIC_OPERATORS.items()}.get(op)
    if name and isinstance(first, dict) and set(first) == {"var"} \
            and isinstance(first["var"], str) and not isinstance(second, dict | list):
        return Clause(first["var"], name, second)
    return None


def parse_condition(logic: Any) -> Condition | None:
    """The dropdowns' view of a JsonLogic condition, or None when it has another shape."""
    if isinstance(logic, dict) and len(logic) == 1 and next(iter(logic)) in ("and", "or"):
        (op, parts), = logic.items()
        if not isinstance(parts, list) or not parts:
            return None
        clauses = [_clause(p) for p in parts]
        if any(c is None for c in clauses):
            return None
        return Condition("all" if op == "and" else "any", tuple(c for c in clauses if c))
    clause = _clause(logic)
    return Condition("all", (clause,)) if clause else None


def condition_logic(condition: Condition) -> Any:
    """The JsonLogic a condition stands for."""
    parts = []
    for clause in condition.clauses:
        var = {"var": clause.question}
        if clause.operator == "answered":
            parts.append({"!!": [var]})
        elif clause.operator == "not_answered":
            parts.append({"!": [var]})
        elif clause.operator == "contains":
            parts.append({"in": [clause.value, var]})
        else:
            parts.append({_LOGIC_OPERATORS[clause.operator]: [var, clause.value]})
    if len(parts) == 1:
        return parts[0]
    return {"and" if condition.combine == "all" else "or": parts}


def read_conditions(doc: Doc) -> dict[str, tuple[Condition | None, bool]]:
    """question key -> (its show condition, whether some rule on it is beyond the dropdowns)."""
    found: dict[str, tuple[Condition | None, bool]] = {}
    logic = arr(doc.get("logic"))
    for rule in logic:
        if not isinstance(rule, dict):
            continue
        for action in ("show", "hide"):
            target = rule.get(action)
            if not isinstance(target, str):
                continue
            before = found.get(target)
            condition = parse_condition(rule.get("when")) if action == "show" else None
            if before is not None or condition is None:
                found[target] = (before[0] if before else None, True)
            else:
                found[target] = (condition, False)
    return found


def question_of_pointer(doc: Doc, pointer: str) -> str | None:
    """The question a problem's JSON pointer is about, when it is about one."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if len(parts) >= 3 and parts[:2] == ["ui", "fields"]:
        return parts[2]
    if parts[:1] == ["schema"]:
        names = []
        index = 1
        while index + 1 < len(parts) and parts[index] == "properties":
            names.append(escape_key(parts[index + 1]))
            index += 2
        if names:
            return ".".join(names)
        if len(parts) >= 3 and parts[1] == "required" and parts[2].isdigit():
            required = (doc.get("schema") or {}).get("required") or []
            index = int(parts[2])
            return str(required[index]) if index < len(required) else None
    if len(parts) >= 2 and parts[0] == "logic" and parts[1].isdigit():
        logic = arr(doc.get("logic"))
        index = int(parts[1])
        rule = logic[index] if index < len(logic) else None
        if isinstance(rule, dict):
            for action in ("show", "hide", "require", "set"):
                if isinstance(rule.get(action), str):
                    return str(rule[action])
    return None
