"""Administrators: published definition versions (editing in the browser comes later), the
flow engine's incidents, and the repair or migration of one application's flow."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col

from .. import connectors
from ..extend import health as plugin_health
from ..extend.manager import plugin_manager
from ..i18n import N_, pick
from ..models import Application, DefinitionVersion, FlowTask, Role, User, saved_id, utcnow
from ..policy import holds
from ..workflow import admin_ops, incidents, runtime
from ..workflow import engine as flow_engine
from ..workflow.definition import Flow
from ..workflow.directory import DbDirectory
from ..workflow.errors import FlowError
from . import flow_views
from .access import current_actor, department_tree, require_role
from .database import request_session, request_transaction

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The administration home page: (heading, [(endpoint, link text, platform admins only)]).
# A link whose page is not part of this build (its blueprint not registered) is left out.
SECTIONS = (
    (N_("Services"), (("services_admin.index", N_("Services: build, check and publish"), False),
                      ("admin.definitions", N_("Published definitions"), False),
                      ("admin.calendars", N_("Working-day calendars"), True))),
    (N_("Points"), (("points_admin.simulate_form", N_("Simulate a points rule set"), False),
                    ("ledger_pages.totals", N_("Points ledgers"), False))),
    (N_("Staff and accounts"), (("staff.users", N_("Users and roles"), False),
                    ("staff.departments", N_("Departments"), False),
                    ("staff_import.bulk_import", N_("Import users from a CSV file"), False),
                    ("security.policy", N_("Password policy and two-step verification"), True))),
    (N_("Operations"), (("dashboards.index", N_("Dashboards"), False),
                        ("admin.incident_list", N_("Flow incidents"), False),
                        ("admin.plugins", N_("Plugins and their health"), True),
                        ("messages.admin_list", N_("Notifications waiting or failed"), True),
                        ("ratings.follow_up_list", N_("Follow-ups of bad ratings"), False),
                        ("ratings.appeals", N_("Appeals against ratings"), True))),
)


@bp.get("", strict_slashes=False)
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def home() -> str:
    platform_admin = current_user.has_role(Role.PLATFORM_ADMIN)
    sections = []
    for heading, links in SECTIONS:
        shown = [(url_for(endpoint), _(text)) for endpoint, text, only_platform in links
                 if endpoint in current_app.view_functions
                 and (platform_admin or not only_platform)]
        if shown:
            sections.append((_(heading), shown))
    return render_template("admin/home.html", sections=sections)


@bp.get("/definitions")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def definitions() -> str:
    versions = request_session().scalars(
        select(DefinitionVersion).order_by(col(DefinitionVersion.kind), col(DefinitionVersion.code),
                                           col(DefinitionVersion.version).desc())).all()
    return render_template("admin/definitions.html", versions=versions)


@bp.get("/plugins")
@require_role(Role.PLATFORM_ADMIN)
def plugins() -> str:
    """Every installed plugin: version, where from, hooks, and its health now (each check
    with the time limit) with the failures the core recorded and, for connector plugins,
    each service connector's latest call."""
    by_plugin = connectors.health_by_plugin(request_session(), plugin_manager(),
                                            connectors.registry(current_app))
    statuses = plugin_health.check(plugin_manager(), current_app.config,
                                   current_app.config["PLUGIN_TIMEOUT_SECONDS"],
                                   request_session(), connectors=by_plugin)
    return render_template("admin/plugins.html", plugins=statuses,
                           orphans=by_plugin.get("", []))


@bp.get("/incidents")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def incident_list() -> ResponseReturnValue:
    return _incident_page(retried=request.args.get("retried", ""))


def _incident_page(*, retried: str = "", error: str = "", status: int = 200) -> ResponseReturnValue:
    found = incidents.list_incidents(request_session(), current_actor(), department_tree())
    return render_template("admin/incidents.html", incidents=found, retried=retried,
                           error=error), status


