"""Sign in and sign out."""

from __future__ import annotations

import math
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from .. import db
from ..accounts import LoginUser, authenticate, roles_of
from ..models import utcnow

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") \
                and not target.startswith("//"):
            return target
    return url_for("portal.index")


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    next_url = request.values.get("next")
    if request.method == "GET":
        return render_template("auth/login.html", errors={}, username="", next=next_url)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _("Enter your user name")
    if not password:
        errors["password"] = _("Enter your password")
    if errors:
        return render_template("auth/login.html", errors=errors, username=username,
                               next=next_url), 422
    cfg = current_app.config
    with db.transaction() as tx:
        outcome = authenticate(tx, username, password, max_failures=cfg["LOGIN_MAX_FAILURES"],
                               lockout=timedelta(minutes=cfg["LOGIN_LOCKOUT_MINUTES"]),
                               request_id=g.request_id)
        login_snapshot = (LoginUser(outcome.user, roles_of(tx, outcome.user.id))
                          if outcome.user is not None else None)
    if login_snapshot is not None:
        # A fresh session against fixation; the visitor's display choices (language, 长辈版)
        # are kept, as on sign-out.
        preferences = {key: session[key] for key in ("locale", "elder") if key in session}
        session.clear()
        session.update(preferences)
        session.permanent = True
        login_user(login_snapshot)
        return redirect(_safe_next(next_url))
    if outcome.locked_until is not None:
        minutes = max(1, math.ceil((outcome.locked_until - utcnow()).total_seconds() / 60))
        errors["username"] = ngettext(
            "This account is locked after too many wrong passwords. Try again in %(num)d minute.",
            "This account is locked after too many wrong passwords. Try again in %(num)d minutes.",
            minutes)
        return render_template("auth/login.html", errors=errors, username=username,
                               next=next_url), 429
    errors["password"] = _("The user name or password is not right")
    return render_template("auth/login.html", errors=errors, username=username,
                           next=next_url), 422


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        logout_user()
    locale, elder = session.get("locale"), session.get("elder")
    session.clear()
    if locale:
        session["locale"] = locale
    if elder:
        session["elder"] = elder
    return redirect(url_for("portal.index"))
