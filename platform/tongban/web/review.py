"""Reviewers: the list of submitted applications in their departments, and each one's answers.

The flow engine will turn this into a task inbox; until then it is the plain list the intake
hands over to.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col

from ..intake import pinned
from ..models import Application, StoredUpload
from ..policy import REVIEW_ROLES, Action, review_filter
from ..services import names_of_versions
from ..who_looked import record_application_read
from . import form_pages
from .access import allowed, current_actor, department_tree, require_role
from .database import request_session, request_transaction

bp = Blueprint("review", __name__, url_prefix="/review")


def may_review(application: Application) -> bool:
    return allowed(Action.REVIEW, application)


@bp.get("/applications")
@require_role(*REVIEW_ROLES)
def applications() -> ResponseReturnValue:
    query = (select(Application).where(review_filter(current_actor(), department_tree()))
             .order_by(col(Application.submitted_at).desc()).limit(500))
    found = request_session().scalars(query).all()
    names = names_of_versions(request_session(), {a.service_version_id for a in found})
    return render_template("review/list.html", applications=found, names=names)


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
    page = render_template("review/application.html", application=found,
                           service=pinned_defs.service.content,
                           rows=form_pages.answer_rows(pinned_defs, found.answers, uploads),
                           uploads=uploads)
    # Recorded once the page is drawn and before it is sent: no read goes unrecorded.
    with request_transaction() as tx:
        record_application_read(tx, found, page="review", actor_id=current_user.id,
                                actor_name=current_user.username, request_id=g.request_id)
    return page
