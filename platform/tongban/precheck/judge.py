"""Reading the pre-check's answers and judging them: the first outcome whose rule holds gives
the result, its reason and the materials the answers call for."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..forms.definition import FormDefinition
from ..forms.logic import evaluate
from ..i18n import N_

RESULTS = ("eligible", "not_eligible", "see_clerk")
NUMBER = re.compile(r"[+-]?\d{1,9}")
MAX_TYPED = 20  # characters of a typed answer kept for the page; a longer one is no number


@dataclass(frozen=True)
class Question:
    key: str
    label: Mapping[str, str]
    type: str  # choice | yes_no | number
    hint: Mapping[str, str] | None = None
    options: tuple[tuple[Any, Mapping[str, str] | None], ...] = ()  # value, label (yes_no: None)
    minimum: int | None = None
    maximum: int | None = None

    @property
    def field_id(self) -> str:
        """The HTML id of its input: the key's dots are not welcome in fragment links."""
        return "pc-" + self.key.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class Verdict:
    result: str  # one of RESULTS
    reason: Mapping[str, str]
    materials: tuple[Mapping[str, Any], ...]  # the service's materials the answers call for


def questions(precheck: Mapping[str, Any]) -> list[Question]:
    found = []
    for item in precheck.get("questions") or []:
        options: tuple[tuple[Any, Mapping[str, str] | None], ...] = ()
        if item["type"] == "choice":
            options = tuple((o["value"], o["label"]) for o in item.get("options") or [])
        elif item["type"] == "yes_no":
            options = ((True, None), (False, None))
        found.append(Question(item["key"], item["label"], item["type"], item.get("hint"),
                              options, item.get("minimum"), item.get("maximum")))
    return found


def option_token(value: Any) -> str:
    """An option's value as the form posts it (yes / no for a yes_no question)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def read_answers(precheck: Mapping[str, Any], posted: Mapping[str, str]
                 ) -> tuple[dict[str, Any], dict[str, tuple[str, dict[str, Any]]], dict[str, str]]:
    """The posted answers (by the question's key) as typed values, the problems by key (an
    N_-marked message and its values, for the page to translate) and what was typed (kept for
    the page, at most MAX_TYPED characters each)."""
    answers: dict[str, Any] = {}
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    typed: dict[str, str] = {}
    for question in questions(precheck):
        raw = unicodedata.normalize("NFKC", posted.get(question.key, "") or "").strip()
        typed[question.key] = raw[:MAX_TYPED]
        if not raw:
            errors[question.key] = (
                N_("Enter a number for “%(question)s”") if question.type == "number"
                else N_("Select an answer for “%(question)s”"), {"question": question.label})
            continue
        if question.type == "number":
            if not NUMBER.fullmatch(raw):
                errors[question.key] = (N_("“%(question)s” must be a whole number, like 12"),
                                        {"question": question.label})
                continue
            number = int(raw)
            if question.minimum is not None and number < question.minimum:
                errors[question.key] = (N_("“%(question)s” must be %(limit)s or more"),
                                        {"question": question.label, "limit": question.minimum})
            elif question.maximum is not None and number > question.maximum:
                errors[question.key] = (N_("“%(question)s” must be %(limit)s or less"),
                                        {"question": question.label, "limit": question.maximum})
            else:
                answers[question.key] = number
            continue
        chosen = [value for value, _ in question.options if option_token(value) == raw]
        if not chosen:
            errors[question.key] = (N_("Select one of the answers offered for “%(question)s”"),
                                    {"question": question.label})
            continue
        answers[question.key] = chosen[0]
    return answers, errors, typed


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """{"a.b": 1} -> {"a": {"b": 1}}: the shape rules and forms read answers in."""
    tree: dict[str, Any] = {}
    for path, value in flat.items():
        node = tree
        *parents, last = path.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[last] = value
    return tree


def judge(precheck: Mapping[str, Any], service_materials: list[Mapping[str, Any]],
          answers: Mapping[str, Any], register: Mapping[str, Any] | None = None) -> Verdict:
    """The first outcome whose ``when`` holds (the last has none) with the materials whose
    condition holds. Rules read ``answers.<key>`` and ``register.<field>``; the same
    JsonLogic as the form's rules (tongban.forms.logic)."""
    data = {"answers": nest(answers), "register": nest(register or {})}
    chosen = precheck["outcomes"][-1]
    for outcome in precheck["outcomes"]:
        if "when" not in outcome or evaluate(outcome["when"], data):
            chosen = outcome
            break
    conditions = precheck.get("materials") or {}
    needed = tuple(material for material in service_materials
                   if material["code"] not in conditions
                   or evaluate(conditions[material["code"]], data))
    return Verdict(chosen["result"], chosen["reason"], needed)


def carried_answers(answers: Mapping[str, Any], form: FormDefinition) -> dict[str, Any]:
    """The pre-check answers whose key is a question of the form, nested as draft answers."""
    return nest({key: value for key, value in answers.items() if key in form.fields})
