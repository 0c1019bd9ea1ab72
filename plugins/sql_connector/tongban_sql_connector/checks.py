"""What a schema cannot say about a `type: sql` connector's queries: that each is one read-only
statement whose values arrive only as bound ``:name`` parameters, every one declared, and every
declared one used. SQL assembled from strings is refused at load, never at run time."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tongban.plugin_api import QueryProblem

# Quoted text, backquoted names and comments: blanked out before looking for parameters and
# for the shapes of string-built SQL, so that ':x' inside a literal is not a parameter.
_LITERALS = re.compile(
    r"'(?:[^'\\]|\\.|'')*'"        # 'text', with '' or \' inside
    r'|"(?:[^"\\]|\\.|"")*"'       # "text" (a string in MySQL's default mode)
    r"|`[^`]*`"                    # `identifier`
    r"|--[^\n]*|#[^\n]*"           # line comments
    r"|/\*.*?\*/",                 # block comments
    re.DOTALL)
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_PERCENT_FORMAT = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[sdifr]")
_CONCATENATED = re.compile(r"(?:\|\||\+)\s*:[A-Za-z_]|:[A-Za-z_][A-Za-z0-9_]*\s*(?:\|\||\+)")
_READ_ONLY_START = re.compile(r"^\s*(?:SELECT|WITH)\b", re.IGNORECASE)


def blank_literals(sql: str) -> str:
    return _LITERALS.sub(lambda m: " " * len(m.group(0)), sql)


def parameters(sql: str) -> list[str]:
    """The ``:name`` parameters of a statement, in order of first use."""
    return list(dict.fromkeys(_PARAMETER.findall(blank_literals(sql))))


def sql_problems(sql: str, declared: Mapping[str, Any]) -> list[str]:
    """What is wrong with one query's SQL, in words for the definition's author."""
    problems: list[str] = []
    bare = blank_literals(sql)
    if "{" in sql or "}" in sql:
        problems.append("the SQL contains { or }: values must not be formatted into the text; "
                        "use :name parameters")
    if _PERCENT_FORMAT.search(sql):
        problems.append("the SQL contains a %-format placeholder: use :name parameters")
    if "?" in bare:
        problems.append("the SQL contains a ? placeholder: use :name parameters")
    if _CONCATENATED.search(bare):
        problems.append("the SQL joins a parameter to other text with || or +: bind the "
                        "whole value as one :name parameter")
    if not _READ_ONLY_START.match(bare):
        problems.append("the SQL must be one SELECT (or WITH ... SELECT) statement")
    if ";" in bare.strip().rstrip(";"):
        problems.append("the SQL must be one statement (no ; between statements)")
    used = parameters(sql)
    for name in used:
        if name not in declared:
            problems.append(f'the SQL uses the parameter :{name}, which "params" does not declare')
    for name in declared:
        if name not in used:
            problems.append(f'the parameter "{name}" is declared but the SQL never uses :{name}')
    return problems


def check(options: Mapping[str, Any], queries: Mapping[str, Mapping[str, Any]]) -> list[QueryProblem]:
    """The ConnectorType's ``check``: options and queries have passed their schemas."""
    found: list[QueryProblem] = []
    most = options.get("max_rows")
    for query_id, query in queries.items():
        for message in sql_problems(str(query.get("sql", "")), query.get("params") or {}):
            found.append(QueryProblem(("queries", query_id, "sql"), message))
        limit = query.get("max_rows")
        if most is not None and limit is not None and limit > most:
            found.append(QueryProblem(("queries", query_id, "max_rows"),
                                      f"max_rows {limit} is above the connector's max_rows {most}"))
    return found
