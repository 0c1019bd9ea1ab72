"""The skeleton every console editor page shares (form, flow, guide; docs/console.md, "Editor
pages"): who may open it, the working copy and the file it edits, one edit saved with the
revision the page was drawn from as an optimistic lock, and undo and redo.

A text view (docs/console.md, "Text views") also gets the problems of its file as lint marks
(``lint_json``) and a check of the text as typed, nothing saved (``check_text``).

An editor supplies three things: which file of the working copy it edits (``file_of``), how
it draws its page (``draw``, with a message, a stale revision or what was posted) and where a
saved edit goes back to (``back``). A refusal draws the page again with the message (422, as the
site's forms answer a post with mistakes); a stale revision does so with 409; a saved edit
redirects (303), so the page works without JavaScript and htmx swaps it in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from flask import Blueprint, abort, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import Session

from ..console import workspace
from ..console.edits import EditRefused
from ..definitions.problems import Problem
from ..models import Role, ServiceDraft, User
from .access import require_role
from .database import request_transaction
from .services_admin import problem_text

EDITORS = (Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)  # who may open an editor at all

FileOf = Callable[[str, Mapping[str, str]], str | None]
"""(service code, the working copy's files) -> the path of the file the editor edits."""
Change = Callable[[Session, ServiceDraft, str], tuple[str, str | None]]
"""(transaction, working copy, path) -> the file's new text and what the page opens at."""


class Draw(Protocol):
    def __call__(self, code: str, *, error: str = "", error_at: str = "",
                 stale: int | None = None, posted: dict[str, Any] | None = None,
                 status: int = 200) -> ResponseReturnValue: ...


def editor_user(tx: Session, code: str) -> User:
    """The signed-in administrator, 403 unless they may edit the service."""
    user = tx.get(User, current_user.id)
    if user is None or not workspace.can_edit(tx, user, code):
        abort(403)
    return user


def open_file(tx: Session, code: str, file_of: FileOf) -> tuple[User, ServiceDraft, str]:
    """The editor, the service's working copy (made from live when there is none) and the path
    of the file edited; 404 for an unknown service or a service without that file."""
    if workspace.get_workspace(tx, code) is None and not workspace.live_versions(tx, code):
        abort(404)
    user = editor_user(tx, code)
    draft = workspace.open_draft(tx, code, user)
    path = file_of(code, draft.files)
    if path is None:
        abort(404)
    return user, draft, path


def lint_marks(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """A file's problems for its text view's lint marks: line, column, severity and the
    message in the page's language."""
    return [{"line": p.line, "column": p.column, "severity": p.severity,
             "message": problem_text(p)} for p in problems]


def lint_json(problems: Iterable[Problem]) -> str:
    """``lint_marks`` for the text area's data-problems."""
    return json.dumps(lint_marks(problems), ensure_ascii=False)


def check_text(tx: Session, code: str, files: Mapping[str, str], path: str,
               text: str) -> ResponseReturnValue:
    """The problems every check finds in ``text`` as the file ``path`` of the working copy
    ``files``, as JSON for the text view's marks while typing. Nothing is saved."""
    _loaded, problems = workspace.load_files(tx, code, {**files, path: text})
    return ({"problems": lint_marks(p for p in problems if p.file == path)}, 200,
            {"Cache-Control": "no-store"})


def posted_text() -> str:
    """The text a text view posted, with the browser's line ends made plain."""
    return request.form.get("text", "").replace("\r\n", "\n")


def posted_revision() -> int:
    value = request.form.get("revision", "")
    if not value.isdigit():
        abort(400)
    return int(value)


def refusal_text(exc: EditRefused | workspace.WorkspaceRefused) -> str:
    if isinstance(exc, EditRefused):
        return _(exc.template, **exc.params)
    return _(exc.message, **exc.params)


def save_edit(code: str, file_of: FileOf, change: Change, *, draw: Draw,
              back: Callable[[str | None], ResponseReturnValue],
              at: str = "") -> ResponseReturnValue:
    """Apply one change to the edited file and save it with the posted revision."""
    revision = posted_revision()
    try:
        with request_transaction() as tx:
            user, draft, path = open_file(tx, code, file_of)
            text, focus = change(tx, draft, path)
            workspace.save_file(tx, draft, path, text, expected_revision=revision, user=user)
    except EditRefused as exc:
        return draw(code, error=refusal_text(exc), error_at=exc.at or at,
                    posted=request.form.to_dict(), status=422)
    except workspace.StaleDraft as exc:
        return draw(code, stale=exc.current_revision, error_at=at,
                    posted=request.form.to_dict(), status=409)
    except workspace.WorkspaceRefused as exc:
        return draw(code, error=refusal_text(exc), error_at=at, status=422)
    return back(focus)


def step_history(code: str, file_of: FileOf,
                 step: Callable[[Session, ServiceDraft, User], ServiceDraft], *, draw: Draw,
                 back: Callable[[str | None], ResponseReturnValue],
                 focus: str | None = None) -> ResponseReturnValue:
    """Undo or redo, refused as stale when the page was drawn from another revision."""
    revision = posted_revision()
    try:
        with request_transaction() as tx:
            user, draft, _path = open_file(tx, code, file_of)
            if draft.revision != revision:
                raise workspace.StaleDraft(draft.revision)
            step(tx, draft, user)
    except workspace.StaleDraft as exc:
        return draw(code, stale=exc.current_revision, status=409)
    except workspace.WorkspaceRefused as exc:
        return draw(code, error=refusal_text(exc), status=422)
    return back(focus)


def add_history(bp: Blueprint, file_of: FileOf, *, draw: Draw,
                back: Callable[[str, str | None], ResponseReturnValue],
                focus: str = "") -> None:
    """The editor's ``undo`` and ``redo`` posts; ``focus`` names the field of the post that
    says what the page goes back to."""
    for name, step in (("undo", workspace.undo), ("redo", workspace.redo)):
        def view(code: str, step: Callable[[Session, ServiceDraft, User], ServiceDraft] = step
                 ) -> ResponseReturnValue:
            return step_history(code, file_of, step, draw=draw,
                                back=lambda at: back(code, at),
                                focus=request.values.get(focus) or None if focus else None)
        bp.add_url_rule(f"/{name}", name, require_role(*EDITORS)(view), methods=["POST"])
