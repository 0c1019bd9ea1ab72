"""Applicants (and the counter clerk who took an application in) following an application: its
timeline, what to correct, the correction page, withdrawing while nobody has acted."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import select
from sqlmodel import col

from .. import decisions, seals
from ..counter import people
from ..extend.manager import material_storage
from ..forms import coerce, paths, render, state
from ..forms.display import key_of
from ..forms.errors import FieldError
from ..forms.errors import message as field_error_message
from ..forms.uploads import Quota, UploadRejected, draft_full, store_upload
from ..i18n import current_lang
from ..intake import Pinned, pinned, upload_policy
from ..models import Application, StoredUpload, saved_id
from ..plugin_api import MaterialNotFound
from ..points import scoring
from ..who_looked import record_application_read, record_document_open
from . import deadline_views, flow_views, intake_panel
from .access import current_actor
from .database import request_session, request_transaction
from .login import sign_in_first
from .review import flow_error_page, flow_error_types

bp = Blueprint("progress", __name__, url_prefix="/my/applications")

ACTED = frozenset({"accepted", "intake_refused", "approved", "rejected", "returned",
                   "correction_requested", "transferred", "signer_added", "task_claimed",
                   "clock_paused", "extension_requested", "deemed_accepted", "auto_approved",
                   "auto_returned"})
"""Events that mean someone has acted: the applicant may no longer withdraw."""


def _now() -> datetime:
    return datetime.now(UTC)


def may_follow(application: Application, user_id: int) -> bool:
    """Whether an account may open an application's page (and act on it as its applicant:
    bring a promised material): its submitter, the clerk who took it in, or, for one made at
    a counter, the person the account is."""
    return user_id in (application.submitter_id, application.clerk_id) \
        or people.is_theirs(request_session(), application, user_id)


def _own_or_404(reference: str) -> Application:
    """The signed-in applicant's application, or one their counter took in."""
    if not current_user.is_authenticated:
        abort(404)
    found = request_session().scalars(select(Application).where(
        col(Application.reference) == reference)).first()
    if found is None or not may_follow(found, current_user.id):
        abort(404)  # made at a counter for the person this account is: theirs too
    return found



def nobody_has_acted(run: flow_views.Run) -> bool:
    return run.instance is not None and run.instance.ended_at is None and \
        run.application.status not in ("withdrawn", "approved", "rejected", "completed",
                                       "abandoned") and \
        not any(e.type in ACTED for e in run.events)


def _fix_list(run: flow_views.Run, form: Any) -> tuple[dict[str, Any] | None, list[str]]:
    """The open correction request or return, and the questions it names, by their labels."""
    request_ = run.open_correction()
    if request_ is None:
        return None, []
    lang = current_lang()
    labels = []
    for key in [*request_["questions"], *request_["materials"]]:
        fields = form.fields.get(key) or []
        labels.append(render.text_for(fields[0].label, lang) if fields else key)
    return request_, labels


@bp.get("/<reference>")
@sign_in_first
def application(reference: str,
                material_errors: dict[str, str] | None = None) -> ResponseReturnValue:
    found = _own_or_404(reference)
    session = request_session()
    run = flow_views.load_run(session, found)
    pinned_defs = pinned(session, found.service_version_id, found.form_version_id)
    fix, labels = _fix_list(run, pinned_defs.form)
    deadline = deadline_views.current(session, saved_id(found))
    state = deadline_views.clock(deadline, deadline_views.now(),
                                 deadline_views.Calendars(session).days(
                                     deadline.calendar_id)) if deadline else None
    page = render_template(
        "progress/application.html", application=found, run=run,
        service=pinned_defs.service.content,
        timeline=run.timeline(staff=False, label=flow_views.question_label(pinned_defs.form)),
        status_name=flow_views.status_name, fix=fix, fix_labels=labels,
        may_withdraw=nobody_has_acted(run), deadline=deadline, clock=state,
        time=deadline_views, score=scoring.view(session, found),
        clerk=run.names.person(found.clerk_id) if found.clerk_id == current_user.id else None,
        documents=seals.of_application(session, saved_id(found)),
        # Jobs wait unsealed while DECISION_SIGNERS is empty: no promise of a document then.
        documents_waiting=bool(current_app.config["DECISION_SIGNERS"])
        and decisions.waiting(session, saved_id(found)),
        shown_code=seals.shown_code, format_name=_format_name,
        intake=intake_panel.applicant_panel(session, found),
        material_errors=material_errors or {})
    with request_transaction() as tx:
        record_application_read(tx, found, page="progress", actor_id=current_user.id,
                                actor_name=current_user.username, request_id=g.request_id)
    return page, 422 if material_errors else 200


