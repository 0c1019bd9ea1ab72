"""Check a 一件事 bundle file (workflow_definitions/bundles/*.yaml) against the services loaded
beside it: every sub-service exists, its dependencies are sub-services of the bundle and form
no cycle, every shared answer is a question of each sub-service's form, and the pre-check is
JsonLogic over what it may read. Each problem is placed at its line in the bundle file."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..forms.definition import load_form
from ..forms.logic import check_rule, referenced_vars
from ..i18n import N_
from .problems import Problem
from .schemacheck import meta_validator, pointer_of, schema_problems
from .yamlpos import Document

BUNDLE_DIR = "workflow_definitions/bundles"
# What a pre-check may read besides the shared answers (docs/bundles.md).
PRECHECK_EXTRAS = ("today", "days_since")


def _problem(document: Document, file: str, path: list[str | int], template: str,
             **params: Any) -> Problem:
    line, column = document.position(path)
    return Problem(file, line, column, pointer_of(path), template % params, template, params)


def dependency_cycle(needs: Mapping[str, list[str]]) -> list[str] | None:
    """One cycle of the dependency graph as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(code: str) -> list[str] | None:
        state[code] = 1
        path.append(code)
        for other in needs.get(code, []):
            if state.get(other) == 1:
                return [*path[path.index(other):], other]
            if other not in state:
                found = visit(other)
                if found:
                    return found
        path.pop()
        state[code] = 2
        return None

    for code in needs:
        if code not in state:
            found = visit(code)
            if found:
                return found
    return None


def check_bundle(document: Document, file: str, services: Mapping[str, Any],
                 forms: Mapping[str, Any], present: Collection[Any]) -> tuple[list[Problem], bool]:
    """The bundle's problems, and whether every sub-service loaded. ``services`` maps a
    service code to its loaded definition (its ``content``), ``forms`` a form name to its
    loaded definition, ``present`` holds the codes of every service file, loaded or not: one
    with problems of its own is reported there, not again here."""
    found = schema_problems(document, meta_validator("bundle"), file)
    if found:
        return found, False
    data = document.data
    parts = data["services"]
    codes = [part["service"] for part in parts]
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, code in enumerate(codes):
        if code in seen:
            problems.append(_problem(document, file, ["services", index, "service"],
                                     N_('the service "%(service)s" is in the bundle twice'),
                                     service=code))
        seen.add(code)
        if code not in services and code not in present:
            problems.append(_problem(
                document, file, ["services", index, "service"],
                N_('unknown service "%(service)s": no service file has this code (services: '
                   "%(known)s)"), service=code, known=", ".join(sorted(services)) or "-"))
    for index, part in enumerate(parts):
        for position, need in enumerate(part.get("needs") or []):
            if need not in codes:
                problems.append(_problem(
                    document, file, ["services", index, "needs", position],
                    N_('"%(service)s" needs "%(need)s", which is not a service of this bundle'),
                    service=part["service"], need=need))
    if not problems:
        needs = {part["service"]: list(part.get("needs") or []) for part in parts}
        cycle = dependency_cycle(needs)
        if cycle:
            index = codes.index(cycle[0])
            problems.append(_problem(
                document, file, ["services", index, "needs"],
                N_("the services depend on one another in a cycle: %(cycle)s; a sub-service "
                   "can only need services that do not need it"), cycle=" → ".join(cycle)))
    shared = list(data.get("shared") or [])
    for code in codes:
        if code not in services:
            continue
        form_name = services[code].content["form"]
        form = forms.get(form_name)
        if form is None:
            continue  # the service's own problems say why
        keys = set(load_form(form.content, name=form.path).fields)
        for position, key in enumerate(shared):
            if key not in keys:
                problems.append(_problem(
                    document, file, ["shared", position],
                    N_('the shared answer "%(key)s" is not a question of the form "%(form)s" '
                       'of the service "%(service)s"'), key=key, form=form_name, service=code))
    precheck = data.get("precheck")
    if precheck is not None:
        for reason in check_rule(precheck["rule"]):
            problems.append(_problem(document, file, ["precheck", "rule"],
                                     N_("the pre-check is not valid JsonLogic: %(reason)s"),
                                     reason=reason))
        for name in sorted(referenced_vars(precheck["rule"])):
            top = name.split(".")[0]
            if top in PRECHECK_EXTRAS and (top == "today" or name.removeprefix(
                    "days_since.") in shared):
                continue
            if name not in shared:
                problems.append(_problem(
                    document, file, ["precheck", "rule"],
                    N_('the pre-check reads "%(name)s", which is not a shared answer'),
                    name=name))
    return problems, all(code in services for code in codes)
