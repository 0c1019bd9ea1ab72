"""The public progress page (/progress, no sign-in): the applicant's timeline for anyone who
gives the reference number and the applicant's name, or the verification code of a sealed
decision. Department and step names only; the finding is tongban.public_progress."""

from __future__ import annotations

from flask import Blueprint, g, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from .. import public_progress as finder
from ..models import Application, DefinitionVersion, saved_id
from ..who_looked import record_application_read
from . import deadline_views, flow_views
from .database import request_session, request_transaction

bp = Blueprint("public_progress", __name__, url_prefix="/progress")

FIELD_LIMIT = 100  # a typed value kept for the form again; longer is never a reference or name


def _page(*, errors: dict[str, str] | None = None, typed: dict[str, str] | None = None,
          status: int = 200) -> ResponseReturnValue:
    errors = errors or {}
    summary = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
    return render_template("progress/public.html", errors=errors, summary=summary,
                           typed=typed or {}), status


def _no_match(field: str, typed: dict[str, str]) -> ResponseReturnValue:
    """The one answer for an unknown reference, a wrong name and an unknown code: nothing
    tells a stranger which references exist."""
    words = _("No application matches what you entered. Check it and try again.")
    return _page(errors={field: words}, typed=typed, status=422)


@bp.get("", strict_slashes=False)
def index() -> ResponseReturnValue:
    # A receipt's QR code opens this page with its reference filled in (docs/counter-intake.md).
    return _page(typed={"reference": request.args.get("reference", "")[:FIELD_LIMIT]})


@bp.route("/find", methods=["GET", "POST"])
def find() -> ResponseReturnValue:
    """Look an application up: by ``code``, or by ``reference`` and ``name`` (a form posts
    one or the other; a link may carry a code)."""
    values = request.form if request.method == "POST" else request.args
    typed = {k: values.get(k, "")[:FIELD_LIMIT] for k in ("reference", "name", "code")}
    if values.get("by") == "code" or (typed["code"].strip() and not typed["reference"].strip()):
        return _find_by_code(typed)
    return _find_by_reference(typed)


def _find_by_reference(typed: dict[str, str]) -> ResponseReturnValue:
    errors = {}
    reference = finder.normal_reference(typed["reference"])
    if not typed["reference"].strip():
        errors["reference"] = _("Enter the reference number")
    elif reference is None:
        errors["reference"] = _("Enter the reference number as it is printed, for example "
                                "2611-K7QX-9MPA")
    if not finder.normal_name(typed["name"]):
        errors["name"] = _("Enter the applicant's name")
    if errors or reference is None:
        return _page(errors=errors, typed=typed, status=422)
    found = finder.find_by_reference(request_session(), reference, typed["name"])
    if found is None:
        return _no_match("reference", typed)
    return _progress(found, "reference_and_name")


def _find_by_code(typed: dict[str, str]) -> ResponseReturnValue:
    if not typed["code"].strip():
        return _page(errors={"code": _("Enter the verification code")}, typed=typed,
                     status=422)
    code = finder.normal_code(typed["code"])
    if code is None:
        return _page(errors={"code": _("Enter the verification code as it is printed on the "
                                       "document: 16 letters and digits")},
                     typed=typed, status=422)
    found = finder.find_by_code(request_session(), code)
    if found is None:
        return _no_match("code", typed)
    return _progress(found, "code")


def _progress(found: Application, found_by: str) -> ResponseReturnValue:
    session = request_session()
    run = flow_views.load_run(session, found)
    service = session.get(DefinitionVersion, found.service_version_id)
    deadline = deadline_views.current(session, saved_id(found))
    page = render_template(
        "progress/public.html", errors={}, summary=[], typed={}, application=found, run=run,
        service=service.content if service is not None else {},
        applicant=finder.shown_name(session, found),
        timeline=run.timeline(staff=False, public=True),
        status_name=flow_views.status_name, deadline=deadline, time=deadline_views)
    signed_in = current_user.is_authenticated
    with request_transaction() as tx:
        record_application_read(tx, found, page="public_progress",
                                actor_id=current_user.id if signed_in else None,
                                actor_name=current_user.username if signed_in else "anonymous",
                                request_id=g.request_id, found_by=found_by)
    response = make_response(page)
    response.headers["Cache-Control"] = "private, no-store"  # a shared computer keeps no copy
    return response