FORMAT_NAMES = {"application/ofd": "OFD", "application/pdf": "PDF"}


def _format_name(media_type: str) -> str:
    return FORMAT_NAMES.get(media_type.split(";")[0], _("file"))


@bp.get("/<reference>/documents/<code>")
@sign_in_first
def document(reference: str, code: str) -> ResponseReturnValue:
    """A sealed decision document of the applicant's application, as a download; each one
    handed out is recorded in the audit trail (who looked)."""
    found = _own_or_404(reference)
    session = request_session()
    row = next((item for item in seals.of_application(session, saved_id(found))
                if item.code == code), None)
    if row is None:
        abort(404)
    try:
        content = material_storage().get(row.storage_key)
    except MaterialNotFound:
        abort(404)
    with request_transaction() as tx:
        record_document_open(tx, row, reference=found.reference, actor_id=current_user.id,
                             actor_name=current_user.username, request_id=g.request_id)
    response = current_app.response_class(content, mimetype=row.media_type.split(";")[0])
    response.headers["Content-Disposition"] = (
        f"attachment; filename*=UTF-8''{quote(row.file_name)}")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<reference>/withdraw")
def withdraw(reference: str) -> ResponseReturnValue:
    from ..workflow import runtime

    found = _own_or_404(reference)
    try:
        with request_transaction() as tx:
            runtime.act_on_application(tx, current_actor(), saved_id(found), "withdraw", now=_now(),
                                       request_id=g.request_id)
    except flow_error_types() as exc:
        return flow_error_page(exc)
    return redirect(url_for("progress.application", reference=reference))


@bp.post("/<reference>/resubmit")
def resubmit(reference: str) -> ResponseReturnValue:
    """Send a returned application again as it stands (changing answers goes through the
    correction page)."""
    from ..workflow import runtime

    found = _own_or_404(reference)
    try:
        with request_transaction() as tx:
            runtime.act_on_application(tx, current_actor(), saved_id(found), "resubmit", now=_now(),
                                       request_id=g.request_id)
    except flow_error_types() as exc:
        return flow_error_page(exc)
    return redirect(url_for("progress.application", reference=reference, sent="1"))


# --- corrections and resubmission ----------------------------------------------------------

def _keys_to_fix(run: flow_views.Run, form: Any) -> list[str]:
    """The question keys the applicant may change: those named by the correction request, or
    every question of the form after a return to the applicant."""
    fix = run.open_correction()
    if fix is None:
        return []
    named = [*fix["questions"], *fix["materials"]]
    if not named:  # a return names nothing: the whole form is open again, page by page
        named = [key for page in form.pages for key in page.keys]
    return [k for k in named if k in form.page_of]


def _under(key: str | None, keys: list[str]) -> bool:
    """Whether a question key is one of ``keys`` or inside one of them (a group)."""
    return key is not None and any(key == k or key.startswith(k + ".") for k in keys)


def _correction_page(pinned_defs: Pinned, application: Application, run: flow_views.Run,
                     keys: list[str], answers: Any, errors: list[FieldError],
                     raw: dict[str, list[str]] | None, status: int = 200) -> ResponseReturnValue:
    form = pinned_defs.form
    lang = current_lang()
    uploads = {u.public_id: u for u in request_session().scalars(select(StoredUpload).where(
        col(StoredUpload.application_id) == application.id))}
    fields = [render.render_field(form, key, answers, errors, lang=lang, raw=raw,
                                  templates=current_app.jinja_env,
                                  files={i: u.original_name for i, u in uploads.items()})
              for key in keys]
    multipart = any(variants and variants[0].widget == "file" and _under(key, keys)
                    for key, variants in form.fields.items())  # a file, or a group holding one
    fix = run.open_correction()
    summary = [(e.path, _field_message(form, e)) for e in errors]
    return render_template(
        "progress/correct.html", application=application, service=pinned_defs.service.content,
        fields=Markup("").join(fields), multipart=multipart, fix=fix, summary=summary,
        returned=application.status == "returned",
        files={k: uploads[v].original_name for k in keys
               if isinstance(v := paths.get_in(answers, paths.split(k)), str) and v in uploads},
        csrf=generate_csrf()), status