@bp.post("/incidents/retry")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def incident_retry() -> ResponseReturnValue:
    kind = request.form.get("kind", "")
    if kind not in ("service", "timer", "no_approvers"):
        abort(400)
    try:
        with request_transaction() as tx:
            if kind == "service":
                incidents.retry_service_call(
                    tx, current_actor(), department_tree(), _form_int("outbox"), now=utcnow(),
                    actor_name=current_user.username, request_id=g.request_id)
            elif kind == "timer":
                incidents.retry_timer(
                    tx, current_actor(), department_tree(), _form_int("timer"), now=utcnow(),
                    actor_name=current_user.username, request_id=g.request_id)
            else:
                incidents.retry_stopped(
                    tx, current_actor(), department_tree(), _form_int("application"),
                    request.form.get("node", ""), now=utcnow(), request_id=g.request_id)
    except FlowError as exc:
        if exc.status == 403:
            abort(403)
        return _incident_page(error=_(exc.message, **exc.params), status=exc.status)
    return redirect(url_for("admin.incident_list", retried=request.form.get("reference", "")))


def _form_int(name: str) -> int:
    value = request.form.get(name, "")
    if not value.isdigit():
        abort(400)
    return int(value)


# --- Repair and migration of one application's flow --------------------------------------------


@dataclass(frozen=True)
class Standing:
    """A node the application stands on, with who holds its open tasks."""

    node: str
    name: str
    holders: list[str]


@dataclass(frozen=True)
class NewerVersion:
    """A published newer version of the application's flow and what the dry run says."""

    version: DefinitionVersion
    problems: list[str]  # translated; empty: the migration can be applied
    unmapped: list[tuple[str, list[tuple[str, str]]]]  # node, the new version's choices for it


@dataclass
class FlowCase:
    application: Application
    loaded: runtime.Loaded
    flow: Flow
    state: flow_engine.State


def _flow_case(reference: str) -> FlowCase:
    """The application's flow as its administrators see it (404 without one, 403 outside the
    actor's departments: platform administrators see every application)."""
    session = request_session()
    application = session.scalars(select(Application)
                                  .where(col(Application.reference) == reference)).first()
    if application is None:
        abort(404)
    if not holds(current_actor(), runtime.ADMIN_ROLES, application.department_code,
                 department_tree()):
        abort(403)
    try:
        loaded = runtime.load_for_application(session, saved_id(application))
        if loaded.instance.flow_version_id is None:
            abort(404)
        flow = runtime.flow_for(session, loaded.instance.flow_version_id)
    except runtime.FlowNotFound:
        abort(404)
    state = flow_engine.State(
        flow=flow, instance=loaded.instance, tokens=loaded.tokens, tasks=loaded.tasks,
        answers=application.answers, applicant_id=loaded.instance.applicant_id,
        directory=DbDirectory(session))
    return FlowCase(application, loaded, flow, state)


def _node_label(flow: Flow, node_id: str) -> str:
    node = flow.nodes.get(node_id)
    name = pick(dict(node.name)) if node is not None and node.name else ""
    if not name and node is not None and node.type == "start":
        name = _("Start: sent by the applicant")
    return f"{name} ({node_id})" if name else node_id


def _standing(case: FlowCase) -> list[Standing]:
    open_tasks = [task for task in case.loaded.tasks
                  if task.kind != "cc" and task.state in ("open", "claimed")]
    ids = {task.assignee_id for task in open_tasks if task.assignee_id is not None}
    names = dict(request_session().execute(
        select(col(User.id), col(User.display_name)).where(col(User.id).in_(ids))).all()) \
        if ids else {}
    people = flow_views.Names(request_session(), (), [t.candidate_department for t in open_tasks])

    def group(task: FlowTask) -> str:  # a candidate group in words: 上海市人社局 审核人员
        role = flow_views.ROLE_NAMES.get(Role(task.candidate_role)) \
            if task.candidate_role in set(Role) else None
        return " ".join(part for part in (people.department(task.candidate_department),
                                          _(role) if role else task.candidate_role or "") if part)
    found = []
    for node in admin_ops.standing(case.state):
        holders = [names.get(task.assignee_id, str(task.assignee_id))
                   if task.assignee_id is not None else group(task)
                   for task in open_tasks if task.node == node]
        found.append(Standing(node, _node_label(case.flow, node), holders))
    return found


