"""The citizen's self-check (自测): only the questions a rule set reads, as a one-page form.

The questions come from the service's own form: the schema, labels and rules of the
questions the rule set's inputs name (and of the questions a calculated one is made from),
on one page. An input the form lacks, or every input when no service form names the rule set,
is asked from its declared type. The answers are shaped like the application's, so the same
``evaluate`` scores them; nothing is stored.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tongban.forms import coerce, formats_and_rules, state
from tongban.forms.definition import FormDefinition, load_form
from tongban.forms.errors import FieldError

PAGE_ID = "check"
PAGE_TITLE = {"zh": "回答积分规则用到的问题", "en": "Answer the questions the rules use"}

_TYPES: dict[str, dict[str, Any]] = {
    "date": {"type": "string", "format": "date"},
    "integer": {"type": "integer", "minimum": 0},
    "number": {"type": "number", "minimum": 0},
    "boolean": {"type": "boolean"},
    "string": {"type": "string", "maxLength": 200},
    "dates": {"type": "array", "items": {"type": "string", "format": "date"}, "maxItems": 20},
    "list": {"type": "array", "items": {"type": "string", "format": "date"}, "maxItems": 20},
}


def answer_paths(rules: Mapping[str, Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(input id, dotted answer path, input spec) of each input read from the answers, in the
    rule set's order. Derived inputs and other sources (``connector.…``) are not asked."""
    found = []
    used = used_inputs(rules)
    for input_id, spec in (rules.get("inputs") or {}).items():
        path = spec.get("from") if isinstance(spec, Mapping) else None
        if input_id in used and isinstance(path, str) and path and not spec.get("derive") \
                and not path.startswith(("connector.", "extra.")):
            found.append((input_id, path, spec))
    return found


def used_inputs(rules: Mapping[str, Any]) -> set[str]:
    """The inputs an indicator that is switched on reads, and what those are derived from."""
    inputs: Mapping[str, Any] = rules.get("inputs") or {}
    parameters: Mapping[str, Any] = rules.get("parameters") or {}
    found: set[str] = set()
    for indicator in rules.get("indicators") or []:
        enabled = indicator.get("enabled", True)
        if isinstance(enabled, Mapping):
            enabled = (parameters.get(str(enabled.get("param"))) or {}).get("value")
        if enabled is False:
            continue
        if indicator.get("input"):
            found.add(indicator["input"])
        found |= {c["input"] for c in indicator.get("components") or [] if c.get("input")}
        found |= _reads(indicator.get("when"))
    queue = list(found)
    while queue:
        derive = (inputs.get(queue.pop()) or {}).get("derive") or {}
        for kind, source in derive.items():
            reads = _reads(source) if kind == "logic" else {
                source[0] if isinstance(source, list) else source}
            for name in reads:
                if isinstance(name, str) and name not in found:
                    found.add(name)
                    queue.append(name)
    return found


def _reads(logic: Any) -> set[str]:
    return formats_and_rules.referenced_vars(logic) if logic is not None else set()


def _schema_at(schema: Mapping[str, Any], segments: list[str]) -> Mapping[str, Any] | None:
    node: Any = schema
    for segment in segments:
        props = node.get("properties") if isinstance(node, Mapping) else None
        if not isinstance(props, Mapping) or segment not in props:
            return None
        node = props[segment]
    return node if isinstance(node, Mapping) else None


def _table_options(rules: Mapping[str, Any], input_id: str) -> list[dict[str, Any]]:
    """Choices for a string input a table reads: the table's keys with their labels."""
    for indicator in rules.get("indicators") or []:
        if indicator.get("input") == input_id and isinstance(indicator.get("table"), Mapping):
            return [{"const": token, "title": (row.get("label") or {}).get("zh", str(token))
                     if isinstance(row, Mapping) else str(token)}
                    for token, row in indicator["table"].items()]
    return []


