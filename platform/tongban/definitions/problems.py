"""A problem found in a definition file: where it is (file, line, column, JSON pointer) and what
was expected. Its own module so that every checker can report one without importing the loader."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Phrase:
    """A piece of a problem's message translated on its own (``the label of question "age"``):
    an N_-marked template and its values, which may be phrases too. ``str()`` is the English
    text, so a message made with ``%`` reads in English on the command line; a page translates
    the template and each phrase in it (``web.services_admin.problem_text``)."""

    template: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return self.template % self.params if self.params else self.template


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    pointer: str
    message: str
    # The message as an N_-marked template and its values, for checkers whose problems are
    # shown translated (message == template % params); empty when the message is English only.
    template: str = field(default="", compare=False)
    params: dict[str, Any] | None = field(default=None, compare=False, hash=False)
    # "error" blocks publishing; "warning" is shown and does not (design-time lint, lint.py).
    severity: Severity = field(default="error", compare=False)
    # The lint rule that found it (docs/definitions.md, "Design-time lint"); empty for the
    # format and graph checks.
    rule: str = field(default="", compare=False)

    def __str__(self) -> str:
        where = f" at {self.pointer}" if self.pointer else ""
        level = "warning: " if self.severity == "warning" else ""
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{self.file}:{self.line}:{self.column}:{where} {level}{self.message}{rule}"
