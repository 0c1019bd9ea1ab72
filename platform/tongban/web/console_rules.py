"""The rules editor at /admin/services/<code>/rules: the points rule set the service names, its
indicators as a table with a panel that edits the open one's cells, the pass mark or grades,
problems at the indicator, the cell and the line, undo and redo, the text view of the same file,
and the simulation of the draft against the live rule set before publishing (docs/console.md,
"Rules editor").

Every change is one plain form post, as in the flow editor (web/console_flow.py): it reads the
working copy's rules file, applies one edit of :mod:`tongban.console.rules_edit` and saves the
text with the revision the page was drawn from. A refusal draws the page again with the message
and what was typed (422); a stale revision does so with 409.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlmodel import Session

from ..console import rules_edit, workspace
from ..console.layout import parse, path_of, render_version
from ..definitions.problems import Problem
from ..definitions.publish import current_version
from ..i18n import N_, current_lang
from ..models import Role, ServiceDraft, ServiceWorkspace, User
from ..points import population as pop
from ..points.simulate import (
    Report,
    SimulationError,
    draft_rules,
    published_version,
    services_of,
    simulate,
    stored_applications,
)
from ..policy import holds
from ..worktime import TZ
from .access import current_actor, department_tree, require_role
from .console_editor import check_text, lint_json, posted_text
from .database import request_transaction
from .points_admin import generated_people, report_chart

bp = Blueprint("console_rules", __name__, url_prefix="/admin/services/<code>/rules")
RULES_SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "rules.schema.json"
ADMINS = (Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)

KIND_NAMES = {"bands": N_("Bands"), "table": N_("Table of answers"),
              "per_unit": N_("Points per unit"), "group_max": N_("Higher of (二选一)"),
              "deduction": N_("Deduction"), "veto": N_("Veto (一票否决)"),
              "weighted": N_("Weighted score")}
MIN_STORED = 50
"""Fewer stored applications than this and the simulation scores generated people instead."""
SAMPLE_SIZE = 1000
"""Generated people scored by the editor's simulation (seed 1): a couple of seconds at most."""


@dataclass
class RulesView:
    """Everything the editor page draws, read in one transaction."""

    revision: int
    path: str
    rule_set_id: str
    text: str
    can_undo: bool
    can_redo: bool
    indicators: list[rules_edit.Indicator] = field(default_factory=list)
    outcome: rules_edit.Outcome | None = None
    inputs: dict[str, str] = field(default_factory=dict)
    parameters: list[str] = field(default_factory=list)
    parse_error: str = ""
    at_indicator: dict[str, list[Problem]] = field(default_factory=dict)
    at_cell: dict[tuple[str, int], list[Problem]] = field(default_factory=dict)
    at_outcome: list[Problem] = field(default_factory=list)
    in_file: list[Problem] = field(default_factory=list)
    elsewhere: list[Problem] = field(default_factory=list)
    shared_with: list[str] = field(default_factory=list)

    @property
    def problem_count(self) -> int:
        return (len(self.in_file) + len(self.at_outcome)
                + sum(len(found) for found in self.at_indicator.values()))

    @property
    def marks(self) -> str:
        """The file's problems for the text view's lint marks (JSON)."""
        return lint_json(self.in_file + self.at_outcome
                          + [p for found in self.at_indicator.values() for p in found])


def _user(tx: Session, code: str) -> User:
    user = tx.get(User, current_user.id)
    if user is None or not workspace.can_edit(tx, user, code):
        abort(403)
    return user


def _rules_name(code: str, files: dict[str, str]) -> str | None:
    data = parse(path_of("service", code), files.get(path_of("service", code), ""))
    if not isinstance(data, dict) or not isinstance(data.get("rules"), str):
        return None
    return str(data["rules"])


def _open(tx: Session, code: str) -> tuple[User, ServiceDraft, str, str]:
    if workspace.get_workspace(tx, code) is None and not workspace.live_versions(tx, code):
        abort(404)
    user = _user(tx, code)
    draft = workspace.open_draft(tx, code, user)
    name = _rules_name(code, draft.files)
    if name is None or (path_of("rules", name) not in draft.files
                        and current_version(tx, "rules", name) is None):
        abort(404)
    return user, draft, path_of("rules", name), name


