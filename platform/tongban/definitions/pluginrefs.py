"""Definitions that refer to a plugin by identifier (a connector's ``type``, a storage, a
signer): an identifier no installed plugin offers, options that do not match the plugin's own
JSON Schema, and the problems a plugin's ``check`` finds, each as a
:class:`~tongban.definitions.problems.Problem` with the file, line and column of the place.

Generic on purpose: a block of a service file (``connectors:``) calls these with the part of
the document it checks and what the installed plugins offer; no plugin is imported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ..plugin_api import QueryProblem
from .problems import Problem
from .schemacheck import plain_reason, pointer_of
from .yamlpos import Document


def _at(document: Document, file: str, path: Sequence[str | int], message: str) -> Problem:
    line, column = document.position(list(path))
    return Problem(file, line, column, pointer_of(list(path)), message)


def _node(data: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        data = data[part]
    return data


def unknown_plugin(document: Document, file: str, path: Sequence[str | int], identifier: str,
                   offered: Iterable[str], what: str) -> Problem:
    """``identifier`` (at ``path``) names no installed plugin's ``what``."""
    known = ", ".join(sorted(offered)) or "none is installed"
    return _at(document, file, path,
               f'unknown {what} "{identifier}"; installed plugins offer: {known}')


def options_problems(document: Document, file: str, path: Sequence[str | int],
                     schema: Mapping[str, Any], *, owner: str = "the plugin") -> list[Problem]:
    """The YAML node at ``path`` against a plugin's JSON Schema (2020-12): each failure at its
    own line, in the words the definition checks use everywhere."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [_at(document, file, path, f"{owner}'s options schema is not valid JSON Schema "
                                          f"({exc.message}); tell the plugin's authors")]
    validator = Draft202012Validator(schema)
    problems: list[Problem] = []
    node = _node(document.data, path)
    for error in sorted(validator.iter_errors(node), key=lambda e: [str(p) for p in e.absolute_path]):
        where = [*path, *error.absolute_path]
        if (error.validator == "additionalProperties" and isinstance(error.instance, dict)
                and isinstance(error.schema, Mapping)):
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            if extra:
                where.append(extra[0])  # point at the unknown key itself
        problem = _at(document, file, where, plain_reason(error))
        if problem not in problems:
            problems.append(problem)
    return problems


def check_problems(document: Document, file: str, path: Sequence[str | int],
                   found: Iterable[QueryProblem]) -> list[Problem]:
    """A plugin's own ``check`` findings (paths inside the block at ``path``) with lines."""
    return [_at(document, file, [*path, *problem.path], problem.message) for problem in found]
