"""Uploaded files, shown only to their owner and to reviewers of the application."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, current_app, g, send_file, session
from flask_login import current_user
from sqlalchemy import select

from .. import db
from ..forms.uploads import open_stored
from ..models import Application, Draft, StoredUpload
from ..who_looked import record_file_open
from .review import may_review

bp = Blueprint("files", __name__)
PREVIEWABLE = {"application/pdf", "image/jpeg", "image/png", "image/webp", "image/gif"}


def remember_draft(token: str) -> None:
    """Anonymous visitors see their own uploads through the drafts their session worked on."""
    tokens = session.get("draft_tokens", [])
    if token not in tokens:
        session["draft_tokens"] = [*tokens[-9:], token]


def _may_open(upload: StoredUpload) -> bool:
    s = db.session()
    draft = s.get(Draft, upload.draft_id) if upload.draft_id else None
    user_id = current_user.id if current_user.is_authenticated else None
    if draft is not None:
        if user_id is not None and user_id in (draft.user_id, draft.clerk_id):
            return True
        if draft.user_id is None and draft.token in session.get("draft_tokens", []):
            return True
    if upload.application_id:
        application = s.get(Application, upload.application_id)
        if application is not None and may_review(application):
            return True
    return False


@bp.get("/files/<public_id>")
def open_file(public_id: str):  # type: ignore[no-untyped-def]
    upload = db.session().scalars(select(StoredUpload)
                                  .where(StoredUpload.public_id == public_id)).first()
    if upload is None or not _may_open(upload):
        abort(404)
    try:
        handle = open_stored(current_app.config["UPLOAD_DIR"], upload.stored_name)
    except FileNotFoundError:
        abort(404)
    try:
        with db.transaction() as tx:
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
