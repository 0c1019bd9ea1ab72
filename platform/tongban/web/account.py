"""A staff member's own security: the second sign-in step (a TOTP or recovery code), setting up
two-step verification, and changing their password (forced after a reset or by rotation)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import Session

from ..accounts import count_failure, password_matches, record_login, roles_of
from ..i18n import N_
from ..models import User, saved_id, utcnow
from ..staff import passwords, totp
from ..staff.rules import StaffRefused
from .auth import PASSWORD_CHANGE_REQUIRED, PENDING, finish_sign_in, safe_redirect_target
from .database import request_session, request_transaction
from .login import LoginUser, sign_in_first
from .sessions import regenerate

bp = Blueprint("account", __name__)
PENDING_SECONDS = 300  # the second step must follow the password within five minutes
MAX_CODE_FAILURES = 5  # then the password is asked for again
ENROL_SECRET = "totp_enrol_secret"
# What a signed-in visitor who must change their password may still reach.
_BEFORE_CHANGE = {"account.change_password", "auth.logout", "static", "settings.language",
                  "settings.elder"}


def _pending() -> dict[str, Any] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("since", 0) > PENDING_SECONDS:
        return None
    return pending


def _pending_user() -> User | None:
    pending = _pending()
    user = request_session().get(User, pending["user_id"]) if pending else None
    return user if user is not None and user.is_active else None


def _start_again(message: str) -> ResponseReturnValue:
    session.pop(PENDING, None)
    session.pop(ENROL_SECRET, None)
    return render_template("auth/login.html", errors={"username": message}, username="",
                           next=None), 422


@bp.route("/login/verify", methods=["GET", "POST"])
def verify() -> ResponseReturnValue:
    """The second step of a sign-in: the code from the app, or a recovery code."""
    user = _pending_user()
    if user is None:
        return _start_again(_("Your sign-in timed out: enter your user name and password again"))
    if user.totp_secret is None:
        return redirect(url_for("account.enrol"))
    if request.method == "GET":
        return render_template("auth/verify.html", error="")
    code = request.form.get("code", "")
    pending = dict(session[PENDING])
    with request_transaction() as tx:
        user = tx.get(User, user.id)
        assert user is not None
        ok = bool(code.strip()) and totp.verify(tx, user, code, request_id=g.request_id)
        if ok:
            record_login(tx, user, request_id=g.request_id, second_step="code")
        else:
            count_failure(tx, user, alert_after=current_app.config["LOGIN_ALERT_FAILURES"],
                          request_id=g.request_id)
        snapshot = LoginUser(user, roles_of(tx, saved_id(user))) if ok else None
        change_due = passwords.change_due(passwords.load_policy(tx), user, utcnow())
    if snapshot is None:
        pending["failures"] = pending.get("failures", 0) + 1
        if pending["failures"] >= MAX_CODE_FAILURES:
            return _start_again(_("Too many wrong codes: enter your user name and password "
                                  "again"))
        session[PENDING] = pending
        error = (_("Enter the 6-digit code from your authenticator app") if not code.strip()
                 else _("That code is not right or has been used: enter the code your app "
                        "shows now, or a recovery code"))
        return render_template("auth/verify.html", error=error), 422
    return finish_sign_in(snapshot, pending.get("next") or None, change_due=change_due)


def _enrolling_user() -> tuple[User | None, bool]:
    """Who is setting up two-step verification: a signed-in user, or one half-way through a
    sign-in that needs it (True)."""
    if current_user.is_authenticated:
        return request_session().get(User, int(current_user.get_id())), False
    return _pending_user(), True


@bp.route("/account/two-step", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    user, signing_in = _enrolling_user()
    if user is None:
        if signing_in and session.get(PENDING):
            return _start_again(_("Your sign-in timed out: enter your user name and password "
                                  "again"))
        return redirect(url_for("auth.login", next=request.path))
    if signing_in and user.totp_secret is not None:
        # Half-way through a sign-in, only the enrolled code proves the second factor: setting
        # up a new one here would let a password alone replace it.
        return redirect(url_for("account.verify"))
    if request.method == "GET":
        fresh = totp.new_secret()  # kept in the session only until the first code confirms it
        session[ENROL_SECRET] = fresh
        return _enrol_page(user, fresh, signing_in)
    secret = session.get(ENROL_SECRET)
    if not isinstance(secret, str):
        return redirect(url_for("account.enrol"))
    try:
        with request_transaction() as tx:
            row = tx.get(User, user.id)
            assert row is not None
            if row.totp_secret is not None:
                # Replacing the second factor takes the one in use: a session left open (or
                # taken) must not be enough to move it to someone else's phone.
                _current_factor(tx, row, request.form.get("current", ""))
            codes = totp.enable(tx, row, secret, request.form.get("code", ""), now=utcnow(),
                                request_id=g.request_id)
            if signing_in:  # the sign-in that asked for it completes here
                record_login(tx, row, request_id=g.request_id, second_step="enrolled")
            snapshot = LoginUser(row, roles_of(tx, saved_id(row)))
            change_due = passwords.change_due(passwords.load_policy(tx), row, utcnow())
    except CurrentFactorRefused as exc:
        return _enrol_page(user, secret, signing_in, current_error=_(exc.message), status=422)
    except StaffRefused as exc:
        return _enrol_page(user, secret, signing_in, error=_(exc.message, **exc.params),
                           status=422)
    session.pop(ENROL_SECRET, None)
    target = url_for("account.enrol_done")
    if signing_in:
        pending = session.get(PENDING) or {}
        target = finish_sign_in(snapshot, pending.get("next") or None,
                                change_due=change_due).location or target
    # The recovery codes are shown in this response only, with a link on to where it goes.
    return render_template("auth/recovery_codes.html", codes=codes, target=target)


@bp.get("/account/two-step/done")
def enrol_done() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    user = request_session().get(User, int(current_user.get_id()))
    left = totp.recovery_codes_left(request_session(), int(current_user.get_id()))
    return render_template("auth/two_step_status.html", user=user, left=left)


class CurrentFactorRefused(Exception):
    """Replacing two-step verification without a valid code of the one in use."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _current_factor(tx: Session, user: User, code: str) -> None:
    if not code.strip():
        raise CurrentFactorRefused(N_("Enter the code your current authenticator app shows, "
                                      "or a recovery code"))
    if not totp.verify(tx, user, code, request_id=g.request_id):
        raise CurrentFactorRefused(N_("That code is not right or has been used: enter the code "
                                      "your current app shows now, or a recovery code"))