def _text(tx: Session, draft: ServiceDraft, path: str, name: str) -> str:
    """The rules file of the working copy; a shared rule set a copied service names but has not
    changed yet starts as its published text (the first save puts it in the working copy)."""
    if path in draft.files:
        return draft.files[path]
    row = current_version(tx, "rules", name)
    assert row is not None  # _open checked
    return render_version(row)


def _sharing(tx: Session, rule_set_id: str, code: str) -> list[str]:
    """The other services that name the rule set, published or in a working copy."""
    found = set(services_of(tx, rule_set_id))
    for row in tx.scalars(select(ServiceWorkspace)):
        draft = workspace.get_draft(tx, row.code)
        if draft is not None and _rules_name(row.code, draft.files) == rule_set_id:
            found.add(row.code)
    return sorted(found - {code})


def _place(view: RulesView, problem: Problem) -> None:
    """Put a problem of the rules file at its indicator and cell, the outcome, or the file."""
    parts = problem.pointer.split("/")
    if len(parts) > 2 and parts[1] == "indicators" and parts[2].isdigit() \
            and int(parts[2]) < len(view.indicators):
        indicator = view.indicators[int(parts[2])]
        view.at_indicator.setdefault(indicator.id, []).append(problem)
        if len(parts) > 4 and parts[3] in ("bands", "components", "table"):
            if parts[3] == "table":
                keys = [row[0] for row in indicator.rows]
                row = keys.index(parts[4]) + 1 if parts[4] in keys else 0
            else:
                row = int(parts[4]) + 1 if parts[4].isdigit() else 0
            if row:
                view.at_cell.setdefault((indicator.id, row), []).append(problem)
    elif len(parts) > 1 and parts[1] == "outcome":
        view.at_outcome.append(problem)
    else:
        view.in_file.append(problem)


def _view(tx: Session, code: str, draft: ServiceDraft, path: str, rule_set_id: str) -> RulesView:
    text = _text(tx, draft, path, rule_set_id)
    view = RulesView(revision=draft.revision, path=path, rule_set_id=rule_set_id, text=text,
                     can_undo=bool(draft.undo_stack), can_redo=bool(draft.redo_stack))
    try:
        view.indicators = rules_edit.indicators(text)
        view.outcome = rules_edit.outcome(text)
        view.inputs = rules_edit.inputs(text)
        view.parameters = rules_edit.parameters(text)
    except rules_edit.RulesEditError as exc:
        view.parse_error = _(exc.template, **exc.params)
    for problem in workspace.check_draft(tx, draft):
        if problem.file != path:
            view.elsewhere.append(problem)
        else:
            _place(view, problem)
    view.shared_with = _sharing(tx, rule_set_id, code)
    return view


def _state() -> dict[str, str]:
    """What the page keeps across posts: the open indicator, or the text view."""
    if request.values.get("view") == "text":
        return {"view": "text"}
    found = request.values.get("indicator", "")
    return {"indicator": found} if found else {}


@dataclass
class Simulation:
    report: Report | None = None
    chart: str = ""
    error: str = ""
    against_live: bool = False


def _simulation(tx: Session, code: str, draft: ServiceDraft, path: str,
                rule_set_id: str) -> Simulation:
    """The draft rule set against the live one on a sample population: the stored applications
    of the services using it when there are enough, else generated people."""
    try:
        rule_set = draft_rules(_text(tx, draft, path, rule_set_id), path)
    except SimulationError:
        return Simulation(error=_("The draft rule set has problems: fix them, then run the "
                                  "simulation again."))
    try:
        live = published_version(tx, rule_set_id)
    except SimulationError:
        live = None  # never published: the draft's own figures only
    actor, tree = current_actor(), department_tree()
    people = stored_applications(
        tx, rule_set_id, keep=lambda application: holds(actor, ADMINS,
                                                        application.department_code, tree))
    source = _("%(count)s stored applications", count=format(len(people), ","))
    service = parse(path_of("service", code), draft.files.get(path_of("service", code), ""))
    fits_generated = isinstance(service, dict) and service.get("form") == pop.FORM_CODE
    if len(people) < MIN_STORED and fits_generated:
        people = generated_people(SAMPLE_SIZE, 1)
        source = _("%(count)s generated people (seed %(seed)s)",
                   count=format(SAMPLE_SIZE, ","), seed=1)
    if not people:
        return Simulation(error=_("There is no sample to simulate on: the services using this "
                                  "rule set have no stored applications yet."))
    report = simulate(rule_set, people, datetime.now(TZ).date(), against=live, source=source)
    return Simulation(report=report, chart=report_chart(report), against_live=live is not None)


