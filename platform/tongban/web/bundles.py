"""一件事 bundles for citizens: the bundle's guide, one application over several services
(shared answers once, then each service's own questions), one receipt, one progress page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import bundles
from ..definitions.publish import effective_version
from ..forms import date_limits, overview, render, state
from ..i18n import N_, current_lang
from ..intake import draft_files, pinned, read_page, remove_stored_files, save_page
from ..models import BundleApplication
from ..policy import Action, ServiceTarget
from . import flow_views
from .access import allowed
from .database import request_session, request_transaction
from .errors import render_error
from .urls import fixed_url, path_url

bp = Blueprint("bundles", __name__)


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _bundle(token: str) -> BundleApplication:
    try:
        return bundles.load(request_session(), token, _user_id())
    except bundles.BundleUnavailable:
        abort(404)


def _submitted(reference: str) -> BundleApplication:
    try:
        return bundles.by_reference(request_session(), reference, _user_id())
    except bundles.BundleUnavailable:
        abort(404)


def _services(content: dict[str, Any]) -> list[dict[str, Any]]:
    """The bundle's services as the guide lists them: name, department, what each needs."""
    session = request_session()
    rows = {item["service"]: effective_version(session, "service", item["service"])
            for item in content["services"]}
    found = {code: row.content for code, row in rows.items() if row is not None}
    if len(found) != len(rows):
        abort(404)  # a sub-service withdrawn from the portal: the bundle cannot be applied for
    return [{"code": item["service"], "name": found[item["service"]]["name"],
             "department": found[item["service"]]["department"]["name"],
             "needs": [found[need]["name"] for need in item.get("needs") or []]}
            for item in content["services"]]


@bp.get("/bundles/<code>")
def guide(code: str) -> ResponseReturnValue:
    row = effective_version(request_session(), "bundle", code)
    if row is None:
        abort(404)
    return render_template("bundles/guide.html", bundle=row.content,
                           services=_services(row.content))


@bp.post("/bundles/<code>/start")
def start(code: str) -> ResponseReturnValue:
    row = effective_version(request_session(), "bundle", code)
    if row is None:
        abort(404)
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("bundles.guide", code=code)))
    for item in row.content["services"]:
        service = effective_version(request_session(), "service", item["service"])
        if service is None:
            abort(404)
        if not allowed(Action.START, ServiceTarget.of(service.content)):
            return render_error(403, _("Your account cannot apply for this service. Check who "
                                       "can apply in the service guide, or sign in with another "
                                       "account."))
    with request_transaction() as tx:
        token = bundles.start(tx, row, user_id=_user_id()).token
    return redirect(url_for("bundles.tasks", token=token))


def _task_rows(bundle: BundleApplication) -> tuple[list[dict[str, Any]], bool]:
    """The bundle's task list: the shared answers, then each service's own questions."""
    session = request_session()
    views = bundles.parts(session, bundle)
    lead = views[0].draft
    shared = bundles.shared_pages(session, bundle, lead)
    shared_done = bundles.shared_given(session, bundle, lead)
    missing = set(bundles.incomplete(session, bundle))
    rows = [{"id": "shared", "title": _("Shared details (asked once for every service)"),
             "url": url_for("bundles.shared", token=bundle.token, page_id=shared[0])
             if shared else None,
             "status": "completed" if shared_done else "not_started"}]
    for view in views:
        started = bundles.own_pages_seen(session, bundle, view.draft)
        done = view.part.service_code not in missing
        rows.append({
            "id": view.part.service_code,
            "title": render.text_for(view.service["name"], current_lang()),
            "department": render.text_for(view.service["department"]["name"], current_lang()),
            "url": url_for("apply.resume", token=view.draft.token) if shared_done else None,
            "status": "completed" if done else "in_progress" if started else "not_started"})
    return rows, shared_done and not missing


STATUS_TEXT = {"completed": N_("Completed"), "in_progress": N_("In progress"),
               "not_started": N_("Not started")}


@bp.get("/bundle/<token>")
def tasks(token: str) -> ResponseReturnValue:
    bundle = _bundle(token)
    if bundle.status == "submitted":
        return redirect(url_for("bundles.progress", reference=bundle.reference))
    rows, ready = _task_rows(bundle)
    for row in rows:
        row["status_text"] = _(STATUS_TEXT[row["status"]])
    return render_template("bundles/tasks.html", bundle=bundle,
                           content=bundles.definition(request_session(), bundle), rows=rows,
                           ready=ready)