def _enrol_page(user: User, secret: str, signing_in: bool, *, error: str = "",
                current_error: str = "", status: int = 200) -> ResponseReturnValue:
    uri = totp.provisioning_uri(secret, user.username)
    return render_template("auth/enrol.html", qr=totp.qr_svg(uri), secret=totp.grouped(secret),
                           error=error, current_error=current_error, signing_in=signing_in,
                           replacing=user.totp_secret is not None), status


@bp.route("/account/password", methods=["GET", "POST"])
@sign_in_first
def change_password() -> ResponseReturnValue:
    forced = bool(session.get(PASSWORD_CHANGE_REQUIRED))
    next_url = request.values.get("next")
    if request.method == "GET":
        return render_template("auth/change_password.html", forced=forced, errors={},
                               next=next_url)
    current, new, again = (request.form.get(name, "") for name in ("current", "new", "again"))
    errors: dict[str, str] = {}
    with request_transaction() as tx:
        user = tx.get(User, int(current_user.get_id()))
        assert user is not None
        if not forced and not password_matches(user.password_hash, current):
            errors["current"] = _("Your current password is not right")
        if not new:
            errors["new"] = _("Enter a new password")
        elif new != again:
            errors["again"] = _("The two new passwords are not the same")
        else:
            problems = passwords.problems_with(tx, passwords.load_policy(tx), user, new)
            if problems:
                errors["new"] = _(problems[0][0], **problems[0][1])
        if not errors:
            passwords.change_password(tx, user, new, actor_id=user.id or 0,
                                      actor_name=user.username, request_id=g.request_id)
    if errors:
        return render_template("auth/change_password.html", forced=forced, errors=errors,
                               next=next_url), 422
    # Every other session of theirs has ended; this one goes on under a new id.
    regenerate(session)
    session.pop(PASSWORD_CHANGE_REQUIRED, None)
    return redirect(safe_redirect_target(next_url, url_for("account.password_changed")))


@bp.get("/account/password/changed")
def password_changed() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("auth/password_changed.html")


def _password_change_first() -> ResponseReturnValue | None:
    """A visitor who must change their password sees only that page (and can sign out)."""
    if not session.get(PASSWORD_CHANGE_REQUIRED) or request.endpoint in _BEFORE_CHANGE:
        return None
    if not current_user.is_authenticated:
        return None
    return redirect(url_for("account.change_password", next=request.full_path
                            if request.method == "GET" else None))


def init_app(app: Flask) -> None:
    app.before_request(_password_change_first)