def _table_labels(rules: Mapping[str, Any], input_id: str) -> dict[str, Any]:
    for indicator in rules.get("indicators") or []:
        if indicator.get("input") == input_id and isinstance(indicator.get("table"), Mapping):
            return {str(token): row["label"] for token, row in indicator["table"].items()
                    if isinstance(row, Mapping) and row.get("label")}
    return {}


def _typed_schema(rules: Mapping[str, Any], input_id: str, spec: Mapping[str, Any]
                  ) -> dict[str, Any]:
    schema = copy.deepcopy(_TYPES.get(str(spec.get("type")), _TYPES["string"]))
    options = _table_options(rules, input_id) if spec.get("type") == "string" else []
    if options:
        schema = {"oneOf": options}
    name = spec.get("name")
    schema["title"] = name.get("zh", input_id) if isinstance(name, Mapping) else input_id
    return schema


def _put_schema(root: dict[str, Any], segments: list[str], leaf: Mapping[str, Any],
                source: Mapping[str, Any] | None) -> None:
    """Place ``leaf`` at ``segments`` under ``root``, copying each object on the way from the
    service form's schema (``source``: its title and other keywords, not its properties)."""
    node = root
    for depth, segment in enumerate(segments[:-1]):
        props = node.setdefault("properties", {})
        if segment not in props:
            from_form = _schema_at(source, segments[:depth + 1]) if source else None
            shell = {k: copy.deepcopy(v) for k, v in (from_form or {}).items()
                     if k not in ("properties", "required", "allOf", "anyOf", "oneOf", "if",
                                  "then", "else", "dependentRequired", "dependentSchemas")}
            shell["type"] = "object"
            props[segment] = shell
        node = props[segment]
    node.setdefault("properties", {})[segments[-1]] = copy.deepcopy(dict(leaf))


def _require(root: dict[str, Any], segments: list[str]) -> None:
    node = root
    for segment in segments:
        required = node.setdefault("required", [])
        if segment not in required:
            required.append(segment)
        node = node["properties"][segment]


def _with_ancestors(keys: Iterable[str]) -> set[str]:
    found = set()
    for key in keys:
        parts = key.split(".")
        for end in range(1, len(parts) + 1):
            found.add(".".join(parts[:end]))
    return found


@dataclass(frozen=True)
class Questions:
    form: FormDefinition
    required: tuple[str, ...]
    """Answer paths the rule set needs (its required inputs)."""
    asked: tuple[str, ...] = field(default=())
    """Every answer path asked."""


