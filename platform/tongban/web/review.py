"""Staff: the review inbox, the task page with its operations, bulk approval, the away setting;
and the older list of every application in the reviewer's departments.

Every operation goes through the flow runtime (:mod:`tongban.workflow.runtime`) in one
transaction of the request; what the engine refuses comes back as an error carrying its HTTP
status, shown here in words: beside the field for bad input (422), as a page otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col

from .. import counter_intake
from ..i18n import N_
from ..intake import pinned
from ..models import (
    APPLICATION_STATUSES,
    Application,
    Delegation,
    FlowInstance,
    FlowTask,
    Membership,
    StoredUpload,
    User,
)
from ..points import scoring
from ..policy import REVIEW_ROLES, Action, Role, departments, review_filter
from ..services import current_services, names_of_versions
from ..who_looked import record_application_read
from ..workflow import inbox
from . import (
    clock_pages,
    connector_views,
    deadline_views,
    flow_views,
    form_pages,
    intake_panel,
    materials,
)
from .access import allowed, current_actor, department_tree, require_role
from .database import request_session, request_transaction
from .errors import render_error
from .inbox_counts import STAFF, inbox_counts

bp = Blueprint("review", __name__, url_prefix="/review")

TABS = {"mine": N_("My tasks"), "group": N_("My groups' tasks"), "done": N_("Done by me"),
        "cc": N_("Copied to me")}
PAGE_SIZE = 50
BULK_LIMIT = 50

DEFAULT_OPERATIONS = ("approve", "reject", "return", "transfer", "add_signer", "correction",
                      "cc", "comment")
NEEDS_COMMENT = {"reject", "return_to", "transfer", "refuse_intake"}
COMMENT_REQUIRED = {
    "reject": N_("Enter why you reject the application"),
    "return_to": N_("Enter why you return the application"),
    "transfer": N_("Enter why you transfer the task"),
    "refuse_intake": N_("Enter why the application is not accepted"),
}
# What the page's buttons post (``op``) and the runtime operation each one is.
OPERATIONS = {
    "claim": "claim", "release": "release", "accept": "accept",
    "refuse_intake": "refuse_intake", "approve": "approve", "reject": "reject",
    "return": "return_to", "correction": "request_correction", "transfer": "transfer",
    "add_signer": "add_signer", "withdraw_action": "withdraw_action", "comment": "comment",
    "cc": "cc", "remind": "remind",
}
SIGNER_PLACES = {"before": N_("Before me (the task comes back to me)"),
                 "after": N_("After me"), "parallel": N_("Alongside me")}


def _now() -> datetime:
    return datetime.now(UTC)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIME_ZONE"])


def is_staff() -> bool:
    return bool(current_user.is_authenticated and current_user.has_role(*STAFF))


# --- errors from the flow runtime -----------------------------------------------------------

def flow_error_types() -> tuple[type[BaseException], ...]:
    from ..workflow.errors import FlowError
    from ..workflow.runtime import FlowNotFound

    return (FlowError, FlowNotFound)


def _param_words(key: str, value: Any, content: dict[str, Any] | None = None) -> Any:
    """A parameter as people read it: a time in the page's zone, a user or a step by name."""
    from ..localtime import local_time

    if key == "node" and isinstance(value, str) and content:
        return flow_views.node_name(content, value)
    if isinstance(value, str) and key in ("when", "at", "next"):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return local_time(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, str) and key in ("who", "by"):
        name = request_session().scalars(select(col(User.display_name))
                                         .where(col(User.username) == value)).first()
        return name or value
    return value


def flow_message(exc: BaseException, content: dict[str, Any] | None = None) -> str:
    """The engine's message in the page's language: its English msgid through the catalogue,
    with its parameters put in (names and times in words)."""
    from ..workflow.runtime import FlowNotFound

    if isinstance(exc, FlowNotFound):
        return _("There is no such task or application.")
    message = getattr(exc, "message", None)
    params = {key: _param_words(key, value, content)
              for key, value in dict(getattr(exc, "params", None) or {}).items()}
    if isinstance(message, str) and message:
        try:
            return _(message, **params)
        except (KeyError, ValueError, TypeError):
            return _(message)
    return str(exc)


