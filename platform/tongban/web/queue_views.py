"""The counter's queue on the pages (docs/counter-intake.md): taking a number at the kiosk
(no sign-in), the clerk's desk (their window, calling the next number, the person's
application) and the clerk's printable day list."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlmodel import col

from .. import counter_queue
from ..i18n import N_
from ..models import FlowInstance, FlowTask, QueueTicket, Role, saved_id
from ..services import names_of_versions
from .access import require_role
from .database import request_session, request_transaction

bp = Blueprint("queue", __name__, url_prefix="/queue")

WINDOW_KEY = "counter_window"


def _now() -> datetime:
    return datetime.now(UTC)


def _windows() -> tuple[str, ...]:
    return tuple(current_app.config["COUNTER_WINDOWS"])


@bp.get("", strict_slashes=False)
def take_page(errors: dict[str, str] | None = None, status: int = 200,
              typed: dict[str, str] | None = None) -> ResponseReturnValue:
    return render_template("queue/take.html", windows=_windows(), errors=errors or {},
                           typed=typed or {}), status


@bp.post("", strict_slashes=False)
def take() -> ResponseReturnValue:
    window = request.form.get("window", "")
    typed = {"window": window, "reference": request.form.get("reference", "")}
    if window not in _windows():
        return take_page({"window": _("Choose a window")}, 422, typed)
    with request_transaction() as tx:
        ticket = counter_queue.take(tx, window, reference=typed["reference"], now=_now())
        ticket_id = saved_id(ticket)
    return redirect(url_for("queue.ticket", ticket_id=ticket_id))


@bp.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int) -> ResponseReturnValue:
    found = request_session().get(QueueTicket, ticket_id)
    if found is None or found.day != counter_queue.today(_now()):
        abort(404)
    ahead = request_session().scalar(select(func.count()).select_from(QueueTicket).where(
        col(QueueTicket.window) == found.window, col(QueueTicket.day) == found.day,
        col(QueueTicket.state) == "waiting", col(QueueTicket.number) < found.number)) or 0
    return render_template("queue/ticket.html", ticket=found, shown=counter_queue.shown(found),
                           waiting=int(ahead))


def _intake_task(reference: str) -> int | None:
    """The open intake task of the application a ticket names, to go straight to it."""
    if not reference:
        return None
    db = request_session()
    application = counter_queue.application_of(db, reference)
    if application is None:
        return None
    return db.scalar(select(col(FlowTask.id)).join(
        FlowInstance, col(FlowInstance.id) == col(FlowTask.instance_id)).where(
        col(FlowInstance.application_id) == saved_id(application),
        col(FlowTask.kind) == "intake", col(FlowTask.state).in_(("open", "claimed")))
        .limit(1))


@bp.get("/desk")
@require_role(Role.COUNTER_CLERK)
def desk(errors: dict[str, str] | None = None, status: int = 200) -> ResponseReturnValue:
    window = session.get(WINDOW_KEY, "")
    window = window if window in _windows() else ""
    db = request_session()
    current = counter_queue.current(db, window, current_user.id, _now()) if window else None
    return render_template(
        "queue/desk.html", windows=_windows(), window=window, current=current,
        shown=counter_queue.shown, errors=errors or {},
        waiting=counter_queue.waiting(db, window, _now()) if window else 0,
        task_id=_intake_task(current.reference) if current is not None else None), status


@bp.post("/desk/window")
@require_role(Role.COUNTER_CLERK)
def choose_window() -> ResponseReturnValue:
    window = request.form.get("window", "")
    if window not in _windows():
        return desk({"window": _("Choose a window")}, 422)
    session[WINDOW_KEY] = window
    return redirect(url_for("queue.desk"))


@bp.post("/desk/next")
@require_role(Role.COUNTER_CLERK)
def call_next() -> ResponseReturnValue:
    window = session.get(WINDOW_KEY, "")
    if window not in _windows():
        return desk({"window": _("Choose your window first")}, 422)
    with request_transaction() as tx:
        called = counter_queue.call_next(tx, window, current_user.id,
                                         clerk_name=current_user.username, now=_now(),
                                         request_id=g.request_id)
    return redirect(url_for("queue.desk", empty=None if called else "1"))


@bp.get("/day")
@require_role(Role.COUNTER_CLERK)
def day() -> ResponseReturnValue:
    db = request_session()
    asked = request.args.get("day", "")
    try:
        on = date.fromisoformat(asked) if asked else counter_queue.today(_now())
    except ValueError:
        on = counter_queue.today(_now())
    found = counter_queue.day_of(db, current_user.id, on)
    names = names_of_versions(db, {row.service_version_id for row in [
        *found.accepted, *found.refused, *(row for row, _hold in found.waiting_material)]})
    return render_template("queue/day.html", day=found, shown=counter_queue.shown,
                           clerk=current_user.display_name, names=names,
                           modes=MODE_WORDS)


MODE_WORDS = {"deficient": N_("With materials to follow"),
              "commitment": N_("On a written commitment")}
