"""Administrators: bulk import of staff from a CSV file, a dry run first (/admin/users/import)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..staff import bulk
from ..staff.rules import ADMIN_ROLES, StaffRefused
from .access import require_role
from .database import request_session, request_transaction
from .staff_users import ROLE_LABELS, who

bp = Blueprint("staff_import", __name__, url_prefix="/admin")


def _row_messages(plan: bulk.Plan) -> list[str]:
    return [_("Row %(row)s: %(reason)s", row=problem.row,
              reason=_(problem.message, **problem.params)) for problem in plan.problems]


def _page(*, text: str = "", errors: list[str] | None = None, plan: bulk.Plan | None = None,
          created: list[tuple[bulk.PlannedRow, str]] | None = None,
          status: int = 200) -> ResponseReturnValue:
    return render_template("admin/users_import.html", text=text, errors=errors or [], plan=plan,
                           created=created, roles=ROLE_LABELS, columns=bulk.COLUMNS), status


def _submitted_text() -> str:
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        return bulk.decode(upload.read(bulk.MAX_BYTES + 1))
    text = request.form.get("text", "")
    if len(text.encode("utf-8")) > bulk.MAX_BYTES:
        return bulk.decode(text.encode("utf-8"))  # refuses it with the size message
    return text


@bp.route("/users/import", methods=["GET", "POST"])
@require_role(*ADMIN_ROLES)
def bulk_import() -> ResponseReturnValue:
    if request.method == "GET":
        return _page()
    text = ""
    try:
        text = _submitted_text()
        if not text.strip():
            raise StaffRefused(bulk.N_("Choose a CSV file or paste its text."))
        if request.form.get("action") != "import":
            plan = bulk.plan(request_session(), who(), text)
            request_session().rollback()  # a dry run: nothing was written, nothing is kept
            return _page(text=text, plan=plan, errors=_row_messages(plan),
                         status=422 if plan.problems else 200)
        with request_transaction() as tx:
            created = bulk.apply(tx, who(), text)
    except StaffRefused as exc:
        return _page(text=text, errors=[_(exc.message, **exc.params)], status=422)
    except bulk.ImportRefused as exc:
        return _page(text=text, plan=exc.plan, errors=_row_messages(exc.plan), status=422)
    return _page(created=created)
