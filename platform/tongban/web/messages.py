"""Notifications on the site: a person's messages (/my/messages: unread count, mark read) and
the administrators' view of deliveries that wait or failed (/admin/notifications: the error,
a retry button)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, select, update
from sqlmodel import col

from ..models import Notification, Role, utcnow
from ..notify import delivery
from .access import require_role
from .database import request_session, request_transaction

bp = Blueprint("messages", __name__)
SHOWN = 200


def unread_count(user_id: int) -> int:
    """Site messages delivered to ``user_id`` and not yet read (the header's count)."""
    count = request_session().scalar(
        select(func.count()).select_from(Notification).where(
            col(Notification.user_id) == user_id, col(Notification.channel) == "site",
            col(Notification.state) == "sent", col(Notification.read_at).is_(None)))
    return int(count or 0)


@bp.get("/my/messages")
def inbox() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("messages.inbox")))
    rows = request_session().scalars(
        select(Notification).where(col(Notification.user_id) == current_user.id,
                                   col(Notification.channel) == "site",
                                   col(Notification.state) == "sent")
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(SHOWN)).all()
    return render_template("messages/inbox.html", messages=rows,
                           unread=unread_count(current_user.id))


@bp.post("/my/messages/read")
def mark_read() -> ResponseReturnValue:
    """Mark one message read (``message``) or all of them."""
    if not current_user.is_authenticated:
        abort(403)
    wanted = request.form.get("message", "")
    if wanted and not wanted.isdigit():
        abort(400)
    with request_transaction() as tx:
        statement = (update(Notification)
                     .where(col(Notification.user_id) == current_user.id,
                            col(Notification.channel) == "site",
                            col(Notification.read_at).is_(None))
                     .values(read_at=utcnow()))
        if wanted:
            statement = statement.where(col(Notification.id) == int(wanted))
        tx.execute(statement)
    return redirect(url_for("messages.inbox"))


@bp.get("/admin/notifications")
@require_role(Role.PLATFORM_ADMIN)
def admin_list() -> str:
    rows = request_session().scalars(
        select(Notification).where(col(Notification.state).in_(("failed", "pending")))
        .order_by(col(Notification.state), col(Notification.id).desc()).limit(SHOWN)).all()
    return render_template("admin/notifications.html", rows=rows,
                           retried=request.args.get("retried", ""))


@bp.post("/admin/notifications/retry")
@require_role(Role.PLATFORM_ADMIN)
def admin_retry() -> ResponseReturnValue:
    wanted = request.form.get("notification", "")
    if not wanted.isdigit():
        abort(400)
    with request_transaction() as tx:
        row = delivery.retry(tx, int(wanted))
        if row is None:
            abort(404)
        key = row.key
    return redirect(url_for("messages.admin_list", retried=key))