def _field_message(form: Any, error: FieldError) -> str:
    return str(field_error_message(error, form, current_lang()))


def _set_in(data: dict[str, Any], segments: list[str], value: Any) -> None:
    """Put ``value`` at ``segments`` (a question's key), making the objects on the way; an
    empty answer removes the key, as the form engine leaves unanswered questions out."""
    for segment in segments[:-1]:
        inner = data.get(segment)
        if not isinstance(inner, dict):
            inner = data[segment] = {}
        data = inner
    if value is None:
        data.pop(segments[-1], None)
    else:
        data[segments[-1]] = value


def _may_correct(reference: str) -> tuple[Application, flow_views.Run, Pinned, list[str]]:
    found = _own_or_404(reference)
    session = request_session()
    run = flow_views.load_run(session, found)
    pinned_defs = pinned(session, found.service_version_id, found.form_version_id)
    keys = _keys_to_fix(run, pinned_defs.form)
    return found, run, pinned_defs, keys


@bp.get("/<reference>/correct")
@sign_in_first
def correct(reference: str) -> ResponseReturnValue:
    found, run, pinned_defs, keys = _may_correct(reference)
    if not keys:
        return redirect(url_for("progress.application", reference=reference))
    return _correction_page(pinned_defs, found, run, keys, found.answers, [], None)


@bp.post("/<reference>/correct")
def send_correction(reference: str) -> ResponseReturnValue:
    from ..workflow import runtime

    found, run, pinned_defs, keys = _may_correct(reference)
    if not keys:  # nothing is open to correct: the engine says why (409, with the reason)
        try:
            with request_transaction() as tx:
                runtime.act_on_application(tx, current_actor(), saved_id(found),
                                           "submit_correction", now=_now(),
                                           request_id=g.request_id, answers=found.answers)
        except flow_error_types() as exc:
            return flow_error_page(exc)
        return redirect(url_for("progress.application", reference=reference))
    form = pinned_defs.form
    stored: list[StoredUpload] = []
    upload_errors: dict[str, str] = {}

    def store_file(fld: Any, path: str, upload: Any) -> str:
        limit = int(current_app.config["UPLOAD_MAX_BYTES_PER_DRAFT"])
        try:
            kept = store_upload(upload, upload_policy(fld), Path(current_app.config["UPLOAD_DIR"]),
                                Quota(limit, draft_full(limit)))
        except UploadRejected as exc:
            upload_errors[path] = exc.render(_, str(get_locale() or "zh_CN"))
            raise ValueError(upload_errors[path]) from None
        stored.append(StoredUpload(
            public_id=kept.id, application_id=found.id, field_key=fld.key,
            stored_name=kept.stored_name, original_name=kept.original_name, size=kept.size,
            sha256=kept.sha256, mime=kept.mime, uploaded_by=current_user.id,
            uploaded_from=request.remote_addr))
        return kept.id

    answers = paths.copy_answers(found.answers)
    errors: list[FieldError] = []
    raw: dict[str, list[str]] = {}
    for page_id in dict.fromkeys(form.page_of[k] for k in keys):
        result = coerce.coerce_page(form, page_id, request.form, found.answers,
                                    files=request.files, store_file=store_file)
        if result.rejected:
            abort(400)
        raw.update(result.raw)
        for key in keys:
            if form.page_of[key] != page_id:
                continue
            value = paths.get_in(result.answers, paths.split(key))
            _set_in(answers, paths.split(key), value)
        errors += [e for e in result.errors if _under(key_of(form, e.path or ""), keys)]
    current = state.evaluate(form, answers)
    answers = current.answers
    if not errors:
        for page_id in dict.fromkeys(form.page_of[k] for k in keys):
            errors += [e for e in state.validate_page(form, page_id, answers, current)
                       if _under(key_of(form, e.path or ""), keys)]
    if errors:
        return _correction_page(pinned_defs, found, run, keys, answers, errors, raw, 422)
    operation = "resubmit" if found.status == "returned" else "submit_correction"
    try:
        with request_transaction() as tx:
            for row in stored:
                tx.add(row)
            runtime.act_on_application(tx, current_actor(), saved_id(found), operation, now=_now(),
                                       request_id=g.request_id, answers=answers)
    except flow_error_types() as exc:
        return flow_error_page(exc)
    return redirect(url_for("progress.application", reference=reference, sent="1"))

