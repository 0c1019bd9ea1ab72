"""The material library's pages: the owner's 我的材料, a person's materials at the counter, a
material (and its file) seen by its owner, a counter clerk or a reviewer of the applicant's
application; and the glue that offers stored materials on form pages. Every view is audited;
a material of someone else, asked for by its id, is a 404 and an audit event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from io import BytesIO
from typing import Any, NoReturn
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col

from .. import audit
from ..forms import date_limits
from ..forms.definition import FormDefinition
from ..forms.formats import check_cn_id_number, check_cn_uscc
from ..forms.render import StoredOffer
from ..i18n import current_lang
from ..localtime import local_time
from ..materials import library
from ..models import Application, Draft, Material, Role, StoredUpload
from ..plugin_api import MaterialNotFound, MaterialStorage
from ..policy import Action, MaterialTarget
from .access import allowed, require_role
from .database import request_session, request_transaction
from .errors import render_error
from .login import login_manager

bp = Blueprint("materials", __name__)
PREVIEWABLE = {"application/pdf", "image/jpeg", "image/png", "image/webp", "image/gif"}


def storage() -> MaterialStorage | None:
    """The storage the MATERIAL_STORAGE setting names; None when no plugin offers it (then
    files stay in the upload area and nothing joins the library)."""
    from ..extend.manager import material_storage

    try:
        return material_storage()
    except LookupError:
        return None


# --- form pages -------------------------------------------------------------------------------

def asks_for_material(form: FormDefinition, page_id: str) -> bool:
    """Whether the page has a file question naming a material type."""
    return any(form.page_of.get(key) == page_id for key in library.question_types(form))


def draft_offers(draft: Draft, form: FormDefinition, page_id: str) -> dict[str, list[Material]]:
    """Question key (of the page's questions) -> the applicant's valid stored materials of
    the type it names."""
    types = {key: code for key, code in library.question_types(form).items()
             if form.page_of.get(key) == page_id}
    if not types:
        return {}
    session = request_session()
    owner = library.owner_of_draft(session, draft, draft.answers)
    found = library.offers(session, owner, types.values(), date_limits.today())
    return {key: found[code] for key, code in types.items() if found.get(code)}


def offer_views(offered: Mapping[str, list[Material]]) -> dict[str, list[StoredOffer]]:
    """The offers as the form page words them, in the page's language."""
    return {key: [StoredOffer(m.public_id,
                              _("Use the one you gave on %(date)s (%(name)s)",
                                date=local_time(m.created_at, "date"), name=m.original_name),
                              _trust_line(m)) for m in materials]
            for key, materials in offered.items()}


def chosen_materials(uploads: Iterable[StoredUpload]) -> dict[str, str]:
    """Public id of a draft's file -> the public id of the stored material it is."""
    ids = {u.public_id: u.material_id for u in uploads if u.material_id is not None}
    if not ids:
        return {}
    public = {row.id: row.public_id for row in request_session().execute(
        select(col(Material.id), col(Material.public_id))
        .where(col(Material.id).in_(set(ids.values()))))}
    return {upload: public[material] for upload, material in ids.items() if material in public}


def _trust_line(material: Material) -> str:
    valid = (_("valid until %(date)s", date=material.expires_on.isoformat())
             if material.expires_on else _("no end date"))
    return _("%(meaning)s; %(validity)s", meaning=_(library.TRUST_MEANING[material.trust_level]),
             validity=valid)


# --- who may see ------------------------------------------------------------------------------

def _refuse(public_id: str, why: str) -> NoReturn:
    """A 404 that leaves an audit event: someone asked for a material that is not theirs to
    see (or none). Only signed-in users get this far, so nobody can fill the chain freely."""
    with request_transaction() as tx:
        audit.record(tx, action="material.refused", object_type="material",
                     object_id=public_id[:64], actor_id=current_user.id,
                     actor_name=current_user.username, after={"why": why},
                     request_id=g.request_id)
    abort(404)


def _through_application() -> Application | None:
    reference = request.args.get("application", "")
    if not reference:
        return None
    found: Application | None = request_session().scalars(
        select(Application).where(col(Application.reference) == reference)).first()
    return found


def _material_or_404(public_id: str) -> tuple[Material, Application | None]:
    session = request_session()
    material = library.by_public_id(session, public_id)
    if material is None:
        _refuse(public_id, "unknown")
    application = _through_application()
    target = MaterialTarget(
        owner=material.owner, actor_owner=library.owner_of_user(session, current_user.id),
        application=application,
        application_owner=library.owner_of_draft(session, application, application.answers)
        if application is not None else None)
    if not allowed(Action.OPEN, target):
        _refuse(public_id, "not allowed")
    return material, application


def _record(action: str, material: Material, application: Application | None) -> None:
    with request_transaction() as tx:
        audit.record(tx, action=action, object_type="material", object_id=material.public_id,
                     actor_id=current_user.id, actor_name=current_user.username,
                     after={"owner": material.owner, "type": material.type_code,
                            "application": application.reference if application else None},
                     request_id=g.request_id)


def _rows(materials: list[Material]) -> list[dict[str, Any]]:
    types = library.catalogue(request_session())
    today = date_limits.today()
    return [{"material": m, "type": types[m.type_code].label(current_lang()) if m.type_code in types
             else m.type_code, "trust": _(library.TRUST_MEANING[m.trust_level]),
             "watermark": library.watermark(m, _), "source": _(library.SOURCE_NAMES[m.source]),
             "valid": library.is_valid(m, today)} for m in materials]


def rows_of(materials: list[Material]) -> list[dict[str, Any]]:
    """Materials as the materials table shows them (the counter's person page too)."""
    return _rows(materials)


# --- pages ------------------------------------------------------------------------------------

@bp.get("/my/materials")
def mine() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    session = request_session()
    owner = library.owner_of_user(session, current_user.id)
    materials = library.materials_of(session, owner) if owner else []
    page = render_template("materials/mine.html", owner=owner, rows=_rows(materials))
    if owner:
        with request_transaction() as tx:
            audit.record(tx, action="material.list", object_type="material_owner",
                         object_id=owner, actor_id=current_user.id,
                         actor_name=current_user.username, after={"page": "mine"},
                         request_id=g.request_id)
    return page


@bp.get("/counter/materials")
@require_role(Role.COUNTER_CLERK)
def counter() -> ResponseReturnValue:
    """A counter clerk looks a person (ID number) or enterprise (USCC) up."""
    typed = request.args.get("person", "").strip().upper()
    error = None
    materials: list[Material] = []
    if typed:
        if check_cn_id_number(typed) is not None and check_cn_uscc(typed) is not None:
            error = _("Enter an 18-character ID number or unified social credit code")
        else:
            materials = library.materials_of(request_session(), typed)
    page = render_template("materials/counter.html", person=typed, error=error,
                           rows=_rows(materials))
    if typed and error is None:
        with request_transaction() as tx:
            audit.record(tx, action="material.list", object_type="material_owner",
                         object_id=typed, actor_id=current_user.id,
                         actor_name=current_user.username, after={"page": "counter"},
                         request_id=g.request_id)
    return page, 422 if error else 200


@bp.get("/materials/<public_id>")
def detail(public_id: str) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    material, application = _material_or_404(public_id)
    page = render_template("materials/detail.html", row=_rows([material])[0],
                           application=application,
                           may_check=material.trust_level == "C"
                           and current_user.has_role(Role.COUNTER_CLERK))
    _record("material.view", material, application)
    return page


@bp.post("/materials/<public_id>/checked")
@require_role(Role.COUNTER_CLERK)
def checked(public_id: str) -> ResponseReturnValue:
    """A counter clerk has seen the original of an uploaded material: C becomes B."""
    material, application = _material_or_404(public_id)
    with request_transaction() as tx:
        row = tx.get(Material, material.id)
        if row is None or not library.check_against_original(row):
            return render_error(409, _("Only a material uploaded by the applicant (level C) "
                                       "is checked against its original."))
        audit.record(tx, action="material.checked", object_type="material",
                     object_id=row.public_id, actor_id=current_user.id,
                     actor_name=current_user.username, before={"trust_level": "C"},
                     after={"trust_level": "B", "owner": row.owner},
                     request_id=g.request_id)
    return redirect(url_for("materials.detail", public_id=public_id,
                            application=application.reference if application else None),
                    code=303)


@bp.get("/materials/<public_id>/file")
def file(public_id: str) -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    material, application = _material_or_404(public_id)
    found = stored_bytes(material.storage, material.storage_key)
    if not isinstance(found, bytes):
        return found
    _record("material.open", material, application)
    response = send_bytes(found, material.mime, material.sha256, material.original_name)
    response.headers["X-Material-Trust-Level"] = material.trust_level
    return response


def stored_bytes(storage_id: str, key: str) -> bytes | ResponseReturnValue:
    """The bytes a material storage holds under ``key``, or the error page saying why not: a
    storage that is down is told apart from a file that is gone."""
    from ..extend.manager import STORAGES

    store: MaterialStorage | None = current_app.extensions.get(STORAGES, {}).get(storage_id)
    try:
        if store is None:
            raise MaterialNotFound(storage_id)
        return store.get(key)
    except MaterialNotFound:
        return render_error(404, _("The file of this material is no longer stored."))
    except Exception:  # noqa: BLE001 - a plugin may fail any way; the person is told
        return render_error(503, _("The material storage is not answering. Try again in a "
                                   "few minutes."))


def send_bytes(data: bytes, mime: str, sha256: str, name: str) -> Response:
    """A stored file as the files page serves one: inline only for types a browser previews,
    sandboxed, never cached."""
    response = send_file(BytesIO(data), mimetype=mime, max_age=0, etag=sha256)
    disposition = "inline" if mime in PREVIEWABLE else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the reviewer's task page and the intake checklist ------------------------------------------

def task_panel(application: Application, service: Mapping[str, Any],
               uploads: Iterable[StoredUpload]) -> dict[str, Any]:
    """What the task page shows of the applicant's library: the service's checklist (present,
    missing, expired) and the materials, each linked through this application."""
    session = request_session()
    owner = library.owner_of_draft(session, application, application.answers)
    materials = library.materials_of(session, owner) if owner else []
    by_id = {u.public_id: u for u in uploads}
    rows = library.checklist(service, application.answers, by_id, materials, date_limits.today())
    return {"owner": owner, "checklist": rows, "rows": _rows(materials),
            "reference": application.reference}
