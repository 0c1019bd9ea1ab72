"""Administrators: published definition versions (editing in the browser comes later) and the
flow engine's incidents."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col

from ..models import DefinitionVersion, Role, utcnow
from ..workflow import incidents
from ..workflow.errors import FlowError
from .access import current_actor, department_tree, require_role
from .database import request_session, request_transaction

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/definitions")
@require_role(Role.PLATFORM_ADMIN, Role.DEPARTMENT_ADMIN)
def definitions() -> str:
    versions = request_session().scalars(
        select(DefinitionVersion).order_by(col(DefinitionVersion.kind), col(DefinitionVersion.code),
                                           col(DefinitionVersion.version).desc())).all()
    return render_template("admin/definitions.html", versions=versions)


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
    if kind not in ("service", "no_approvers"):
        abort(400)
    try:
        with request_transaction() as tx:
            if kind == "service":
                incidents.retry_service_call(
                    tx, current_actor(), department_tree(), _form_int("outbox"), now=utcnow(),
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
