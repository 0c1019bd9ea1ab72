"""Regular expressions in form schemas: checked when a form loads, run safely at submit time.

JSON Schema patterns are ECMA-262 expressions; schemas in the wild use its ``\\p{…}`` Unicode
property escapes (``^\\p{Han}{2,20}$`` for a name in Chinese characters), which Python's ``re``
refuses with ``re.error``. The ``pattern`` keyword therefore runs with the ``regex`` package,
which knows them, with a time limit per match so a pattern with catastrophic backtracking
can't hold a worker. Property-name patterns (``patternProperties``) are also read by
jsonschema's own ``additionalProperties`` and ``unevaluatedProperties`` through ``re``, so they
must be ones ``re`` can run. Every pattern is compiled when the form loads; one that can't be
run is refused then, with its place, never at submit time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

import regex
from jsonschema import validators
from jsonschema.exceptions import ValidationError

MATCH_SECONDS = 0.1
"""Longest one pattern may take on one answer; beyond it the answer is refused."""

# Keywords whose values are data, not schemas: a "pattern" inside them is an answer's text.
_DATA_WORDS = frozenset({"const", "enum", "default", "examples"})


@lru_cache(maxsize=1024)
def compiled(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """The ``pattern`` keyword, run with ``regex`` and a time limit."""
    if not validator.is_type(instance, "string"):
        return
    try:
        found = compiled(pattern).search(instance, timeout=MATCH_SECONDS)
    except TimeoutError:
        found = None  # too slow to decide: refused, as an answer that does not match
    if found is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def with_safe_patterns(cls: Any) -> Any:
    """``cls`` (a jsonschema validator class) with the ``pattern`` keyword above."""
    return validators.extend(cls, {"pattern": _pattern})


def pattern_problems(schema: Any, pointer: str = "/schema") -> list[tuple[str, str]]:
    """Every pattern in ``schema`` that can't be run, as (JSON pointer, reason)."""
    problems: list[tuple[str, str]] = []
    _walk(schema, pointer, problems)
    return problems


def _walk(node: Any, pointer: str, problems: list[tuple[str, str]]) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _walk(item, f"{pointer}/{index}", problems)
        return
    if not isinstance(node, dict):
        return
    for word, value in node.items():
        here = f"{pointer}/{_escape(word)}"
        if word in _DATA_WORDS:
            continue
        if word == "pattern" and isinstance(value, str):
            try:
                compiled(value)
            except regex.error as exc:
                problems.append((here, f"the pattern {value!r} is not a regular expression "
                                       f"that can be run: {exc}"))
        elif word == "patternProperties" and isinstance(value, dict):
            for name in value:
                try:
                    re.compile(name)
                except re.error as exc:
                    problems.append((f"{here}/{_escape(name)}",
                                     f"the property-name pattern {name!r} can't be run: {exc} "
                                     "(\\p{…} escapes are supported in \"pattern\", not in "
                                     "patternProperties)"))
        _walk(value, here, problems)


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")