def _newer_versions(case: FlowCase, mapping: dict[str, str] | None = None,
                    mapped_version: int | None = None) -> list[NewerVersion]:
    session = request_session()
    instance = case.loaded.instance
    current = session.get(DefinitionVersion, instance.flow_version_id)
    rows = session.scalars(select(DefinitionVersion).where(
        col(DefinitionVersion.kind) == "flow", col(DefinitionVersion.code) == instance.flow_code,
        col(DefinitionVersion.version) > (current.version if current is not None else 0))
        .order_by(col(DefinitionVersion.version))).all()
    found = []
    for row in rows:
        new_flow = runtime.flow_for(session, saved_id(row))
        given = mapping if mapped_version == row.id else None
        problems = [_(problem.message, **problem.params)
                    for problem in admin_ops.migration_problems(case.state, new_flow, given)]
        unmapped = []
        for node_id in admin_ops.positions(case.state):
            old = case.flow.nodes.get(node_id)
            if node_id in new_flow.nodes or old is None:
                continue
            choices = [(target, _node_label(new_flow, target))
                       for target, node in new_flow.nodes.items() if admin_ops.same_kind(old, node)]
            unmapped.append((node_id, choices))
        found.append(NewerVersion(row, problems, unmapped))
    return found


def _flow_page(case: FlowCase, *, errors: dict[str, str] | None = None,
               form: dict[str, str] | None = None, mapping: dict[str, str] | None = None,
               mapped_version: int | None = None, status: int = 200) -> ResponseReturnValue:
    instance = case.loaded.instance
    session = request_session()
    service = session.get(DefinitionVersion, case.application.service_version_id)
    return render_template(
        "admin/flow.html", application=case.application, instance=instance,
        status_name=flow_views.status_name,
        service_name=pick(service.content.get("name")) if service is not None
        and service.content.get("name") else case.application.service_code,
        flow_name=pick(dict(case.flow.name)) if case.flow.name else instance.flow_code,
        department_name=flow_views.Names(session, (), [case.application.department_code])
        .department(case.application.department_code),
        ended=instance.ended_at is not None or instance.status in flow_engine.FINAL_STATUSES,
        standing=_standing(case),
        nodes=[(node_id, _node_label(case.flow, node_id)) for node_id in case.flow.nodes],
        newer=_newer_versions(case, mapping, mapped_version), errors=errors or {},
        form=form or {}, mapping=mapping or {}, done=request.args.get("done", "")), status


@bp.get("/flows/<reference>")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def flow_case(reference: str) -> ResponseReturnValue:
    return _flow_page(_flow_case(reference))


def _act_on_flow(case: FlowCase, operation: str, *, fields: dict[str, str],
                 form: dict[str, str], shown_mapping: dict[str, str] | None = None,
                 version_id: int | None = None, **args: object) -> ResponseReturnValue | None:
    """Run the operation through the runtime (audited with its flow events): None when it was
    done, else the page again with the refusal beside its field (``fields``: by error code,
    ``""`` for any other)."""
    try:
        with request_transaction() as tx:
            runtime.act_on_application(tx, current_actor(), saved_id(case.application),
                                       operation, now=utcnow(), request_id=g.request_id,
                                       tree=department_tree(), **args)
    except FlowError as exc:
        if exc.status == 403:
            abort(403)
        field = fields.get(exc.code, fields[""])
        return _flow_page(_flow_case(case.application.reference),
                          errors={field: _(exc.message, **exc.params)}, form=form,
                          mapping=shown_mapping, mapped_version=version_id, status=exc.status)
    return None


@bp.post("/flows/<reference>/repair")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def flow_repair(reference: str) -> ResponseReturnValue:
    case = _flow_case(reference)
    form = {"node": request.form.get("node", ""), "reason": request.form.get("reason", "")}
    errors = {}
    if form["node"] not in case.flow.nodes:
        errors["node"] = _("Choose the step to move the application to")
    if not form["reason"].strip():
        errors["reason"] = _("Enter the reason")
    if errors:
        return _flow_page(case, errors=errors, form=form, status=422)
    refused = _act_on_flow(case, "repair", form=form, node=form["node"],
                           reason=form["reason"].strip(),
                           fields={"reason_empty": "reason", "comment_too_long": "reason",
                                   "": "node"})
    return refused or redirect(url_for("admin.flow_case", reference=reference, done="repaired"))