def flow_error_page(exc: BaseException,
                    content: dict[str, Any] | None = None) -> ResponseReturnValue:
    from ..workflow.runtime import FlowNotFound

    status = 404 if isinstance(exc, FlowNotFound) else int(getattr(exc, "status", 409))
    return render_error(status, flow_message(exc, content))


# --- the inbox ------------------------------------------------------------------------------

def _filters(args: Any) -> tuple[inbox.InboxFilter, dict[str, str], dict[str, str]]:
    """The inbox's GET form: service, status and "due by" (a day in the page's zone)."""
    errors: dict[str, str] = {}
    values = {"service": args.get("service", "").strip(), "status": args.get("status", ""),
              "due": args.get("due", "").strip(), "overdue": "1" if args.get("overdue") else ""}
    if values["status"] and values["status"] not in APPLICATION_STATUSES:
        errors["status"] = _("Choose a status from the list")
    due_before: datetime | None = None
    if values["due"]:
        try:
            day = date.fromisoformat(values["due"])
        except ValueError:
            errors["due"] = _("Enter the due date as year-month-day, for example 2026-12-31")
        else:
            due_before = datetime.combine(day + timedelta(days=1), datetime.min.time(),
                                          tzinfo=_zone()).astimezone(UTC)
    if values["overdue"]:  # due before now: the list's first rows, in the same order
        moment = deadline_views.now()
        due_before = moment if due_before is None else min(due_before, moment)
    filters = inbox.InboxFilter(service=values["service"] or None,
                                status=None if "status" in errors else values["status"] or None,
                                due_before=due_before)
    return filters, values, errors


def _rows_for(tab: str, filters: inbox.InboxFilter, offset: int) -> list[inbox.InboxRow]:
    session, actor = request_session(), current_actor()
    uid = current_user.id
    if tab == "group":
        return inbox.group_tasks(session, actor, department_tree(), filters,
                                 limit=PAGE_SIZE + 1, offset=offset)
    if tab == "done":
        return inbox.done_by_me(session, uid, filters, limit=PAGE_SIZE + 1, offset=offset)
    if tab == "cc":
        return inbox.cc_to_me(session, uid, filters, limit=PAGE_SIZE + 1, offset=offset)
    return inbox.my_tasks(session, uid, filters, limit=PAGE_SIZE + 1, offset=offset)


@bp.get("", strict_slashes=False)
@require_role(*STAFF)
def index() -> ResponseReturnValue:
    tab = request.args.get("tab", "mine")
    if tab not in TABS:
        tab = "mine"
    filters, values, errors = _filters(request.args)
    try:
        page_number = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page_number = 1
    rows = _rows_for(tab, filters, (page_number - 1) * PAGE_SIZE)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    session = request_session()
    names = names_of_versions(session, {r.service_version_id for r in rows})
    flows = {r.flow_version_id: flow_views.flow_content(session, r.flow_version_id)
             for r in rows}
    extensions = deadline_views.waiting_extensions(session, current_user.id)
    people = flow_views.Names(session, [r.assignee_id for r in rows] +
                              [r.on_behalf_of for r in rows] +
                              [x.requested_by for x in extensions],
                              [r.candidate_department for r in rows])
    return render_template(
        "review/inbox.html", tab=tab, tabs=TABS, rows=rows, names=names, flows=flows,
        people=people, node_name=flow_views.node_name, status_name=flow_views.status_name,
        counts=inbox_counts(), filters=values, filter_errors=errors,
        services=current_services(session), statuses=APPLICATION_STATUSES,
        page_number=page_number, more=more, bulk_limit=BULK_LIMIT,
        marks=deadline_views.inbox_marks(session, rows) if tab != "done" else {},
        extensions=extensions, units=deadline_views.units,
        overdue=inbox.overdue_count(session, current_user.id, deadline_views.now()),
        overdue_holds=counter_intake.overdue_holds(session, {r.application_id for r in rows}),
        results=None), 422 if errors else 200


