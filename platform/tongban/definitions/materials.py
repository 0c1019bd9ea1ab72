"""Cross-check a service guide's materials against the upload questions of its form.

A guide that lists a required material the form never asks for misleads the citizen (and the
reviewer gets an application without it). Each required material must name the file question
that collects it (`form_field`) or say that the counter checks it (`checked_at_counter: true`).
"""

from __future__ import annotations

from typing import Any

from ..forms import paths
from ..forms.definition import FormDefinition
from ..forms.fields import Field
from ..i18n import N_
from .problems import Phrase

Finding = tuple[list[str | int], str, dict[str, Any]]
"""A problem as (path inside the service file, reason as an N_-marked template, its values);
the loader adds file and line."""


def always_required(form: FormDefinition, key: str) -> bool:
    """True when the schema requires the question and every group around it, whatever the
    other answers are (a material the guide calls required can't depend on a condition)."""
    parts = paths.split(key)
    prefixes = [paths.join(*parts[:depth]) for depth in range(1, len(parts) + 1)]
    chain: list[Field] = [form.fields[prefix][0] for prefix in prefixes if prefix in form.fields]
    if not all(f.required and not f.conditions for f in chain):
        return False
    # A logic rule that can hide the question, or its page, makes it skippable too.
    hidden_pages = {r.target for r in form.rules if r.action in ("show_page", "hide_page")}
    return not (set(prefixes) & form.rule_shown) and form.page_of.get(key) not in hidden_pages


def check_materials(service: dict[str, Any], form: FormDefinition) -> list[Finding]:
    """Every disagreement between the service's materials and the form's file questions."""
    findings: list[Finding] = []
    file_keys = set(form.file_keys)
    claimed: dict[str, str] = {}
    for index, material in enumerate(service.get("materials") or []):
        code = material["code"]
        key = material.get("form_field")
        at_counter = material.get("checked_at_counter", False)
        where: list[str | int] = ["materials", index]
        if key is not None and at_counter:
            findings.append((where + ["checked_at_counter"],
                             N_('material "%(code)s" names a form question and is also checked '
                                "at the counter; keep one of form_field and checked_at_counter"),
                             {"code": code}))
            continue
        if key is None:
            if material["required"] and not at_counter:
                findings.append((where + ["code"],
                                 N_('required material "%(code)s" has no upload question: name '
                                    "one with form_field (%(choices)s) or mark it "
                                    "checked_at_counter: true"),
                                 {"code": code, "choices": _choices(file_keys)}))
            continue
        if key not in form.fields:
            findings.append((where + ["form_field"],
                             N_('form_field "%(key)s" of material "%(code)s" is not a question of '
                                "the form (%(choices)s)"),
                             {"key": key, "code": code, "choices": _choices(file_keys)}))
        elif key not in file_keys:
            findings.append((where + ["form_field"],
                             N_('form_field "%(key)s" of material "%(code)s" is not a file '
                                "question (%(choices)s)"),
                             {"key": key, "code": code, "choices": _choices(file_keys)}))
        elif key in claimed:
            findings.append((where + ["form_field"],
                             N_('form_field "%(key)s" of material "%(code)s" already collects '
                                'material "%(other)s"'),
                             {"key": key, "code": code, "other": claimed[key]}))
        elif material["required"] and not always_required(form, key):
            findings.append((where + ["form_field"],
                             N_('material "%(code)s" is required but the form question "%(key)s" '
                                "can be left empty: list it (and each group around it) under the "
                                'schema\'s "required", with no logic rule that hides it or its '
                                "page"), {"code": code, "key": key}))
        claimed.setdefault(key, code)
    return findings + check_applicant_name(service, form)


def check_applicant_name(service: dict[str, Any], form: FormDefinition) -> list[Finding]:
    """``applicant_name`` must name one text question of the form, outside any list (one
    applicant, one name)."""
    key = service.get("applicant_name")
    if key is None:
        return []
    parts = paths.split(key)
    chain = [form.fields.get(paths.join(*parts[:depth])) for depth in range(1, len(parts) + 1)]
    fields = form.fields.get(key)
    if not fields or fields[0].type != "string" or fields[0].widget == "file" or any(
            not found or found[0].type == "array" for found in chain[:-1]):
        return [(["applicant_name"],
                 N_('applicant_name "%(key)s" is not a text question of the form outside a list'),
                 {"key": key})]
    return []


def _choices(file_keys: set[str]) -> Phrase:
    if not file_keys:
        return Phrase(N_("the form has no file questions"))
    return Phrase(N_("file questions: %(keys)s"), {"keys": ", ".join(sorted(file_keys))})