def question_document(rules: Mapping[str, Any], service_form: FormDefinition | None
                      ) -> tuple[dict[str, Any], list[str]]:
    """The self-check form's document (the service form's questions the rules read, or
    questions from the inputs' types) and the required answer paths."""
    raw = service_form.raw if service_form is not None else {}
    source = raw.get("schema") if isinstance(raw.get("schema"), Mapping) else None
    logic = [r for r in raw.get("logic") or [] if isinstance(r, Mapping)]
    wanted = answer_paths(rules)
    asked: list[str] = [path for _i, path, _s in wanted]
    # A calculated question (e.g. birth date from the ID number) brings the questions its
    # rule reads, a question shown only on a condition brings the questions the condition
    # reads, and so on.
    queue = list(asked)
    while queue:
        path = queue.pop()
        for rule in logic:
            if _rule_target(rule) != path:
                continue
            for read in sorted(_reads(rule.get("value")) | _reads(rule.get("when"))):
                if read not in asked and source is not None \
                        and _schema_at(source, read.split(".")) is not None:
                    asked.append(read)
                    queue.append(read)
    if service_form is not None:  # in the service form's order; questions it lacks last
        order = {key: n for n, key in enumerate(service_form.fields)}
        asked.sort(key=lambda path: order.get(path, len(order)))
    schema: dict[str, Any] = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                              "type": "object", "properties": {}}
    if source is not None and "$defs" in source:
        schema["$defs"] = copy.deepcopy(source["$defs"])
    ui_fields: dict[str, Any] = {}
    form_ui = (raw.get("ui") or {}).get("fields") or {}
    specs = {path: (input_id, spec) for input_id, path, spec in wanted}
    for path in asked:
        segments = path.split(".")
        from_form = _schema_at(source, segments) if source is not None else None
        if from_form is not None:
            _put_schema(schema, segments, from_form, source)
        else:
            input_id, spec = specs[path]
            _put_schema(schema, segments, _typed_schema(rules, input_id, spec), None)
            name = spec.get("name")
            ui_fields[path] = {"label": name if isinstance(name, Mapping) else {"zh": input_id}}
            labels = _table_labels(rules, input_id)
            if labels and spec.get("type") == "string":
                ui_fields[path]["options"] = labels
    required = []
    for path, (_i, spec) in specs.items():
        if not spec.get("required"):
            continue
        made_from = [_reads(r.get("value")) for r in logic if r.get("set") == path]
        # A calculated answer is asked through the questions it is made from.
        for need in sorted(set().union(*made_from) & set(asked)) if made_from else [path]:
            if need not in required:
                required.append(need)
    for path in required:
        _require(schema, path.split("."))
    kept = _with_ancestors(asked)
    for key, value in form_ui.items():
        if key in kept and key not in ui_fields:
            ui_fields[key] = copy.deepcopy(value)
    kept_rules = [copy.deepcopy(dict(r)) for r in logic
                  if _rule_target(r) in kept and all(
                      read in kept for read in _reads(r.get("when")) | _reads(r.get("value")))]
    tops = [key for key in dict.fromkeys(p.split(".")[0] for p in asked)]
    name = rules.get("name") or {"zh": rules.get("id", "")}
    document: dict[str, Any] = {
        "title": name, "schema": schema,
        "ui": {"fields": ui_fields,
               "pages": [{"id": PAGE_ID, "title": PAGE_TITLE, "fields": tops}]}}
    if kept_rules:
        document["logic"] = kept_rules
    return document, required


def _rule_target(rule: Mapping[str, Any]) -> str | None:
    for action in ("set", "show", "hide", "require"):
        if isinstance(rule.get(action), str):
            return str(rule[action])
    return None


def questions(rules: Mapping[str, Any], service_form: FormDefinition | None, *,
              name: str) -> Questions:
    """The compiled self-check form (kept by the form engine's cache per content)."""
    document, required = question_document(rules, service_form)
    form = load_form(document, name=name)
    return Questions(form=form, required=tuple(required),
                     asked=tuple(p for _i, p, _s in answer_paths(rules)))


@dataclass
class Answered:
    answers: Any
    errors: list[FieldError]
    raw: dict[str, list[str]]


def read_answers(found: Questions, formdata: Any) -> Answered:
    """The posted answers, typed by the form engine, with every error a form page would show
    (a missing required answer among them)."""
    result = coerce.coerce_page(found.form, PAGE_ID, formdata, state.initial_answers(found.form))
    answers = result.answers if isinstance(result.answers, dict) else {}
    for path in found.required:  # an unanswered group is named by its unanswered questions
        node = answers
        for segment in path.split(".")[:-1]:
            if not isinstance(node.get(segment), dict):
                node[segment] = {}
            node = node[segment]
    current = state.evaluate(found.form, answers)
    errors = [*result.errors,
              *state.validate_page(found.form, PAGE_ID, current.answers, current)]
    seen: set[str] = set()
    unique = []
    for error in errors:
        if error.path not in seen:
            seen.add(error.path)
            unique.append(error)
    return Answered(current.answers, unique, result.raw)


def initial(found: Questions) -> Any:
    return state.initial_answers(found.form)


def missing_error(found: Questions, path: str) -> FieldError:
    """The engine found a required answer missing: said as the form says a missing answer,
    on the question that gives it (or the one it is calculated from)."""
    key = path if path in found.form.fields else None
    if key is not None and found.form.field(key).read_only:
        sources = [r for r in found.form.rules if r.action == "set" and r.target == key]
        reads = sorted(state.rule_reads(sources[0])) if sources else []
        key = next((r for r in reads if r in found.form.fields), key)
    return FieldError(key or "", key, "required")