@bp.post("/bulk-approve")
@require_role(*STAFF)
def bulk_approve() -> ResponseReturnValue:
    """Approve up to 50 chosen tasks, each in its own transaction; say which went through."""
    chosen = [v for v in request.form.getlist("task") if v.isdigit()]
    chosen = list(dict.fromkeys(chosen))
    if not chosen:
        return render_error(422, _("Choose at least one task to approve"))
    if len(chosen) > BULK_LIMIT:
        return render_error(422, _("Choose at most %(count)d tasks at a time",
                                   count=BULK_LIMIT))
    from ..workflow import runtime

    comment = request.form.get("comment", "").strip()
    actor, errors_of = current_actor(), flow_error_types()
    session = request_session()
    results = []
    for task_id in map(int, chosen):
        version_text = request.form.get(f"version-{task_id}", "")
        version = int(version_text) if version_text.isdigit() else None
        task = session.get(FlowTask, task_id)
        reference = _reference_of(task) if task is not None else ""
        try:
            with request_transaction() as tx:
                runtime.act(tx, actor, task_id, "approve", version=version, now=_now(),
                            comment=comment)
        except errors_of as exc:
            results.append({"task_id": task_id, "reference": reference, "ok": False,
                            "message": flow_message(exc)})
        else:
            results.append({"task_id": task_id, "reference": reference, "ok": True,
                            "message": _("Approved")})
    return render_template("review/bulk.html", results=results,
                           succeeded=sum(1 for r in results if r["ok"]),
                           failed=sum(1 for r in results if not r["ok"]))


def _reference_of(task: FlowTask) -> str:
    row = request_session().execute(
        select(col(Application.reference))
        .join(FlowInstance, col(FlowInstance.application_id) == col(Application.id))
        .where(col(FlowInstance.id) == task.instance_id)).first()
    return row.reference if row else ""


# --- the task page ------------------------------------------------------------------------

def _task_or_404(task_id: int) -> tuple[FlowTask, Application]:
    session = request_session()
    task = session.get(FlowTask, task_id)
    if task is None:
        abort(404)
    application = session.scalars(
        select(Application).join(FlowInstance,
                                 col(FlowInstance.application_id) == col(Application.id))
        .where(col(FlowInstance.id) == task.instance_id)).first()
    if application is None:
        abort(404)
    return task, application


def _candidate(task: FlowTask) -> bool:
    """Whether the signed-in user may claim this group task."""
    if task.candidate_role is None or task.candidate_department is None:
        return False
    covered = departments(current_actor(), {Role(task.candidate_role)}, department_tree())
    return covered is None or task.candidate_department in covered


def _may_see(run: flow_views.Run, task: FlowTask) -> bool:
    uid = current_user.id
    if allowed(Action.REVIEW, run.application):
        return True
    if _candidate(task):
        return True
    return any(uid in (t.assignee_id, t.done_by, t.on_behalf_of, t.added_by) for t in run.tasks)


def engine_has(operation: str) -> bool:
    """Whether the engine provides ``operation`` (a button for one it lacks is not drawn)."""
    from ..workflow import engine, operations

    return any(callable(getattr(module, operation, None)) for module in (engine, operations))


def _operations(run: flow_views.Run, task: FlowTask) -> list[str]:
    """The buttons this user sees on this task (the engine still decides)."""
    return [op for op in _buttons(run, task)
            if op in intake_panel.INTAKE_OPERATIONS or engine_has(OPERATIONS[op])]


def barred_from(run: flow_views.Run, task: FlowTask, user_id: int | None) -> str | None:
    """Why four-eyes keeps ``user_id`` off this task (the engine refuses them all the same):
    ``"applicant"`` for the applicant, else the id of the step they did that this one is
    exclusive with; None when nothing does."""
    if user_id is None:
        return None
    if user_id == run.application.submitter_id:
        return "applicant"
    node = run.content.get("nodes", {}).get(task.node) or {}
    exclusive = node.get("exclusive_with") or ()
    trail = run.instance.vars.get("trail", ()) if run.instance is not None else ()
    for entry in trail:
        if entry.get("node") in exclusive and user_id in entry.get("actors", ()):
            return str(entry["node"])
    return None


