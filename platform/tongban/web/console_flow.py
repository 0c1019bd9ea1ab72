"""The flow editor at /admin/services/<code>/flow: the steps in flow order with a panel for the
common edits, the diagram redrawn from the working copy after every save, problems at the step,
undo and redo, and the text view of the same file (docs/console.md, "Flow editor").

Every change is one plain form post: it reads the working copy's flow file, applies one edit of
:mod:`tongban.console.flow_edit` and saves the text with the revision the page was drawn from
(the optimistic lock). A refusal draws the page again with the message (422, as the site's
forms answer a post with mistakes); a stale revision does so with 409.
With htmx the editor is swapped in place; without JavaScript the browser follows the redirect.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlmodel import Session

from ..console import flow_edit, workspace
from ..console.layout import parse, path_of
from ..definitions.deadlinecheck import STAFF_ROLES
from ..definitions.problems import Problem
from ..definitions.publish import current_version
from ..forms.definition import FormDefinitionError, load_form
from ..i18n import N_, current_lang
from ..models import Role, ServiceDraft, User
from ..workflow import diagram
from ..workflow.presets import load_presets
from .access import require_role
from .console_editor import (
    add_history,
    check_text,
    lint_json,
    open_file,
    posted_text,
    save_edit,
)
from .database import request_transaction

bp = Blueprint("console_flow", __name__, url_prefix="/admin/services/<code>/flow")
FLOW_SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "flow.schema.json"

ROLE_NAMES = {"counter_clerk": N_("Counter clerk"), "reviewer": N_("Reviewer"),
              "department_admin": N_("Department administrator"),
              "platform_admin": N_("Platform administrator")}
MODE_NAMES = {"single": N_("One person"), "all": N_("All must approve (会签)"),
              "any": N_("Any one approves (或签)"),
              "sequential": N_("One after another (依次)")}
ACTION_NAMES = {
    "": N_("Only mark it overdue (or what the statutory time limit says)"),
    "remind": N_("Remind the people handling it"),
    "escalate": N_("Remind, then escalate to the department administrator"),
    "auto_approve": N_("Approve it automatically"),
    "auto_return": N_("Return it automatically"),
    "accept": N_("Deem it accepted (intake steps only)")}


@dataclass
class Choice:
    value: str
    zh: str
    en: str = ""
    data: Any = None  # an answer's value, for a choice of a question

    def label(self, lang: str) -> str:
        return self.en if lang == "en" and self.en else self.zh


@dataclass
class FlowView:
    """Everything the editor page draws, read in one transaction."""

    revision: int
    path: str
    text: str
    can_undo: bool
    can_redo: bool
    steps: list[flow_edit.Step] = field(default_factory=list)
    parse_error: str = ""
    at_step: dict[str, list[Problem]] = field(default_factory=dict)
    in_file: list[Problem] = field(default_factory=list)
    elsewhere: list[Problem] = field(default_factory=list)
    diagram: Markup | None = None
    diagram_steps: list[str] = field(default_factory=list)
    departments: list[Choice] = field(default_factory=list)
    presets: list[Choice] = field(default_factory=list)
    districts: list[Choice] = field(default_factory=list)   # answers a district office follows
    answers: list[tuple[Choice, list[Choice]]] = field(default_factory=list)  # question, options

    @property
    def marks(self) -> str:
        """The file's problems for the text view's lint marks (JSON)."""
        return lint_json(self.in_file + [p for found in self.at_step.values() for p in found])


def _flow_path(code: str, files: Mapping[str, str]) -> str | None:
    data = parse(path_of("service", code), files.get(path_of("service", code), ""))
    if not isinstance(data, dict) or not isinstance(data.get("flow"), str):
        return None
    path = path_of("flow", data["flow"])
    return path if path in files else None


def _open(tx: Session, code: str) -> tuple[User, ServiceDraft, str]:
    return open_file(tx, code, _flow_path)


def _departments(tx: Session) -> list[Choice]:
    row = current_version(tx, "departments", "departments")
    entries = (row.content.get("departments") or []) if row is not None else []
    return [Choice(str(d["code"]), str((d.get("name") or {}).get("zh") or d["code"]),
                   str((d.get("name") or {}).get("en") or "")) for d in entries]


def _label(text: Any) -> tuple[str, str]:
    if isinstance(text, dict):
        return str(text.get("zh") or ""), str(text.get("en") or "")
    return (str(text), "") if text else ("", "")


def _questions(view: FlowView, form_text: str | None, form_name: str) -> None:
    """The form's questions the panel offers: region answers (a district office follows
    them) and questions with choices (a branch condition reads them)."""
    try:
        content = json.loads(form_text) if form_text else None
        compiled = load_form(content, name=form_name) if isinstance(content, dict) else None
    except (ValueError, FormDefinitionError):
        compiled = None
    if compiled is None:
        return
    for key, found in compiled.fields.items():
        question = found[0]
        zh, en = _label(question.label)
        name = Choice(key, f"{zh or key}（{key}）", f"{en or zh or key} ({key})")
        if question.widget == "region" or question.schema.get("format") == "cn-region":
            view.districts.append(name)
        if question.options and not question.children:
            options = []
            for index, option in enumerate(question.options):
                ozh, oen = _label(option.label)
                value = json.dumps(option.value, ensure_ascii=False)
                options.append(Choice(f"{key}#{index}", ozh or value, oen or ozh or value,
                                      option.value))
            view.answers.append((name, options))


def _view(tx: Session, code: str, draft: ServiceDraft, path: str) -> FlowView:
    text = draft.files[path]
    view = FlowView(revision=draft.revision, path=path, text=text,
                    can_undo=bool(draft.undo_stack), can_redo=bool(draft.redo_stack))
    try:
        view.steps = flow_edit.steps(text)
    except flow_edit.FlowEditError as exc:
        view.parse_error = _(exc.template, **exc.params)
    ids = {step.id for step in view.steps}
    for problem in workspace.check_draft(tx, draft):
        if problem.file != path:
            view.elsewhere.append(problem)
            continue
        parts = problem.pointer.split("/")
        if len(parts) > 2 and parts[1] == "nodes" and parts[2] in ids:
            view.at_step.setdefault(parts[2], []).append(problem)
        else:
            view.in_file.append(problem)
    if view.steps:
        content = flow_edit.plain(flow_edit.load(text))
        lang = current_lang()
        try:
            view.diagram = diagram.diagram_img(content, frozenset(), lang)
            view.diagram_steps = diagram.diagram_steps(content, lang)
        except (ValueError, KeyError, TypeError, AttributeError):
            view.diagram = None  # drawn again once the file is whole
    view.departments = _departments(tx)
    view.presets = [Choice(preset_id, str(p.name.get("zh") or preset_id),
                           str(p.name.get("en") or ""))
                    for preset_id, p in load_presets().items()]
    service = parse(path_of("service", code), draft.files.get(path_of("service", code), ""))
    if isinstance(service, dict) and isinstance(service.get("form"), str):
        form_name = service["form"]
        form_text = draft.files.get(path_of("form", form_name))
        if form_text is None:
            row = current_version(tx, "form", form_name)
            form_text = json.dumps(row.content, ensure_ascii=False) if row is not None else None
        _questions(view, form_text, form_name)
    return view


def _state() -> dict[str, str]:
    found = {"step": request.values.get("step", ""),
             "view": "text" if request.values.get("view") == "text" else ""}
    return {name: value for name, value in found.items() if value}


def _step_name(step: flow_edit.Step, lang: str) -> str:
    return (step.name_en if lang == "en" and step.name_en else step.name_zh) or step.id


def _choices(view: FlowView, lang: str) -> dict[str, list[tuple[str, str]]]:
    """The panel's dropdowns as (value, label) pairs in the page's language."""
    return {
        "roles": [(role, _(ROLE_NAMES.get(role, role))) for role in STAFF_ROLES],
        "departments": [(d.value, f"{d.label(lang)} ({d.value})") for d in view.departments],
        "districts": [("", _("That department itself"))] + [
            (d.value, _("Its district office for the applicant's answer: %(question)s",
                        question=d.label(lang))) for d in view.districts],
        "modes": [(mode, _(MODE_NAMES[mode])) for mode in flow_edit.MODES],
        "presets": [("", _("Choose a time limit"))] + [
            (p.value, f"{p.label(lang)} ({p.value})") for p in view.presets],
        "actions": [(action, _(ACTION_NAMES[action])) for action in flow_edit.TIMEOUT_ACTIONS],
        "targets": [("", _("Choose a step"))] + [
            (step.id, f"{_step_name(step, lang)} ({step.id})")
            for step in view.steps if step.type != "start"],
    }


def _selected_answer(view: FlowView, branch: flow_edit.Branch) -> str:
    """The dropdown value of a branch's condition in the simple shape, else ""."""
    for question, options in view.answers:
        if question.value == branch.question:
            for option in options:
                if option.data == branch.value:
                    return option.value
    return ""