def _draw(code: str, *, error: str = "", error_at: str = "", error_for: str = "",
          stale: int | None = None,
          posted: dict[str, Any] | None = None, status: int = 200,
          run: bool = False) -> ResponseReturnValue:
    with request_transaction() as tx:
        _user_, draft, path, rule_set_id = _open(tx, code)
        view = _view(tx, code, draft, path, rule_set_id)
        simulation = _simulation(tx, code, draft, path, rule_set_id) if run else None
    state = _state()
    if error_for and "view" not in state and error_for in {i.id for i in view.indicators}:
        state["indicator"] = error_for
    lang = current_lang()
    return render_template(
        "console/rules_editor.html", code=code, view=view, state=state, error=error,
        error_at=error_at, error_for=error_for, stale=stale, posted=posted or {},
        csrf=generate_csrf(), lang=lang,
        kinds={kind: _(name) for kind, name in KIND_NAMES.items()}, simulation=simulation), status


@bp.get("")
@require_role(*ADMINS)
def editor(code: str) -> ResponseReturnValue:
    return _draw(code, run=request.args.get("simulate") == "1")


def _revision() -> int:
    value = request.form.get("revision", "")
    if not value.isdigit():
        abort(400)
    return int(value)


def _back(code: str, indicator: str | None, anchor: str = "") -> ResponseReturnValue:
    if _state().get("view") == "text":
        return redirect(url_for(".editor", code=code, view="text"), 303)
    anchor = anchor or (f"#indicator-{indicator}" if indicator else "")
    if indicator:
        return redirect(url_for(".editor", code=code, indicator=indicator) + anchor, 303)
    return redirect(url_for(".editor", code=code) + anchor, 303)


Change = Callable[[str], tuple[str, str | None]]


def _save(code: str, change: Change, *, at: str = "", field: str = "") -> ResponseReturnValue:
    """Apply one change to the working copy's rules file and save it with the posted revision.
    ``at`` is the indicator the change is about (its panel shows a refusal)."""
    revision = _revision()
    posted: dict[str, Any] = request.form.to_dict()
    posted["members"] = request.form.getlist("members")
    try:
        with request_transaction() as tx:
            user, draft, path, rule_set_id = _open(tx, code)
            text, indicator = change(_text(tx, draft, path, rule_set_id))
            workspace.save_file(tx, draft, path, text, expected_revision=revision, user=user)
    except rules_edit.RulesEditError as exc:
        return _draw(code, error=_(exc.template, **exc.params), error_at=exc.at,
                     error_for=field, posted=posted, status=422)
    except workspace.StaleDraft as exc:
        return _draw(code, stale=exc.current_revision, error_for=field, posted=posted,
                     status=409)
    except workspace.WorkspaceRefused as exc:
        return _draw(code, error=_(exc.message, **exc.params), status=422)
    return _back(code, indicator if indicator is not None else at or None)


def _edit() -> rules_edit.IndicatorEdit:
    form = request.form
    count = int(form.get("rows", "0")) if form.get("rows", "0").isdigit() else 0
    kind = form.get("kind", "")
    columns = rules_edit.COLUMNS.get(kind, ())
    rows = tuple(tuple(form.get(f"row-{number}-{column}", "") for column in columns)
                 for number in range(1, min(count, 200) + 1))
    return rules_edit.IndicatorEdit(
        name_zh=form.get("name_zh", ""), name_en=form.get("name_en", ""), rows=rows,
        per=form.get("per", ""), points=form.get("points", ""), cap=form.get("cap", ""),
        window=form.get("window", ""), members=tuple(form.getlist("members")),
        enabled=form.get("enabled", ""), when_input=form.get("when_input", ""))


@bp.post("/indicator/<indicator_id>")
@require_role(*ADMINS)
def update(code: str, indicator_id: str) -> ResponseReturnValue:
    """Save the panel; its "add a row" and "remove row N" buttons save it and then change the
    rows, so what was typed in the other cells is kept."""
    action = request.form.get("action", "save")

    def change(text: str) -> tuple[str, str | None]:
        text = rules_edit.edit_indicator(text, indicator_id, _edit())
        if action == "add_row":
            text = rules_edit.add_row(text, indicator_id)
        elif action.startswith("remove_row-") and action.removeprefix("remove_row-").isdigit():
            text = rules_edit.remove_row(text, indicator_id,
                                         int(action.removeprefix("remove_row-")))
        return text, indicator_id
    return _save(code, change, at=indicator_id, field=indicator_id)


