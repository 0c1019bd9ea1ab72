"""Load-time checks of a service's ``connectors:`` block: each connector names a type some
plugin offers, its options and queries pass that type's schemas and ``check``, and the form
fields its queries read and fill exist. Problems are placed in the service file (file:line)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from ..definitions.problems import Problem
from ..definitions.schemacheck import plain_reason, pointer_of
from ..definitions.yamlpos import Document
from ..plugin_api import ConnectorType


def _problem(document: Document, file: str, path: list[str | int], message: str) -> Problem:
    line, column = document.position(path)
    return Problem(file, line, column, pointer_of(path), message)


def _schema(document: Document, file: str, prefix: list[str | int], schema: Mapping[str, Any],
            value: Any) -> list[Problem]:
    validator = Draft202012Validator(schema)
    return [_problem(document, file, [*prefix, *error.absolute_path], plain_reason(error))
            for error in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path)))]


def check_connectors(document: Document, file: str, types: Mapping[str, ConnectorType],
                     form_keys: set[str] | None = None) -> list[Problem]:
    """Problems of the service document's ``connectors:`` (the service schema already held)."""
    found: list[Problem] = []
    for name, block in (document.data.get("connectors") or {}).items():
        at: list[str | int] = ["connectors", name]
        kind = types.get(block["type"])
        if kind is None:
            known = ", ".join(sorted(types)) or "none installed"
            found.append(_problem(document, file, [*at, "type"],
                                  f'unknown connector type "{block["type"]}" (types: {known})'))
            continue
        problems = _schema(document, file, [*at, "options"], kind.options_schema, block["options"])
        for query_id, query in block["queries"].items():
            problems += _schema(document, file, [*at, "queries", query_id], kind.query_schema,
                                query)
        if not problems:
            problems += [_problem(document, file, [*at, *problem.path], problem.message)
                         for problem in kind.check(block["options"], block["queries"])]
        for use in ("prefill", "verify"):
            for index, query_id in enumerate(block.get(use, ())):
                if query_id not in block["queries"]:
                    problems.append(_problem(document, file, [*at, use, index],
                                             f'"{query_id}" is not a query of this connector '
                                             f"(queries: {', '.join(block['queries'])})"))
        if form_keys is not None:
            problems += _field_problems(document, file, at, block["queries"], form_keys)
        found += problems
    return found


def _field_problems(document: Document, file: str, at: list[str | int],
                    queries: Mapping[str, Any], form_keys: set[str]) -> list[Problem]:
    found = []
    for query_id, query in queries.items():
        for part in ("params", "fields"):
            mapping = query.get(part)
            if not isinstance(mapping, Mapping):
                continue
            for key, path in mapping.items():
                if isinstance(path, str) and path not in form_keys:
                    found.append(_problem(document, file, [*at, "queries", query_id, part, key],
                                          f'the form has no question "{path}"'))
    return found