def _buttons(run: flow_views.Run, task: FlowTask) -> list[str]:
    uid = current_user.id
    ops: list[str] = []
    node = run.content.get("nodes", {}).get(task.node) or {}
    allowed_ops = set(node.get("operations") or DEFAULT_OPERATIONS)
    ended = run.instance is None or run.instance.ended_at is not None or \
        run.application.status in ("withdrawn", "approved", "rejected", "completed",
                                   "abandoned")
    if ended:
        return ops
    open_task = task.state in ("open", "claimed")
    if task.kind == "cc":
        return [op for op in ("comment",) if task.assignee_id == uid]
    if barred_from(run, task, uid) is not None:  # four-eyes: nothing to take or decide here
        return ["comment"]
    if task.state == "open" and task.assignee_id is None and _candidate(task):
        ops.append("claim")
    mine = open_task and task.assignee_id == uid
    if mine:
        if task.candidate_role is not None:
            ops.append("release")
        if task.kind == "intake":
            ops += ["accept", *[op for op in intake_panel.INTAKE_OPERATIONS
                                if op in (node.get("operations") or ())],
                    "refuse_intake", "correction"]
        else:
            ops += [op for op in ("approve", "reject", "return", "correction", "transfer",
                                  "add_signer") if op in allowed_ops]
    if task.state == "done" and task.done_by == uid:
        ops.append("withdraw_action")
    ops += [op for op in ("cc", "comment") if op in allowed_ops or op == "comment"]
    return list(dict.fromkeys(ops))


def _barred_words(run: flow_views.Run, task: FlowTask, user_id: int | None) -> str:
    if task.kind == "cc" or task.state not in ("open", "claimed"):
        return ""
    reason = barred_from(run, task, user_id)
    if reason is None:
        return ""
    if reason == "applicant":
        return _("You made this application, so you cannot decide on it.")
    return _("You handled the step “%(step)s” of this application, so another person must "
             "handle this one.", step=flow_views.node_name(run.content, reason))


def _return_targets(run: flow_views.Run, task: FlowTask) -> list[tuple[str, str]]:
    """Previous, every earlier node that ran (by its name), the applicant."""
    targets = [("previous", _("The previous step"))]
    seen: list[str] = []
    trail = run.instance.vars.get("trail", []) if run.instance is not None else []
    ran = [str(entry.get("node")) for entry in trail if isinstance(entry, dict)] or [
        str(e.node) for e in run.events if e.type in ("approved", "accepted") and e.node]
    for node in ran:
        if node != task.node and node not in seen:
            seen.append(node)
    targets += [(node, flow_views.node_name(run.content, node)) for node in seen]
    targets.append(("applicant", _("The applicant")))
    return targets


def _staff_choices(exclude: set[int | None]) -> list[tuple[int, str]]:
    """Staff a task can go to, by name and where they work."""
    session = request_session()
    ids = [row[0] for row in session.execute(
        select(col(Membership.user_id)).where(col(Membership.role).in_(
            [r.value for r in STAFF])).distinct())]
    ids = [i for i in ids if i not in exclude]
    active = set(session.scalars(select(col(User.id)).where(col(User.id).in_(ids),
                                                             col(User.is_active))))
    people = flow_views.Names(session, active)
    choices = [(p.id, f"{p.name}（{p.where}）" if p.where else p.name)
               for p in people.people.values()]
    return sorted(choices, key=lambda c: c[1])


def _questions(application: Application) -> tuple[list[dict[str, Any]], list[StoredUpload]]:
    session = request_session()
    pinned_defs = pinned(session, application.service_version_id, application.form_version_id)
    uploads = list(session.scalars(select(StoredUpload)
                                   .where(col(StoredUpload.application_id) == application.id)))
    return form_pages.answer_rows(pinned_defs, application.answers, uploads), uploads


# What a task is for, in order: the one shown unfolded once the task is claimed.
MAIN_ACTIONS = ("accept", "approve")