def _draw(code: str, *, error: str = "", error_at: str = "", stale: int | None = None,
          posted: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    with request_transaction() as tx:
        _user_, draft, path = _open(tx, code)
        view = _view(tx, code, draft, path)
    state = _state()
    if error_at and error_at not in ("text", "add") and "step" not in state:
        state["step"] = error_at
    lang = current_lang()
    return render_template(
        "console/flow_editor.html", code=code, view=view, state=state, error=error,
        error_at=error_at, stale=stale, posted=posted or {}, csrf=generate_csrf(), lang=lang,
        options=_choices(view, lang),
        names={"roles": {k: _(v) for k, v in ROLE_NAMES.items()},
               "modes": {k: _(v) for k, v in MODE_NAMES.items()},
               "presets": {p.value: p.label(lang) for p in view.presets}},
        condition_words=lambda rule: diagram.condition_words(rule, lang),
        selected_answer=lambda branch: _selected_answer(view, branch)), status


@bp.get("")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def editor(code: str) -> ResponseReturnValue:
    return _draw(code)


def _back(code: str, step: str | None) -> ResponseReturnValue:
    values: dict[str, Any] = dict(_state())
    if step:
        values["step"] = step
    anchor = f"#step-{step}" if step else ""
    return redirect(url_for(".editor", code=code, **values) + anchor, 303)


def _save(code: str, change: Callable[[str, ServiceDraft, Session], tuple[str, str | None]], *,
          at: str = "") -> ResponseReturnValue:
    """Apply one change to the working copy's flow file and save it with the posted revision."""
    return save_edit(code, _flow_path,
                     lambda tx, draft, path: change(draft.files[path], draft, tx),
                     draw=_draw, back=lambda step: _back(code, step), at=at)


@bp.post("/step/<node_id>")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def update(code: str, node_id: str) -> ResponseReturnValue:
    form = request.form

    def change(text: str, _draft: ServiceDraft, _tx: Session) -> tuple[str, str | None]:
        edit = flow_edit.StepEdit(
            name_zh=form.get("name_zh", ""), name_en=form.get("name_en", ""),
            role=form.get("role", ""), department=form.get("department", ""),
            district_of=form.get("district_of", ""), mode=form.get("mode", "single"),
            deadline=form.get("deadline", ""), preset=form.get("preset", ""),
            working_days=form.get("working_days", ""), on_timeout=form.get("on_timeout", ""))
        return flow_edit.edit_step(text, node_id, edit, presets=load_presets()), node_id
    return _save(code, change, at=node_id)


@bp.post("/step/<node_id>/add")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def add(code: str, node_id: str) -> ResponseReturnValue:
    form = request.form

    def change(text: str, draft: ServiceDraft, tx: Session) -> tuple[str, str | None]:
        ws = workspace.workspace_of(tx, draft)
        return flow_edit.add_step(text, node_id, form.get("name_zh", ""),
                                  form.get("name_en", ""),
                                  who={"role": Role.REVIEWER.value,
                                       "department": ws.department_code})
    return _save(code, change, at=node_id)


@bp.post("/step/<node_id>/remove")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def remove(code: str, node_id: str) -> ResponseReturnValue:
    def change(text: str, _draft: ServiceDraft, _tx: Session) -> tuple[str, str | None]:
        return flow_edit.remove_step(text, node_id), None
    return _save(code, change, at=node_id)


@bp.post("/step/<node_id>/branch/<int:index>")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def branch(code: str, node_id: str, index: int) -> ResponseReturnValue:
    form = request.form

    def change(text: str, draft: ServiceDraft, tx: Session) -> tuple[str, str | None]:
        key, _sep, number = form.get("answer", "").partition("#")
        value = _option_value(tx, draft, key, number)
        return flow_edit.set_branch(text, node_id, index, key, form.get("operator", ""),
                                    value), node_id
    return _save(code, change, at=node_id)


@bp.post("/step/<node_id>/branch")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def add_branch(code: str, node_id: str) -> ResponseReturnValue:
    form = request.form

    def change(text: str, draft: ServiceDraft, tx: Session) -> tuple[str, str | None]:
        key, _sep, number = form.get("answer", "").partition("#")
        value = _option_value(tx, draft, key, number)
        return flow_edit.add_branch(text, node_id, form.get("to", ""), key,
                                    form.get("operator", ""), value), node_id
    return _save(code, change, at=node_id)


@bp.post("/step/<node_id>/branch/<int:index>/remove")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def remove_branch(code: str, node_id: str, index: int) -> ResponseReturnValue:
    def change(text: str, _draft: ServiceDraft, _tx: Session) -> tuple[str, str | None]:
        return flow_edit.remove_branch(text, node_id, index), node_id
    return _save(code, change, at=node_id)


def _option_value(tx: Session, draft: ServiceDraft, key: str, number: str) -> Any:
    """The value of choice ``number`` of the form's question ``key`` (as the panel offered)."""
    code = workspace.workspace_of(tx, draft).code
    service = parse(path_of("service", code), draft.files.get(path_of("service", code), ""))
    form_name = service.get("form") if isinstance(service, dict) else None
    form_text = draft.files.get(path_of("form", str(form_name)))
    row = current_version(tx, "form", str(form_name)) if form_text is None else None
    try:
        content = json.loads(form_text) if form_text is not None else row.content  # type: ignore[union-attr]  # None: caught below
        options = load_form(content, name=str(form_name)).field(key).options
        return options[int(number)].value
    except (AttributeError, KeyError, IndexError, ValueError, FormDefinitionError):
        raise flow_edit.FlowEditError(N_("Choose the answer the branch depends on.")) from None


@bp.post("/text")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def text(code: str) -> ResponseReturnValue:
    posted = posted_text()

    def change(_text: str, _draft: ServiceDraft, _tx: Session) -> tuple[str, str | None]:
        return posted, None
    return _save(code, change, at="text")


@bp.post("/check")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def check(code: str) -> ResponseReturnValue:
    """The problems of the text view's text as typed (its lint marks); nothing is saved."""
    with request_transaction() as tx:
        _user_, draft, path = _open(tx, code)
        return check_text(tx, code, draft.files, path, posted_text())


@bp.get("/schema.json")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def schema(code: str) -> ResponseReturnValue:
    """The flow file format (schemas/flow.schema.json), for the text view's completion."""
    del code
    return send_file(FLOW_SCHEMA, mimetype="application/json", max_age=3600)


add_history(bp, _flow_path, draw=_draw, back=_back, focus="step")
