"""Check a form file as a definition, through the form engine's own loader."""

from __future__ import annotations

from ..forms.definition import check_form
from .problems import Problem
from .yamlpos import Document


def segments(pointer: str) -> list[str | int]:
    parts: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return parts


def check_form_document(document: Document, file: str) -> list[Problem]:
    problems = []
    for error in check_form(document.data, name=file):
        line, column = document.position(segments(error.pointer))
        if error.line and not error.pointer:
            line, column = error.line, 1
        problems.append(Problem(file, line, column, error.pointer, error.message))
    return problems