def _task_page(task: FlowTask, application: Application, *, errors: dict[str, str] | None = None,
               form: dict[str, Any] | None = None, open_op: str | None = None,
               status: int = 200) -> ResponseReturnValue:
    session = request_session()
    run = flow_views.load_run(session, application)
    if not _may_see(run, task):
        return render_error(403, _("This task is not yours and not in your departments."))
    pinned_defs = pinned(session, application.service_version_id, application.form_version_id)
    rows, uploads = _questions(application)
    file_keys = {k for k, fields in pinned_defs.form.fields.items()
                 if fields and fields[0].widget == "file"}
    ops = _operations(run, task)
    intake = intake_panel.task_panel(session, application, task) if task.kind == "intake" \
        else None
    if intake is not None and not intake["commitment"].get("zh"):
        ops = [op for op in ops if op != "accept_commitment"]
    if open_op is None and request.args.get("claimed"):
        # Just claimed: the task's main action is what comes next, so it is shown unfolded
        # (the page comes back at the actions); the others stay folded away.
        open_op = next((op for op in MAIN_ACTIONS if op in ops), None)
    uid = current_user.id
    checks = connector_views.register_check(application, pinned_defs)
    clocks = clock_pages.panel(session, run, task, uid, _candidate(task))
    page = render_template(
        "review/task.html", task=task, application=application, run=run, checks=checks,
        service=pinned_defs.service.content, rows=rows, uploads=uploads,
        questions=[r for r in rows if r.get("key") not in file_keys],
        materials=[r for r in rows if r.get("key") in file_keys],
        operations=ops, errors=errors or {}, form=form or {}, open_op=open_op, intake=intake,
        overdue_hold=intake_panel.overdue_panel(session, application, current_actor(),
                                                department_tree()),
        barred=_barred_words(run, task, uid),
        targets=_return_targets(run, task) if "return" in ops else [],
        staff=_staff_choices({uid, application.submitter_id})
        if {"transfer", "add_signer", "cc"} & set(ops) else [],
        signer_places=SIGNER_PLACES, clocks=clocks, time=deadline_views,
        approvers=clock_pages.approvers(session, application.department_code,
                                        {uid, application.submitter_id})
        if any("request_extension" in c.actions for c in clocks) else [],
        timeline=run.timeline(staff=True, label=flow_views.question_label(pinned_defs.form)),
        node_name=flow_views.node_name, status_name=flow_views.status_name,
        task_state_names=flow_views.TASK_STATE_NAMES,
        clerk=run.names.person(application.clerk_id),
        assignee=run.names.person(task.assignee_id),
        on_behalf=run.names.person(task.on_behalf_of),
        score=scoring.view(session, application),
        library=materials.task_panel(application, pinned_defs.service.content, uploads),
        confirms_refusal=flow_views.confirms_refusal(run.content, task.node),
        remindable=[t for t in run.tasks if t.state in ("open", "claimed") and t.kind != "cc"
                    and t.id != task.id],
        my_done=[t for t in run.tasks if t.state == "done" and t.done_by == uid
                 and t.kind != "cc"])
    with request_transaction() as tx:  # a read of the application: recorded
        record_application_read(tx, application, page="task", actor_id=uid,
                                actor_name=current_user.username, request_id=g.request_id)
    return page, status


@bp.get("/tasks/<int:task_id>")
@require_role(*STAFF)
def task(task_id: int) -> ResponseReturnValue:
    found, application = _task_or_404(task_id)
    if found.kind == "cc" and found.state == "open" and found.assignee_id == current_user.id:
        # Opening a copy (抄送) is reading it: it leaves the unread count of "Copied to me".
        from ..workflow import runtime

        with request_transaction() as tx:
            runtime.act(tx, current_actor(), task_id, "read_cc", version=None, now=_now())
        found, application = _task_or_404(task_id)
    return _task_page(found, application)


