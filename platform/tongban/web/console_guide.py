"""The guide editor at /admin/services/<code>/guide: the service file's names, guide (办事指南),
materials and settings as a web form, problems at the field, undo and redo (docs/console.md,
"Guide editor"). The service file's text view stays on its file page for power users.

Each post applies one edit of :mod:`tongban.console.guide_edit` through the editors' shared
skeleton (:mod:`tongban.web.console_editor`). The guide form and a material's form are checked
whole first, so every mistake is shown at its field at once (422, nothing saved).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from sqlmodel import Session

from ..console import guide_edit, workspace
from ..console.edits import EditRefused
from ..console.form_editing import form_path
from ..console.layout import path_of
from ..definitions.problems import Problem
from ..definitions.publish import current_version
from ..forms.definition import FormDefinitionError, load_form
from ..i18n import N_, current_lang
from ..models import Role, ServiceDraft
from .access import require_role
from .console_editor import add_history, open_file, refusal_text, save_edit
from .database import request_transaction
from .services_admin import problem_text

bp = Blueprint("console_guide", __name__, url_prefix="/admin/services/<code>/guide")
AUDIENCE_NAMES = {"citizen": N_("Citizens"), "enterprise": N_("Enterprises")}


def _service_path(code: str, files: Mapping[str, str]) -> str | None:
    path = path_of("service", code)
    return path if path in files else None


@dataclass
class GuideView:
    """Everything the guide page draws, read in one transaction."""

    revision: int
    path: str
    can_undo: bool
    can_redo: bool
    guide: guide_edit.Guide | None = None
    parse_error: str = ""
    at_field: dict[str, list[Problem]] = field(default_factory=dict)
    in_file: list[Problem] = field(default_factory=list)
    elsewhere: list[Problem] = field(default_factory=list)
    file_questions: list[tuple[str, str]] = field(default_factory=list)  # key, label

    @property
    def problem_count(self) -> int:
        return len(self.in_file) + sum(len(found) for found in self.at_field.values())


def _file_questions(tx: Session, code: str, files: Mapping[str, str]) -> list[tuple[str, str]]:
    """The form's file questions, (key, label in the page's language), for the dropdown of
    where a material is collected."""
    path = form_path(code, files)
    if path is None:
        return []
    text = files.get(path)
    try:
        if text is not None:
            content = json.loads(text)
        else:
            row = current_version(tx, "form", path.rsplit("/", 1)[-1].removesuffix(".json"))
            content = row.content if row is not None else None
        form = load_form(content, name=path) if isinstance(content, dict) else None
    except (ValueError, FormDefinitionError):
        form = None
    if form is None:
        return []
    lang = current_lang()
    found = []
    for key in form.file_keys:
        label = form.fields[key][0].label
        if isinstance(label, Mapping):
            words = str(label.get(lang) or label.get("zh") or key)
        else:
            words = str(label or key)
        found.append((key, f"{words}（{key}）" if lang == "zh" else f"{words} ({key})"))
    return found


def _view(tx: Session, code: str, draft: ServiceDraft, path: str) -> GuideView:
    view = GuideView(revision=draft.revision, path=path, can_undo=bool(draft.undo_stack),
                     can_redo=bool(draft.redo_stack))
    try:
        view.guide = guide_edit.read(draft.files[path])
    except EditRefused as exc:
        view.parse_error = refusal_text(exc)
    for problem in workspace.check_draft(tx, draft):
        if problem.file != path:
            view.elsewhere.append(problem)
            continue
        at = guide_edit.field_of(problem.pointer) if view.guide is not None else ""
        if at:
            view.at_field.setdefault(at, []).append(problem)
        else:
            view.in_file.append(problem)
    view.file_questions = _file_questions(tx, code, draft.files)
    return view


def _draw(code: str, *, error: str = "", error_at: str = "", stale: int | None = None,
          posted: dict[str, Any] | None = None, status: int = 200,
          errors: list[tuple[str, str]] | None = None) -> ResponseReturnValue:
    with request_transaction() as tx:
        _user, draft, path = open_file(tx, code, _service_path)
        view = _view(tx, code, draft, path)
    found = list(errors or ())
    if error:
        found.append((error_at, error))
    posted = posted or {}
    at = {where for where, _text in found}
    return render_template(
        "console/guide_editor.html", code=code, view=view, errors=found, error_at=at,
        error_blocks={"-".join(where.split("-")[:2]) for where in at
                      if where.startswith("material-")},
        guide_posted="statutory_days" in posted, lang=current_lang(), stale=stale,
        posted=posted,
        posted_list={name: request.form.getlist(name) for name in ("audience",)},
        csrf=generate_csrf(), audiences=[(a, _(AUDIENCE_NAMES[a])) for a in guide_edit.AUDIENCES],
        problem_text=problem_text, at_counter=guide_edit.AT_COUNTER), status


def _back(code: str, focus: str | None) -> ResponseReturnValue:
    anchor = f"#{focus}" if focus else ""
    return redirect(url_for(".editor", code=code) + anchor, 303)


def _refused(code: str, found: list[guide_edit.GuideEditError]) -> ResponseReturnValue:
    return _draw(code, errors=[(exc.at, refusal_text(exc)) for exc in found],
                 posted=request.form.to_dict(), status=422)


def _text(prefix: str) -> guide_edit.Text:
    return guide_edit.Text(request.form.get(f"{prefix}_zh", ""),
                           request.form.get(f"{prefix}_en", ""))


@bp.get("")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def editor(code: str) -> ResponseReturnValue:
    return _draw(code)


@bp.post("")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def save(code: str) -> ResponseReturnValue:
    form = request.form
    edit = guide_edit.GuideEdit(
        texts={key: _text(key) for key in guide_edit.TEXTS},
        audience=tuple(form.getlist("audience")),
        statutory_days=form.get("statutory_days", ""), promised_days=form.get("promised_days", ""),
        steps_zh=form.get("steps_zh", ""), steps_en=form.get("steps_en", ""),
        draft_expiry_days=form.get("draft_expiry_days", ""))
    found = guide_edit.problems(edit)
    if found:
        return _refused(code, found)
    return save_edit(code, _service_path, lambda _tx, draft, path: (
        guide_edit.update_guide(draft.files[path], edit), "guide"),
        draw=_draw, back=lambda focus: _back(code, focus), at="guide")


def _material(prefix: str) -> guide_edit.MaterialEdit:
    form = request.form
    return guide_edit.MaterialEdit(
        name=_text(f"{prefix}-name"), required=form.get(f"{prefix}-required") == "1",
        collected=form.get(f"{prefix}-collected", ""), note=_text(f"{prefix}-note"),
        code=form.get(f"{prefix}-code", ""))


@bp.post("/material")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def add_material(code: str) -> ResponseReturnValue:
    edit = _material("new")
    found = guide_edit.material_problems(edit, "new")
    if found:
        return _refused(code, found)

    def change(_tx: Session, draft: ServiceDraft, path: str) -> tuple[str, str | None]:
        text, index = guide_edit.add_material(draft.files[path], edit)
        return text, f"material-{index}"
    return save_edit(code, _service_path, change, draw=_draw,
                     back=lambda focus: _back(code, focus), at="new")


@bp.post("/material/<int:index>")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def update_material(code: str, index: int) -> ResponseReturnValue:
    prefix = f"material-{index}"
    edit = _material(prefix)
    found = guide_edit.material_problems(edit, prefix)
    if found:
        return _refused(code, found)
    return save_edit(code, _service_path, lambda _tx, draft, path: (
        guide_edit.update_material(draft.files[path], index, edit), prefix),
        draw=_draw, back=lambda focus: _back(code, focus), at=prefix)


@bp.post("/material/<int:index>/remove")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def remove_material(code: str, index: int) -> ResponseReturnValue:
    return save_edit(code, _service_path, lambda _tx, draft, path: (
        guide_edit.remove_material(draft.files[path], index), "materials"),
        draw=_draw, back=lambda focus: _back(code, focus), at=f"material-{index}")


@bp.post("/material/<int:index>/move")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def move_material(code: str, index: int) -> ResponseReturnValue:
    def change(_tx: Session, draft: ServiceDraft, path: str) -> tuple[str, str | None]:
        text, to = guide_edit.move_material(draft.files[path], index,
                                            request.form.get("direction", ""))
        return text, f"material-{to}"
    return save_edit(code, _service_path, change, draw=_draw,
                     back=lambda focus: _back(code, focus), at=f"material-{index}")


add_history(bp, _service_path, draw=_draw, back=_back)