@bp.post("/flows/<reference>/migrate")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def flow_migrate(reference: str) -> ResponseReturnValue:
    case = _flow_case(reference)
    newer = {row.version.id: row for row in _newer_versions(case)}
    version_text = request.form.get("version", "")
    version_id = int(version_text) if version_text.isdigit() else None
    if version_id not in newer:
        return _flow_page(case, errors={"newer": _("Choose one of the newer versions")},
                          status=422)
    mapping = {node: request.form.get(f"map-{node}", "") for node, _choices
               in newer[version_id].unmapped}
    reason = request.form.get("reason", "")
    form = {"reason": reason, "version": str(version_id)}
    errors = {f"map-{version_id}-{node}": _("Choose the step where %(node)s continues", node=node)
              for node, target in mapping.items() if not target}
    if not reason.strip():
        errors[f"reason-{version_id}"] = _("Enter the reason")
    given = {node: target for node, target in mapping.items() if target}
    if errors:
        return _flow_page(case, errors=errors, form=form, mapping=given,
                          mapped_version=version_id, status=422)
    refused = _act_on_flow(case, "migrate", form=form, shown_mapping=given,
                           version_id=version_id, new_version_id=version_id, mapping=given,
                           reason=reason.strip(),
                           fields={"comment_too_long": f"reason-{version_id}",
                                   "": f"version-{version_id}"})
    return refused or redirect(url_for("admin.flow_case", reference=reference, done="migrated"))


# --- Working-day calendars: list, and publish a new version without a release ----------------


@dataclass(frozen=True)
class CalendarRow:
    """A published calendar as the admin page lists it."""

    id: str
    name: str
    region: str
    extends: str
    known: str  # the known range, or why it has none
    versions: list[DefinitionVersion]


def _calendar_rows() -> list[CalendarRow]:
    from ..worktime import UnknownCalendar, calendar_for
    from ..worktime.store import KIND

    session = request_session()
    versions = session.scalars(
        select(DefinitionVersion).where(col(DefinitionVersion.kind) == KIND)
        .order_by(col(DefinitionVersion.code), col(DefinitionVersion.version).desc())).all()
    grouped: dict[str, list[DefinitionVersion]] = {}
    for version in versions:
        grouped.setdefault(version.code, []).append(version)
    rows = []
    for code, found in grouped.items():
        content = found[0].content
        try:
            calendar = calendar_for(session, code)
            known = f"{calendar.first_day.isoformat()} – {calendar.last_day.isoformat()}"
        except UnknownCalendar as exc:
            known = _("Unknown: %(reason)s", reason=str(exc))
        rows.append(CalendarRow(code, pick(content.get("name")), str(content.get("region", "")),
                                str(content.get("extends") or ""), known, found))
    return rows


def _calendar_page(*, text: str = "", comment: str = "", problems: list[str] | None = None,
                   error: str = "", status: int = 200) -> ResponseReturnValue:
    return render_template("admin/calendars.html", calendars=_calendar_rows(), text=text,
                           comment=comment, problems=problems or [], error=error,
                           published=request.args.get("published", "")), status


@bp.get("/calendars")
@require_role(Role.PLATFORM_ADMIN)
def calendars() -> ResponseReturnValue:
    return _calendar_page()


@bp.post("/calendars")
@require_role(Role.PLATFORM_ADMIN)
def calendar_publish() -> ResponseReturnValue:
    from ..workflow.runtime import publish_calendar

    text = request.form.get("text", "")
    comment = request.form.get("comment", "").strip()[:500]
    upload = request.files.get("file")
    file = _("pasted text")
    if upload is not None and upload.filename:
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            return _calendar_page(comment=comment, status=400,
                                  error=_("The uploaded file is not UTF-8 text."))
        file = upload.filename
    if not text.strip():
        return _calendar_page(comment=comment, status=400,
                              error=_("Paste a calendar in YAML or choose a file."))
    with request_transaction() as tx:
        outcome = publish_calendar(tx, text, file=file, author=current_user.username,
                               comment=comment, actor_id=current_actor().user_id,
                               request_id=g.request_id)
    if outcome.problems:
        problems = [_("Line %(line)s, column %(column)s: %(message)s", line=p.line,
                      column=p.column,
                      message=_(p.template, **p.params) if p.template and p.params is not None
                      else p.message)
                    for p in outcome.problems]
        return _calendar_page(text=text, comment=comment, problems=problems, status=422)
    row = outcome.version or outcome.unchanged
    assert row is not None
    if outcome.unchanged is not None:
        return _calendar_page(text=text, comment=comment, error=_(
            "Calendar %(code)s version %(version)s already has this content; nothing was "
            "published.", code=row.code, version=row.version), status=200)
    return redirect(url_for("admin.calendars", published=f"{row.code}@{row.version}"))