def _arguments(op: str, form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The runtime arguments of ``op`` from the posted form, and the fields' errors."""
    errors: dict[str, str] = {}
    args: dict[str, Any] = {}
    comment = form.get("comment", "").strip()
    runtime_op = OPERATIONS[op]
    if runtime_op in NEEDS_COMMENT and not comment:
        errors["comment"] = _(COMMENT_REQUIRED[runtime_op])
    if op in ("approve", "reject", "return", "accept", "transfer", "add_signer"):
        args["comment"] = comment
    if op == "refuse_intake":
        args["reason"] = comment
    if op == "comment":
        if not comment:
            errors["comment"] = _("Enter a comment")
        args["text"] = comment
    if op == "return":
        target = form.get("target", "")
        if not target:
            errors["target"] = _("Choose where to return the application to")
        args["target"] = target
    if op == "correction":
        questions = form.getlist("questions")
        materials = form.getlist("materials")
        if not questions and not materials:
            errors["questions"] = _("Tick at least one question or material to correct")
        args.update(questions=questions, materials=materials, comment=comment)
    if op == "transfer":
        to = form.get("to_user", "")
        if not to.isdigit():
            errors["to_user"] = _("Choose who to transfer the task to")
        else:
            args["to_user_id"] = int(to)
    if op in ("add_signer", "cc"):
        chosen = [int(v) for v in form.getlist("users") if v.isdigit()]
        if not chosen:
            errors["users"] = _("Choose at least one person")
        args["user_ids"] = chosen
        if op == "add_signer":
            where = form.get("where", "")
            if where not in SIGNER_PLACES:
                errors["where"] = _("Choose where the signer goes")
            args["where"] = where
    return args, errors


# Engine error codes that belong beside a field of the form.
FIELD_OF_CODE = {
    "comment_required": "comment", "reason_required": "comment", "never_ran": "target",
    "no_previous": "target", "return_to_self": "target", "not_a_task_node": "target",
    "applicant_signer": "users", "signers_required": "users", "signer_duplicate": "users",
    "user_unknown": "users", "where_unknown": "where", "applicant_transfer": "to_user",
    "transfer_to_self": "to_user", "correction_empty": "questions",
    "second_correction": "questions", "correction_open": "questions"}


@bp.post("/tasks/<int:task_id>")
@require_role(*STAFF)
def act(task_id: int) -> ResponseReturnValue:
    from ..workflow import runtime

    found, application = _task_or_404(task_id)
    op = request.form.get("op", "")
    if op not in OPERATIONS or not engine_has(OPERATIONS[op]):
        return render_error(400, _("Choose one of the task's buttons."))
    version_text = request.form.get("version", "")
    version = int(version_text) if version_text.isdigit() else None
    args, errors = _arguments(op, request.form)
    form = {"comment": request.form.get("comment", ""), "target": request.form.get("target"),
            "questions": request.form.getlist("questions"),
            "materials": request.form.getlist("materials"),
            "users": request.form.getlist("users"), "to_user": request.form.get("to_user"),
            "where": request.form.get("where")}
    if errors:
        return _task_page(found, application, errors=errors, form=form, open_op=op, status=422)
    try:
        with request_transaction() as tx:
            runtime.act(tx, current_actor(), task_id, OPERATIONS[op], version=version,
                        now=_now(), request_id=g.request_id, **args)
    except flow_error_types() as exc:
        request_session().expire_all()
        status = int(getattr(exc, "status", 409))
        code = str(getattr(exc, "code", ""))
        field = FIELD_OF_CODE.get(code)
        content = flow_views.flow_content(request_session(), application.flow_version_id)
        if status == 422:
            found, application = _task_or_404(task_id)
            return _task_page(found, application,
                              errors={field or "op": flow_message(exc, content)},
                              form=form, open_op=op, status=422)
        return flow_error_page(exc, content)
    back = request.form.get("back", "")
    if op == "remind" and back.isdigit():
        return redirect(url_for("review.task", task_id=int(back), done=op))
    if op == "claim":
        return redirect(url_for("review.task", task_id=task_id, claimed=1, _anchor="actions"))
    return redirect(url_for("review.task", task_id=task_id, done=op))


# --- away (delegation) ---------------------------------------------------------------------

def _parse_local(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone())
    return moment.astimezone(UTC)


def _away_page(errors: dict[str, str] | None = None, form: dict[str, str] | None = None,
               status: int = 200) -> ResponseReturnValue:
    session = request_session()
    windows = list(session.scalars(select(Delegation).where(
        col(Delegation.user_id) == current_user.id, col(Delegation.cancelled).is_(False),
        col(Delegation.ends_at) > _now()).order_by(col(Delegation.starts_at))))
    people = flow_views.Names(session, [w.delegate_id for w in windows])
    return render_template("review/away.html", windows=windows, people=people,
                           staff=_staff_choices({current_user.id}), errors=errors or {},
                           form=form or {}), status


@bp.get("/away")
@require_role(*STAFF)
def away() -> ResponseReturnValue:
    return _away_page()


@bp.post("/away")
@require_role(*STAFF)
def set_away() -> ResponseReturnValue:
    from ..workflow import delegations

    form = {k: request.form.get(k, "") for k in ("delegate", "starts_at", "ends_at")}
    errors: dict[str, str] = {}
    if not form["delegate"].isdigit():
        errors["delegate"] = _("Choose who handles your tasks while you are away")
    starts_at, ends_at = _parse_local(form["starts_at"]), _parse_local(form["ends_at"])
    if starts_at is None:
        errors["starts_at"] = _("Enter when you leave, for example 2026-12-01 09:00")
    if ends_at is None:
        errors["ends_at"] = _("Enter when you are back, for example 2026-12-08 09:00")
    if errors or starts_at is None or ends_at is None:
        return _away_page(errors, form, 422)
    try:
        with request_transaction() as tx:
            delegations.set_delegation(tx, current_actor(), int(form["delegate"]),
                                       starts_at, ends_at, request_id=g.request_id)
    except flow_error_types() as exc:
        if int(getattr(exc, "status", 409)) == 422:
            field = "delegate" if str(getattr(exc, "code", "")).startswith("delegate_") \
                else "ends_at"
            return _away_page({field: flow_message(exc)}, form, 422)
        return flow_error_page(exc)
    return redirect(url_for("review.away"))


@bp.post("/away/<int:delegation_id>/cancel")
@require_role(*STAFF)
def cancel_away(delegation_id: int) -> ResponseReturnValue:
    from ..workflow import delegations

    try:
        with request_transaction() as tx:
            delegations.cancel_delegation(tx, current_actor(), delegation_id,
                                          request_id=g.request_id)
    except flow_error_types() as exc:
        return flow_error_page(exc)
    return redirect(url_for("review.away"))


# --- every application in my departments (the list before the inbox) ------------------------

def may_review(application: Application) -> bool:
    return allowed(Action.REVIEW, application)


@bp.get("/applications")
@require_role(*REVIEW_ROLES)
def applications() -> ResponseReturnValue:
    query = (select(Application).where(review_filter(current_actor(), department_tree()))
             .order_by(col(Application.submitted_at).desc()).limit(500))
    found = request_session().scalars(query).all()
    names = names_of_versions(request_session(), {a.service_version_id for a in found})
    return render_template("review/list.html", applications=found, names=names,
                           status_name=flow_views.status_name)


@bp.get("/applications/<reference>")
@require_role(*REVIEW_ROLES)
def application(reference: str) -> ResponseReturnValue:
    found = request_session().scalars(select(Application)
                                 .where(col(Application.reference) == reference)).first()
    if found is None or not may_review(found):
        abort(404)
    pinned_defs = pinned(request_session(), found.service_version_id, found.form_version_id)
    uploads = list(request_session().scalars(select(StoredUpload)
                                        .where(col(StoredUpload.application_id) == found.id)))
    run = flow_views.load_run(request_session(), found)
    page = render_template("review/application.html", application=found,
                           service=pinned_defs.service.content,
                           rows=form_pages.answer_rows(pinned_defs, found.answers, uploads),
                           uploads=uploads, run=run,
                           timeline=run.timeline(
                               staff=True, label=flow_views.question_label(pinned_defs.form)),
                           status_name=flow_views.status_name,
                           overdue_hold=intake_panel.overdue_panel(
                               request_session(), found, current_actor(), department_tree()),
                           score=scoring.view(request_session(), found),
                           clerk=run.names.person(found.clerk_id))
    # Recorded once the page is drawn and before it is sent: no read goes unrecorded.
    with request_transaction() as tx:
        record_application_read(tx, found, page="review", actor_id=current_user.id,
                                actor_name=current_user.username, request_id=g.request_id)
    return page
