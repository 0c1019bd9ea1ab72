"""The form editor over a service's working copy: which file is the form, and what the editor
page shows of it (questions, problems at each question and line, undo and redo)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from ..definitions.problems import Problem
from . import workspace
from .form_doc import Doc, EditError, PageView, dump, page_views, parse, question_of_pointer
from .layout import named_files, path_of
from .layout import parse as parse_file


def form_path(code: str, files: Mapping[str, str]) -> str | None:
    """The path of the form file the working copy's service names."""
    named = named_files(code, files.get(path_of("service", code)))
    return next((path for path, (kind, _name) in named.items() if kind == "form"), None)


def starting_text(code: str, files: dict[str, str], path: str) -> str:
    """The form file's text; a form the service names but nobody has written yet starts empty,
    titled like the service."""
    if path in files:
        return files[path]
    title: Any = {"zh": code}
    service = files.get(path_of("service", code))
    if service is not None:
        data = parse_file(path_of("service", code), service)
        if isinstance(data, dict) and isinstance(data.get("name"), dict):
            title = data["name"]
    return dump({"title": title, "schema": {"type": "object", "properties": {}}})


@dataclass
class EditorView:
    """Everything the editor page draws, read from one revision of the working copy."""

    path: str
    revision: int
    text: str
    can_undo: bool
    can_redo: bool
    doc: Doc | None
    parse_error: EditError | None
    pages: list[PageView] = field(default_factory=list)
    at_question: dict[str, list[Problem]] = field(default_factory=dict)
    in_form: list[Problem] = field(default_factory=list)  # problems at no question
    elsewhere: list[Problem] = field(default_factory=list)  # other files of the service

    @property
    def problems(self) -> list[Problem]:
        """Every problem of the form file, in line order."""
        found = [p for ps in self.at_question.values() for p in ps] + self.in_form
        return sorted(found, key=lambda p: (p.line, p.column))

    def lint_json(self, text: Callable[[Problem], str] | None = None) -> str:
        """The form file's problems for the text view's editor: line, column, message (in the
        page's language when ``text`` translates them)."""
        return json.dumps([{"line": p.line, "column": p.column,
                            "message": text(p) if text else p.message}
                           for p in self.problems], ensure_ascii=False)


def editor_view(session: Session, code: str, draft: Any, path: str) -> EditorView:
    text = starting_text(code, draft.files, path)
    doc: Doc | None = None
    parse_error = None
    try:
        doc = parse(text)
    except EditError as exc:
        parse_error = exc
    view = EditorView(path=path, revision=draft.revision, text=text,
                      can_undo=bool(draft.undo_stack), can_redo=bool(draft.redo_stack),
                      doc=doc, parse_error=parse_error)
    if doc is not None:
        view.pages = page_views(doc)
    keys = {q.key for page in view.pages for q in page.questions}
    for problem in workspace.check_draft(session, draft):
        if problem.file != path:
            view.elsewhere.append(problem)
            continue
        key = question_of_pointer(doc, problem.pointer) if doc is not None else None
        if key in keys:
            view.at_question.setdefault(str(key), []).append(problem)
        else:
            view.in_form.append(problem)
    return view
