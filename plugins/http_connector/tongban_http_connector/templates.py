"""Filling a query's templates from its parameters, and reading answers with JSON pointers
(RFC 6901). A path placeholder becomes exactly one URL-encoded path segment: a value such as
``../admin?x=`` cannot climb the path, start a query string or reach another resource."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TOKEN = re.compile(r"(?:[^~]|~[01])*")


class MissingValue(LookupError):
    """A JSON pointer that names nothing in the answer."""


def placeholders(template: str) -> list[str]:
    return PLACEHOLDER.findall(template)


def stray_braces(template: str) -> bool:
    """A { or } that is not part of a {name} placeholder."""
    return "{" in PLACEHOLDER.sub("", template) or "}" in PLACEHOLDER.sub("", template)


def strings_in(value: Any) -> Iterator[str]:
    """Every string (keys excluded) in a JSON body template."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def segment(value: Any) -> str:
    """One path segment: every reserved character percent-encoded, dots too (so that a value
    of ``..`` is not a dot segment a client or server would resolve)."""
    return quote(str(value), safe="").replace(".", "%2E")


def fill_path(template: str, params: Mapping[str, Any]) -> str:
    return PLACEHOLDER.sub(lambda m: segment(params[m.group(1)]), template)


def fill_text(template: str, params: Mapping[str, Any]) -> Any:
    """A query-string or body string: exactly ``{name}`` gives the value itself (a number
    stays a number in JSON), otherwise the text with each placeholder's value in it."""
    whole = PLACEHOLDER.fullmatch(template)
    if whole is not None:
        return params[whole.group(1)]
    return PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), template)


def fill_body(template: Any, params: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        return fill_text(template, params)
    if isinstance(template, Mapping):
        return {key: fill_body(value, params) for key, value in template.items()}
    if isinstance(template, list):
        return [fill_body(item, params) for item in template]
    return template


def pointer_problem(pointer: str) -> str | None:
    """Why ``pointer`` is not a JSON pointer (RFC 6901), or None."""
    if pointer == "":
        return None
    if not pointer.startswith("/"):
        return f'"{pointer}" is not a JSON pointer: it must be empty or start with /'
    for token in pointer[1:].split("/"):
        if not _TOKEN.fullmatch(token):
            return (f'"{pointer}" is not a JSON pointer: ~ must be followed by 0 (for ~) '
                    "or 1 (for /)")
    return None


def resolve(document: Any, pointer: str) -> Any:
    """The value ``pointer`` names in ``document``; :class:`MissingValue` when there is none."""
    node = document
    if pointer == "":
        return node
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            if token not in node:
                raise MissingValue(pointer)
            node = node[token]
        elif isinstance(node, list):
            if not re.fullmatch(r"0|[1-9][0-9]*", token) or int(token) >= len(node):
                raise MissingValue(pointer)
            node = node[int(token)]
        else:
            raise MissingValue(pointer)
    return node
