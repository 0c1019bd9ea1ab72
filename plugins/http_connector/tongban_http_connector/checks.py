"""What a schema cannot say about a `type: http` connector's queries: the host comes from the
options only (no absolute URL in a query), each placeholder is a declared parameter and each
declared parameter is used, and every response pointer is a JSON pointer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tongban.plugin_api import QueryProblem

from .templates import placeholders, pointer_problem, stray_braces, strings_in

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _path_problems(path: str) -> list[str]:
    if _SCHEME.match(path) or path.startswith("//"):
        return ["the path is an absolute URL: a query gives only the path below the base URL, "
                "whose host comes from the base_url_setting"]
    problems = []
    if not path.startswith("/"):
        problems.append("the path must start with /")
    if "?" in path or "#" in path:
        problems.append('the path contains ? or #: put query-string parameters under "query"')
    if stray_braces(path):
        problems.append("the path has a { or } that is not a {name} placeholder")
    return problems


def _query_problems(query_id: str, query: Mapping[str, Any],
                    most: int | None) -> list[QueryProblem]:
    at: tuple[str | int, ...] = ("queries", query_id)
    found = [QueryProblem((*at, "path"), m) for m in _path_problems(str(query["path"]))]
    used: dict[str, tuple[str | int, ...]] = {}
    for name in placeholders(str(query["path"])):
        used.setdefault(name, (*at, "path"))
    for key, template in (query.get("query") or {}).items():
        if stray_braces(template):
            found.append(QueryProblem((*at, "query", key),
                                      "the value has a { or } that is not a {name} placeholder"))
        for name in placeholders(template):
            used.setdefault(name, (*at, "query", key))
    if "body" in query:
        if query.get("method", "GET") != "POST":
            found.append(QueryProblem((*at, "body"), "a body is sent only with method: POST"))
        for text in strings_in(query["body"]):
            for name in placeholders(text):
                used.setdefault(name, (*at, "body"))
    declared = query.get("params") or {}
    for name, where in used.items():
        if name not in declared:
            found.append(QueryProblem(where, f'the placeholder {{{name}}} is not a parameter '
                                             '"params" declares'))
    for name in declared:
        if name not in used:
            found.append(QueryProblem((*at, "params", name),
                                      f'the parameter "{name}" is declared but no {{{name}}} '
                                      "uses it in the path, query or body"))
    if "rows" in query and (problem := pointer_problem(str(query["rows"]))):
        found.append(QueryProblem((*at, "rows"), problem))
    for pointer in query.get("fields") or {}:
        if problem := pointer_problem(str(pointer)):
            found.append(QueryProblem((*at, "fields", pointer), problem))
    limit = query.get("max_rows")
    if most is not None and limit is not None and limit > most:
        found.append(QueryProblem((*at, "max_rows"),
                                  f"max_rows {limit} is above the connector's max_rows {most}"))
    return found


def check(options: Mapping[str, Any], queries: Mapping[str, Mapping[str, Any]]) -> list[QueryProblem]:
    """The ConnectorType's ``check``: options and queries have passed their schemas."""
    found: list[QueryProblem] = []
    for query_id, query in queries.items():
        found += _query_problems(query_id, query, options.get("max_rows"))
    return found
