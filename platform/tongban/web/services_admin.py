"""The service workspace in the admin console: services by department, a new service from a
template or a copy, each service's page with its history, rollback, four-eyes, archive, zip
export and import, and publishing with its checks and diff (docs/console.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import Session, col

from ..console import archive, publishing, service_cases, starters
from ..console import workspace as ws
from ..console.diff import diff_files
from ..console.layout import case_of, kind_of, named_files, parse, path_of
from ..console.service_cases import CaseResult
from ..definitions.problems import Phrase, Problem
from ..i18n import N_
from ..models import Department, Role, ServiceWorkspace, User
from ..policy import departments
from ..services import current_services
from .access import current_actor, department_tree, require_role
from .database import request_session, request_transaction

bp = Blueprint("services_admin", __name__, url_prefix="/admin/services")
ADMINS = (Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
# The editor page of each kind of file, by endpoint; a kind without one (a test case) is
# edited in the text view of its file page, which every file keeps for power users.
EDITORS = {"service": "console_guide.editor", "form": "console_form.editor",
           "flow": "console_flow.editor", "rules": "console_rules.editor"}
# What each file of a service is, in the administrator's words (the list on the service page).
FILE_KINDS = {"service": N_("Guide, materials and settings"), "form": N_("Form"),
              "flow": N_("Flow"), "rules": N_("Points rules"), "case": N_("Test case")}


def signed_in_user() -> User:
    found = request_session().get(User, current_user.id)
    if found is None:
        abort(403)
    return found


def refused_text(exc: ws.WorkspaceRefused) -> str:
    return _(exc.message, **exc.params)


@bp.app_template_global("problem_text")
def problem_text(problem: Problem) -> str:
    """A definition problem in the page's language: its template translated with its values,
    each phrase among them translated too (``definitions.problems.Phrase``); the English
    message when the checker gave no template (jsonschema's own wording, for one)."""
    if problem.template and problem.params is not None:
        return _(problem.template, **_translated(problem.params))
    return problem.message


def _translated(params: dict[str, Any]) -> dict[str, Any]:
    return {key: _(value.template, **_translated(value.params))
            if isinstance(value, Phrase) else value for key, value in params.items()}


def guard(code: str) -> ServiceWorkspace | None:
    """404 for no such service, 403 for one the administrator may not edit."""
    session = request_session()
    workspace = ws.get_workspace(session, code)
    if workspace is None and publishing.live_marks(session, code) == {}:
        abort(404)
    if not ws.can_edit(session, signed_in_user(), code):
        abort(403)
    return workspace


def covered_departments(session: Session) -> list[Department]:
    """The departments the administrator may create services in."""
    covered = departments(current_actor(), ADMINS, department_tree())
    rows = session.scalars(select(Department).order_by(col(Department.code))).all()
    return [row for row in rows if covered is None or row.code in covered]


@dataclass
class ServiceRow:
    code: str
    name: Any
    department: str
    status: str
    owner: str
    changed: datetime | None
    waiting: bool = False


def _service_rows(session: Session) -> list[ServiceRow]:
    covered = departments(current_actor(), ADMINS, department_tree())
    owners: dict[int | None, str] = {row.id: row.display_name for row in session.execute(
        select(col(User.id), col(User.display_name)))}
    rows: dict[str, ServiceRow] = {}
    live = {service.code: service for service in current_services(session)}
    for service in live.values():
        rows[service.code] = ServiceRow(service.code, service.name,
                                        service.content["department"]["code"], "live", "", None)
    for workspace in session.scalars(select(ServiceWorkspace)):
        draft = ws.get_draft(session, workspace.code)
        data = parse(path_of("service", workspace.code),
                     draft.files.get(path_of("service", workspace.code), "")) if draft else None
        name = data.get("name") if isinstance(data, dict) else None
        rows[workspace.code] = ServiceRow(
            workspace.code, name or (rows[workspace.code].name if workspace.code in rows
                                     else workspace.code),
            workspace.department_code, workspace.status,
            owners.get(workspace.owner_id, "") if workspace.owner_id else "",
            workspace.updated_at,
            publishing.pending_request(session, workspace.id or 0) is not None)
    for row in rows.values():
        if row.changed is None:
            history = publishing.history(session, row.code)
            row.changed = history[0].at if history else None
    return sorted((row for row in rows.values() if covered is None or row.department in covered),
                  key=lambda row: (row.department, row.code))


@bp.get("")
@require_role(*ADMINS)
def index() -> str:
    session = request_session()
    names = {row.code: row for row in session.scalars(select(Department))}
    grouped: dict[str, list[ServiceRow]] = {}
    for row in _service_rows(session):
        grouped.setdefault(row.department, []).append(row)
    return render_template("admin/services.html", grouped=grouped, departments=names,
                           created=request.args.get("created", ""))


# -- a new service ----------------------------------------------------------------------------

def _new_page(form: dict[str, str], errors: dict[str, str], status: int = 200,
              ) -> ResponseReturnValue:
    session = request_session()
    return render_template("admin/service_new.html", form=form, errors=errors,
                           departments=covered_departments(session),
                           services=[row for row in _service_rows(session)
                                     if row.status != "draft"],
                           templates=starters.TEMPLATES), status


@bp.get("/new")
@require_role(*ADMINS)
def new() -> ResponseReturnValue:
    return _new_page({"start": "blank"}, {})


def _new_errors(session: Session, form: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        ws.check_code(session, form["code"])
    except ws.WorkspaceRefused as exc:
        errors["code"] = refused_text(exc)
    if not form["name_zh"]:
        errors["name_zh"] = _("Enter the service's name in Chinese.")
    if not form["name_en"]:
        errors["name_en"] = _("Enter the service's name in English.")
    if form["department"] not in {d.code for d in covered_departments(session)}:
        errors["department"] = _("Choose a department you administer.")
    if form["start"] not in ("blank", "copy"):
        errors["start"] = _("Choose how the service starts.")
    elif form["start"] == "copy" and not (
            form["source"] and ws.can_edit(session, signed_in_user(), form["source"])):
        errors["source"] = _("Choose the service to copy.")
    return errors


@bp.post("/new")
@require_role(*ADMINS)
def create() -> ResponseReturnValue:
    form = {key: request.form.get(key, "").strip()[:200]
            for key in ("code", "name_zh", "name_en", "department", "start", "source")}
    session = request_session()
    errors = _new_errors(session, form)
    if errors:
        return _new_page(form, errors, 422)
    user = signed_in_user()
    with request_transaction() as tx:
        department = tx.scalars(select(Department)
                                .where(col(Department.code) == form["department"])).one()
        spec = starters.NewService(form["code"], form["name_zh"], form["name_en"], department)
        if form["start"] == "copy":
            files, source = starters.copy_of(tx, form["source"], spec), f"copy:{form['source']}"
        else:
            files, source = starters.blank(spec), "template:blank"
        ws.create_service(tx, form["code"], department.code, files, user, source=source)
    return redirect(url_for("services_admin.service", code=form["code"], done="created"))


# -- a service's page -------------------------------------------------------------------------

def _file_links(code: str, paths: list[str]) -> list[dict[str, str]]:
    links = []
    for path in sorted(paths):
        kind = (kind_of(path) or (("case", "") if case_of(path) else ("", "")))[0]
        editor = EDITORS.get(kind, "")
        view = url_for("services_admin.file", code=code, path=path)
        # A file without an editor of its own is edited in the text box of its page.
        has_editor = editor in current_app.view_functions
        links.append({"path": path, "kind": kind, "name": FILE_KINDS.get(kind, ""), "view": view,
                      "edit": url_for(editor, code=code) if has_editor else view + "#text",
                      "text": view + "#text" if has_editor else ""})
    return links


def service_page(code: str, *, error: str = "", status: int = 200) -> ResponseReturnValue:
    session = request_session()
    workspace = ws.get_workspace(session, code)
    draft = ws.get_draft(session, code)
    files = draft.files if draft else ws.live_files(session, code)
    problems = ws.check_draft(session, draft) if draft else []
    data = parse(path_of("service", code), files.get(path_of("service", code), ""))
    owner = session.get(User, workspace.owner_id) if workspace and workspace.owner_id else None
    department_code = workspace.department_code if workspace else (
        data.get("department", {}).get("code") if isinstance(data, dict) else None)
    department = session.scalars(select(Department).where(
        col(Department.code) == department_code)).first() if department_code else None
    return render_template(
        "admin/service.html", code=code, workspace=workspace, draft=draft, department=department,
        name=data.get("name") if isinstance(data, dict) else code,
        status=workspace.status if workspace else "live", owner=owner,
        files=_file_links(code, list(files)), problems=problems, problem_text=problem_text,
        history=publishing.history(session, code), error=error,
        pending=publishing.pending_request(session, workspace.id or 0) if workspace else None,
        done=request.args.get("done", "")), status


@bp.get("/<code>")
@require_role(*ADMINS)
def service(code: str) -> ResponseReturnValue:
    guard(code)
    return service_page(code)


def _file_page(code: str, path: str, *, text: str | None = None, error: str = "",
               status: int = 200) -> ResponseReturnValue:
    session = request_session()
    draft = ws.get_draft(session, code)
    files = draft.files if draft else ws.live_files(session, code)
    if path not in files:
        abort(404)
    problems = [p for p in (ws.check_draft(session, draft) if draft else []) if p.file == path]
    return render_template("admin/service_file.html", code=code, path=path,
                           lines=files[path].splitlines(), problems=problems,
                           problem_text=problem_text, draft=draft,
                           text=files[path] if text is None else text,
                           saved=request.args.get("saved", ""), error=error), status


@bp.get("/<code>/files/<path:path>")
@require_role(*ADMINS)
def file(code: str, path: str) -> ResponseReturnValue:
    """A file of the working copy (or of the live service) with numbered lines, where the
    problems link to, and its text to edit for who prefers it."""
    guard(code)
    return _file_page(code, path)


@bp.post("/<code>/files/<path:path>")
@require_role(*ADMINS)
def file_save(code: str, path: str) -> ResponseReturnValue:
    guard(code)
    text = request.form.get("text", "").replace("\r\n", "\n")
    revision = request.form.get("revision", "")
    user = signed_in_user()
    try:
        with request_transaction() as tx:
            draft = ws.open_draft(tx, code, user)
            expected = int(revision) if revision.isdigit() else draft.revision
            ws.save_file(tx, draft, path, text, expected_revision=expected, user=user)
    except ws.StaleDraft:
        return _file_page(code, path, text=text, status=409, error=_(
            "Someone saved this service after you opened the page, so your text was not "
            "saved. It is kept below; the numbered lines show the file as it is now."))
    except ws.WorkspaceRefused as exc:
        return _file_page(code, path, text=text, error=refused_text(exc), status=422)
    return redirect(url_for("services_admin.file", code=code, path=path, saved="1"))


@bp.post("/<code>/undo")
@require_role(*ADMINS)
def undo(code: str) -> ResponseReturnValue:
    back = request.form.get("step") != "redo"
    return _act(code, lambda tx, user: (ws.undo if back else ws.redo)(
        tx, ws.open_draft(tx, code, user), user), "undone" if back else "redone")


@dataclass
class Outcome:
    """What a change of a service came to: done, or refused with a message or a conflict."""

    done: str = ""
    error: str = ""
    conflict: publishing.PublishConflict | None = None
    failed_cases: list[CaseResult] | None = None


def attempt(code: str, run: Callable[[Session, User], str]) -> Outcome:
    """Run one change of the service in a transaction (``run`` returns what was done); a
    refusal rolls it all back and says why."""
    guard(code)
    try:
        with request_transaction() as tx:
            return Outcome(done=run(tx, signed_in_user()))
    except ws.WorkspaceRefused as exc:
        return Outcome(error=refused_text(exc))
    except publishing.ProblemsFound:
        return Outcome(error=_("The service has problems; nothing was published."))
    except publishing.PublishConflict as conflict:
        return Outcome(conflict=conflict)
    except publishing.CasesFailed as exc:
        return Outcome(error=_(exc.message, count=len(exc.failed)), failed_cases=exc.failed)


def _act(code: str, run: Callable[[Session, User], object], done: str) -> ResponseReturnValue:
    """A change made from the service page: back to it, with the refusal if there is one."""
    def then(tx: Session, user: User) -> str:
        run(tx, user)
        return done

    outcome = attempt(code, then)
    if outcome.done:
        return redirect(url_for("services_admin.service", code=code, done=outcome.done))
    return service_page(code, error=outcome.error or _(
        "Someone else published this service since you opened this page"), status=422)


@bp.post("/<code>/archive")
@require_role(*ADMINS)
def archive_service(code: str) -> ResponseReturnValue:
    return _act(code, lambda tx, user: ws.set_status(tx, code, user, archived=True,
                                                      request_id=g.request_id), "archived")


@bp.post("/<code>/restore")
@require_role(*ADMINS)
def restore_service(code: str) -> ResponseReturnValue:
    return _act(code, lambda tx, user: ws.set_status(tx, code, user, archived=False,
                                                      request_id=g.request_id), "restored")


@bp.post("/<code>/four-eyes")
@require_role(*ADMINS)
def four_eyes(code: str) -> ResponseReturnValue:
    on = request.form.get("on") == "1"
    return _act(code, lambda tx, user: publishing.set_four_eyes(tx, code, on, user,
                                                                 g.request_id),
                "four_eyes_on" if on else "four_eyes_off")


@bp.post("/<code>/rollback")
@require_role(*ADMINS)
def rollback(code: str) -> ResponseReturnValue:
    version = request.form.get("version", "")
    if not version.isdigit():
        abort(400)
    comment = request.form.get("comment", "").strip()[:500]

    def run(tx: Session, user: User) -> str:
        published = publishing.rollback(tx, code, int(version), user, comment=comment,
                                        request_id=g.request_id)
        return "rolled_back" if published is not None else "state_restored"

    outcome = attempt(code, run)
    if outcome.done:
        return redirect(url_for("services_admin.service", code=code, done=outcome.done))
    return service_page(code, error=outcome.error, status=422)


@bp.get("/<code>/export.zip")
@require_role(*ADMINS)
def export(code: str) -> ResponseReturnValue:
    guard(code)
    session = request_session()
    source = request.args.get("from", "draft")
    draft = ws.get_draft(session, code)
    files = draft.files if draft and source == "draft" else ws.live_files(session, code)
    return Response(archive.export_zip(files), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{code}.zip"'})


@bp.post("/<code>/import")
@require_role(*ADMINS)
def import_zip(code: str) -> ResponseReturnValue:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        guard(code)
        return service_page(code, error=_("Choose a zip file to import."), status=422)
    data = upload.read()
    return _act(code, lambda tx, user: archive.import_zip(tx, code, data, user), "imported")


# -- publish ----------------------------------------------------------------------------------

def _effective_from(text: str) -> datetime | None:
    """The day new applications start on the new versions (00:00 local time); None: at once.
    Raises ValueError with the message to show."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("Enter the effective date as a date such as 2027-01-01.")) from None
    zone = ZoneInfo(current_app.config["TIME_ZONE"])
    if day < datetime.now(zone).date():
        raise ValueError(_("The effective date cannot be before today."))
    return datetime.combine(day, time(), zone)


def _publish_page(code: str, *, form: dict[str, str] | None = None,
                  errors: dict[str, str] | None = None, conflict: Any = None,
                  failed_cases: list[CaseResult] | None = None,
                  status: int = 200) -> ResponseReturnValue:
    session = request_session()
    user = signed_in_user()
    if ws.get_draft(session, code) is None:  # a live service opened for the first time
        with request_transaction() as tx:
            ws.open_draft(tx, code, user)
    draft = ws.get_draft(session, code)
    assert draft is not None
    workspace = ws.workspace_of(session, draft)
    marks = publishing.live_marks(session, code)
    pending = publishing.pending_request(session, workspace.id or 0)
    names_rules = any(kind == "rules" for kind, _name in
                      named_files(code, draft.files.get(path_of("service", code))).values())
    problems = ws.check_draft(session, draft)
    cases = [] if problems else service_cases.run_draft_cases(session, code, draft.files)
    if failed_cases is None:
        failed_cases = [result for result in cases if not result.passed]
    return render_template(
        "admin/service_publish.html", code=code, workspace=workspace, draft=draft,
        names_rules=names_rules,
        problems=problems, problem_text=problem_text, cases=cases, failed_cases=failed_cases,
        diffs=diff_files(ws.live_files(session, code),
                         {path: text for path, text in draft.files.items()
                          if case_of(path) is None}),
        marks=publishing.marks_text(marks), form=form or {}, errors=errors or {},
        conflict=conflict, pending=pending,
        may_approve=pending is not None and user.id not in (pending.requested_by,
                                                            draft.updated_by),
        requester=session.get(User, pending.requested_by) if pending else None), status


@bp.get("/<code>/publish")
@require_role(*ADMINS)
def publish(code: str) -> ResponseReturnValue:
    guard(code)
    return _publish_page(code)


def _publish_outcome(code: str, outcome: Outcome,
                     form: dict[str, str] | None = None) -> ResponseReturnValue:
    if outcome.done:
        return redirect(url_for("services_admin.service", code=code, done=outcome.done))
    if outcome.conflict is not None:
        return _publish_page(code, form=form, conflict=outcome.conflict, status=409)
    return _publish_page(code, form=form, errors={"publish": outcome.error},
                         failed_cases=outcome.failed_cases, status=422)


@bp.post("/<code>/publish")
@require_role(*ADMINS)
def publish_post(code: str) -> ResponseReturnValue:
    guard(code)
    form = {key: request.form.get(key, "").strip()[:500]
            for key in ("effective_from", "comment", "marks")}
    try:
        effective = _effective_from(form["effective_from"])
    except ValueError as exc:
        return _publish_page(code, form=form, errors={"effective_from": str(exc)}, status=422)

    def run(tx: Session, user: User) -> str:
        seen = publishing.parse_marks(form["marks"])
        draft = ws.open_draft(tx, code, user)
        if ws.workspace_of(tx, draft).four_eyes:
            publishing.request_publish(tx, draft, user, seen=seen, comment=form["comment"],
                                       effective_from=effective, request_id=g.request_id)
            return "requested"
        publishing.publish_draft(tx, draft, user, seen=seen, comment=form["comment"],
                                 effective_from=effective, request_id=g.request_id)
        return "published"

    return _publish_outcome(code, attempt(code, run), form)


@bp.post("/<code>/approve")
@require_role(*ADMINS)
def approve(code: str) -> ResponseReturnValue:
    def run(tx: Session, user: User) -> str:
        publishing.approve(tx, ws.open_draft(tx, code, user), user, request_id=g.request_id)
        return "published"

    return _publish_outcome(code, attempt(code, run))
