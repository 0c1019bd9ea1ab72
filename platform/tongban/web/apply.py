"""Citizens and clerks filling in a service's form: start, pages, check answers, submit."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from .. import bundles
from ..applications import (
    DraftUnavailable,
    existing_submission,
    load_draft,
    start_draft,
    submit,
    submitted_application,
    user_drafts,
)
from ..counter import people
from ..definitions.publish import effective_version
from ..forms import date_limits, state
from ..forms.uploads import UploadRejected
from ..i18n import current_lang
from ..intake import (
    Pinned,
    deferred_keys,
    draft_files,
    first_page_with_errors,
    pinned,
    read_page,
    remove_stored_files,
    save_page,
    submission_errors,
    upload_ids,
)
from ..materials import library
from ..models import Application, Draft
from ..policy import Action, ServiceTarget
from ..services import get_service
from ..who_looked import record_application_read
from . import connector_views, flow_views, form_pages, materials, settings
from .access import allowed, current_actor
from .database import request_session, request_transaction
from .errors import render_error
from .links import external_url
from .urls import path_url

bp = Blueprint("apply", __name__)


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _actor_name() -> str:
    return current_user.username if current_user.is_authenticated else "anonymous"


def _draft_or_error(token: str, action: Action = Action.VIEW) -> Draft:
    try:
        return load_draft(request_session(), token, current_actor(), action)
    except DraftUnavailable as exc:
        if exc.reason == "expired":
            abort(410)
        abort(404 if exc.reason == "missing" else 403)


def _pinned(draft: Draft) -> Pinned:
    return pinned(request_session(), draft.service_version_id, draft.form_version_id)


def _bundle_step(draft: Draft) -> ResponseReturnValue | None:
    """Where a draft of a 一件事 bundle goes instead of its own check and submit: it is checked
    and sent with its bundle (docs/bundles.md); None for a draft of its own."""
    bundle = bundles.bundle_of_draft(request_session(), draft.id)
    if bundle is None:
        return None
    if bundle.status == "submitted":
        return redirect(url_for("bundles.progress", reference=bundle.reference))
    if bundles.incomplete(request_session(), bundle):
        return redirect(url_for("bundles.tasks", token=bundle.token))
    return redirect(url_for("bundles.check", token=bundle.token))


def _upload_message(exc: UploadRejected) -> str:
    return exc.render(_, str(get_locale() or "zh_CN"))


@bp.post("/services/<code>/start")
def start(code: str) -> ResponseReturnValue:
    return begin(code)


def begin(code: str, answers: dict[str, Any] | None = None,
          come_back: str | None = None) -> ResponseReturnValue:
    """Start a draft of the service, with ``answers`` already given (the eligibility
    pre-check's); a visitor who must sign in first comes back to ``come_back`` (default: the
    service guide)."""
    session_ = request_session()
    service = get_service(session_, code, offered=True)
    if service is None:
        abort(404)
    target = ServiceTarget.of(service.content)
    on_behalf = allowed(Action.START_ON_BEHALF, target)
    if not on_behalf and not allowed(Action.START, target):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login",
                                    next=come_back or url_for("portal.service", code=code)))
        return render_error(403, _("Your account cannot apply for this service. Check who can "
                                   "apply in the service guide, or sign in with another account."))
    with request_transaction() as tx:
        service_row = effective_version(tx, "service", code)
        form_row = effective_version(tx, "form", service.content["form"])
        if service_row is None or form_row is None:
            abort(404)
        clerk_id = current_user.id if on_behalf else None
        draft = start_draft(tx, service_row, form_row,
                            user_id=None if clerk_id else _user_id(), clerk_id=clerk_id,
                            answers=answers)
        token = draft.token
    pinned_defs = pinned(request_session(), draft.service_version_id, draft.form_version_id)
    connector_views.prefill(draft, pinned_defs, starting=True)
    if pinned_defs.form.sections:  # a long application starts from its task list
        return redirect(url_for("apply.tasks", token=token))
    return redirect(url_for("apply.page", token=token, page_id=pinned_defs.form.pages[0].id))


@bp.get("/apply/<token>")
def resume(token: str) -> ResponseReturnValue:
    draft = _draft_or_error(token)
    if draft.status == "submitted":
        application = submitted_application(request_session(), draft)
        return redirect(url_for("apply.confirmation", reference=application.reference))
    form = _pinned(draft).form
    if form.sections:
        return redirect(url_for("apply.tasks", token=token))
    current = state.evaluate(form, draft.answers)
    visited = set(draft.visited_pages)
    for page in state.visible_pages(form, current):
        if page.id not in visited:
            return redirect(url_for("apply.page", token=token, page_id=page.id))
    return redirect(url_for("apply.check", token=token))


@bp.route("/apply/<token>/pages/<page_id>", methods=["GET", "POST"])
def page(token: str, page_id: str) -> ResponseReturnValue:
    draft = _draft_or_error(token, Action.EDIT if request.method == "POST" else Action.VIEW)
    if draft.status == "submitted":
        return redirect(url_for("apply.resume", token=token))
    if draft.status == "held":  # sent with its bundle, waiting for another service's result
        return _bundle_step(draft) or abort(404)
    pinned_defs = _pinned(draft)
    form = pinned_defs.form
    if page_id not in form.page_by_id:
        abort(404)
    from_check = request.args.get("from") == "check"  # in the URL: links and form actions
    if request.method == "POST" and request.mimetype not in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        abort(400)
    if request.method == "GET":
        return form_pages.page(pinned_defs, draft, page_id, draft.answers, [], None, from_check)

    config = current_app.config
    stored = draft_files(request_session(), draft, form, page_id,
                         max_draft_bytes=config["UPLOAD_MAX_BYTES_PER_DRAFT"],
                         address=request.remote_addr, anonymous=_user_id() is None,
                         max_address_bytes_per_day=config["UPLOAD_MAX_BYTES_PER_ADDRESS_PER_DAY"])
    offered = materials.draft_offers(draft, form, page_id)
    if offered or materials.asks_for_material(form, page_id):
        stored = dataclasses.replace(stored, offers=offered, storage=materials.storage())
    result = read_page(draft, pinned_defs, page_id, request.form, request.files,
                       upload_dir=config["UPLOAD_DIR"], user_id=_user_id(),
                       translate_upload_error=_upload_message, stored=stored)
    if result.rejected:  # refused whole: too many values (413) or names nested too deep (400)
        abort(413 if any(e.code == "too_many_fields" for e in result.errors) else 400)
    with request_transaction() as tx:  # upload rows and the answers: one short unit of work
        save_page(tx, draft, pinned_defs, page_id, result)
    remove_stored_files(config["UPLOAD_DIR"], result.removed_files)
    if not result.errors:  # the answers a prefill query reads may have just been given
        connector_views.prefill(draft, pinned_defs)
    if result.action == "save":
        return redirect(path_url("apply.saved", token=token))
    # An add/remove button shows the page again even when nothing changed (removing an item
    # left empty): moving on would skip the page, and htmx would swap in the wrong page.
    item_button = (result.action or "").startswith(("add:", "remove:"))
    if result.changed_items or result.errors or result.picking_region or item_button:
        status = 422 if result.errors else 200
        return form_pages.page(pinned_defs, draft, page_id, draft.answers, result.errors,
                             result.raw if result.errors or result.picking_region else None,
                             from_check,
                             upload_errors=result.upload_errors), status
    if from_check:
        return redirect(path_url("apply.check", token=token))
    if result.state is None:  # read_page leaves it out only for a rejected post, refused above
        raise RuntimeError("an accepted page post came back without the form's state")
    following = state.next_page(form, page_id, result.state)
    if following is None:
        return redirect(path_url("apply.check", token=token))
    return redirect(path_url("apply.page", token=token, page_id=following))


@bp.post("/apply/<token>/pages/<page_id>/switch")
def switch(token: str, page_id: str) -> ResponseReturnValue:
    """The header's language or 长辈版 switch pressed on a form page: a button of the page's
    form (action=save), so the page's answers are kept as "save and come back later" keeps
    them, nothing judged; then the same page again in the new language or mode."""
    response = page(token, page_id)
    if request.form.get("action") != "save" or getattr(response, "status_code", None) != 302:
        return response  # not the switch's post, or no page to come back to
    settings.remember_choice(request.args)
    page_url = path_url("apply.page", token=token, page_id=page_id)
    return redirect(page_url + ("?from=check" if request.args.get("from") == "check" else ""))


@bp.post("/apply/<token>/pages/<page_id>/field")
def field(token: str, page_id: str) -> ResponseReturnValue:
    """htmx: check one answer when the person leaves the field; returns only that field."""
    draft = _draft_or_error(token)
    pinned_defs = _pinned(draft)
    if page_id not in pinned_defs.form.page_by_id:
        abort(404)
    name = request.headers.get("HX-Trigger-Name") or request.form.get("tb-field", "")
    return form_pages.field_fragment(pinned_defs, draft, page_id, name, request.form)


@bp.get("/apply/<token>/tasks")
def tasks(token: str) -> ResponseReturnValue:
    draft = _draft_or_error(token)
    return form_pages.task_list(_pinned(draft), draft)


@bp.get("/apply/<token>/check")
def check(token: str) -> ResponseReturnValue:
    draft = _draft_or_error(token)
    if draft.status == "submitted":
        return redirect(url_for("apply.resume", token=token))
    bundle_step = _bundle_step(draft)
    if bundle_step is not None:
        return bundle_step
    pinned_defs = _pinned(draft)
    missing_page = first_page_with_errors(pinned_defs.form, draft.answers,
                                          upload_ids(request_session(), draft.id),
                                          deferred_keys(pinned_defs.service.content, draft))
    return form_pages.check_answers(pinned_defs, draft, missing_page, declaration_error=None)


@bp.post("/apply/<token>/submit")
def submit_application(token: str) -> ResponseReturnValue:
    posted_key = request.form.get("idempotency_key", "")
    repeat = existing_submission(request_session(), posted_key) if posted_key else None
    if repeat is not None:  # a double click or a replayed POST: show the first result
        return redirect(url_for("apply.confirmation", reference=repeat.reference))
    draft = _draft_or_error(token, Action.SUBMIT)
    if draft.status == "submitted":
        return redirect(url_for("apply.resume", token=token))
    bundle_step = _bundle_step(draft)
    if bundle_step is not None:
        return bundle_step
    pinned_defs = _pinned(draft)
    form = pinned_defs.form
    uploads = upload_ids(request_session(), draft.id)
    # A clerk's draft: required materials marked 容缺 at the materials check may stay empty.
    deferred = deferred_keys(pinned_defs.service.content, draft)
    if request.form.get("declaration") != "agree":
        missing_page = first_page_with_errors(form, draft.answers, uploads, deferred)
        return form_pages.check_answers(
            pinned_defs, draft, missing_page,
            declaration_error=_("Confirm that the applicant confirmed the information is true")
            if form_pages.speaks_of_applicant(draft)
            else _("Confirm that the information you gave is true")), 422
    current = state.evaluate(form, draft.answers)
    if submission_errors(form, current.answers, uploads, current, deferred):
        missing_page = first_page_with_errors(form, draft.answers, uploads, deferred)
        return redirect(url_for("apply.page", token=token, page_id=missing_page)
                        if missing_page else url_for("apply.check", token=token))
    department = pinned_defs.service.content["department"]["code"]
    actor_name = current_user.username if current_user.is_authenticated else "anonymous"
    try:
        with request_transaction() as tx:
            outcome = submit(tx, draft, current.answers, department_code=department,
                             actor_id=_user_id(), actor_name=actor_name,
                             request_id=g.request_id)
            reference = outcome.application.reference
            # Files given for questions naming a material type join the applicant's library.
            library.keep_uploads(tx, outcome.application, form, library.catalogue(tx),
                                 library.owner_of_draft(tx, draft, current.answers),
                                 date_limits.today())
    except IntegrityError:
        # Another request submitted this draft between our check and our insert.
        request_session().rollback()
        reference = submitted_application(request_session(), draft).reference
    session.setdefault("references", [])
    if reference not in session["references"]:
        session["references"] = [*session["references"][-19:], reference]
    return redirect(url_for("apply.confirmation", reference=reference))


@bp.get("/applications/<reference>/confirmation")
def confirmation(reference: str) -> ResponseReturnValue:
    from sqlalchemy import select

    application = request_session().scalars(
        select(Application).where(col(Application.reference) == reference)).first()
    if application is None or not allowed(Action.VIEW, application):
        abort(404)
    pinned_defs = pinned(request_session(), application.service_version_id,
                         application.form_version_id)
    # Sent for someone (a clerk's or an agent's draft): the page speaks of the applicant.
    page = render_template("apply/confirmation.html", application=application,
                           service=pinned_defs.service.content,
                           for_applicant=application.clerk_id is not None
                           or application.person_id is not None)
    with request_transaction() as tx:
        record_application_read(tx, application, page="confirmation", actor_id=_user_id(),
                                actor_name=_actor_name(), request_id=g.request_id)
    return page


@bp.get("/apply/<token>/saved")
def saved(token: str) -> ResponseReturnValue:
    draft = _draft_or_error(token)
    pinned_defs = _pinned(draft)
    return render_template("apply/saved.html", draft=draft, service=pinned_defs.service.content,
                           resume_url=external_url("apply.resume", token=token))


@bp.get("/my")
def mine() -> ResponseReturnValue:
    from sqlalchemy import select

    from ..services import names_of_versions

    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("apply.mine")))
    session_ = request_session()
    drafts = user_drafts(session_, current_user.id)
    # Their own applications, for a counter clerk those they took in, and those made at a
    # counter for the person whose verified ID number the account holds (docs/counter.md).
    applications = session_.scalars(select(Application).where(
        people.mine_filter(session_, current_user.id))
        .order_by(col(Application.submitted_at).desc()).limit(500)).all()
    service_names = names_of_versions(session_, {a.service_version_id for a in applications})
    names = {}
    for draft in drafts:
        names[draft.id] = pinned(request_session(), draft.service_version_id,
                                 draft.form_version_id).service.content["name"]
    # A bundle's drafts are reached through their bundle (listed on its own).
    in_bundles = bundles.user_bundles(session_, current_user.id)
    bundle_list = [(b, bundles.definition(session_, b)["name"]) for b in in_bundles]
    held = bundles.bundle_draft_ids(session_, [b.id for b in in_bundles if b.id is not None])
    drafts = [d for d in drafts if d.id not in held]
    return render_template("apply/mine.html", drafts=drafts, names=names, bundle_list=bundle_list,
                           applications=applications, service_names=service_names,
                           lang=current_lang(), status_name=flow_views.status_name,
                           clerk_id=current_user.id)
