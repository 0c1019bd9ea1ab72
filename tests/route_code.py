"""URL-building code shared by every test's app.

Each test makes its own app, and registering its ~700 URL rules had Werkzeug generate and
compile a builder function per rule twice (with and without unknown arguments): most of the
app factory's time, so a large part of a page test's. The generated code depends only on the
rule's text, its parsed parts and its defaults, never on the app, and reaches the rule's
converters through ``self``; so one run compiles each builder once and binds it to every app's
rule. A rule whose defaults fill one of its own variables (the code then holds a converter's
output) is compiled afresh each time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.routing.rules import Rule

Builder = Callable[..., tuple[str, str]]


@contextmanager
def routes_compiled_once() -> Iterator[dict[tuple[Any, ...], Builder]]:
    compile_builder = Rule._compile_builder  # noqa: SLF001 - the method being shared
    builders: dict[tuple[Any, ...], Builder] = {}

    def shared(rule: Rule, append_unknown: bool = True) -> Builder:
        defaults = rule.defaults or {}
        trace = tuple(rule._trace)  # noqa: SLF001
        if any(dynamic and name in defaults for dynamic, name in trace):
            return compile_builder(rule, append_unknown)
        key = (rule.rule, trace, append_unknown,
               tuple(sorted((str(name), repr(value)) for name, value in defaults.items())))
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = compile_builder(rule, append_unknown)
        return builder

    Rule._compile_builder = shared  # type: ignore[method-assign]  # restored below
    try:
        yield builders
    finally:
        Rule._compile_builder = compile_builder  # type: ignore[method-assign]
