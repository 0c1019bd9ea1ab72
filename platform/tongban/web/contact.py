"""A signed-in person's contact settings (/my/settings): email address, mobile number, the
language of the interface and of their messages, and whether notifications also come by email
and SMS. Checked and saved by :mod:`tongban.notify.contact`."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..i18n import LOCALE_OF_LANGUAGE
from ..models import User
from ..notify import contact
from .database import request_session, request_transaction

bp = Blueprint("contact", __name__)


def _page(values: dict[str, str], errors: dict[str, str], *, saved: bool = False,
          status: int = 200) -> ResponseReturnValue:
    return render_template("account/contact.html", values=values, errors=errors,
                           saved=saved), status


@bp.route("/my/settings", methods=["GET", "POST"])
def settings() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("contact.settings")))
    if request.method == "GET":
        user = request_session().get(User, int(current_user.get_id()))
        assert user is not None  # the login loader refuses a user who is gone
        return _page(contact.of(user).as_form(), {}, saved=request.args.get("saved") == "1")
    chosen, problems = contact.read(request.form)
    if problems:
        errors = {field: _(message) for field, message in problems.items()}
        return _page(chosen.as_form(), errors, status=422)
    with request_transaction() as tx:
        user = tx.get(User, int(current_user.get_id()))
        assert user is not None
        contact.save(tx, user, chosen, request_id=g.request_id)
    session["locale"] = LOCALE_OF_LANGUAGE[chosen.language]
    return redirect(url_for("contact.settings", saved="1"))
