"""Load-time checks of a service's ``precheck:`` block, after its meta-schema: each problem
names the file, line and column like the rest of the definition checks (English, as the format
checks are: they name keys the designer fixes in the text)."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from typing import Any

from ..connectors.prefill import prefill_queries
from ..definitions.problems import Problem
from ..definitions.schemacheck import pointer_of
from ..definitions.yamlpos import Document
from ..forms.definition import FormDefinition
from ..forms.logic import check_rule, referenced_vars

Path = list[str | int]


class _Problems:
    def __init__(self, document: Document, file: str) -> None:
        self.document, self.file = document, file
        self.found: list[Problem] = []

    def add(self, path: Path, message: str) -> None:
        line, column = self.document.position(path)
        self.found.append(Problem(self.file, line, column, pointer_of(path), message))


def check_precheck(document: Document, file: str, form: FormDefinition | None) -> list[Problem]:
    """Problems of the block: question keys, options against the form's, each rule runnable
    and reading only its questions' answers and the fields the service's prefill queries
    fill; materials named by their code."""
    block = document.data.get("precheck")
    if not isinstance(block, dict):
        return []
    out = _Problems(document, file)
    keys = _check_questions(out, block["questions"], form)
    register = sorted({path for _, _, query in prefill_queries(document.data)
                       for path in (query.get("fields") or {}).values()})
    readable = [f"answers.{key}" for key in keys] + [f"register.{path}" for path in register]
    outcomes = block["outcomes"]
    for index, outcome in enumerate(outcomes):
        path: Path = ["precheck", "outcomes", index]
        last = index == len(outcomes) - 1
        if last and "when" in outcome:
            out.add([*path, "when"], "the last outcome has a when; expected the last outcome "
                    "without one: what the pre-check says when no other outcome's rule holds")
        elif not last and "when" not in outcome:
            out.add(path, f"outcome {index + 1} has no when, so the outcomes after it are never "
                    "reached; expected a when on every outcome but the last")
        if "when" in outcome:
            _check_rule(out, [*path, "when"], outcome["when"], f"outcome {index + 1}", readable)
    codes = [material["code"] for material in document.data.get("materials") or []]
    for code, rule in (block.get("materials") or {}).items():
        path = ["precheck", "materials", code]
        if code not in codes:
            out.add(path, f'"{code}" is not a material of this service; expected one of: '
                    f'{", ".join(codes) or "none"}')
            continue
        _check_rule(out, path, rule, f'the condition of material "{code}"', readable)
    return out.found


def _check_questions(out: _Problems, questions: list[dict[str, Any]],
                     form: FormDefinition | None) -> list[str]:
    keys: list[str] = []
    for index, question in enumerate(questions):
        path: Path = ["precheck", "questions", index]
        key, kind = question["key"], question["type"]
        if key in keys:
            out.add([*path, "key"], f'the question key "{key}" is used twice; expected each '
                    "pre-check question once")
        keys.append(key)
        if kind == "choice" and "options" not in question:
            out.add(path, f'question "{key}" is a choice without options; expected options: '
                    "[{value: ..., label: {zh: ..., en: ...}}, ...]")
        if kind != "choice" and "options" in question:
            out.add([*path, "options"], f'question "{key}" is {kind}, which takes no options; '
                    'expected type: choice, or no options')
        if kind != "number" and ("minimum" in question or "maximum" in question):
            out.add(path, f'question "{key}" is {kind}: minimum and maximum are for numbers')
        low, high = question.get("minimum"), question.get("maximum")
        if low is not None and high is not None and low > high:
            out.add([*path, "maximum"], f'the maximum of question "{key}" ({high}) is below its '
                    f"minimum ({low})")
        fields = form.fields.get(key) if form is not None else None
        if fields:
            _check_against_form(out, path, question, fields[0])
    return keys


def _check_against_form(out: _Problems, path: Path, question: dict[str, Any], field: Any) -> None:
    """A question the form asks too carries its answer into the draft: it must be an answer
    the form accepts."""
    key, kind = question["key"], question["type"]
    wanted = {"yes_no": ("boolean",), "number": ("integer", "number")}.get(kind)
    if wanted and field.type not in wanted:
        out.add([*path, "type"], f'question "{key}" is {kind}, but the form\'s question "{key}" '
                f"takes {field.type or 'a choice'}; expected a pre-check question of the same "
                "kind, or another key")
    if kind == "choice" and field.options:
        accepted = [option.value for option in field.options]
        for index, option in enumerate(question.get("options") or []):
            if option["value"] not in accepted:
                out.add([*path, "options", index, "value"],
                        f'option {option["value"]!r} of question "{key}" is not an answer the '
                        f"form's question accepts; expected one of: "
                        f"{', '.join(map(str, accepted))}")


def _check_rule(out: _Problems, path: Path, rule: Any, what: str,
                readable: Iterable[str]) -> None:
    shape = check_rule(rule)
    if shape:
        out.add(path, f"the rule of {what} is not JsonLogic the platform can run: {shape[0]}")
        return
    known = list(readable)
    for name in sorted(referenced_vars(rule)):
        if name in known:
            continue
        close = get_close_matches(name, known, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        out.add(path, f'the rule of {what} reads "{name}"{hint}, which is not a pre-check '
                f"question or a register field; expected one of: {', '.join(known)}")
