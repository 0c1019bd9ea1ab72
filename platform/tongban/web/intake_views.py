"""Decisions at intake on the pages (docs/counter-intake.md): 容缺受理 and 告知承诺 from the task
page, the printable 受理回执 (HTML and PDF with a QR code to the public progress page) and
不予受理告知书, the reviewers' list of commitments to check, and the applicant's upload of a
material promised at intake."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import segno
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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col

from .. import counter_intake
from ..forms.uploads import UploadPolicy, UploadRejected, store_upload
from ..i18n import current_lang
from ..models import Application, StoredUpload, saved_id
from ..policy import REVIEW_ROLES
from ..workflow.intake_decisions import local_today
from . import flow_views, progress, review
from .access import current_actor, department_tree, require_role
from .database import request_session, request_transaction
from .errors import render_error
from .inbox_counts import STAFF
from .intake_panel import INTAKE_OPERATIONS
from .login import sign_in_first

bp = Blueprint("intake", __name__)

# Engine codes and the field of the form each belongs beside.
FIELD_OF_CODE = {
    "deficiency_materials_required": "materials", "deficiency_due_required": "due",
    "deficiency_due_past": "due", "deficiency_due_far": "due",
    "commitment_unconfirmed": "confirmed", "commitment_not_offered": "confirmed",
}
MATERIAL_POLICY = UploadPolicy(("pdf", "jpeg", "png"), 10 * 1024 * 1024)


def _now() -> datetime:
    return datetime.now(UTC)


@bp.post("/review/tasks/<int:task_id>/intake")
@require_role(*STAFF)
def act(task_id: int) -> ResponseReturnValue:
    found, application = review._task_or_404(task_id)
    op = request.form.get("op", "")
    if op not in INTAKE_OPERATIONS:
        return render_error(400, _("Choose one of the task's buttons."))
    version_text = request.form.get("version", "")
    version = int(version_text) if version_text.isdigit() else None
    comment, other = request.form.get("comment", ""), request.form.get("other", "")
    due, codes = request.form.get("due", "").strip(), request.form.getlist("materials")
    form: dict[str, Any] = {"comment": comment, "materials": codes, "other": other, "due": due,
                            "confirmed": request.form.get("confirmed", "")}
    try:
        with request_transaction() as tx:
            if op == "accept_deficient":
                counter_intake.accept_deficient(
                    tx, current_actor(), task_id, version=version, codes=codes, other=other,
                    due=due or None, comment=comment, now=_now(), request_id=g.request_id)
            else:
                counter_intake.accept_commitment(
                    tx, current_actor(), task_id, version=version,
                    confirmed=form["confirmed"] == "yes", comment=comment, now=_now(),
                    request_id=g.request_id)
    except review.flow_error_types() as exc:
        request_session().expire_all()
        content = flow_views.flow_content(request_session(), application.flow_version_id)
        if int(getattr(exc, "status", 409)) == 422:
            code = str(getattr(exc, "code", ""))
            field = FIELD_OF_CODE.get(code) or (
                "materials" if op == "accept_deficient" else "confirmed")
            found, application = review._task_or_404(task_id)
            return review._task_page(found, application,
                                     errors={field: review.flow_message(exc, content)},
                                     form=form, open_op=op, status=422)
        return review.flow_error_page(exc, content)
    return redirect(url_for("review.task", task_id=task_id, done="accept"))


# --- Printable documents ---------------------------------------------------------------------

def _document_context(reference: str) -> dict[str, Any]:
    session = request_session()
    application = session.scalars(select(Application).where(
        col(Application.reference) == reference)).first()
    if application is None:
        abort(404)
    run = flow_views.load_run(session, application)
    handled = any(current_user.id in (t.assignee_id, t.done_by) for t in run.tasks)
    if current_user.id not in (application.submitter_id, application.clerk_id) \
            and not handled and not review.may_review(application):
        abort(404)
    service = counter_intake.service_content(session, application)
    decision = next((e for e in run.events if e.type in ("accepted", "intake_refused",
                                                          "deemed_accepted")), None)
    progress_url = current_app.config["BASE_URL"].rstrip("/") + url_for(
        "public_progress.index", reference=application.reference)
    qr = segno.make(progress_url, error="m")
    return {
        "application": application, "service": service, "decision": decision,
        "clerk": run.names.person(decision.actor_id) if decision is not None else None,
        "department": run.names.department(application.department_code),
        "hold": counter_intake.hold_of(session, saved_id(application)),
        "commitment": counter_intake.commitment_of(session, saved_id(application)),
        "progress_url": progress_url,
        "qr": qr.svg_data_uri(scale=4, border=2),
        "lang": current_lang(),
    }



@bp.get("/review/applications/<reference>/receipt")
@sign_in_first
def receipt(reference: str) -> ResponseReturnValue:
    context = _document_context(reference)
    if context["decision"] is None or context["decision"].type == "intake_refused":
        return render_error(409, _("The application has not been accepted, so there is no "
                                   "receipt."))
    return render_template("intake/receipt.html", **context)


@bp.get("/review/applications/<reference>/receipt.pdf")
@sign_in_first
def receipt_pdf(reference: str) -> ResponseReturnValue:
    context = _document_context(reference)
    if context["decision"] is None or context["decision"].type == "intake_refused":
        return render_error(409, _("The application has not been accepted, so there is no "
                                   "receipt."))
    from weasyprint import HTML  # type: ignore[import-untyped]  # loads Pango and the fonts: only when a PDF is asked for

    html = render_template("intake/receipt_pdf.html", **context)
    pdf = HTML(string=html).write_pdf()
    name = f"receipt-{reference}.pdf"
    return Response(bytes(pdf or b""), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.get("/review/applications/<reference>/refusal-notice")
@sign_in_first
def refusal_notice(reference: str) -> ResponseReturnValue:
    context = _document_context(reference)
    if context["decision"] is None or context["decision"].type != "intake_refused":
        return render_error(409, _("The application was not refused at intake, so there is "
                                   "no refusal notice."))
    return render_template("intake/refusal_notice.html", **context)


# --- The commitments to check ----------------------------------------------------------------

@bp.get("/review/commitments")
@require_role(*REVIEW_ROLES)
def commitments(errors: dict[str, str] | None = None, status: int = 200,
                form: dict[str, str] | None = None) -> ResponseReturnValue:
    rows = counter_intake.commitments_to_check(request_session(), current_actor(),
                                               department_tree())
    return render_template("intake/commitments.html", rows=rows, errors=errors or {},
                           form=form or {}, today=local_today(_now())), status


@bp.post("/review/commitments/<int:commitment_id>")
@require_role(*REVIEW_ROLES)
def verify(commitment_id: int) -> ResponseReturnValue:
    finding = request.form.get("finding", "")
    note = request.form.get("note", "")
    form = {"finding": finding, "note": note, "id": str(commitment_id)}
    if finding not in ("kept", "broken"):
        return commitments(errors={f"finding-{commitment_id}": _(
            "Choose whether the applicant kept the promise")}, status=422, form=form)
    try:
        with request_transaction() as tx:
            counter_intake.verify(tx, current_actor(), commitment_id, kept=finding == "kept",
                                  note=note, tree=department_tree(), now=_now(),
                                  request_id=g.request_id)
    except review.flow_error_types() as exc:
        request_session().expire_all()
        if int(getattr(exc, "status", 409)) == 422:
            return commitments(errors={f"note-{commitment_id}": _(
                "Enter what the applicant promised that was not true")}, status=422, form=form)
        return review.flow_error_page(exc)
    return redirect(url_for("intake.commitments", done=finding))


# --- 容缺 materials overdue: a reviewer ends the application --------------------------------

@bp.post("/review/applications/<reference>/overdue-hold")
@require_role(*REVIEW_ROLES)
def end_overdue(reference: str) -> ResponseReturnValue:
    session = request_session()
    application = session.scalars(select(Application).where(
        col(Application.reference) == reference)).first()
    if application is None or not review.may_review(application):
        abort(404)
    try:
        with request_transaction() as tx:
            counter_intake.end_overdue(tx, current_actor(), application,
                                       tree=department_tree(), now=_now(),
                                       request_id=g.request_id)
    except review.flow_error_types() as exc:
        return review.flow_error_page(exc)
    return redirect(url_for("review.application", reference=reference))


# --- The applicant brings a promised material ------------------------------------------------

@bp.post("/my/applications/<reference>/materials/<code>")
@sign_in_first
def upload_material(reference: str, code: str) -> ResponseReturnValue:
    session = request_session()
    application = session.scalars(select(Application).where(
        col(Application.reference) == reference)).first()
    if application is None or not progress.may_follow(application, current_user.id):
        abort(404)  # the same people as the page with the upload forms
    hold = counter_intake.hold_of(session, saved_id(application))
    if not any(m["code"] == code for m in counter_intake.outstanding(hold)):
        return redirect(url_for("progress.application", reference=reference))
    try:
        stored = store_upload(request.files.get("file"), MATERIAL_POLICY,
                              current_app.config["UPLOAD_DIR"])
    except UploadRejected as exc:
        words = exc.render(_, str(get_locale() or "zh_CN"))
        return progress.application(reference, material_errors={code: words})
    try:
        with request_transaction() as tx:
            row = StoredUpload(public_id=stored.id, application_id=saved_id(application),
                               field_key=f"intake_material:{code}", stored_name=stored.stored_name,
                               original_name=stored.original_name, size=stored.size,
                               sha256=stored.sha256, mime=stored.mime,
                               uploaded_by=current_user.id)
            tx.add(row)
            tx.flush()
            counter_intake.receive(tx, current_actor(), application, code, stored.id,
                                   now=_now(), request_id=g.request_id)
    except review.flow_error_types() as exc:
        return review.flow_error_page(exc)
    return redirect(url_for("progress.application", reference=reference, material="1"))
