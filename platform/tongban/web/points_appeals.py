"""Points review pages: integrity flags on the reviewer's task page (and clearing one with a
reason), the applicant's appeal against an item of their score, and the reviewers' appeal
queue where an appeal is upheld (corrected answers, a new score) or dismissed."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlmodel import col

from ..forms.uploads import Quota, UploadPolicy, UploadRejected, draft_full, store_upload
from ..i18n import current_lang
from ..intake import DEFAULT_DOCUMENT_TYPES
from ..models import (
    Application,
    FlowInstance,
    FlowTask,
    PointsAppeal,
    PointsEvaluation,
    PointsFlag,
    StoredUpload,
    saved_id,
)
from ..points import appeals, integrity
from ..policy import REVIEW_ROLES, Action, departments
from ..worktime import local_day
from .access import allowed, current_actor, department_tree, require_role
from .database import request_session, request_transaction
from .login import sign_in_first

bp = Blueprint("points_appeals", __name__)

MATERIAL_MAX_BYTES = 5 * 1024 * 1024
MATERIALS_MAX = 5
MATERIALS_FIELD = "points_appeal"


def init_app(app: Any) -> None:
    """The partials included on the task and application pages read their rows through these."""
    app.add_template_global(flags_for, "points_flags")
    app.add_template_global(flag_message, "points_flag_message")
    app.add_template_global(points_number, "points_number")
    app.add_template_global(appeals_waiting, "points_appeals_waiting")
    app.add_template_global(appeal_panel, "points_appeal_panel")


def points_number(value: float) -> str:
    """Points as the engine writes them: whole numbers without a decimal point."""
    rounded = round(float(value), 2)
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:g}"


def _message(exc: appeals.AppealRefused) -> str:
    if exc.words:
        return exc.words.get(current_lang()) or exc.words["zh"]
    return _(exc.message, **exc.params) if exc.params else _(exc.message)


def _local_next(value: str | None, fallback: str) -> str:
    """Where to go back to: a path on this site only."""
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return fallback


# --- integrity flags ------------------------------------------------------------------------

def flags_for(application: Application) -> list[PointsFlag]:
    return integrity.flags_of(request_session(), saved_id(application))


def flag_message(flag: PointsFlag) -> str:
    return flag.message_en if current_lang() == "en" else flag.message_zh


def _flag_or_404(flag_id: int) -> tuple[PointsFlag, Application]:
    session = request_session()
    flag = session.get(PointsFlag, flag_id)
    application = session.get(Application, flag.application_id) if flag else None
    if flag is None or application is None or not (
            allowed(Action.REVIEW, application) or _has_task_of(application)):
        abort(404)
    return flag, application


def _has_task_of(application: Application) -> bool:
    """Whether a task of the application is (or was) the reviewer's or offered to one of their
    departments: the district that reviews an application of a city bureau's service sees
    its flags on the task page and clears them (QA of issue 13)."""
    mine = _my_departments()
    tasks = request_session().scalars(
        select(FlowTask).join(FlowInstance, col(FlowInstance.id) == col(FlowTask.instance_id))
        .where(col(FlowInstance.application_id) == saved_id(application),
               col(FlowTask.kind) != "cc"))
    return any(task.assignee_id == current_user.id
               or (task.candidate_department is not None
                   and (mine is None or task.candidate_department in mine))
               for task in tasks)


@bp.get("/review/points/flags/<int:flag_id>")
@require_role(*REVIEW_ROLES)
def flag(flag_id: int) -> ResponseReturnValue:
    found, application = _flag_or_404(flag_id)
    return render_template("points/flag.html", flag=found, application=application,
                           errors={}, form={}, back=_local_next(request.args.get("next"), ""))


@bp.post("/review/points/flags/<int:flag_id>")
@require_role(*REVIEW_ROLES)
def clear_flag(flag_id: int) -> ResponseReturnValue:
    found, application = _flag_or_404(flag_id)
    reason = request.form.get("reason", "").strip()
    back = _local_next(request.form.get("next"), url_for("review.application",
                                                         reference=application.reference))
    errors = {}
    if not reason:
        errors["reason"] = _("Enter why you clear this flag")
    elif len(reason) > appeals.DECISION_MAX:
        errors["reason"] = _("The reason must be %(max)d characters or fewer",
                             max=appeals.DECISION_MAX)
    if errors:
        return render_template("points/flag.html", flag=found, application=application,
                               errors=errors, form=request.form, back=back), 422
    try:
        with request_transaction() as tx:
            integrity.clear_flag(tx, flag_id, reason, actor_id=current_user.id,
                                 actor_name=current_user.username, request_id=g.request_id)
    except integrity.FlagNotOpen:
        request_session().refresh(found)
        return render_template("points/flag.html", flag=found, application=application,
                               errors={"reason": _("This flag has been cleared already")},
                               form=request.form, back=back), 409
    return redirect(back)


# --- the applicant's appeal -----------------------------------------------------------------

def _own_or_404(reference: str) -> Application:
    found = request_session().scalars(select(Application).where(
        col(Application.reference) == reference)).first()
    if found is None or current_user.id not in (found.submitter_id, found.clerk_id):
        abort(404)
    return found


def appeal_panel(application: Application) -> dict[str, Any]:
    """What the application page shows of appeals: each with its outcome, and whether (and
    until when) the latest score may be contested."""
    session = request_session()
    evaluation = appeals.latest_evaluation(session, saved_id(application))
    rows = appeals.appeals_of(session, saved_id(application))
    evaluations = {e.id: e for e in session.scalars(select(PointsEvaluation).where(
        col(PointsEvaluation.application_id) == application.id))}
    closes = appeals.last_day(session, application, evaluation) if evaluation else None
    lang = current_lang()
    return {
        "evaluation": evaluation, "appeals": rows, "evaluations": evaluations,
        "closes": closes,
        "open": closes is not None and local_day(_now()) <= closes,
        "name": lambda e, i: appeals.indicator_name(e, i, lang) if e else i,
    }


def _now() -> Any:
    from ..models import utcnow

    return utcnow()


def _appeal_page(application: Application, *, errors: dict[str, str] | None = None,
                 form: Any = None, status: int = 200) -> ResponseReturnValue:
    session = request_session()
    evaluation = appeals.latest_evaluation(session, saved_id(application))
    if evaluation is None:
        abort(404)
    panel = appeal_panel(application)
    return render_template(
        "points/appeal.html", application=application, evaluation=evaluation,
        indicators=appeals.indicators(evaluation), closes=panel["closes"],
        window_open=panel["open"], errors=errors or {}, form=form or {},
        submit_key=(form or {}).get("submit_key") or secrets.token_urlsafe(24),
        reasons_max=appeals.REASONS_MAX, lang=current_lang()), status


@bp.get("/my/applications/<reference>/appeal")
@sign_in_first
def appeal_form(reference: str) -> ResponseReturnValue:
    return _appeal_page(_own_or_404(reference))


def _store_materials(application: Application) -> tuple[list[StoredUpload], str | None]:
    files = [f for f in request.files.getlist("materials") if f and f.filename]
    if len(files) > MATERIALS_MAX:
        return [], _("Attach at most %(count)d files", count=MATERIALS_MAX)
    policy = UploadPolicy(DEFAULT_DOCUMENT_TYPES, MATERIAL_MAX_BYTES)
    root = Path(current_app.config["UPLOAD_DIR"])
    stored: list[StoredUpload] = []
    for upload in files:
        try:
            kept = store_upload(upload, policy, root,
                                Quota(MATERIAL_MAX_BYTES, draft_full(MATERIAL_MAX_BYTES)))
        except UploadRejected as exc:
            _remove(stored)
            return [], exc.render(_, str(get_locale() or "zh_CN"))
        stored.append(StoredUpload(
            public_id=kept.id, application_id=application.id, field_key=MATERIALS_FIELD,
            stored_name=kept.stored_name, original_name=kept.original_name, size=kept.size,
            sha256=kept.sha256, mime=kept.mime, uploaded_by=current_user.id,
            uploaded_from=request.remote_addr))
    return stored, None


def _remove(stored: list[StoredUpload]) -> None:
    root = Path(current_app.config["UPLOAD_DIR"])
    for row in stored:
        (root / row.stored_name).unlink(missing_ok=True)


@bp.post("/my/applications/<reference>/appeal")
@sign_in_first
def lodge_appeal(reference: str) -> ResponseReturnValue:
    application = _own_or_404(reference)
    submit_key = request.form.get("submit_key", "")
    if not 16 <= len(submit_key) <= 64:
        abort(400)
    session = request_session()
    repeated = session.scalars(select(PointsAppeal)
                               .where(col(PointsAppeal.submit_key) == submit_key)).first()
    if repeated is not None:  # a double click: the first post made it
        return redirect(url_for("progress.application", reference=reference, appealed="1"))
    stored, upload_error = _store_materials(application)
    if upload_error:
        return _appeal_page(application, errors={"materials": upload_error},
                            form=request.form, status=422)
    try:
        with request_transaction() as tx:
            tx.add_all(stored)
            appeals.lodge(tx, application, indicator=request.form.get("indicator", ""),
                          reasons=request.form.get("reasons", ""),
                          materials=[row.public_id for row in stored], submit_key=submit_key,
                          actor_id=current_user.id, actor_name=current_user.username,
                          lang=current_lang(), request_id=g.request_id)
    except appeals.AppealRefused as exc:
        _remove(stored)
        errors = {exc.field or "appeal": _message(exc)}
        if exc.message == appeals.CHOOSE_INDICATOR and not request.form.get("reasons", "").strip():
            # Both answers missing: say so at once, not one per try.
            errors["reasons"] = _(appeals.ENTER_REASONS)
        return _appeal_page(application, errors=errors, form=request.form, status=422)
    return redirect(url_for("progress.application", reference=reference, appealed="1"))


# --- the reviewers' queue and decision ------------------------------------------------------

def _my_departments() -> frozenset[str] | None:
    return departments(current_actor(), REVIEW_ROLES, department_tree())


def _in_my_departments(query: Any) -> Any:
    mine = _my_departments()
    return query if mine is None else query.where(col(PointsAppeal.department_code).in_(mine))


def appeals_waiting() -> int:
    """Open appeals the signed-in reviewer's departments decide (0 for anyone else)."""
    if not current_user.is_authenticated or not current_user.has_role(*REVIEW_ROLES):
        return 0
    query = select(func.count()).select_from(PointsAppeal).where(
        col(PointsAppeal.status) == "open")
    return int(request_session().execute(_in_my_departments(query)).scalar_one())