@bp.route("/bundle/<token>/shared/<page_id>", methods=["GET", "POST"])
def shared(token: str, page_id: str) -> ResponseReturnValue:
    bundle = _bundle(token)
    if bundle.status == "submitted":
        return redirect(url_for("bundles.progress", reference=bundle.reference))
    session = request_session()
    lead = bundles.parts(session, bundle)[0].draft
    pages = bundles.shared_pages(session, bundle, lead)
    if page_id not in pages:
        abort(404)
    pinned_defs = pinned(session, lead.service_version_id, lead.form_version_id)
    form = pinned_defs.form
    if request.method == "GET":
        return _shared_page(bundle, lead, pinned_defs, page_id, pages, lead.answers, [], None)
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        abort(400)
    config = current_app.config
    stored = draft_files(session, lead, form, page_id,
                         max_draft_bytes=config["UPLOAD_MAX_BYTES_PER_DRAFT"],
                         address=request.remote_addr, anonymous=False,
                         max_address_bytes_per_day=config["UPLOAD_MAX_BYTES_PER_ADDRESS_PER_DAY"])
    result = read_page(lead, pinned_defs, page_id, request.form, request.files,
                       upload_dir=config["UPLOAD_DIR"], user_id=_user_id(),
                       translate_upload_error=lambda exc: exc.render(
                           _, str(get_locale() or "zh_CN")),
                       stored=stored)
    if result.rejected:
        abort(413 if any(e.code == "too_many_fields" for e in result.errors) else 400)
    with request_transaction() as tx:
        save_page(tx, lead, pinned_defs, page_id, result)
        if not result.errors:
            bundles.share_answers(tx, bundle, lead)
    remove_stored_files(config["UPLOAD_DIR"], result.removed_files)
    if result.errors or result.changed_items or result.picking_region:
        return _shared_page(bundle, lead, pinned_defs, page_id, pages, lead.answers,
                            result.errors, result.raw), 422 if result.errors else 200
    following = pages.index(page_id) + 1
    if following < len(pages):
        return redirect(path_url("bundles.shared", token=token, page_id=pages[following]))
    return redirect(path_url("bundles.tasks", token=token))


def _shared_page(bundle: BundleApplication, lead: Any, pinned_defs: Any, page_id: str,
                 pages: list[str], answers: Any, errors: list[Any], raw: Any) -> str:
    form = pinned_defs.form
    lang = current_lang()
    current = state.evaluate(form, answers, failed=[e.path for e in errors if e.path])
    position = pages.index(page_id)
    here = path_url("bundles.shared", token=bundle.token, page_id=page_id)
    urls = {"action": here,
            "validate": path_url("apply.page", token=lead.token, page_id=page_id) + "/field",
            "regions": fixed_url("regions.provinces"),
            "back": path_url("bundles.shared", token=bundle.token, page_id=pages[position - 1])
            if position else path_url("bundles.tasks", token=bundle.token)}
    body = render.render_page(form, page_id, answers, errors, lang=lang, state=current,
                              csrf_token=generate_csrf(), templates=current_app.jinja_env,
                              urls=urls, raw=raw, files={})
    content = bundles.definition(request_session(), bundle)
    return render_template("bundles/shared.html", body=body, bundle=content,
                           has_errors=bool(errors),
                           page_title=render.text_for(form.page_by_id[page_id].title, lang))


def _check_sections(bundle: BundleApplication) -> list[dict[str, Any]]:
    """The answers by service, the shared ones first, each row with its "Change" link."""
    session = request_session()
    lang = current_lang()
    views = bundles.parts(session, bundle)
    lead = views[0].draft
    shared = bundles.shared_pages(session, bundle, lead)
    groups = []
    for index, view in enumerate(views):
        form = pinned(session, view.draft.service_version_id, view.draft.form_version_id).form
        rows = []
        for section in overview.check_answers_rows(form, view.draft.answers, lang):
            is_shared = section["page"] in shared
            if is_shared and index > 0:
                continue  # the shared answers are shown once, with the lead service's
            for row in section["rows"]:
                if is_shared:
                    row["change_url"] = url_for("bundles.shared", token=bundle.token,
                                                page_id=section["page"])
                elif row.get("change_page"):
                    # `from` is a keyword: it travels in a mapping typed loosely for url_for.
                    change: dict[str, Any] = {"token": view.draft.token,
                                              "page_id": row["change_page"], "from": "check"}
                    row["change_url"] = url_for("apply.page", **change)
                else:
                    row["change_url"] = None
                rows.append((is_shared, row))
        if index == 0:
            groups.append({"title": _("Shared details"),
                           "rows": [row for is_shared, row in rows if is_shared]})
        groups.append({"title": render.text_for(view.service["name"], lang),
                       "department": render.text_for(view.service["department"]["name"], lang),
                       "rows": [row for is_shared, row in rows if not is_shared]})
    return groups


