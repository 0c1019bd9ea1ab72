"""Sign in and sign out, and the one check for where a request may send the browser next."""

from __future__ import annotations

import re
import time

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..accounts import authenticate, roles_of
from ..i18n import LOCALE_OF_LANGUAGE
from ..models import saved_id, utcnow
from ..staff import passwords, totp
from .database import request_transaction
from .login import LoginUser
from .sessions import regenerate

bp = Blueprint("auth", __name__)
# Session keys: a sign-in waiting for its second step; a password to change before going on.
PENDING = "pending_sign_in"
PASSWORD_CHANGE_REQUIRED = "password_change_required"
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
                               request_id=g.request_id, second_step=totp.required)
        user = outcome.user
        login_snapshot = (LoginUser(user, roles_of(tx, saved_id(user)))
                          if user is not None else None)
        second_step = outcome.second_step_due
        change_due = user is not None and passwords.change_due(passwords.load_policy(tx), user,
                                                               utcnow())
    if login_snapshot is None:
        errors["password"] = _("The user name or password is not right")
        return render_template("auth/login.html", errors=errors, username=username,
                               next=next_url), 422
    if second_step:
        # Not signed in yet: the session only remembers whose password was right, briefly.
        _keep_preferences()
        regenerate(session)
        session[PENDING] = {"user_id": login_snapshot.id, "since": time.time(),
                            "next": next_url or "", "failures": 0}
        return redirect(url_for("account.verify"))
    return finish_sign_in(login_snapshot, next_url, change_due=change_due)


def finish_sign_in(login_snapshot: LoginUser, next_url: str | None, *,
                   change_due: bool) -> Response:
    """Sign in with a new session id (against fixation), the display choices kept. A password
    that must change (a reset, or rotation) is asked for before anything else."""
    _keep_preferences()
    regenerate(session)
    session.permanent = True
    if login_snapshot.language in LOCALE_OF_LANGUAGE:  # their own choice (/my/settings)
        session["locale"] = LOCALE_OF_LANGUAGE[login_snapshot.language]
    login_user(login_snapshot)
    target = safe_redirect_target(next_url, landing_page(login_snapshot))
    if change_due:
        session[PASSWORD_CHANGE_REQUIRED] = True
        return redirect(url_for("account.change_password", next=target))
    return redirect(target)


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