@bp.get("/review/appeals")
@require_role(*REVIEW_ROLES)
def queue() -> ResponseReturnValue:
    session = request_session()
    query = (select(PointsAppeal, Application)
             .join(Application, col(Application.id) == col(PointsAppeal.application_id))
             .where(col(PointsAppeal.status) == "open")
             .order_by(col(PointsAppeal.created_at), col(PointsAppeal.id)).limit(200))
    rows = session.execute(_in_my_departments(query)).all()
    evaluations = {e.id: e for e in session.scalars(select(PointsEvaluation).where(
        col(PointsEvaluation.id).in_([a.evaluation_id for a, _app in rows])))}
    lang = current_lang()
    return render_template("points/appeals.html", rows=rows, evaluations=evaluations,
                           name=lambda e, i: appeals.indicator_name(e, i, lang))


def _appeal_or_404(appeal_id: int) -> tuple[PointsAppeal, Application, PointsEvaluation]:
    session = request_session()
    appeal = session.get(PointsAppeal, appeal_id)
    application = session.get(Application, appeal.application_id) if appeal else None
    if appeal is None or application is None or not allowed(Action.REVIEW, application):
        abort(404)
    evaluation = session.get(PointsEvaluation, appeal.evaluation_id)
    assert evaluation is not None  # a foreign key
    return appeal, application, evaluation