@bp.get("/bundle/<token>/check")
def check(token: str) -> ResponseReturnValue:
    bundle = _bundle(token)
    if bundle.status == "submitted":
        return redirect(url_for("bundles.progress", reference=bundle.reference))
    return _check_page(bundle, None)


def _check_page(bundle: BundleApplication, error: dict[str, str] | None) -> str:
    missing = bundles.incomplete(request_session(), bundle)
    return render_template("bundles/check.html", bundle=bundle,
                           content=bundles.definition(request_session(), bundle),
                           groups=_check_sections(bundle), missing=missing, error=error)


@bp.post("/bundle/<token>/submit")
def submit(token: str) -> ResponseReturnValue:
    bundle = _bundle(token)
    if bundle.status == "submitted":
        return redirect(url_for("bundles.receipt", reference=bundle.reference))
    if request.form.get("declaration") != "agree":
        return _check_page(bundle, {"href": "#declaration",
                                    "text": _("Confirm that the information you gave is true")}), 422
    try:
        with request_transaction() as tx:
            bundles.submit_bundle(tx, bundle, actor_id=_user_id(),
                                  actor_name=current_user.username, today=date_limits.today(),
                                  request_id=g.request_id)
            reference = bundle.reference
    except bundles.BundleIncomplete:
        request_session().rollback()
        return redirect(url_for("bundles.tasks", token=token))
    return redirect(url_for("bundles.receipt", reference=reference))


def _part_rows(bundle: BundleApplication) -> list[dict[str, Any]]:
    lang = current_lang()
    views = bundles.parts(request_session(), bundle)
    names = {v.part.service_code: render.text_for(v.service["name"], lang) for v in views}
    rows = []
    for view in views:
        if view.application is not None:
            status = flow_views.status_name(view.application.status)
        elif view.waiting_for:
            status = _("Waiting for %(services)s", services=_(", ").join(
                names[code] for code in view.waiting_for))
        else:
            status = _("Ready to start")
        rows.append({"code": view.part.service_code, "name": names[view.part.service_code],
                     "department": render.text_for(view.service["department"]["name"], lang),
                     "status": status, "waiting": view.application is None,
                     "startable": view.application is None and not view.waiting_for,
                     "application": view.application})
    return rows


@bp.get("/my/bundles/<reference>/receipt")
def receipt(reference: str) -> ResponseReturnValue:
    bundle = _submitted(reference)
    return render_template("bundles/receipt.html", bundle=bundle,
                           content=bundles.definition(request_session(), bundle),
                           rows=_part_rows(bundle))


@bp.get("/my/bundles/<reference>")
def progress(reference: str) -> ResponseReturnValue:
    bundle = _submitted(reference)
    return _progress_page(bundle, None)


def _progress_page(bundle: BundleApplication, error: dict[str, str] | None) -> str:
    return render_template("bundles/progress.html", bundle=bundle,
                           content=bundles.definition(request_session(), bundle),
                           rows=_part_rows(bundle), error=error)


@bp.post("/my/bundles/<reference>/parts/<service>/start")
def start_part(reference: str, service: str) -> ResponseReturnValue:
    """Start a waiting service whose needs are approved (it normally opens by itself); one
    whose needs are not met is refused, nothing changed."""
    bundle = _submitted(reference)
    try:
        with request_transaction() as tx:
            bundles.start_part(tx, bundle, service, actor_id=_user_id(),
                               actor_name=current_user.username, request_id=g.request_id)
    except bundles.DependencyNotMet as exc:
        request_session().rollback()
        lang = current_lang()
        names = {v.part.service_code: render.text_for(v.service["name"], lang)
                 for v in bundles.parts(request_session(), bundle)}
        text = _("%(service)s cannot start yet: it needs %(needs)s approved first",
                 service=names.get(exc.service, exc.service),
                 needs=_(", ").join(names.get(code, code) for code in exc.needs))
        return _progress_page(bundle, {"href": f"#part-{service}", "text": text}), 422
    except LookupError:
        request_session().rollback()
        abort(404)
    return redirect(url_for("bundles.progress", reference=reference))
