"""Platform administrators: the password policy and two-step verification (/admin/security)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from ..models import Role
from ..staff import passwords
from .access import require_role
from .database import request_session, request_transaction

bp = Blueprint("security", __name__, url_prefix="/admin")


@bp.route("/security", methods=["GET", "POST"])
@require_role(Role.PLATFORM_ADMIN)
def policy() -> ResponseReturnValue:
    if request.method == "GET":
        stored = passwords.load_policy(request_session())
        shown = {name: str(getattr(stored, name)) for name in passwords.LIMITS}
        shown.update({name: "1" if getattr(stored, name) else ""
                      for name in passwords.SWITCHES})
        return render_template("admin/security.html", policy=stored, values=shown, errors={},
                               limits=passwords.LIMITS, saved=request.args.get("saved") == "1",
                               stored=passwords.policy_saved(request_session()))
    values = {name: request.form.get(name, "") for name in (*passwords.LIMITS,
                                                             *passwords.SWITCHES)}
    with request_transaction() as tx:
        problems = passwords.save_policy(tx, values, actor_id=int(current_user.get_id()),
                                         actor_name=current_user.username,
                                         request_id=g.request_id)
    if problems:
        errors = {p.field: _(p.message, **p.params) for p in problems}
        return render_template("admin/security.html", policy=passwords.load_policy(
            request_session()), values=values, errors=errors, limits=passwords.LIMITS,
            saved=False, stored=passwords.policy_saved(request_session())), 422
    return redirect(url_for("security.policy", saved=1))