def _decision_page(appeal_id: int, *, errors: dict[str, str] | None = None, form: Any = None,
                   open_op: str = "", status: int = 200) -> ResponseReturnValue:
    appeal, application, evaluation = _appeal_or_404(appeal_id)
    session = request_session()
    answers = appeals.answers_now(session, application)
    materials = list(session.scalars(select(StoredUpload).where(
        col(StoredUpload.public_id).in_(appeal.materials or []))))
    lang = current_lang()
    return render_template(
        "points/appeal_review.html", appeal=appeal, application=application,
        evaluation=evaluation, indicator=appeals.indicator_of(evaluation, appeal.indicator),
        indicator_name=appeals.indicator_name(evaluation, appeal.indicator, lang),
        inputs=appeals.correctable(answers, evaluation, appeal.indicator),
        materials=materials, new_evaluation=session.get(PointsEvaluation,
                                                        appeal.new_evaluation_id)
        if appeal.new_evaluation_id else None,
        errors=errors or {}, form=form or {}, open_op=open_op, lang=lang), status


@bp.get("/review/appeals/<int:appeal_id>")
@require_role(*REVIEW_ROLES)
def appeal(appeal_id: int) -> ResponseReturnValue:
    return _decision_page(appeal_id)


@bp.post("/review/appeals/<int:appeal_id>")
@require_role(*REVIEW_ROLES)
def decide(appeal_id: int) -> ResponseReturnValue:
    _appeal_or_404(appeal_id)
    op = request.form.get("op", "")
    if op not in ("uphold", "dismiss"):
        abort(400)
    reason = request.form.get(f"{op}-reason", "")
    try:
        with request_transaction() as tx:
            if op == "dismiss":
                appeals.dismiss(tx, appeal_id, reason, actor_id=current_user.id,
                                actor_name=current_user.username, request_id=g.request_id)
            else:
                corrections = {key[len("answer:"):]: value
                               for key, value in request.form.items()
                               if key.startswith("answer:")}
                appeals.uphold(tx, appeal_id, corrections, reason, actor_id=current_user.id,
                               actor_name=current_user.username, request_id=g.request_id)
    except appeals.AppealRefused as exc:
        name = {"reason": f"{op}-reason"}.get(exc.field, exc.field) or "appeal"
        if exc.field not in ("reason", "corrections", ""):
            name = "corrections"
        return _decision_page(appeal_id, errors={name: _message(exc)}, form=request.form,
                              open_op=op, status=409 if exc.message == appeals.DECIDED else 422)
    return redirect(url_for("points_appeals.appeal", appeal_id=appeal_id, done="1"))
