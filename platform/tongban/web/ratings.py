"""好差评 pages: the applicant rates a finished application from its page in /my; the staff of
the department that handled a 差评 call the rater back and answer them (回访, 整改); a department
administrator appeals a mistaken or malicious rating and a platform administrator decides."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlmodel import col

from ..i18n import current_lang
from ..models import Application, Department, RatingFollowUp, Role, ServiceRating, User, saved_id, utcnow
from ..policy import REVIEW_ROLES, departments, holds
from ..ratings import FINISHED, LEVELS, REASONS, Policy, RatingRefused, follow_ups, rate, rating_of
from ..ratings.rules import COMMENT_MAX, NOT_FINISHED, NOT_YOURS
from ..worktime import local_day
from .access import current_actor, department_tree, require_role
from .database import request_session, request_transaction
from .login import sign_in_first

bp = Blueprint("ratings", __name__)


def init_app(app: Any) -> None:
    app.add_template_global(rating_panel, "rating_panel")
    app.add_template_global(follow_ups_waiting, "rating_follow_ups_waiting")


def policy() -> Policy:
    return Policy.from_config(current_app.config)


def level_name(level: int) -> str:
    return _(LEVELS[level])


def reason_names(codes: list[str]) -> list[str]:
    return [_(REASONS[code]) for code in codes if code in REASONS]


def _words(exc: RatingRefused) -> str:
    return _(exc.message, **exc.params) if exc.params else _(exc.message)


def _refused(message: str, status: int, reference: str | None = None) -> ResponseReturnValue:
    return render_template("ratings/refused.html", message=message,
                           reference=reference), status


# --- the applicant ------------------------------------------------------------------------------

def _find(reference: str) -> Application | None:
    return request_session().scalars(select(Application).where(
        col(Application.reference) == reference)).first()


def rating_panel(application: Application) -> dict[str, Any]:
    """What the applicant's page shows: their rating and its follow-up, or the way to rate."""
    session = request_session()
    rating = rating_of(session, saved_id(application))
    follow_up = follow_ups.follow_up_of(session, saved_id(rating)) if rating else None
    may_rate = rating is None and application.status in FINISHED and \
        current_user.is_authenticated and application.submitter_id == current_user.id
    return {"rating": rating, "follow_up": follow_up, "may_rate": may_rate,
            "level_name": level_name, "reason_names": reason_names, "policy": policy()}


def _rate_page(application: Application, *, errors: dict[str, str] | None = None,
               form: Any = None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "ratings/rate.html", application=application, errors=errors or {}, form=form or {},
        chosen=(form.getlist("reasons") if form is not None and hasattr(form, "getlist")
                else []),
        levels=list(LEVELS.items()), reasons=list(REASONS.items()), comment_max=COMMENT_MAX,
        policy=policy()), status



@bp.get("/my/applications/<reference>/rating")
@sign_in_first
def rate_form(reference: str) -> ResponseReturnValue:
    application = _find(reference)
    if application is None or application.submitter_id != current_user.id:
        return _refused(_(NOT_YOURS), 404)
    if rating_of(request_session(), saved_id(application)) is not None:
        return redirect(url_for("progress.application", reference=reference) + "#rating")
    if application.status not in FINISHED:
        return _refused(_(NOT_FINISHED), 409, reference)
    return _rate_page(application)


@bp.post("/my/applications/<reference>/rating")
@sign_in_first
def give_rating(reference: str) -> ResponseReturnValue:
    application = _find(reference)
    try:
        with request_transaction() as tx:
            rate(tx, application, rater_id=current_user.id, level=request.form.get("level"),
                 reasons=request.form.getlist("reasons"),
                 comment=request.form.get("comment", ""), policy=policy(),
                 actor_name=current_user.username, request_id=g.request_id)
    except RatingRefused as exc:
        if exc.field and application is not None:
            return _rate_page(application, errors={exc.field: _words(exc)}, form=request.form,
                              status=exc.status)
        shown = reference if application is not None and exc.status != 404 else None
        return _refused(_words(exc), exc.status, shown)
    return redirect(url_for("progress.application", reference=reference, rated="1")
                    + "#rating")


# --- the department: 回访 and 整改 --------------------------------------------------------------

def _my_departments(roles: Any = REVIEW_ROLES) -> frozenset[str] | None:
    return departments(current_actor(), roles, department_tree())


def follow_ups_waiting() -> int:
    """Open 回访 tasks of the signed-in staff member's departments (0 for anyone else)."""
    if not current_user.is_authenticated or not current_user.has_role(*REVIEW_ROLES):
        return 0
    query = select(func.count()).select_from(RatingFollowUp).where(
        col(RatingFollowUp.state) == "open")
    mine = _my_departments()
    if mine is not None:
        query = query.where(col(RatingFollowUp.department_code).in_(sorted(mine)))
    return int(request_session().execute(query).scalar_one())


@bp.get("/review/ratings")
@require_role(*REVIEW_ROLES)
def follow_up_list() -> ResponseReturnValue:
    session = request_session()
    rows = follow_ups.open_follow_ups(session, _my_departments())
    return render_template("ratings/follow_ups.html", rows=rows, today=local_day(utcnow()),
                           level_name=level_name, reason_names=reason_names)


def _covers(department: str | None, roles: Any) -> bool:
    return department is not None and holds(current_actor(), roles, department,
                                            department_tree())


