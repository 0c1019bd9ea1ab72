"""Sign in and sign out, and the one check for where a request may send the browser next."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..accounts import authenticate, roles_of
from ..models import saved_id
from .database import request_transaction
from .login import LoginUser
from .sessions import regenerate

bp = Blueprint("auth", __name__)
# Kept across sign-in and sign-out: the visitor's display choices, not who they are.
_PREFERENCES = ("locale", "elder")
# A path on this site: one "/", then no "/" or "\" (browsers read "//x" and "/\x" as another
# host), and nowhere a backslash or a control character (which browsers strip or rewrite).
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\\\x00-\x1f\x7f-\x9f]*")


def safe_redirect_target(target: str | None, default: str | None = None) -> str:
    """``target`` when it is a path on this site, else ``default`` (the home page). Every view
    that redirects to an address the request supplies goes through this."""
    if target and _LOCAL_PATH.fullmatch(target):
        return target
    return default or url_for("portal.index")


def _keep_preferences() -> None:
    preferences = {key: session[key] for key in _PREFERENCES if key in session}
    session.clear()
    session.update(preferences)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
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
    with request_transaction() as tx:
        outcome = authenticate(tx, username, password,
                               alert_after=current_app.config["LOGIN_ALERT_FAILURES"],
                               request_id=g.request_id)
        login_snapshot = (LoginUser(outcome.user, roles_of(tx, saved_id(outcome.user)))
                          if outcome.user is not None else None)
    if login_snapshot is None:
        errors["password"] = _("The user name or password is not right")
        return render_template("auth/login.html", errors=errors, username=username,
                               next=next_url), 422
    # A new session id against fixation; the display choices are kept.
    _keep_preferences()
    regenerate(session)
    session.permanent = True
    login_user(login_snapshot)
    return redirect(safe_redirect_target(next_url, landing_page(login_snapshot)))


def landing_page(user: LoginUser) -> str:
    """Where a sign-in without a ``next`` goes: staff to their review inbox, everyone else to
    their applications."""
    from .inbox_counts import STAFF

    return url_for("review.index") if user.has_role(*STAFF) else url_for("apply.mine")


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        logout_user()
    # Ends the session on the server: a copy of the old cookie finds nothing.
    _keep_preferences()
    regenerate(session)
    return redirect(url_for("portal.index"))