@bp.post("/indicator/<indicator_id>/move")
@require_role(*ADMINS)
def move(code: str, indicator_id: str) -> ResponseReturnValue:
    direction = request.form.get("direction", "")

    def change(text: str) -> tuple[str, str | None]:
        return rules_edit.move_indicator(text, indicator_id, direction), ""
    return _save(code, change, field=indicator_id)


@bp.post("/indicator/<indicator_id>/remove")
@require_role(*ADMINS)
def remove(code: str, indicator_id: str) -> ResponseReturnValue:
    def change(text: str) -> tuple[str, str | None]:
        return rules_edit.remove_indicator(text, indicator_id), ""
    return _save(code, change, field=indicator_id)


@bp.post("/indicator")
@require_role(*ADMINS)
def add(code: str) -> ResponseReturnValue:
    form = request.form

    def change(text: str) -> tuple[str, str | None]:
        return rules_edit.add_indicator(text, form.get("kind", ""), form.get("name_zh", ""),
                                        form.get("name_en", ""))
    return _save(code, change, field="add")


@bp.post("/outcome")
@require_role(*ADMINS)
def outcome(code: str) -> ResponseReturnValue:
    form = request.form
    action = form.get("action", "save")
    count = int(form.get("rows", "0")) if form.get("rows", "0").isdigit() else 0
    grades = [tuple(form.get(f"grade-{n}-{c}", "") for c in ("min", "grade", "label_zh",
                                                              "label_en"))
              for n in range(1, min(count, 50) + 1)]
    if action == "add_grade":
        low = grades[-1][0].strip() if grades else ""
        below = float(low) - 10 if low.lstrip("-").replace(".", "", 1).isdigit() else 0
        grades.append((f"{below:g}", "?", "", ""))
    elif action.startswith("remove_grade-") and action.removeprefix("remove_grade-").isdigit():
        number = int(action.removeprefix("remove_grade-"))
        if len(grades) > 1 and 1 <= number <= len(grades):
            del grades[number - 1]

    def change(text: str) -> tuple[str, str | None]:
        return rules_edit.edit_outcome(text, form.get("threshold", ""), grades), ""
    return _save(code, change, field="outcome")


@bp.post("/text")
@require_role(*ADMINS)
def text(code: str) -> ResponseReturnValue:
    """Save the text view: the whole file as typed, checked like every other save."""
    posted = posted_text()

    def change(_text: str) -> tuple[str, str | None]:
        return posted, None
    return _save(code, change, field="text")


@bp.post("/check")
@require_role(*ADMINS)
def check(code: str) -> ResponseReturnValue:
    """The problems of the text view's text as typed (its lint marks); nothing is saved."""
    with request_transaction() as tx:
        _user_, draft, path, _rule_set_id = _open(tx, code)
        return check_text(tx, code, draft.files, path, posted_text())


@bp.get("/schema.json")
@require_role(*ADMINS)
def schema(code: str) -> ResponseReturnValue:
    """The rules file format (schemas/rules.schema.json), for the text view's completion."""
    del code
    return send_file(RULES_SCHEMA, mimetype="application/json", max_age=3600)


def _history(code: str, step: Callable[..., ServiceDraft]) -> ResponseReturnValue:
    """Undo or redo, refused as stale when the page was drawn from another revision."""
    revision = _revision()
    try:
        with request_transaction() as tx:
            user, draft, _path, _rule_set_id = _open(tx, code)
            if draft.revision != revision:
                raise workspace.StaleDraft(draft.revision)
            step(tx, draft, user)
    except workspace.StaleDraft as exc:
        return _draw(code, stale=exc.current_revision, status=409)
    except workspace.WorkspaceRefused as exc:
        return _draw(code, error=_(exc.message, **exc.params), status=422)
    return _back(code, request.form.get("indicator") or None)


@bp.post("/undo")
@require_role(*ADMINS)
def undo(code: str) -> ResponseReturnValue:
    return _history(code, workspace.undo)


@bp.post("/redo")
@require_role(*ADMINS)
def redo(code: str) -> ResponseReturnValue:
    return _history(code, workspace.redo)
