"""Uploaded files, shown only to those who may see their draft or application (see policy)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, g, send_file, session
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlmodel import col

from ..forms.uploads import open_stored
from ..models import Application, Draft, StoredUpload
from ..policy import Action, FileTarget
from ..who_looked import record_file_open
from .access import allowed
from .database import request_session, request_transaction
from .materials import PREVIEWABLE, send_bytes, stored_bytes

bp = Blueprint("files", __name__)


def remember_draft(token: str) -> None:
    """Anonymous visitors see their own uploads through the drafts their session worked on."""
    tokens = session.get("draft_tokens", [])
    if token not in tokens:
        session["draft_tokens"] = [*tokens[-9:], token]


def _may_open(upload: StoredUpload) -> bool:
    s = request_session()
    draft = s.get(Draft, upload.draft_id) if upload.draft_id else None
    application = s.get(Application, upload.application_id) if upload.application_id else None
    return allowed(Action.OPEN, FileTarget(upload, draft, application))


@bp.get("/files/<public_id>")
def open_file(public_id: str) -> ResponseReturnValue:
    upload = request_session().scalars(select(StoredUpload)
                                  .where(col(StoredUpload.public_id) == public_id)).first()
    if upload is None or not _may_open(upload):
        abort(404)
    if not upload.stored_name:  # a stored material chosen instead of an upload
        return _open_material(upload)
    try:
        handle = open_stored(current_app.config["UPLOAD_DIR"], upload.stored_name)
    except FileNotFoundError:
        abort(404)
    try:
        with request_transaction() as tx:
            signed_in = current_user.is_authenticated
            record_file_open(tx, upload, actor_id=current_user.id if signed_in else None,
                             actor_name=current_user.username if signed_in else "anonymous",
                             request_id=g.request_id)
    except BaseException:
        handle.close()
        raise
    inline = upload.mime in PREVIEWABLE
    response = send_file(handle, mimetype=upload.mime, max_age=0, etag=upload.sha256)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{quote(upload.original_name)}")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _open_material(upload: StoredUpload) -> ResponseReturnValue:
    """The file of a draft's question answered with a stored material: read from the material
    storage, recorded like any other file opened."""
    if upload.storage is None or upload.storage_key is None:
        abort(404)
    found = stored_bytes(upload.storage, upload.storage_key)
    if not isinstance(found, bytes):
        return found
    with request_transaction() as tx:
        signed_in = current_user.is_authenticated
        record_file_open(tx, upload, actor_id=current_user.id if signed_in else None,
                         actor_name=current_user.username if signed_in else "anonymous",
                         request_id=g.request_id)
    return send_bytes(found, upload.mime, upload.sha256, upload.original_name)
