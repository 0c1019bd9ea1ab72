"""Reviewers: the list of submitted applications in their departments, and each one's answers.

The flow engine will turn this into a task inbox; until then it is the plain list the intake
hands over to.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from .. import db
from ..intake import pinned
from ..models import Application, Department, Role, StoredUpload
from ..services import names_of_versions
from . import formview
from .access import require_role

bp = Blueprint("review", __name__, url_prefix="/review")
REVIEW_ROLES = (Role.REVIEWER, Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN)


def visible_departments() -> set[str] | None:
    """Department codes the current user reviews; None means every department."""
    if current_user.has_role(Role.PLATFORM_ADMIN):
        return None
    ids = {dept for role, dept in current_user.roles if role in {r.value for r in REVIEW_ROLES}}
    if None in ids:
        return None
    rows = db.session().scalars(select(Department.code).where(Department.id.in_(ids)))
    return set(rows)


def may_review(application: Application) -> bool:
    if not current_user.is_authenticated or not current_user.has_role(*REVIEW_ROLES):
        return False
    departments = visible_departments()
    return departments is None or application.department_code in departments


@bp.get("/applications")
@require_role(*REVIEW_ROLES)
def applications():  # type: ignore[no-untyped-def]
    query = select(Application).order_by(Application.submitted_at.desc()).limit(500)
    departments = visible_departments()
    if departments is not None:
        query = query.where(Application.department_code.in_(departments or {""}))
    found = db.session().scalars(query).all()
    names = names_of_versions(db.session(), {a.service_version_id for a in found})
    return render_template("review/list.html", applications=found, names=names)


@bp.get("/applications/<reference>")
@require_role(*REVIEW_ROLES)
def application(reference: str):  # type: ignore[no-untyped-def]
    found = db.session().scalars(select(Application)
                                 .where(Application.reference == reference)).first()
    if found is None or not may_review(found):
        abort(404)
    pinned_defs = pinned(db.engine(), found.service_version_id, found.form_version_id)
    uploads = db.session().scalars(select(StoredUpload)
                                   .where(StoredUpload.application_id == found.id)).all()
    return render_template("review/application.html", application=found,
                           service=pinned_defs.service.content,
                           rows=formview.answer_rows(pinned_defs, found.answers, uploads),
                           uploads=uploads)
