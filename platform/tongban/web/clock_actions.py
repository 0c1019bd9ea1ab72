"""The clock forms' endpoint: pause and resume a time limit, ask for an extension, decide one
(``POST /review/tasks/<id>/clock``). The panel and the checks are in
:mod:`~tongban.web.clock_pages`; this module sits above the task page it re-renders on error.
"""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..models import saved_id
from ..workflow import runtime
from . import clock_pages, flow_views, review
from .access import current_actor, require_role
from .database import request_session, request_transaction
from .errors import render_error
from .inbox_counts import STAFF

bp = Blueprint("clock", __name__, url_prefix="/review/tasks")


@bp.post("/<int:task_id>/clock")
@require_role(*STAFF)
def act(task_id: int) -> ResponseReturnValue:
    found, application = review._task_or_404(task_id)
    op = request.form.get("op", "")
    if op not in clock_pages.OPERATIONS:
        return render_error(400, _("Choose one of the task's buttons."))
    session = request_session()
    seq = clock_pages._whole(request.form.get("deadline", ""))
    run = flow_views.load_run(session, application)
    clocks = {c.view.seq: c for c in clock_pages.panel(session, run, found, current_user.id,
                                           review._candidate(found))}
    chosen = clocks.get(seq) if seq is not None else None
    if chosen is not None and not chosen.view.live:
        chosen = None
    ids = {i for i, _label in clock_pages.approvers(session, application.department_code,
                                         {current_user.id, application.submitter_id})}
    args, errors = clock_pages.arguments(op, request.form, chosen.view if chosen else None, ids)
    form = {k: request.form.get(k, "") for k in (
        "reason", "note", "expected_days", "units", "approver", "decision", "comment")}
    open_op = f"{op}-{seq}"
    if errors:
        return review._task_page(found, application, errors=errors, form=form,
                                 open_op=open_op, status=422)
    if not clock_pages.engine_has(op):
        return render_error(409, _("Time limits cannot be changed here yet."))
    try:
        with request_transaction() as tx:
            if op in runtime.TASK_OPERATIONS:
                runtime.act(tx, current_actor(), task_id, op, version=None, now=clock_pages._now(),
                            request_id=g.request_id, **args)
            else:
                runtime.act_on_application(tx, current_actor(), saved_id(application), op,
                                           now=clock_pages._now(), request_id=g.request_id, **args)
    except review.flow_error_types() as exc:
        session.expire_all()
        content = flow_views.flow_content(session, application.flow_version_id)
        if int(getattr(exc, "status", 409)) == 422:
            found, application = review._task_or_404(task_id)
            field = clock_pages._field(op, str(getattr(exc, "code", "")), args["deadline_seq"])
            return review._task_page(found, application,
                                     errors={field: review.flow_message(exc, content)},
                                     form=form, open_op=open_op, status=422)
        return review.flow_error_page(exc, content)
    return redirect(url_for("review.task", task_id=task_id, done=op) + "#time-limit")