def _rating_or_404(rating_id: int) -> tuple[ServiceRating, RatingFollowUp | None]:
    session = request_session()
    rating = session.get(ServiceRating, rating_id)
    if rating is None:
        abort(404)
    follow_up = follow_ups.follow_up_of(session, rating_id)
    department = follow_up.department_code if follow_up else None
    if not (_covers(department, REVIEW_ROLES) or _covers(rating.department_code, REVIEW_ROLES)):
        abort(404)
    return rating, follow_up


def _may_appeal(rating: ServiceRating, follow_up: RatingFollowUp | None) -> bool:
    roles = (Role.DEPARTMENT_ADMIN,)
    return _covers(rating.department_code, roles) or bool(
        follow_up and _covers(follow_up.department_code, roles))


def _detail(rating_id: int, *, errors: dict[str, str] | None = None, form: Any = None,
            status: int = 200) -> ResponseReturnValue:
    rating, follow_up = _rating_or_404(rating_id)
    session = request_session()
    rater = session.get(User, rating.rater_id) if rating.rater_id else None
    names = {user.id: user.display_name for user in session.scalars(select(User).where(
        col(User.id).in_([i for i in (rating.clerk_id, follow_up.done_by if follow_up else None,
                                      rating.appeal_by) if i])))}
    window = session.scalars(select(Department).where(
        col(Department.code) == rating.window_code)).first() if rating.window_code else None
    window_name = (window.name_en if current_lang() == "en" else window.name_zh) \
        if window is not None else rating.window_code
    return render_template(
        "ratings/follow_up.html", rating=rating, follow_up=follow_up, rater=rater, names=names,
        window_name=window_name,
        may_appeal=_may_appeal(rating, follow_up), errors=errors or {}, form=form or {},
        level_name=level_name, reason_names=reason_names, today=local_day(utcnow()),
        text_max=follow_ups.TEXT_MAX), status


@bp.get("/review/ratings/<int:rating_id>")
@require_role(*REVIEW_ROLES)
def follow_up(rating_id: int) -> ResponseReturnValue:
    return _detail(rating_id)


def _field_errors(exc: RatingRefused) -> dict[str, str]:
    problems = getattr(exc, "problems", [exc])
    return {problem.field or "rating": _words(problem) for problem in problems}


@bp.post("/review/ratings/<int:rating_id>/follow-up")
@require_role(*REVIEW_ROLES)
def complete_follow_up(rating_id: int) -> ResponseReturnValue:
    _rating, found = _rating_or_404(rating_id)
    if found is None or not _covers(found.department_code, REVIEW_ROLES):
        abort(404)
    try:
        with request_transaction() as tx:
            follow_ups.complete(tx, found, visit_note=request.form.get("visit_note", ""),
                                reply=request.form.get("reply", ""), actor_id=current_user.id,
                                actor_name=current_user.username, request_id=g.request_id)
    except RatingRefused as exc:
        request_session().refresh(found)
        return _detail(rating_id, errors=_field_errors(exc), form=request.form,
                       status=exc.status)
    return redirect(url_for("ratings.follow_up", rating_id=rating_id, done="1"))


@bp.post("/review/ratings/<int:rating_id>/appeal")
@require_role(Role.DEPARTMENT_ADMIN, Role.PLATFORM_ADMIN)
def request_appeal(rating_id: int) -> ResponseReturnValue:
    rating, found = _rating_or_404(rating_id)
    if not _may_appeal(rating, found):
        abort(403)
    try:
        with request_transaction() as tx:
            follow_ups.request_appeal(tx, rating, reason=request.form.get("appeal_reason", ""),
                                      actor_id=current_user.id,
                                      actor_name=current_user.username,
                                      request_id=g.request_id)
    except RatingRefused as exc:
        request_session().refresh(rating)
        return _detail(rating_id, errors=_field_errors(exc), form=request.form,
                       status=exc.status)
    return redirect(url_for("ratings.follow_up", rating_id=rating_id, appealed="1"))


# --- the platform administrator: appeals -------------------------------------------------------

def _appeals_page(*, errors: dict[int, dict[str, str]] | None = None, form: Any = None,
                  status: int = 200) -> ResponseReturnValue:
    rows = follow_ups.appeals_waiting(request_session())
    return render_template("ratings/appeals.html", rows=rows, errors=errors or {},
                           form=form or {}, level_name=level_name, reason_names=reason_names,
                           text_max=follow_ups.TEXT_MAX), status


@bp.get("/admin/ratings/appeals")
@require_role(Role.PLATFORM_ADMIN)
def appeals() -> ResponseReturnValue:
    return _appeals_page()


@bp.post("/admin/ratings/<int:rating_id>/decision")
@require_role(Role.PLATFORM_ADMIN)
def decide_appeal(rating_id: int) -> ResponseReturnValue:
    rating = request_session().get(ServiceRating, rating_id)
    if rating is None:
        abort(404)
    try:
        with request_transaction() as tx:
            follow_ups.decide_appeal(tx, rating, decision=request.form.get("decision", ""),
                                     note=request.form.get("appeal_note", ""),
                                     actor_id=current_user.id,
                                     actor_name=current_user.username, request_id=g.request_id)
    except RatingRefused as exc:
        request_session().refresh(rating)
        if exc.status == 409:
            return _refused(_words(exc), 409)
        return _appeals_page(errors={rating_id: _field_errors(exc)}, form=request.form,
                             status=exc.status)
    return redirect(url_for("ratings.appeals", decided=rating.reference))
